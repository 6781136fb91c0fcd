"""Typed suite config for a corpus and for retrieval, plus the `use:` block resolution.

Only pydantic here: the suite model imports this module, so it must stay cheap to import.
A retrieval block is declared once under the suite's `retrieval:` and named by systems, so
sweeps (`retrieval.top_k: [1, 3, 5]`) vary one field of a shared block instead of copies.
"""

from __future__ import annotations

from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from harness.errors import ConfigError

DEFAULT_EMBEDDING_MODEL = "local/all-minilm-l6-v2"
DEFAULT_INCLUDE = ["**/*.md", "**/*.markdown", "**/*.txt", "**/*.html", "**/*.htm"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CorpusConfig(_Strict):
    """Where the documents live: a folder of Markdown/text/HTML files or a JSONL file."""

    path: str = Field(..., min_length=1, description="Folder or .jsonl file, relative to the suite file.")
    format: Literal["auto", "folder", "jsonl"] = Field(
        "auto", description="auto: a folder is a folder, a file is JSONL of {id, title, text, metadata}."
    )
    include: list[str] = Field(
        default_factory=lambda: list(DEFAULT_INCLUDE),
        description="Glob patterns (relative to the folder) of files to read; folder format only.",
    )


class ChunkingConfig(_Strict):
    """How documents are cut into chunks. `size`/`overlap` count words."""

    strategy: Literal["fixed", "paragraph", "heading", "sentence"] = Field(
        "paragraph",
        description="fixed: word windows with overlap; paragraph/sentence: pack whole units up to "
        "size words; heading: one chunk per Markdown section (split further when longer than size).",
    )
    size: int = Field(200, gt=0, description="Most words per chunk.")
    overlap: int = Field(0, ge=0, description="Words shared by consecutive fixed-size chunks.")


class RetrievalConfig(_Strict):
    """One retrieval set-up: how to chunk, which retriever, how many chunks to keep."""

    retriever: Literal["bm25", "dense", "hybrid"] = "bm25"
    top_k: int = Field(5, gt=0, description="Chunks passed to the model.")
    chunking: ChunkingConfig = Field(default_factory=ChunkingConfig)
    embedding_model: str = Field(DEFAULT_EMBEDDING_MODEL, min_length=1)
    min_score: float | None = Field(
        None,
        ge=-1.0,
        le=1.0,
        description="Cosine similarity under which a chunk is not relevant (dense and hybrid); "
        "when nothing passes, the system answers with no context.",
    )
    rerank_model: str | None = Field(None, description="litellm rerank model; None: no re-ranking.")
    rerank_candidates: int = Field(20, gt=0, description="Chunks handed to the re-ranker.")
    fusion_k: int = Field(60, gt=0, description="Reciprocal rank fusion constant (hybrid).")

    @model_validator(mode="after")
    def _coherent(self) -> "RetrievalConfig":
        if problems := coherence_problems(self):
            raise ValueError("; ".join(problems))
        return self

    @property
    def uses_embeddings(self) -> bool:
        return self.retriever in ("dense", "hybrid")


def coherence_problems(config: RetrievalConfig) -> list[str]:
    """Checks that span fields; run on complete configs only (a `use:` override is partial)."""
    problems = []
    chunking = config.chunking
    if chunking.strategy == "fixed" and chunking.overlap >= chunking.size:
        problems.append(f"chunking.overlap ({chunking.overlap}) must be less than chunking.size ({chunking.size})")
    if config.min_score is not None and config.retriever == "bm25":
        problems.append("min_score is a cosine similarity: it applies to the dense and hybrid retrievers only")
    return problems


class RetrievalSpec(RetrievalConfig):
    """What a system writes: a block name, an inline config, or `{use: <block>, ...overrides}`."""

    use: str | None = Field(None, description="Name of a block under the suite's `retrieval:`.")

    @model_validator(mode="before")
    @classmethod
    def _name_only(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"use": value}
        if not isinstance(value, (dict, BaseModel)):
            raise ValueError("must be the name of a retrieval block or a mapping of retrieval settings")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> "RetrievalSpec":
        if self.use is None and (problems := coherence_problems(self)):
            raise ValueError("; ".join(problems))
        return self

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema = handler(core_schema)
        name = {"type": "string", "description": "Name of a block under the suite's `retrieval:`."}
        return {"anyOf": [name, schema]}


def resolve_retrieval(
    spec: RetrievalSpec, blocks: Mapping[str, RetrievalConfig], *, where: str
) -> RetrievalConfig:
    """The complete config a system runs with: its block with its overrides laid on top."""
    if spec.use is None:
        return RetrievalConfig.model_validate(spec.model_dump(exclude={"use"}))
    if spec.use not in blocks:
        known = ", ".join(sorted(blocks)) or "none declared"
        raise ConfigError(f"no retrieval block named {spec.use!r} (known: {known})", where=where)
    merged = _deep_merge(blocks[spec.use].model_dump(), spec.model_dump(exclude_unset=True, exclude={"use"}))
    try:
        return RetrievalConfig.model_validate(merged)
    except ValidationError as error:
        problems = [_describe(item, where) for item in error.errors()]
        raise ConfigError(f"invalid with block {spec.use!r}", where=where, problems=problems) from None


def resolve_suite_retrieval(suite: Any) -> list[str]:
    """Replace every system's retrieval spec by its resolved config (keeping `use` for the
    record), so run headers show what ran; returns the problems, each with where it is."""
    problems = []
    for name, system in suite.systems.items():
        spec = getattr(system, "retrieval", None)
        if not isinstance(spec, RetrievalSpec):
            continue
        try:
            resolved = resolve_retrieval(spec, suite.retrieval, where=f"systems.{name}.retrieval")
        except ConfigError as error:
            problems.extend(error.problems or [str(error)])
            continue
        system.retrieval = RetrievalSpec.model_validate({**resolved.model_dump(), "use": spec.use})
    return problems


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = _deep_merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _describe(item: Mapping[str, Any], where: str) -> str:
    place = ".".join([where, *(str(p) for p in item.get("loc", ()))])
    message = str(item.get("msg", "")).removeprefix("Value error, ")
    return f"{place}: {message[:1].lower()}{message[1:]}"
