"""Prepare the PubMedQA example: questions and abstracts from ../shared/data/pubmedqa into data/.

    python examples/pubmedqa/prepare.py [--data DIR] [--test 150] [--train 200]

The official 500-question test split of PubMedQA's labelled set (PQA-L) is the only labelled
data here, so it is split in two by position: the first `--test` questions are evaluated, the
next `--train` ones train the LoRAs (different articles, so no test question is in training).
The answer is the yes/no/maybe decision; the reference document is the question's own abstract,
and the corpus is all 1,000 PQA-L abstracts. When the data folder is absent this prints why and
exits 0, so scripts and CI skip the example cleanly.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = Path(os.environ.get("HARNESS_PUBMEDQA_DIR") or HERE.parents[1].parent / "shared" / "data" / "pubmedqa")
NEEDED = ("queries_test.jsonl", "corpus_docs.jsonl")


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def prepare(data: Path, out: Path, n_test: int, n_train: int) -> tuple[int, int, int]:
    queries = read_jsonl(data / "queries_test.jsonl")
    if n_test + n_train > len(queries):
        raise SystemExit(f"error: --test {n_test} + --train {n_train} is more than the {len(queries)} questions")
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for index, query in enumerate(queries[: n_test + n_train]):
        label = str(query["final_decision"]).strip().lower()
        if label not in ("yes", "no", "maybe"):
            raise SystemExit(f"error: {data / 'queries_test.jsonl'}: question {query['_id']} has decision {label!r}")
        rows.append({
            "id": str(query["_id"]), "split": "test" if index < n_test else "train", "question": query["text"],
            "answer": label, "answer_json": {"answer": label}, "doc_ids": [str(query["_id"])], "tags": [label],
        })
    (out / "questions.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    docs = read_jsonl(data / "corpus_docs.jsonl")
    with (out / "abstracts.jsonl").open("w", encoding="utf-8") as handle:
        for doc in docs:
            handle.write(json.dumps({"id": str(doc["_id"]), "title": doc.get("title") or "", "text": doc["text"]},
                                    ensure_ascii=False) + "\n")
    return n_test, n_train, len(docs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help=f"the pubmedqa folder (default {DEFAULT_DATA})")
    parser.add_argument("--out", type=Path, default=HERE / "data", help="where the suite reads its files")
    parser.add_argument("--test", type=int, default=150, help="questions evaluated (default 150)")
    parser.add_argument("--train", type=int, default=200, help="questions the LoRAs learn from (default 200)")
    args = parser.parse_args(argv)
    missing = [name for name in NEEDED if not (args.data / name).is_file()]
    if missing:
        print(f"skipping the PubMedQA example: {args.data} has no {', '.join(missing)} "
              "(it lives beside the project, in ../shared/data/pubmedqa)", file=sys.stderr)
        return 0
    n_test, n_train, n_docs = prepare(args.data, args.out, args.test, args.train)
    print(f"wrote {args.out}: {n_test} test and {n_train} train questions, {n_docs} abstracts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
