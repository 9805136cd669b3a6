"""The family's release note at the end of an Action run: the job summary (read as GitHub
Markdown), the result file, and the GitHub Release of the central repo (`family_release`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from release_train.sandbox.control import Sandbox

from .sandbox.conftest import CENTRAL, central_world, push_commit, tiny_config
from .test_action import Job, approve, release_inputs

FEATURE = "feat(api): add <b>streaming</b> @team | fixes #3"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Sandbox]:
    yield from central_world(tmp_path)


@pytest.fixture
def workspace(world: Sandbox, tmp_path: Path) -> Path:
    path = tmp_path / "workspace"
    path.mkdir()
    tables = f'family_release = true\n[state]\nstore = "branch"\nrepo = "{CENTRAL}"\n'
    (path / "release-train.toml").write_text(tiny_config(world, tables), encoding="utf-8")
    return path


def inline_text(token: Token) -> str:
    return "".join(
        child.content for child in token.children or () if child.type in ("text", "code_inline")
    )


def headings(tokens: list[Token]) -> list[tuple[str, str]]:
    return [
        (token.tag, inline_text(tokens[index + 1]))
        for index, token in enumerate(tokens)
        if token.type == "heading_open"
    ]


def list_items(tokens: list[Token]) -> list[str]:
    """The text (links' labels included) of each list item's first paragraph."""
    return [
        inline_text(tokens[index + 2])
        for index, token in enumerate(tokens)
        if token.type == "list_item_open" and tokens[index + 2].type == "inline"
    ]


def test_the_release_job_writes_the_family_note_everywhere(
    world: Sandbox, workspace: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    push_commit(world, tmp_path / "push", "alpha_core", FEATURE)
    plan = Job(world, workspace, "plan")
    plan(monkeypatch, command="plan")
    approve(world)
    release = Job(world, workspace, "release")
    assert release(monkeypatch, **release_inputs(plan)) == 0, release.summary
    run_id = plan.outputs["run-id"]

    tokens = MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(release.summary)
    found = headings(tokens)
    assert ("h2", f"Family release {run_id}") in found
    assert [text for tag, text in found if tag == "h3" and text.startswith("Tier")] == [
        "Tier 1",
        "Tier 2",
    ]
    items = list_items(tokens)
    core = next(item for item in items if item.startswith("alpha_core "))
    assert core.startswith("alpha_core 1.0.0 → 1.1.0 (alpha_core/v1.1.0)")
    # The commit's text is shown as written: no HTML, no mention, no link to issue 3.
    shown = "api: add <b>streaming</b> @\u200dteam | fixes #\u200d3 ("
    assert any(item.startswith(shown) for item in items), items
    assert not [t for t in tokens if t.type in ("html_inline", "html_block")]
    app = next(item for item in items if item.startswith("beta_app "))
    assert ", now requires alpha-core ==1.1.0" in app

    result = json.loads((workspace / release.outputs["result-file"]).read_text())
    note = result["release_note"]
    assert note in release.summary
    [family] = [r for r in world.github.admin().snapshot()["releases"] if r["repo"] == CENTRAL]
    assert (family["tag_name"], family["name"]) == (f"train/{run_id}", f"Family release {run_id}")
    assert (family["body"], family["draft"]) == (note, False)
