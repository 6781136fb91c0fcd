"""The run store's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Every table but `store_info` is keyed by `run_id` first: a run is replaced as a whole (delete its
rows, insert them again) in one transaction, so adding a run twice gives the same rows. Times are
ISO 8601 strings in UTC, which sort and compare the same way on both databases. docs/store.md
describes each column.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Index, Integer, MetaData, PrimaryKeyConstraint, String, Table, Text

SCHEMA_VERSION = 1
SNIPPET = 200

metadata = MetaData()

store_info = Table(
    "store_info", metadata,
    Column("key", String, primary_key=True),
    Column("value", Text, nullable=False),
)

runs = Table(
    "runs", metadata,
    Column("run_id", String, primary_key=True),
    Column("path", Text, nullable=False),
    Column("suite_name", String, nullable=False),
    Column("suite_hash", String),
    Column("suite_path", Text),
    Column("status", String, nullable=False),
    Column("started_at", String, nullable=False),
    Column("ended_at", String),
    Column("git_commit", String),
    Column("git_dirty", Boolean),
    Column("n_planned", Integer, nullable=False),
    Column("n_done", Integer, nullable=False),
    Column("n_errors", Integer, nullable=False),
    Column("n_examples", Integer, nullable=False),
    Column("n_systems", Integer, nullable=False),
    Column("n_warnings", Integer, nullable=False),
    Column("n_degraded", Integer, nullable=False),
    Column("duplicates", Integer, nullable=False),
    Column("headline_metric", String),
    Column("headline_best", Float),
    Column("fingerprint", String, nullable=False),
    Column("header", Text, nullable=False),
    Column("registered_at", String, nullable=False),
    Index("runs_suite_started", "suite_name", "started_at"),
    Index("runs_started", "started_at"),
    Index("runs_path", "path"),
)

run_systems = Table(
    "run_systems", metadata,
    Column("run_id", String, nullable=False),
    Column("system", String, nullable=False),
    Column("position", Integer, nullable=False),
    Column("kind", String, nullable=False),
    Column("model", String),
    Column("n_samples", Integer, nullable=False),
    Column("n_errors", Integer, nullable=False),
    PrimaryKeyConstraint("run_id", "system"),
)

run_metrics = Table(
    "run_metrics", metadata,
    Column("run_id", String, nullable=False),
    Column("metric", String, nullable=False),
    Column("position", Integer, nullable=False),
    Column("higher_is_better", Boolean, nullable=False),
    Column("unit", String),
    Column("grp", String, nullable=False),
    PrimaryKeyConstraint("run_id", "metric"),
)

summary = Table(
    "summary", metadata,
    Column("run_id", String, nullable=False),
    Column("system", String, nullable=False),
    Column("metric", String, nullable=False),
    Column("mean", Float),
    Column("ci_low", Float),
    Column("ci_high", Float),
    Column("n", Integer, nullable=False),
    Column("n_undefined", Integer, nullable=False),
    Column("n_error", Integer, nullable=False),
    PrimaryKeyConstraint("run_id", "system", "metric"),
    Index("summary_metric", "metric", "run_id"),
)

examples = Table(
    "examples", metadata,
    Column("run_id", String, nullable=False),
    Column("example_id", String, nullable=False),
    Column("position", Integer, nullable=False),
    Column("digest", String, nullable=False),
    Column("tags", Text, nullable=False),  # JSON list, for display; filters use example_tags
    Column("snippet", Text, nullable=False),  # the input's first SNIPPET characters, for lists
    PrimaryKeyConstraint("run_id", "example_id"),
    Index("examples_position", "run_id", "position"),
)

example_tags = Table(
    "example_tags", metadata,
    Column("run_id", String, nullable=False),
    Column("tag", String, nullable=False),
    Column("example_id", String, nullable=False),
    PrimaryKeyConstraint("run_id", "tag", "example_id"),
)

samples = Table(
    "samples", metadata,
    Column("run_id", String, nullable=False),
    Column("system", String, nullable=False),
    Column("example_id", String, nullable=False),
    Column("failed", Boolean, nullable=False),
    Column("cached", Boolean, nullable=False),
    Column("latency_s", Float),
    Column("tokens_in", Integer),
    Column("tokens_out", Integer),
    Column("cost_usd", Float),
    PrimaryKeyConstraint("run_id", "system", "example_id"),
    Index("samples_example", "run_id", "example_id"),
    sqlite_with_rowid=False,
)

scores = Table(
    "scores", metadata,
    Column("run_id", String, nullable=False),
    Column("system", String, nullable=False),
    Column("metric", String, nullable=False),
    Column("example_id", String, nullable=False),
    Column("status", String, nullable=False),
    Column("value", Float),
    PrimaryKeyConstraint("run_id", "system", "metric", "example_id"),
    Index("scores_example", "run_id", "example_id"),
    Index("scores_status", "run_id", "status", "metric", "example_id"),
    sqlite_with_rowid=False,
)

PER_RUN = [scores, samples, example_tags, examples, summary, run_metrics, run_systems, runs]
