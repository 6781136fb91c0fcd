"""An OpenAI-compatible server on 127.0.0.1, for testing the hosted path offline.

Tests and benchmarks point a suite at it (`model: openai/<name>`, `OPENAI_BASE_URL` or
`params.extra.api_base`) and script how it behaves per request: the reply text, an HTTP error,
a hang, a garbage body. Every request is recorded (path, headers, JSON body), so a test can
assert what reached the "provider" (how many calls, which key was sent).

    with FakeOpenAI(reply=lambda body: "Paris") as server:
        os.environ["OPENAI_BASE_URL"] = server.url
        ...
        assert len(server.requests) == 3
"""

from __future__ import annotations

import inspect
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


@dataclass
class Reply:
    """What the server sends for one request. `body` (a dict) is sent as JSON; `raw` as is."""

    status: int = 200
    body: dict[str, Any] | None = None
    raw: bytes | None = None
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: Any

    @property
    def prompt(self) -> str:
        """The last user message's text (chat requests)."""
        messages = (self.body or {}).get("messages") or [{}]
        content = messages[-1].get("content", "")
        return content if isinstance(content, str) else json.dumps(content)


Behaviour = Callable[[Request, int], "Reply | str | None"]


def chat_completion(text: str | None, model: str = "fake-model", *, prompt_tokens: int = 10, completion_tokens: int = 5) -> dict[str, Any]:
    """A chat.completion body as the OpenAI API returns it."""
    return {
        "id": f"chatcmpl-{int(time.time() * 1e6)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }


def embeddings(texts: list[str], model: str = "fake-embedding", dims: int = 8) -> dict[str, Any]:
    """Deterministic embeddings: a few character statistics per text, so equal texts are equal."""
    data = []
    for i, text in enumerate(texts):
        vector = [float((sum(map(ord, text)) * (d + 1)) % 97 + 1) for d in range(dims)]
        data.append({"object": "embedding", "index": i, "embedding": vector})
    return {"object": "list", "data": data, "model": model, "usage": {"prompt_tokens": len(texts), "total_tokens": len(texts)}}


class FakeOpenAI:
    """Serve `/v1/chat/completions` and `/v1/embeddings` on a free loopback port.

    `reply(request, n)` is called for every chat request (n counts requests from 0) and returns
    the reply text, a `Reply` for full control (status, raw body, delay), or None for a `null`
    content. Embedding requests get deterministic vectors.
    """

    def __init__(self, reply: Behaviour | Callable[[Request], str] | None = None, *, model: str = "fake-model"):
        reply = reply or (lambda request, n: "ok")
        takes_count = len(inspect.signature(reply).parameters) >= 2
        self._reply: Behaviour = reply if takes_count else (lambda request, n: reply(request))  # type: ignore[misc,call-arg]
        self.model = model
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL clients use (`OPENAI_BASE_URL` / `api_base`)."""
        assert self._server is not None, "start() the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> "FakeOpenAI":
        server = _Server(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeOpenAI":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def chat_requests(self) -> list[Request]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def _record(self, request: Request) -> int:
        with self._lock:
            self.requests.append(request)
            return len(self.requests) - 1

    def _respond(self, request: Request, n: int) -> Reply:
        result = self._reply(request, n)
        if isinstance(result, Reply):
            return result
        return Reply(body=chat_completion(result, (request.body or {}).get("model") or self.model))


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # socketserver's 5 drops connections when many clients open at once

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (a timeout, a killed run) is not a server error worth a traceback."""
        import sys

        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def _handler_for(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence the default stderr log
            return

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if self.path.rstrip("/").endswith("/models"):
                self._send(Reply(body={"object": "list", "data": [{"id": fake.model, "object": "model"}]}))
            else:
                self._send(Reply(status=404, body={"error": {"message": "not found"}}))

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(length) if length else b""
            try:
                body = json.loads(data or b"null")
            except json.JSONDecodeError:
                body = None
            request = Request(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            n = fake._record(request)
            if self.path.rstrip("/").endswith("/embeddings"):
                texts = (body or {}).get("input") or []
                self._send(Reply(body=embeddings([texts] if isinstance(texts, str) else texts)))
                return
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send(Reply(status=404, body={"error": {"message": f"no route {self.path}"}}))
                return
            self._send(fake._respond(request, n))

        def _send(self, reply: Reply) -> None:
            if reply.delay_s:
                time.sleep(reply.delay_s)
            payload = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test): nothing to do

    return Handler
