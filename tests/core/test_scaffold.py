"""What `init` infers from a repo's tags and release workflow (core/scaffold)."""

from __future__ import annotations

from release_train.core.scaffold import RepoFacts, publish_mode, tag_choice
from release_train.sandbox.family import release_workflow

V_ONLY = release_workflow(["v[0-9]*.[0-9]*.[0-9]*"])
DISPATCH_ONLY = """\
on:
  workflow_dispatch:
    inputs:
      tag: {required: true}
"""


def facts(tags: tuple[str, ...], workflow: str | None) -> RepoFacts:
    return RepoFacts("core", "core", "main", tags, workflow)


def test_most_tags_decide_the_format() -> None:
    choice = tag_choice(facts(("core/v1.0.0", "core/v1.1.0", "v0.9.0", "lab/x"), None))
    assert (choice.template, choice.counts) == (
        "{repo}/v{version}",
        {"{repo}/v{version}": 2, "v{version}": 1},
    )
    assert choice.reason() == "tags: 2 {repo}/v{version}, 1 v{version}"


def test_a_workflow_that_ignores_the_majoritys_tags_wins() -> None:
    """Like the real family: its publish workflow listens to `v*` tags only."""
    choice = tag_choice(facts(("core/v1.0.0", "core/v1.1.0", "v1.1.0"), V_ONLY))
    assert (choice.template, choice.accepted) == ("v{version}", True)
    assert publish_mode(facts((), V_ONLY), "v{version}") == ("tag", None)


def test_no_tags_and_no_filter_leave_the_format_to_the_family() -> None:
    assert tag_choice(facts((), None)).template is None
    assert tag_choice(facts((), release_workflow(["**"]))).template is None
    # GitHub's `*` matches no `/`: only bare `v` tags would start that workflow.
    assert tag_choice(facts((), release_workflow(["*"]))).template == "v{version}"


def test_publish_mode_follows_the_workflows_triggers() -> None:
    assert publish_mode(facts((), None), "v{version}") == (
        "none",
        "no .github/workflows/release.yml: nothing publishes",
    )
    mode, why = publish_mode(facts((), DISPATCH_ONLY), "v{version}")
    assert (mode, why) == (
        "dispatch",
        "a pushed tag would not start release.yml: it has no `on: push` trigger",
    )
