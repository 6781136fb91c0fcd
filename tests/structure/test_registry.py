"""Installed plug-ins are third-party code: one that fails while loading is a located error."""

from __future__ import annotations

import sys
from importlib.metadata import EntryPoint, EntryPoints
from pathlib import Path

import pytest

from harness import registry
from harness.errors import ConfigError
from harness.registry import Registry


@pytest.mark.parametrize("body, shown", [
    ("import sys\nsys.exit(0)\n", "SystemExit: 0"),
    ("raise RuntimeError('no licence')\n", "RuntimeError: no licence"),
])
def test_a_plugin_that_fails_to_load_is_a_config_error(
    body: str, shown: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "failing_plugin_mod.py").write_text(body, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "failing_plugin_mod", raising=False)
    found = EntryPoints([EntryPoint(name="mine", value="failing_plugin_mod:make", group="harness.test_plugins")])
    monkeypatch.setattr(registry, "installed_entry_points", lambda: found)
    table: Registry[object] = Registry("test thing", builtin="harness.errors", entry_point_group="harness.test_plugins")
    with pytest.raises(ConfigError) as caught:
        table.loaded()
    message = str(caught.value)
    assert message.startswith("entry point group harness.test_plugins: cannot load the test thing plug-in 'mine'")
    assert shown in message
