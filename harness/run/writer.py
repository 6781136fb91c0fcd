"""Writing a run directory: one writer at a time, a header rewritten atomically, samples appended.

- `run.json` is replaced in one step (temp file + rename), so a reader never sees half of it.
- `samples.jsonl` gets one line per finished (system, example). Inside an event loop the lines
  are flushed once per turn of the loop (a write per sample costs more than its JSON on a cached
  run), elsewhere at once: a kill loses at most the samples finished in the turn it interrupts,
  and a torn last line is cut on resume.
- `run.lock` holds an exclusive OS lock (flock) for the writer's whole life. A second `run` or
  `--resume` on the same directory fails naming the holder's PID; the kernel drops the lock when
  its process dies, even by SIGKILL, so a stale lock file is simply taken over. Readers never
  lock; `harness report` takes the lock while it rewrites the reports (`hold_run_dir`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from harness.errors import HarnessError
from harness.run.record import RunHeader, Sample
from harness.run.summary import SUMMARY, SummaryRow, to_csv
from harness.secrets.scrub import scrub

HEADER = "run.json"
SAMPLES = "samples.jsonl"
LOCK = "run.lock"


class RunLockedError(HarnessError):
    """Another process is writing this run directory."""


class RunWriter:
    """The only code that writes a run directory's record files. Use as a context manager (or
    call `close`) so the lock and the samples file are released on every exit."""

    def __init__(self, path: Path, lock: IO[str]):
        self.path = Path(path)
        self._lock = lock
        self._samples: IO[str] | None = None
        self._flush_due = False  # a flush is scheduled on the running loop

    @classmethod
    def create(cls, path: Path, header: RunHeader) -> "RunWriter":
        """A new run directory (empty or missing) with its header and an empty samples file."""
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise HarnessError("exists and is not a folder; choose another --out", where=str(path))
        path.mkdir(parents=True, exist_ok=True)
        writer = cls(path, _acquire(path))
        try:
            if any(p.name != LOCK for p in path.iterdir()):
                raise HarnessError("already holds files; choose another --out or use --resume", where=str(path))
            writer.write_header(header)
            (path / SAMPLES).touch()
        except BaseException:
            writer.close()
            raise
        return writer

    @classmethod
    def reopen(cls, path: Path) -> "RunWriter":
        """An existing run directory, to finish it (`--resume`); cuts a torn last sample line."""
        path = Path(path)
        if not (path / HEADER).is_file():
            raise HarnessError(f"not a run directory (no {HEADER})", where=str(path))
        writer = cls(path, _acquire(path))
        writer.repair()
        return writer

    def write_header(self, header: RunHeader) -> None:
        self._atomic_write(HEADER, scrub(header.model_dump_json(indent=2)))

    def write_summary(self, rows: list[SummaryRow]) -> None:
        self._atomic_write(SUMMARY, to_csv(rows))

    def write_text(self, name: str, text: str) -> Path:
        """A derived file (a report) written atomically into the run directory."""
        self._atomic_write(name, text)
        return self.path / name

    def append(self, sample: Sample) -> None:
        if self._samples is None:
            self._samples = (self.path / SAMPLES).open("a", encoding="utf-8")
        # every string a system or provider produced passes the scrubber: an error body that
        # echoes an API key must not reach the disk
        self._samples.write(scrub(sample.model_dump_json()) + "\n")
        if self._flush_due:
            return
        import asyncio

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._samples.flush()
            return
        self._flush_due = True
        loop.call_soon(self.flush)

    def flush(self) -> None:
        """Write the appended lines to the file (the report follower reads them from there)."""
        self._flush_due = False
        if self._samples is not None:
            self._samples.flush()

    def repair(self) -> int:
        """Cut a torn last line so appends start on a fresh line. Returns the bytes removed."""
        path = self.path / SAMPLES
        data = path.read_bytes() if path.exists() else b""
        keep = data.rfind(b"\n") + 1
        if keep < len(data):
            with path.open("r+b") as handle:
                handle.truncate(keep)
        return len(data) - keep

    def close(self) -> None:
        if self._samples is not None:
            self._samples.close()
            self._samples = None
        if self._lock is not None and not self._lock.closed:
            self._lock.close()  # closing the descriptor releases the flock

    def __enter__(self) -> "RunWriter":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _atomic_write(self, name: str, text: str) -> None:
        target = self.path / name
        temp = target.with_name(f".{name}.{os.getpid()}.tmp")
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, target)


@contextmanager
def hold_run_dir(path: str | Path) -> Iterator[None]:
    """The run directory's lock for a command that rewrites derived files (reports): refused,
    naming the holder, while a run writes there. A folder that is not a run is left to the
    reader's own error."""
    folder = Path(path)
    if not (folder / HEADER).is_file():
        yield
        return
    try:
        lock = _acquire(folder)
    except OSError:  # a read-only copy of a run: nothing else can write there either
        yield
        return
    try:
        yield
    finally:
        lock.close()


def _acquire(path: Path) -> IO[str]:
    """Take the run directory's exclusive lock or fail naming who holds it."""
    import fcntl

    handle = open(path / LOCK, "a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise RunLockedError(
            f"another harness process (PID {holder}) is writing this run directory; "
            "wait for it to finish, or stop it first",
            where=str(path),
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle
