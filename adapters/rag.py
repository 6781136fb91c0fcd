"""`kind: rag` - retrieve the top k chunks from the corpus, number them in the prompt, generate.

The retrieval pieces (`UsesRetrieval`, `RetrievalStage`, `format_context`, `hits_to_chunks`) are
exported so other kinds (a fine-tuned model with the same retrieval) reuse them unchanged.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Literal, Sequence

from pydantic import BaseModel, Field

from adapters.generation import (
    BASE_VARIABLES,
    LLMSystemConfig,
    PromptTemplate,
    base_variables,
    build_messages,
    check_template,
    generate,
    template_variables,
)
from harness.errors import ConfigError, HarnessError
from harness.retrieval.config import CorpusConfig, RetrievalConfig, RetrievalSpec, resolve_retrieval
from harness.retrieval.corpus import Corpus, load_corpus
from harness.systems import Artifacts, System, SystemContext, system_kind
from harness.runtime.timing import own_time
from harness.types import Example, Response, RetrievedChunk, Timings

if TYPE_CHECKING:
    from harness.retrieval.search import Hit


DEFAULT_RAG_TEMPLATE = (
    "Answer the question using only the numbered context passages below. "
    "If they do not contain the answer, say that you do not know.\n\n"
    "Context:\n{{context}}\n\n"
    "Question: {{input}}\n"
    "Answer:"
)
NO_CONTEXT = "(no relevant context found)"
NO_RELEVANT_CONTEXT = "no_relevant_context"  # metadata["declined"] when nothing passed min_score
CONTEXT_VARIABLES = BASE_VARIABLES | {"context"}


class ContextPrompt(PromptTemplate):
    """A prompt whose default template carries the `{{context}}` placeholder."""

    template: str = DEFAULT_RAG_TEMPLATE


class UsesRetrieval(BaseModel):
    """Mixin for kinds that retrieve: a block name, an inline config, or `{use: block, ...}`."""

    retrieval: RetrievalSpec = Field(
        default_factory=RetrievalSpec,
        description="A block name from the suite's `retrieval:`, an inline retrieval config, "
        "or {use: <block>, ...overrides}.",
    )
    corpus: CorpusConfig | None = Field(None, description="This system's corpus; default: the suite's.")


class RagConfig(LLMSystemConfig, UsesRetrieval):
    kind: Literal["rag"]
    prompt: ContextPrompt = Field(default_factory=ContextPrompt)


CORPORA_EXTRA = "corpora"  # SystemContext.extras: corpora read for this run, shared between systems


def system_corpus(override: CorpusConfig | None, context: SystemContext, *, who: str) -> Corpus:
    """The system's corpus, read once per run however many systems share it (a corpus that cannot
    be read is reported once, not once per system)."""
    config = override or context.suite.corpus
    where = context.where("corpus") if override else "corpus"
    if config is None:
        raise ConfigError(f"{who} needs a corpus: add `corpus:` to the suite or to this system", where=context.where())
    read: dict[str, Corpus | HarnessError] = context.extras.setdefault(CORPORA_EXTRA, {})
    key = f"{where}:{config.model_dump_json()}"
    if key not in read:
        try:
            read[key] = load_corpus(config, context.base_dir, where=where)
        except HarnessError as error:
            read[key] = error
    found = read[key]
    if isinstance(found, HarnessError):
        raise found
    return found


def missing_reference_docs(corpus: Corpus, examples: Sequence[Example], *, where: str) -> list[str]:
    """A warning (not an error) naming dataset reference doc ids the corpus lacks; [] when none."""
    missing = corpus.missing(d for e in examples for d in e.reference_doc_ids)
    if not missing:
        return []
    shown = ", ".join(missing[:10]) + (f" (and {len(missing) - 10} more)" if len(missing) > 10 else "")
    # one line in the run's warnings however many systems share the corpus (the plan dedupes)
    return [f"{where}: {len(missing)} reference document id(s) in the dataset are not in the corpus: {shown}"]


class RetrievalStage:
    """A system's corpus, resolved retrieval config and (after `setup`) its shared indexes.

    Test seams: `context.extras["embed"]` (texts -> vectors) and `["rerank"]` replace the
    gateway embedding model and the litellm re-ranker.
    """

    def __init__(self, config: UsesRetrieval, context: SystemContext, *, who: str = "a rag system"):
        self.config: RetrievalConfig = resolve_retrieval(
            config.retrieval, context.suite.retrieval, where=context.where("retrieval")
        )
        # record what runs (block + overrides) on the system's config, which the run header dumps
        config.retrieval = RetrievalSpec.model_validate({**self.config.model_dump(), "use": config.retrieval.use})
        self.corpus = system_corpus(config.corpus, context, who=who)
        self.corpus_where = context.where("corpus") if config.corpus else "corpus"
        self.warnings = missing_reference_docs(self.corpus, context.test, where=self.corpus_where)
        self.context = context
        self.owner, self.who = config, who
        self._retriever = None
        self._folders: dict[str, str] = {}

    def on_corpus(self, context: SystemContext) -> "RetrievalStage | None":
        """The same retrieval over the corpus of `context` (a knowledge update), not yet indexed;
        None when this system names its own corpus, which the update does not replace."""
        if self.owner.corpus is not None:
            return None
        return RetrievalStage(self.owner, context, who=self.who)

    async def setup(self) -> None:
        """Load or build the indexes (shared with every system using the same ones)."""
        if self._retriever is not None:
            return
        from harness.retrieval.search import default_index_root, gateway_embedder, open_retriever
        from harness.retrieval.store import IndexStore

        extras = self.context.extras
        embed = extras.get("embed")
        if embed is None and self.config.uses_embeddings:
            embed = gateway_embedder(self.context.gateway, self.config.embedding_model)
        store = IndexStore(default_index_root(self.context.cache_dir))
        self._retriever = await open_retriever(
            self.config, self.corpus, store, embed=embed, rerank=extras.get("rerank")
        )
        self._folders = {"index": str(store.lexical_folder(self.corpus, self.config.chunking))}
        if self.config.uses_embeddings:
            folder = store.dense_folder(self.corpus, self.config.chunking, self.config.embedding_model)
            self._folders["vectors"] = str(folder)

    def index_files(self) -> dict[str, str]:
        """The index folders (their manifest.json records the build time), after `setup`."""
        return dict(self._folders)

    async def retrieve(self, query: str) -> tuple[list[RetrievedChunk], float]:
        """(chunks best first, seconds spent searching; index building not included)."""
        await self.setup()
        with own_time() as watch:  # a wait for the embedder's slot is queue time, not retrieval
            hits = await self._retriever.search(query)
        return hits_to_chunks(hits), watch.seconds


def hits_to_chunks(hits: Sequence[Hit]) -> list[RetrievedChunk]:
    return [
        RetrievedChunk(chunk_id=h.chunk.id, doc_id=h.chunk.doc_id, text=h.chunk.text, score=h.score, rank=h.rank)
        for h in hits
    ]


def format_context(chunks: Sequence[RetrievedChunk], *, empty: str = NO_CONTEXT) -> str:
    """`[1] source: returns-policy.md#2` then the passage, one block per chunk, in rank order."""
    if not chunks:
        return empty
    return "\n\n".join(f"[{n}] source: {c.chunk_id}\n{c.text.strip()}" for n, c in enumerate(chunks, start=1))


def has_placeholder(config: LLMSystemConfig, name: str) -> bool:
    return name in template_variables(config.prompt.template) | template_variables(config.prompt.system or "")


def with_context_placeholder(config: LLMSystemConfig) -> LLMSystemConfig:
    """A custom template that forgets `{{context}}` gets the context in front, not silently none
    (`missing_context_warning` says so in the run's warnings)."""
    prompt = config.prompt
    if has_placeholder(config, "context"):
        return config
    template = "Context:\n{{context}}\n\n" + prompt.template
    return config.model_copy(update={"prompt": prompt.model_copy(update={"template": template})})


def missing_context_warning(config: LLMSystemConfig, context: SystemContext) -> list[str]:
    if has_placeholder(config, "context"):
        return []
    return [
        f"{context.where('prompt')}: the prompt has no {{{{context}}}} placeholder; "
        "the passages are put in front of the template as 'Context: ...'"
    ]


async def generate_with_context(
    config: LLMSystemConfig, context: SystemContext, example: Example, chunks: list[RetrievedChunk]
) -> Response:
    """The prompt with `{{context}}` filled in, sent through the gateway; `retrieved` set."""
    variables = {**base_variables(example, context), "context": format_context(chunks)}
    response = await generate(config, context, build_messages(config, variables))
    response.retrieved = chunks
    return response


class UsesRetrievalStage:
    """Hooks shared by kinds with a `stage`: the index in the run's artifacts, and the twin for a
    knowledge update (same settings and trained weights, the new corpus re-indexed)."""

    stage: RetrievalStage
    context: SystemContext

    def with_corpus(self, context: SystemContext) -> System | None:
        stage = self.stage.on_corpus(context)
        if stage is None:
            return None
        twin = copy.copy(self)
        twin.stage, twin.context, twin.warnings = stage, context, stage.warnings
        return twin  # type: ignore[return-value]

    def index_artifacts(self) -> Artifacts | None:
        files = self.stage.index_files()
        return Artifacts(files=files) if files else None


class RagSystem(UsesRetrievalStage, System):
    def __init__(self, config: RagConfig, context: SystemContext):
        check_template(config, context, CONTEXT_VARIABLES)
        self.config = with_context_placeholder(config)
        self.context = context
        self.stage = RetrievalStage(config, context)
        self.warnings = missing_context_warning(config, context) + self.stage.warnings

    async def setup(self) -> None:
        await self.stage.setup()

    def artifacts(self) -> Artifacts | None:
        return self.index_artifacts()

    async def respond(self, example: Example) -> Response:
        chunks, retrieval_s = await self.stage.retrieve(example.input)
        response = await generate_with_context(self.config, self.context, example, chunks)
        generation_s = response.timings.generation_s or 0.0
        response.timings = Timings(
            total_s=retrieval_s + generation_s, retrieval_s=retrieval_s, generation_s=generation_s
        )
        response.metadata["retrieval"] = {
            "retriever": self.stage.config.retriever,
            "top_k": self.stage.config.top_k,
            "no_context": not chunks,
        }
        if not chunks and self.stage.config.min_score is not None:
            # the system's own "no relevant context" path: the abstention metrics count it as a decline
            response.metadata["declined"] = NO_RELEVANT_CONTEXT
        return response


system_kind("rag", RagConfig)(RagSystem)
