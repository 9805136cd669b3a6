"""Generates docs/action.md, the action's inputs and outputs reference, from action.yml.

`python tools/action_reference.py` rewrites the page; tests/test_workflows.py fails when
the committed page differs from what `render` makes of the committed action.yml.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"
PAGE = ROOT / "docs" / "action.md"

INTRO = """\
# Action reference

Generated from `action.yml` by `python tools/action_reference.py`; do not edit by hand.

`release-train` is a Docker container action. A workflow runs it twice: a `plan` job
(`command: plan`) and a `release` job bound to the `release` environment
(`command: release`, with the plan job's `run-id` and `plan-hash`). Copy
`examples/workflows/release-train.yml` rather than writing the workflow from scratch;
[central-repo.md](central-repo.md) explains the set-up, [tokens.md](tokens.md) the
token, [slack.md](slack.md) the Slack gate and [recovering.md](recovering.md) re-runs.
Pin `uses:` to the full commit SHA of the release-train version you reviewed.

Every input is a string, as for any action: booleans are `"true"` or `"false"`.
"""


def _cell(text: object) -> str:
    """One Markdown table cell: a single line, with pipes escaped so the table holds."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _default(spec: Mapping[str, Any]) -> str:
    if spec.get("required") is True:
        return "required"
    value = spec.get("default", "")
    return f"`{_cell(value)}`" if value != "" else "(empty)"


def render(action: Mapping[str, Any]) -> str:
    """The whole reference page for a parsed action.yml, in the file's own order."""
    lines = [INTRO, "## Inputs", ""]
    lines += ["| input | default | description |", "| --- | --- | --- |"]
    inputs: Mapping[str, Mapping[str, Any]] = action.get("inputs") or {}
    for name, spec in inputs.items():
        lines.append(f"| `{name}` | {_default(spec)} | {_cell(spec.get('description', ''))} |")
    lines += ["", "## Outputs", "", "| output | description |", "| --- | --- |"]
    outputs: Mapping[str, Mapping[str, Any]] = action.get("outputs") or {}
    for name, spec in outputs.items():
        lines.append(f"| `{name}` | {_cell(spec.get('description', ''))} |")
    return "\n".join(lines) + "\n"


def load(path: Path = ACTION) -> Mapping[str, Any]:
    loaded: Mapping[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def main() -> int:
    PAGE.write_text(render(load()), encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
