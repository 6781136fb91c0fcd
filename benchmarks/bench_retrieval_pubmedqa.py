"""Retrieval benchmark on PubMedQA: BM25, dense (MiniLM) and hybrid on the harness's own stack.

Indexes the 3,358 passages (one chunk each), asks the 500 test questions, maps passage hits to
their PubMed document (first occurrence kept) and scores recall@5 and MRR on documents with the
harness's trec_eval-style metrics. Prints index build time (cold, into a fresh cache), query
latency p50/p95 and quality per retriever.

    .venv/bin/python benchmarks/bench_retrieval_pubmedqa.py [--data DIR] [--limit N] [--depth 20]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DEFAULT_DATA = REPO.parent / "shared" / "data" / "pubmedqa"
MODEL = "local/all-minilm-l6-v2"


def load_queries(data: Path, limit: int | None) -> tuple[list[tuple[str, str]], dict[str, dict[str, float]]]:
    queries = [(row["_id"], row["text"]) for row in map(json.loads, open(data / "queries_test.jsonl", encoding="utf-8"))]
    qrels: dict[str, dict[str, float]] = {}
    with open(data / "qrels" / "test_doc.tsv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = float(row["score"])
    queries = [q for q in queries if q[0] in qrels]
    return (queries[:limit] if limit else queries), qrels


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def percentile(values: list[float], p: float) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(values), p))


async def run(args: argparse.Namespace) -> None:
    from harness.gateway import Gateway
    from harness.metrics.retrieval import retrieval_batch
    from harness.retrieval.config import ChunkingConfig, CorpusConfig, RetrievalConfig
    from harness.retrieval.corpus import load_corpus
    from harness.retrieval.search import Retriever, gateway_embedder
    from harness.retrieval.store import IndexStore

    data = Path(args.data)
    corpus = load_corpus(CorpusConfig(path=str(data / "corpus_passages.jsonl")), data)
    queries, qrels = load_queries(data, args.limit)
    passage_doc = {d.id: str(d.metadata.get("doc_id", d.id)) for d in corpus.documents}
    chunking = ChunkingConfig(strategy="fixed", size=2000, overlap=0)  # one chunk per passage
    root = Path(args.cache_dir) if args.cache_dir else Path(tempfile.mkdtemp(prefix="bench-indexes-"))
    store = IndexStore(root, show_progress=None)
    embed = gateway_embedder(Gateway(), MODEL)
    print(f"corpus: {len(corpus)} passages from {len(set(passage_doc.values()))} documents; "
          f"{len(queries)} queries; index cache {root}", file=sys.stderr)

    started = time.perf_counter()
    await embed(["warm-up"])
    model_load_s = time.perf_counter() - started
    started, cpu = time.perf_counter(), time.process_time()
    lexical = await store.lexical(corpus, chunking)
    bm25_build = (time.perf_counter() - started, time.process_time() - cpu)
    started, cpu = time.perf_counter(), time.process_time()
    dense = await store.dense(corpus, chunking, MODEL, embed)
    dense_build = (time.perf_counter() - started, time.process_time() - cpu)
    builds = {"bm25": bm25_build, "dense": dense_build, "hybrid": (0.0, 0.0)}

    rows = []
    for name in ("bm25", "dense", "hybrid"):
        config = RetrievalConfig(retriever=name, top_k=args.depth, chunking=chunking, embedding_model=MODEL)
        retriever = Retriever(config, lexical.chunks, lexical.bm25, dense, embed)
        latencies, runs = [], []
        cpu = time.process_time()
        for _, text in queries:
            started = time.perf_counter()
            hits = await retriever.search(text)
            latencies.append(time.perf_counter() - started)
            runs.append(list(dict.fromkeys(passage_doc[h.chunk.doc_id] for h in hits)))
        cpu_per_query = (time.process_time() - cpu) / len(queries)
        batch = retrieval_batch(runs, [qrels[qid] for qid, _ in queries], ks=[5], measures=["recall", "mrr"])
        rows.append({
            "retriever": name,
            "build_s": builds[name][0],
            "build_cpu_s": builds[name][1],
            "cpu_ms_per_query": 1000 * cpu_per_query,
            "p50_ms": 1000 * percentile(latencies, 50),
            "p95_ms": 1000 * percentile(latencies, 95),
            "recall@5": float(batch.values["recall@5"].mean()),
            "mrr": float(batch.values["mrr"].mean()),
        })

    print(f"\nPubMedQA retrieval ({len(queries)} test queries, {len(lexical.chunks)} passages, "
          f"document-level metrics, MRR over the top {args.depth} passages)")
    print(f"embedding model load (not in build times): {model_load_s:.1f} s; load average {_load()}")
    print("wall times depend on machine load; *_cpu columns are this process's CPU time (all threads)")
    print(f"{'retriever':<10} {'build_s':>8} {'build_cpu_s':>11} {'p50_ms':>8} {'p95_ms':>8} {'cpu_ms/q':>9} "
          f"{'recall@5':>9} {'mrr':>7}")
    for r in rows:
        print(f"{r['retriever']:<10} {r['build_s']:>8.2f} {r['build_cpu_s']:>11.2f} {r['p50_ms']:>8.2f} "
              f"{r['p95_ms']:>8.2f} {r['cpu_ms_per_query']:>9.2f} {r['recall@5']:>9.3f} {r['mrr']:>7.3f}")
    print("hybrid reuses the BM25 and dense indexes (reciprocal rank fusion, k=60): no build of its own")
    if args.json:
        Path(args.json).write_text(json.dumps({"model_load_s": model_load_s, "rows": rows}, indent=1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="folder with corpus_passages.jsonl, queries, qrels")
    parser.add_argument("--limit", type=int, default=None, help="only the first N queries")
    parser.add_argument("--depth", type=int, default=20, help="passages retrieved per query")
    parser.add_argument("--cache-dir", default=None, help="index cache folder (default: a fresh temporary one)")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    needed = [Path(args.data) / p for p in ("corpus_passages.jsonl", "queries_test.jsonl", "qrels/test_doc.tsv")]
    if missing := [str(p) for p in needed if not p.is_file()]:
        print(f"skipped: PubMedQA data not found ({', '.join(missing)}); pass --data DIR", file=sys.stderr)
        return 0
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
