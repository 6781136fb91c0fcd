"""`${VAR}` in a suite's model, judge and system config: read from the environment at load time.

So a suite file can name a key or a server without holding it: `api_key: ${MY_KEY}`,
`headers: {Authorization: "Bearer ${MY_TOKEN}"}`, `api_base: ${MY_SERVER}`. An unset variable is
an error naming it and where it is used. `$${VAR}` stands for a literal `${VAR}`.

Expanded values are registered with the secret scrubber (harness.secrets), so they never reach
disk in an error message or log, unless they sit in a field that names a model or an address
(`model`, `api_base`, `url`, ...), which the run record must show, and whose variable's name
does not look secret (`${MY_SERVER}`, not `${MY_API_KEY}`). Literal values under
secret-looking keys and header values are registered too.

Prompt templates are left alone: a prompt may well talk about `${...}` itself.
"""

from __future__ import annotations

import os
import re
from typing import Any

from harness.secrets import is_secret_name, register_config_secrets, register_secret

VARIABLE = re.compile(r"\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)\}")
SECTIONS = ("systems", "judge", "defaults")
SKIPPED = frozenset({"prompt"})  # prompt templates: text for the model, not config
# fields whose expanded value is an address or a model name, recorded in run.json on purpose
NOT_SECRET_FIELDS = frozenset(
    {"model", "base_model", "embedding_model", "rerank_model", "api_base", "base_url", "api_version", "url", "custom_llm_provider"}
)


class MissingVariables(Exception):
    def __init__(self, names: list[str]):
        super().__init__(", ".join(names))
        self.names = names


def expand_text(text: str, *, secret: bool = True) -> str:
    """`text` with each `${VAR}` replaced by its value; MissingVariables names the unset ones.

    The values are registered as secrets; with `secret=False` only those of variables whose
    name looks secret (`${API_KEY}` inside a URL).
    """
    missing = [m.group(2) for m in VARIABLE.finditer(text) if not m.group(1) and m.group(2) not in os.environ]
    if missing:
        raise MissingVariables(list(dict.fromkeys(missing)))

    def value(match: re.Match[str]) -> str:
        if match.group(1):
            return "${" + match.group(2) + "}"
        found = os.environ[match.group(2)]
        if secret or is_secret_name(match.group(2)):
            register_secret(found)
        return found

    return VARIABLE.sub(value, text)


def expand_env_vars(raw: dict[str, Any]) -> list[str]:
    """Expand `${VAR}` in place in the suite mapping's systems, judge and defaults; returns problems."""
    problems: list[str] = []
    for section in SECTIONS:
        if section in raw:
            raw[section] = _expand(raw[section], [section], problems)
            register_config_secrets(raw[section])
    return problems


def _expand(value: Any, where: list[str], problems: list[str]) -> Any:
    if isinstance(value, str):
        if "${" not in value:
            return value
        try:
            field = next((w for w in reversed(where) if not w.startswith("[")), "")
            return expand_text(value, secret=field not in NOT_SECRET_FIELDS)
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
