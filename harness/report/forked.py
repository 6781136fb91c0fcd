"""A helper process forked from the `harness` command, used like `subprocess.Popen`.

The command's followers (harness.report.follower) need most of what the command itself imports:
pydantic, the run's models. Started as new interpreters, each would import it all again while
the command plans its run on the same cores, delaying the run's first call. A forked child has
those modules already. Only the command forks, before it starts any thread (a notebook or test
process spawns a fresh interpreter instead).
"""

from __future__ import annotations

import gc
import os
import select
import signal
import subprocess
import sys
import time
from typing import IO, Callable

_parent_ends: list[IO[str]] = []  # pipe ends this process holds to children forked earlier


def can_fork() -> bool:
    return hasattr(os, "fork") and sys.platform != "darwin"  # macOS system libraries are not fork-safe


class ForkedChild:
    """`main(stdin, stdout) -> exit code` run in a forked child, given text pipes to the parent
    (its standard streams go to the null device; Ctrl-C reaches it as KeyboardInterrupt, as it
    reaches a spawned helper). Offers what the follower's handle uses of `Popen`: `stdin`,
    `stdout`, `poll`, `wait`, `kill`, `communicate`, `returncode`."""

    def __init__(self, main: Callable[[IO[str], IO[str]], int]):
        for stream in (sys.stdout, sys.stderr):  # nothing of ours may be written twice
            stream.flush()
        in_read, in_write = os.pipe()
        out_read, out_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 1
            try:
                os.close(in_write)
                os.close(out_read)
                quiet = os.open(os.devnull, os.O_RDWR)
                # The terminal is the command's, not ours; a sibling's pipe ends, held here, would
                # hide its end of file. Each is pointed at the null device rather than closed, so
                # its number is not reused while the parent's file object for it still exists.
                siblings = []
                for end in _parent_ends:
                    try:
                        siblings.append(end.fileno())
                    except (OSError, ValueError):  # closed in the parent already
                        continue
                for fd in (0, 1, 2, *siblings):
                    os.dup2(quiet, fd)
                gc.freeze()  # the parent's objects: not ours to scan
                stdin = open(in_read, "r", encoding="utf-8")  # noqa: SIM115 - the child's whole life
                stdout = open(out_write, "w", encoding="utf-8")  # noqa: SIM115
                code = main(stdin, stdout)
                stdout.flush()
            except BaseException:  # noqa: BLE001, S110 - the parent sees the exit code
                pass
            finally:
                os._exit(code)
        os.close(in_read)
        os.close(out_write)
        self.pid = pid
        self.args = ["<forked>"]
        self.returncode: int | None = None
        self.stdin: IO[str] | None = open(in_write, "w", encoding="utf-8")  # noqa: SIM115
        self.stdout: IO[str] | None = open(out_read, "r", encoding="utf-8")  # noqa: SIM115
        self.stderr: IO[str] | None = None
        _parent_ends.extend([self.stdin, self.stdout])

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = -1
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(self.args, timeout)  # type: ignore[arg-type]
            time.sleep(0.005)
        return self.returncode  # type: ignore[return-value]

    def kill(self) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def communicate(self, input: str | None = None, timeout: float | None = None) -> tuple[str, None]:
        """Send `input`, close stdin, read stdout to its end and wait: as `Popen.communicate`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if self.stdin is not None and not self.stdin.closed:
            try:
                if input:
                    self.stdin.write(input)
                self.stdin.close()
            except BrokenPipeError:
                pass
        assert self.stdout is not None
        fd, chunks = self.stdout.fileno(), []
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise subprocess.TimeoutExpired(self.args, timeout)  # type: ignore[arg-type]
            if not select.select([fd], [], [], left)[0]:
                continue
            data = os.read(fd, 65536)
            if not data:
                break
            chunks.append(data)
        self.stdout.close()
        self.wait(None if deadline is None else max(deadline - time.monotonic(), 0.0))
        return b"".join(chunks).decode("utf-8", "replace"), None

    def __repr__(self) -> str:
        return f"ForkedChild(pid={self.pid}, returncode={self.returncode})"

