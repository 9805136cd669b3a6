"""The PR body fits GitHub's 65,536-character limit, however many and long the changes."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from release_train.steps import fit_body

HEAD, TAIL = "## Release: a v1\n\n### Changes\n", "\n\n### Release metadata\n- Bump: patch\n"


def test_everything_that_fits_is_kept_as_it_is() -> None:
    lines = ["- fix: one", "- feat: two"]
    assert fit_body(HEAD, lines, TAIL, 1_000) == HEAD + "- fix: one\n- feat: two" + TAIL


def test_what_does_not_fit_is_counted_on_one_line() -> None:
    lines = [f"- fix: change {n:03}" for n in range(100)]
    body = fit_body(HEAD, lines, TAIL, 400)
    assert len(body) <= 400 and body.startswith(HEAD) and body.endswith(TAIL)
    kept = body[len(HEAD) : -len(TAIL)].split("\n")
    assert kept[:-1] == lines[: len(kept) - 1]
    assert kept[-1] == f"- \u2026 and {100 - len(kept) + 1} more (see the changelog in this PR)"


@given(
    st.lists(st.text(min_size=1, max_size=3_000).map(lambda t: "- " + t), max_size=60),
    st.integers(min_value=300, max_value=20_000),
)
def test_the_body_never_passes_the_limit_and_keeps_a_prefix(lines: list[str], limit: int) -> None:
    body = fit_body(HEAD, lines, TAIL, limit)
    assert len(body) <= limit
    assert body.startswith(HEAD) and body.endswith(TAIL)
    middle = body[len(HEAD) : len(body) - len(TAIL)]
    if middle == "\n".join(lines):
        return
    counted = re.search(r"- \u2026 and (\d+) more \(see the changelog in this PR\)\Z", middle)
    assert counted is not None, middle[-200:]
    kept = len(lines) - int(counted.group(1))
    assert middle.startswith("\n".join(lines[:kept]))
