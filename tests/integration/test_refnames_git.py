"""core/refnames agrees with the real `git check-ref-format` on every rule's examples."""

from __future__ import annotations

import subprocess

import pytest

from release_train.core.refnames import tag_problem
from tests.core.test_refnames import TAGS

MORE = ["v1/a.lock/b", "v1.2.3.", "@", "a@b", "a@{", "x/..y", "x/y..", "tab\tbed", "ok_-+=,%!&"]


@pytest.mark.parametrize("tag", [tag for tag, _ in TAGS if tag] + MORE)
def test_the_pure_rules_are_gits(tag: str) -> None:
    done = subprocess.run(
        ["git", "check-ref-format", f"refs/tags/{tag}"], capture_output=True, check=False
    )
    assert (tag_problem(tag) is None) is (done.returncode == 0)
