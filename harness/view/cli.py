"""`harness view [--port N] [--db URL]`: the local web viewer over the run store."""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sys

HELP = "open a local web viewer over the run store: runs, samples side by side, compare, trends"
DEFAULT_PORT = 8765


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to serve on (default {DEFAULT_PORT})")
    parser.add_argument("--db", metavar="URL",
                        help="store: a SQLite file or a database URL (default $HARNESS_DB, else runs.db in the cache folder)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1: this machine only; the viewer has no login)")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_port(host: str, port: int) -> None:
    from harness.errors import HarnessError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as error:
            raise HarnessError(f"cannot listen on {host}:{port} ({error.strerror}); pass another --port") from None


def run(args: argparse.Namespace) -> int:
    from harness.errors import HarnessError

    if not 0 < args.port < 65536:
        raise HarnessError("--port must be between 1 and 65535")
    try:
        import jinja2  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn
    except ModuleNotFoundError as error:
        raise HarnessError(f"the viewer needs {error.name}: pip install 'harness-eval[view]'") from None
    from harness.store.database import RunStore
    from harness.store.read import list_runs
    from harness.view.app import LOCAL_HOSTS, create_app

    store = RunStore.open(args.db, readonly=True)
    try:
        count = len(list_runs(store, limit=None))  # a damaged store fails here, before the server starts
        _check_port(args.host, args.port)
        hosts = LOCAL_HOSTS if _loopback(args.host) else ["*"]
        if not _loopback(args.host):
            print(f"warning: serving on {args.host}: anyone who can reach this address can read every run in the store",
                  file=sys.stderr)
        app = create_app(store, hosts=hosts)
        shown = f"[{args.host}]" if ":" in args.host and not args.host.startswith("[") else args.host
        print(f"harness view: {count} run(s) from {store.location.shown}")
        print(f"serving http://{shown}:{args.port}/ (read-only; Ctrl-C stops)", flush=True)
        uvicorn.run(app, host=args.host.strip("[]"), port=args.port, log_level="warning", access_log=False)
    finally:
        store.close()
    return 0
