"""Reference pages generated from the code itself, so they cannot drift from it.

`python -m release_train.reference` rewrites `docs/configuration.md` and `docs/errors.md`;
a test fails when the committed pages differ from what this module generates.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from release_train.config import Config, RepoConfig, SlackConfig
from release_train.errors import ErrorCode, ExitStatus

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        return "(table)"
    value: Any = field.default
    if value is PydanticUndefined:
        return "required"
    if hasattr(value, "value"):
        value = value.value
    if isinstance(value, tuple):
        value = list(value)
    return f"`{json.dumps(value)}`"


def _type(field: FieldInfo) -> str:
    text = str(field.annotation).replace("typing.", "")
    for prefix in (
        "release_train.config.",
        "release_train.core.pyproject.",
        "release_train.core.versions.",
    ):
        text = text.replace(prefix, "")
    return text.replace("<class '", "").replace("'>", "").replace("<enum '", "")


def _table(model: type[BaseModel], prefix: str) -> list[str]:
    rows = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    for name, field in model.model_fields.items():
        meaning = (field.description or "").replace("|", "\\|")
        kind = _type(field).replace("|", "\\|")
        rows.append(f"| `{prefix}{name}` | `{kind}` | {_default(field)} | {meaning} |")
    return rows


def configuration_page() -> str:
    lines = [
        "# Configuration reference",
        "",
        "Generated from `release_train.config` by `python -m release_train.reference`; do not",
        "edit by hand. The file is `release-train.toml` in the current directory, the",
        "`[tool.release-train]` table of its `pyproject.toml`, or the file given by `--config`.",
        "Unknown keys are errors. Enumerations: `pin_policy` is `exact`, `compatible` or",
        "`floor`; `prerelease` is `none`, `a`, `b` or `rc`; `failure_policy` is `fail-fast` or",
        "`keep-going`; `gate` is `environment`, `slack` or `attestation`; a repo's `publish` is",
        "`tag`, `dispatch` or `none`. Tag templates use `{repo}`, `{package}` and `{version}`.",
        "",
        "## Top level",
        "",
        *_table(Config, ""),
        "",
        "## `[repos.<name>]`",
        "",
        *_table(RepoConfig, "repos.<name>."),
        "",
        "## `[slack]`",
        "",
        *_table(SlackConfig, "slack."),
        "",
    ]
    return "\n".join(lines)


def errors_page() -> str:
    lines = [
        "# Error codes and exit statuses",
        "",
        "Generated from `release_train.errors` by `python -m release_train.reference`.",
        "Every expected failure prints `error[CODE]: message` and a `hint:` line, and exits",
        "with the status of its class. An unexpected failure (a bug) exits with",
        f"{int(ExitStatus.INTERNAL)} and names the file holding the traceback.",
        "",
        "| exit status | class | codes |",
        "| ---: | --- | --- |",
    ]
    for status in ExitStatus:
        codes = [f"`{c}`" for c in ErrorCode if c.exit_status is status]
        lines.append(f"| {int(status)} | {status.name.lower()} | {', '.join(codes) or '—'} |")
    return "\n".join(lines) + "\n"


PAGES = {"configuration.md": configuration_page, "errors.md": errors_page}


def main() -> int:
    DOCS.mkdir(exist_ok=True)
    for name, page in PAGES.items():
        (DOCS / name).write_text(page(), encoding="utf-8")
        print(f"wrote docs/{name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
