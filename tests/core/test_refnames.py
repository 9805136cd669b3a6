"""Tag, owner and repository names git and GitHub accept (core/refnames)."""

from __future__ import annotations

import pytest

from release_train.core.refnames import owner_problem, ref_problem, repo_problem, tag_problem

# (tag, accepted): each of `git check-ref-format`'s rules, and names that look odd but pass.
TAGS = [
    ("v1.2.3", True),
    ("omnibase_core/v1.2.3", True),
    ("v1.2.3+local.7", True),
    ("release-1.0.0rc1", True),
    ("ümlaut/v1", True),
    ("v1 .0", False),
    ("v1~1", False),
    ("v1^1", False),
    ("v1:1", False),
    ("v1?", False),
    ("v1*", False),
    ("v1[0]", False),
    ("v1\\0", False),
    ("v1\x01", False),
    ("v1\x7f", False),
    ("v1..2", False),
    ("v@{1}", False),
    ("a//v1", False),
    ("/v1", False),
    ("v1/", False),
    ("v1.", False),
    (".v1", False),
    ("core/.v1", False),
    ("v1.lock", False),
    ("core.lock/v1", False),
    ("", False),
]


@pytest.mark.parametrize(("tag", "accepted"), TAGS)
def test_tag_rules(tag: str, accepted: bool) -> None:
    assert (tag_problem(tag) is None) is accepted


def test_a_ref_needs_two_components_and_is_never_a_lone_at() -> None:
    assert ref_problem("HEAD") is not None
    assert ref_problem("@") is not None
    assert ref_problem("refs/tags/@") is None  # `@` is only refused on its own


@pytest.mark.parametrize(
    ("owner", "accepted"),
    [
        ("OmniNode-ai", True),
        ("a", True),
        ("a" * 39, True),
        ("a" * 40, False),
        ("-lead", False),
        ("trail-", False),
        ("dou--ble", False),
        ("under_score", False),
        ("dot.ted", False),
        ("", False),
    ],
)
def test_owner_names(owner: str, accepted: bool) -> None:
    assert (owner_problem(owner) is None) is accepted


@pytest.mark.parametrize(
    ("repo", "accepted"),
    [
        ("omnibase_core", True),
        ("a.b-c_d", True),
        ("x" * 100, True),
        ("x" * 101, False),
        (".", False),
        ("..", False),
        ("with space", False),
        ("slash/ed", False),
        ("", False),
    ],
)
def test_repo_names(repo: str, accepted: bool) -> None:
    assert (repo_problem(repo) is None) is accepted
