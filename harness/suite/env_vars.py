"""`${VAR}` in a suite's model, judge and system config: read from the environment at load time.

So a suite file can name a key or a server without holding it: `api_key: ${MY_KEY}`,
`headers: {Authorization: "Bearer ${MY_TOKEN}"}`, `api_base: ${MY_SERVER}`. An unset variable is
an error naming it and where it is used. `$${VAR}` stands for a literal `${VAR}`.

An expanded value is registered with the secret scrubber (harness.secrets) when its variable's
name looks secret (`${MY_API_KEY}`, not `${MY_SERVER}`); after expansion each config (each
system's, the judge's, the defaults) registers what it holds under secret-looking keys and
headers, and in URLs (harness.secrets.sources). A system's name is never read as such a key.

Prompt templates are left alone: a prompt may well talk about `${...}` itself.
"""

from __future__ import annotations

import os
import re
from typing import Any

from harness.secrets.sources import register_config_secrets
from harness.secrets.names import is_secret_name
from harness.secrets.scrub import register_secret

VARIABLE = re.compile(r"\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)\}")
SECTIONS = ("systems", "judge", "defaults")
SKIPPED = frozenset({"prompt"})  # prompt templates: text for the model, not config


class MissingVariables(Exception):
    def __init__(self, names: list[str]):
        super().__init__(", ".join(names))
        self.names = names


def expand_text(text: str) -> str:
    """`text` with each `${VAR}` replaced by its value; MissingVariables names the unset ones.

    The values of variables whose name looks secret are registered as secrets.
    """
    missing = [m.group(2) for m in VARIABLE.finditer(text) if not m.group(1) and m.group(2) not in os.environ]
    if missing:
        raise MissingVariables(list(dict.fromkeys(missing)))

    def value(match: re.Match[str]) -> str:
        if match.group(1):
            return "${" + match.group(2) + "}"
        found = os.environ[match.group(2)]
        if is_secret_name(match.group(2)):
            register_secret(found)
        return found

    return VARIABLE.sub(value, text)


def expand_env_vars(raw: dict[str, Any]) -> list[str]:
    """Expand `${VAR}` in place in the suite mapping's systems, judge and defaults; returns problems."""
    problems: list[str] = []
    for section in SECTIONS:
        if section in raw:
            raw[section] = _expand(raw[section], [section], problems)
            configs = raw[section].values() if section == "systems" and isinstance(raw[section], dict) else [raw[section]]
            for config in configs:  # each system's config, never the mapping: its keys are names
                register_config_secrets(config)
    return problems


def _expand(value: Any, where: list[str], problems: list[str]) -> Any:
    if isinstance(value, str):
        if "${" not in value:
            return value
        try:
            return expand_text(value)
        except MissingVariables as missing:
            names = ", ".join(missing.names)
            plural = "s" if len(missing.names) > 1 else ""
            place = ".".join(where).replace(".[", "[")
            problems.append(f"{place}: set the environment variable{plural} {names}")
            return value
    if isinstance(value, dict):
        return {k: v if k in SKIPPED else _expand(v, [*where, str(k)], problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, [*where, f"[{i}]"], problems) for i, v in enumerate(value)]
    return value
