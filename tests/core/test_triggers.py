"""GitHub's filter patterns and the release workflow's triggers (core/triggers)."""

from __future__ import annotations

import pytest

from release_train.core.triggers import (
    Dispatch,
    PatternError,
    dispatch_problems,
    filter_matches,
    load_workflow,
    matches,
    push_problem,
)

# The "Filter pattern cheat sheet" of GitHub's workflow syntax docs: branch and tag names.
CHEAT_SHEET = [
    ("feature/*", ["feature/my-branch", "feature/your-branch"], ["feature/a/b", "feature"]),
    (
        "feature/**",
        ["feature/beta-a/my-branch", "feature/your-branch", "feature/mona/the/octocat"],
        ["features/x"],
    ),
    ("main", ["main"], ["main2", "xmain"]),
    ("releases/mona-the-octocat", ["releases/mona-the-octocat"], ["releases/mona"]),
    ("*", ["main", "releases"], ["all/the/branches"]),
    ("**", ["all/the/branches", "every/tag", "main"], []),
    ("*feature", ["mona-feature", "feature", "ver-10-feature"], ["feature-x", "a/feature"]),
    ("v2*", ["v2", "v2.0", "v2.9"], ["v3", "v2/x"]),
    ("v[12].[0-9]+.[0-9]+", ["v1.10.1", "v2.0.0"], ["v3.0.0", "v1.x.1", "v1..1", "v1.0"]),
]


@pytest.mark.parametrize(("pattern", "hits", "misses"), CHEAT_SHEET)
def test_the_cheat_sheet_examples(pattern: str, hits: list[str], misses: list[str]) -> None:
    assert [name for name in hits if matches(pattern, name)] == hits
    assert [name for name in misses if matches(pattern, name)] == []


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("v[0-9]*.[0-9]*.[0-9]*", "v0.47.0", True),  # the real family's release.yml
        ("v[0-9]*.[0-9]*.[0-9]*", "omnibase_core/v0.47.0", False),
        ("v[0-9]*.[0-9]*.[0-9]*", "v1.2", False),
        ("*.jsx?", "page.js", True),  # `?`: the preceding character is optional
        ("*.jsx?", "page.jsx", True),
        ("*.jsx?", "page.jsxx", False),
        ("[CB]at", "Cat", True),
        ("[CB]at", "Hat", False),
        ("[1-2]00", "200", True),
        ("[1-2]00", "300", False),
        ("**/v*", "omnibase_core/v1.0.0", True),
        ("**/v*", "v1.0.0", True),  # `**/` also matches nothing
        ("docs/**/x", "docs/x", True),
        ("a.b", "axb", False),  # `.` is a literal dot, not a regex wildcard
        ("v\\*", "v*", True),  # `\` escapes a special character
        ("v\\*", "v1", False),
        ("+v", "+v", True),  # a quantifier with nothing before it is literal
    ],
)
def test_pattern_semantics(pattern: str, name: str, expected: bool) -> None:
    assert matches(pattern, name) is expected


@pytest.mark.parametrize("pattern", ["v[", "v[]", "v[a-Z]", "v[9-0]", "v[.]", "v\\"])
def test_patterns_github_rejects(pattern: str) -> None:
    with pytest.raises(PatternError):
        matches(pattern, "v1")


def test_a_negation_excludes_what_came_before_and_order_matters() -> None:
    # The docs' example: releases/10 and releases/beta/mona run, releases/10-alpha does not.
    patterns = ["releases/**", "!releases/**-alpha"]
    assert filter_matches(patterns, "releases/10")
    assert filter_matches(patterns, "releases/beta/mona")
    assert not filter_matches(patterns, "releases/10-alpha")
    reordered = ["!releases/**-alpha", "releases/**"]
    assert filter_matches(reordered, "releases/10-alpha")  # the last match decides
    assert not filter_matches(["!v*"], "v1.0.0")  # negations alone select nothing
    assert filter_matches(["v*", "!v1*", "v1.2*"], "v1.2.0")
    assert not filter_matches(["v*", "!v1*", "v1.2*"], "v1.3.0")


def _workflow(on: str) -> dict[object, object]:
    return load_workflow(f"name: Release\n{on}\njobs: {{}}\n")


@pytest.mark.parametrize(
    ("on", "tag", "problem"),
    [
        ("on:\n  push:\n    tags: ['v[0-9]*.[0-9]*.[0-9]*']", "v1.2.3", None),
        ("on:\n  push:\n    tags: ['v[0-9]*.[0-9]*.[0-9]*']", "core/v1.2.3", "does not match"),
        ("on:\n  push:\n    tags: 'core/v*'", "core/v1.2.3", None),  # a single string
        ("on:\n  push:\n    tags: 1", "v1", "does not match"),  # YAML made it a number
        ("on: push", "anything/v1", None),  # every push, tags included
        ("on: [push, workflow_dispatch]", "v1", None),
        ("on:\n  push:", "v1", None),  # `push:` with no settings
        ("on: workflow_dispatch", "v1", "no `on: push`"),
        ("on:\n  push:\n    branches: [main]", "v1", "branches only"),
        ("on:\n  push:\n    branches-ignore: [dev]", "v1", "branches only"),
        ("on:\n  push:\n    paths: ['src/**']", "v1", None),  # paths are not checked for tags
        ("on:\n  push:\n    branches: [main]\n    tags: ['v*']", "v1", None),
        ("on:\n  push:\n    tags-ignore: ['v0.*']", "v1.0", None),
        ("on:\n  push:\n    tags-ignore: ['v0.*']", "v0.1", "excludes"),
        ("on:\n  push:\n    tags: ['v*']\n    tags-ignore: ['x']", "v1", "both"),
        ("on:\n  push:\n    tags: ['v[']", "v1", "invalid"),
        ("on:\n  push:\n    tags: ['**', '!*/v*']", "core/v1", "does not match"),
    ],
)
def test_push_triggers(on: str, tag: str, problem: str | None) -> None:
    found = push_problem(_workflow(on), tag)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_the_on_key_is_read_whether_pyyaml_makes_it_true_or_not() -> None:
    parsed = load_workflow("on:\n  push:\n    tags: ['v*']\n")
    assert True in parsed  # YAML 1.1: a bare `on` is a boolean
    assert push_problem(parsed, "v1") is None
    assert push_problem(load_workflow("'on':\n  push:\n    tags: ['x*']\n"), "v1") is not None


@pytest.mark.parametrize("text", ["on: [push", "- just\n- a list\n", ""])
def test_a_file_that_is_no_workflow(text: str) -> None:
    with pytest.raises(PatternError):
        load_workflow(text)


TAG = Dispatch({"tag": "v1.2.3"})


@pytest.mark.parametrize(
    ("on", "problems"),
    [
        ("on:\n  workflow_dispatch:\n    inputs:\n      tag:\n        required: true", []),
        ("on:\n  workflow_dispatch:", ["declares no input `tag`"]),
        ("on: push", ["no `on: workflow_dispatch`"]),
        ("on: [push, workflow_dispatch]", ["declares no input `tag`"]),
        (
            "on:\n  workflow_dispatch:\n    inputs:\n      tag: {}\n"
            "      env:\n        required: true",
            ["required input `env` is not sent"],
        ),
        (
            "on:\n  workflow_dispatch:\n    inputs:\n      tag: {}\n"
            "      env:\n        required: true\n        default: prod",
            [],
        ),
        (
            "on:\n  workflow_dispatch:\n    inputs:\n      tag:\n        type: choice\n"
            "        options: [v1.0.0]",
            ["does not offer v1.2.3"],
        ),
        (
            "on:\n  workflow_dispatch:\n    inputs:\n      tag:\n        type: boolean",
            ["is a boolean"],
        ),
        ("on:\n  workflow_dispatch:\n    inputs:\n      tag:\n        type: number", ["number"]),
        ("on:\n  workflow_dispatch:\n    inputs: [tag]", ["not a mapping"]),
    ],
)
def test_dispatch_inputs(on: str, problems: list[str]) -> None:
    found = dispatch_problems(_workflow(on), TAG)
    assert len(found) == len(problems), found
    for text, expected in zip(found, problems, strict=True):
        assert expected in text
