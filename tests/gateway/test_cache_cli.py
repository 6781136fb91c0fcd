"""`harness cache info|clear` on a cache folder filled through the gateway."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from harness.cli import main
from harness.gateway import Gateway, ModelReply, ModelRequest
from harness.gateway.cache import ResponseCache
from harness.gateway.scripted import register_script


def fill(folder: Path) -> None:
    register_script("cache_cli", {"default": "done"})
    gateway = Gateway(cache=ResponseCache.in_dir(folder))

    async def go() -> None:
        for text in ("a", "b", "c"):
            await gateway.complete(ModelRequest(model="scripted/cache_cli", messages=[{"role": "user", "content": text}]))
        await gateway.complete(ModelRequest(model="scripted/echo", messages=[{"role": "user", "content": "d"}]))

    asyncio.run(go())
    cache = ResponseCache.in_dir(folder)
    cache.put("0123abcd" * 8, ModelReply(text="from an older harness", model="openai/gpt-4o-mini"))  # a v1-style key
    cache.put_vectors({"v2:" + "e" * 64: b"\0" * 8, "f" * 64: b"\0" * 8})
    cache.close()
    judge = ResponseCache(folder / "judge" / "judge_cache.sqlite")
    judge.put("v2:" + "a" * 64, ModelReply(text="{}", model="openai/judge"))
    judge.close()
    (folder / "indexes" / "idx1").mkdir(parents=True)
    (folder / "indexes" / "idx1" / "vectors.npy").write_bytes(b"x" * 2048)


def info(folder: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(["cache", "info", "--json", "--cache-dir", str(folder)]) == 0
    return json.loads(capsys.readouterr().out)


def test_info_counts_each_part_and_stale_entries(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fill(tmp_path)
    summary = info(tmp_path, capsys)
    responses = summary["responses"]
    assert (responses["replies"], responses["replies_stale"]) == (5, 1)
    assert responses["by_model"] == {"scripted/cache_cli": 3, "scripted/echo": 1}
    assert (responses["embeddings"], responses["embeddings_stale"]) == (2, 1)
    assert responses["oldest"] <= responses["newest"] <= time.time() and responses["bytes"] > 0
    assert summary["judge"]["replies"] == 1
    assert summary["indexes"]["entries"] == 1 and summary["indexes"]["bytes"] == 2048
    assert main(["cache", "info", "--cache-dir", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "5 replies, 1 under older key versions (never served)" in text and "3  scripted/cache_cli" in text


def test_clear_stale_then_default_then_named_parts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fill(tmp_path)
    assert main(["cache", "clear", "--stale", "--cache-dir", str(tmp_path)]) == 0
    assert "replies: removed 1 stale entries" in capsys.readouterr().out
    summary = info(tmp_path, capsys)
    assert (summary["responses"]["replies"], summary["responses"]["embeddings"]) == (4, 1)

    assert main(["cache", "clear", "--cache-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "replies: removed 4 entries" in out and "judge: removed 1 replies" in out
    summary = info(tmp_path, capsys)
    assert (summary["responses"]["replies"], summary["responses"]["embeddings"], summary["judge"]["replies"]) == (0, 0, 0)
    assert summary["indexes"]["entries"] == 1  # indexes are kept unless named

    assert main(["cache", "clear", "indexes", "--cache-dir", str(tmp_path)]) == 0
    assert "indexes: removed" in capsys.readouterr().out and not (tmp_path / "indexes").exists()


def test_a_cleared_cache_is_not_served(tmp_path: Path) -> None:
    register_script("cache_cli_served", {"default": "first"})
    request = ModelRequest(model="scripted/cache_cli_served", messages=[{"role": "user", "content": "q"}])
    assert asyncio.run(Gateway(cache=ResponseCache.in_dir(tmp_path)).complete(request)).text == "first"
    register_script("cache_cli_served", {"default": "second"})
    assert asyncio.run(Gateway(cache=ResponseCache.in_dir(tmp_path)).complete(request)).cached is True
    assert main(["cache", "clear", "responses", "--cache-dir", str(tmp_path)]) == 0
    again = asyncio.run(Gateway(cache=ResponseCache.in_dir(tmp_path)).complete(request))
    assert (again.text, again.cached) == ("second", False)


def test_unknown_part_and_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cache", "clear", "everything", "--cache-dir", str(tmp_path)]) == 2
    assert "unknown cache part 'everything'" in capsys.readouterr().err
    summary = info(tmp_path / "absent", capsys)
    assert summary["exists"] is False and summary["responses"] == {"path": str(tmp_path / "absent" / "responses.sqlite"), "bytes": 0}
    assert not (tmp_path / "absent").exists()  # info creates nothing
