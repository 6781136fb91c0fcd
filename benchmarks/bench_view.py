"""`harness view` on a large run: how long a run takes to open and a filter to answer.

Writes a synthetic run of N samples (examples x systems, with retrieved contexts, tags, error
and undefined scores), adds it to a fresh store, serves the viewer with uvicorn on 127.0.0.1
and times real HTTP requests, in the order a person clicks: the runs list, the run page (which
starts reading the run's texts in the background), the samples page, the first side-by-side
view (waiting for those texts if they are still being read), then warm pages and the filters (cross-system `where`, tag, status, text
search, combined), the side-by-side view, compare against a second run, and trends.

Targets (issue 15): a 10,000-sample run opens in under 2 s; a filter answers in under 300 ms.

    python benchmarks/bench_view.py [--examples 2500] [--systems 4] [--db URL] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

KINDS = ["prompt", "rag", "oracle", "few_shot", "hybrid", "finetuned"]


def timed(client, url: str, repeat: int = 1) -> tuple[float, float]:
    """(median, max) seconds of `repeat` GETs of `url`, each checked for status 200."""
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        seconds.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}\n{response.text[-1500:]}")
    return statistics.median(seconds), max(seconds)


def serve(store):
    import uvicorn

    from harness.view.app import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(store), host="127.0.0.1", port=0, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server, thread, server.servers[0].sockets[0].getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=2500)
    parser.add_argument("--systems", type=int, default=4, choices=range(1, len(KINDS) + 1))
    parser.add_argument("--db", help="store URL (default: a SQLite file in a temporary folder)")
    parser.add_argument("--repeat", type=int, default=5, help="warm requests per measured URL")
    parser.add_argument("--no-compare", action="store_true", help="skip the second run and the compare timing")
    args = parser.parse_args()

    import httpx

    from harness.store.database import RunStore
    from harness.store.write import add_run
    from harness.view.synthetic import Spec, write_run

    systems = {kind: kind for kind in KINDS[: args.systems]}
    n = args.examples * len(systems)
    with tempfile.TemporaryDirectory(prefix="bench-view-") as folder:
        root = Path(folder)
        started = time.perf_counter()
        base = write_run(root / "base", Spec(run_id="base-run", n_examples=args.examples, systems=systems, seed=1,
                                             started_at="2026-05-01T09:00:00+00:00", commit="a" * 40, error_every=50))
        paths = [base]
        if not args.no_compare:
            paths.append(write_run(root / "new", Spec(run_id="new-run", n_examples=args.examples, systems=systems, seed=2,
                                                      started_at="2026-05-02T09:00:00+00:00", commit="b" * 40)))
        size = sum((p / "samples.jsonl").stat().st_size for p in paths) / len(paths) / 2**20
        print(f"run: {args.examples} examples x {len(systems)} systems = {n} samples, samples.jsonl {size:.1f} MiB "
              f"(written in {time.perf_counter() - started:.1f} s)")
        db = args.db or str(root / "runs.db")
        with RunStore.open(db) as store:
            for path in paths:
                started = time.perf_counter()
                add_run(store, path)
                print(f"harness runs add {path.name}: {time.perf_counter() - started:.2f} s")
        store = RunStore.open(db, readonly=True)
        server, thread, port = serve(store)
        figures: list[tuple[str, float, float, float | None]] = []
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
                def measure(label: str, url: str, target: float | None, repeat: int = 1) -> None:
                    median, worst = timed(client, url, repeat)
                    figures.append((label, median, worst, target))

                samples = "/runs/base-run/samples"
                measure("runs list", "/", None)
                measure("run page (first open)", "/runs/base-run", 2.0)
                measure("samples page (first open)", samples, 2.0)
                measure("side-by-side example (first: waits for the texts)", "/runs/base-run/example?id=q00042", 2.0)
                measure("samples page (warm)", samples, 0.3, args.repeat)
                where = "rag.contains_answer+%3D+0+and+oracle.contains_answer+%3D+1" if len(systems) >= 3 else \
                    "prompt.contains_answer+%3D+0"
                measure("filter: where (cross-system)", f"{samples}?where={where}", 0.3, args.repeat)
                measure("filter: tag", f"{samples}?tag=hard", 0.3, args.repeat)
                measure("filter: metric status", f"{samples}?metric=faithfulness&status=error", 0.3, args.repeat)
                measure("filter: text search", f"{samples}?q=battery+code", 0.3, args.repeat)
                measure("filter: all combined", f"{samples}?tag=easy&status=ok&where={where}&q=code", 0.3, args.repeat)
                measure("side-by-side example", "/runs/base-run/example?id=q01234", 0.3, args.repeat)
                if not args.no_compare:
                    measure("compare (first: both runs' scores, paired tests)", "/compare?base=base-run&new=new-run", None)
                    measure("compare (warm)", "/compare?base=base-run&new=new-run", 0.3, args.repeat)
                measure("trends", "/trends?suite=synthetic&metric=contains_answer", 0.3, args.repeat)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            store.close()
    print(f"\nstore: {'SQLite' if not args.db or '://' not in args.db else args.db.split('://')[0]}; "
          f"median and worst of {args.repeat} warm requests (one for first opens)")
    print(f"{'request':52} {'median':>9} {'worst':>9}  target")
    for label, median, worst, target in figures:
        verdict = "" if target is None else (f"< {target:g} s  " + ("ok" if worst < target else "MISSED"))
        print(f"{label:52} {median * 1000:7.0f}ms {worst * 1000:7.0f}ms  {verdict}")


if __name__ == "__main__":
    main()
