"""`kind: oracle` - the example's reference passages pasted into the RAG prompt.

It answers "would the right facts fix it?": the same prompt and model as a RAG system, with
perfect retrieval. Passages come from `Example.reference_contexts`, else the corpus text of its
`reference_doc_ids`. An example with neither gets an empty context (its retrieval is undefined).
"""

from __future__ import annotations

import copy
from typing import Literal

from pydantic import Field

from adapters.generation import LLMSystemConfig, check_template
from adapters.rag import (
    CONTEXT_VARIABLES,
    ContextPrompt,
    generate_with_context,
    missing_context_warning,
    missing_reference_docs,
    system_corpus,
    with_context_placeholder,
)
from harness.errors import ConfigError
from harness.retrieval.config import CorpusConfig
from harness.retrieval.corpus import Corpus
from harness.systems import System, SystemContext, system_kind
from harness.types import Example, Response, RetrievedChunk, Timings


class OracleConfig(LLMSystemConfig):
    kind: Literal["oracle"]
    prompt: ContextPrompt = Field(default_factory=ContextPrompt)
    corpus: CorpusConfig | None = Field(
        None, description="Where reference doc ids are looked up; default: the suite's corpus."
    )


class OracleSystem(System):
    def __init__(self, config: OracleConfig, context: SystemContext):
        check_template(config, context, CONTEXT_VARIABLES)
        self.config = with_context_placeholder(config)
        self.context = context
        self.corpus: Corpus | None = None
        self.warnings: list[str] = missing_context_warning(config, context) + reference_warnings(context)
        needs_corpus = any(e.reference_doc_ids and not e.reference_contexts for e in context.test)
        if needs_corpus or config.corpus or context.suite.corpus:
            self.corpus = system_corpus(config.corpus, context, who="an oracle system whose examples name reference_doc_ids")
            where = context.where("corpus") if config.corpus else "corpus"
            self.warnings += missing_reference_docs(self.corpus, context.test, where=where)

    def with_corpus(self, context: SystemContext) -> System | None:
        """For a knowledge update: the reference documents read from the new corpus."""
        if self.config.corpus is not None or context.suite.corpus is None:
            return None
        twin = copy.copy(self)
        twin.context = context
        twin.corpus = system_corpus(None, context, who="an oracle system")
        twin.warnings = missing_reference_docs(twin.corpus, context.test, where="updates.corpus")
        return twin

    def passages(self, example: Example) -> list[RetrievedChunk]:
        """The reference passages in the order the dataset gives them."""
        ids = example.reference_doc_ids
        if example.reference_contexts:
            paired = len(ids) == len(example.reference_contexts)
            return [
                RetrievedChunk(
                    chunk_id=ids[n] if paired else f"reference_contexts[{n}]",
                    doc_id=ids[n] if paired else f"reference_contexts[{n}]",
                    text=text,
                    rank=n + 1,
                )
                for n, text in enumerate(example.reference_contexts)
            ]
        found = [d for d in ids if self.corpus is not None and d in self.corpus]
        return [
            RetrievedChunk(chunk_id=d, doc_id=d, text=self.corpus.by_id[d].text, rank=n + 1)
            for n, d in enumerate(found)
        ]

    async def respond(self, example: Example) -> Response:
        chunks = self.passages(example)
        response = await generate_with_context(self.config, self.context, example, chunks)
        generation_s = response.timings.generation_s or 0.0
        response.timings = Timings(total_s=generation_s, generation_s=generation_s)
        missing = [d for d in example.reference_doc_ids if self.corpus is None or d not in self.corpus]
        response.metadata["oracle"] = {
            "passages": len(chunks),
            "no_reference": not chunks,
            **({"missing_doc_ids": missing} if missing and not example.reference_contexts else {}),
        }
        return response


def reference_warnings(context: SystemContext) -> list[str]:
    """Examples with no reference passages get an empty context. None at all is an error (the
    dataset's field mapping is likely wrong); some is a warning with the count."""
    # an example marked unanswerable (the dataset's `answerable` field) rightly has no passages
    lacking = [
        e.id
        for e in context.test
        if not e.reference_doc_ids and not e.reference_contexts and getattr(e, "answerable", None) is not False
    ]
    if not lacking:
        return []
    total = len(context.test)
    if len(lacking) == total:
        raise ConfigError(
            f"none of the {total} test examples has reference_doc_ids or reference_contexts, so every answer "
            "would get an empty context (map the columns with dataset.fields.reference_doc_ids / reference_contexts)",
            where=context.where(),
        )
    shown = ", ".join(lacking[:5]) + (" ..." if len(lacking) > 5 else "")
    return [
        f"{context.where()}: {len(lacking)} of {total} test examples have no reference_doc_ids or "
        f"reference_contexts; they are answered with an empty context ({shown})"
    ]


system_kind("oracle", OracleConfig)(OracleSystem)
