"""Replay 102 real release ranges through real git repos and the whole planning path."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from release_train.config import Config
from release_train.planning import PlanRequest, plan_workspace
from release_train.sandbox.builder import Change, RepoBuilder

DATA = Path(__file__).parents[1] / "data" / "real-release-ranges.jsonl"


@dataclass(frozen=True)
class Range:
    repo: str
    start: str
    end: str
    messages: list[str]


def ranges() -> list[Range]:
    rows = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]
    return [Range(r["repo"], r["from"], r["to"], r["messages"]) for r in rows]


def build(workspace: Path, name: str, item: Range) -> None:
    """A repo whose last release is tagged `from`, followed by the range's real messages."""
    version = item.start.removeprefix("v")
    pyproject = f'[project]\nname = "{name}"\nversion = "{version}"\n'
    builder = RepoBuilder(workspace / name).init()
    builder.commit([Change("chore: import", {"pyproject.toml": pyproject})])
    builder.tag(item.start)
    builder.commit(item.messages)


def test_plans_agree_with_what_the_projects_released(tmp_path: Path) -> None:
    items = ranges()
    assert len(items) == 102
    names = [f"r{i:03d}" for i in range(len(items))]
    for name, item in zip(names, items, strict=True):
        build(tmp_path, name, item)
    config = Config.model_validate(
        {
            "owner": "real",
            "repos": {name: {} for name in names},
            "legacy_tag_patterns": ["v{version}"],
            "cascade": False,
        }
    )
    plan = plan_workspace(config, tmp_path, PlanRequest(), date(2026, 1, 1))
    planned = {e.repo: e.new for e in plan.entries}
    misses = [
        f"{item.repo} {item.start} -> {item.end}: planned {planned.get(name)}"
        for name, item in zip(names, items, strict=True)
        if planned.get(name) != item.end.removeprefix("v")
    ]
    print("\n".join(misses))
    assert len(items) - len(misses) >= 97, misses
