"""What a release writes besides its files: the release commit's subject (also the PR's
title) and the PR's body, from data alone, so `release --dry-run` shows the same text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from release_train.core.commits import RELEASE_SUBJECT
from release_train.core.markdown_text import md_escape

# GitHub refuses a longer PR body (422); a subject is cut well before that on its own.
PR_BODY_LIMIT = 65_536
SUBJECT_LIMIT = 500


class PullText(NamedTuple):
    """What the PR of one repo's release says: the plan's facts about it and its range."""

    repo: str
    version: str
    previous: str
    bump: str
    run_id: str
    plan_hash: str
    subjects: Sequence[str]  # the range's commit subjects, newest first


def release_subject(repo: str, version: str) -> str:
    """The release commit's subject and the PR's title (spec, Sub-Step 6: COMMIT)."""
    return RELEASE_SUBJECT.format(repo=repo, version=version)


def pr_body(text: PullText) -> str:
    head = (
        f"## Release: {text.repo} v{text.version}\n\n"
        f"Coordinated release run: `{text.run_id}`\n\n"
        "### Changes\n"
    )
    tail = (
        "\n\n### Release metadata\n"
        f"- Bump: {text.bump}\n- Previous: v{text.previous}\n- Plan hash: {text.plan_hash}\n"
    )
    changes = [f"- {md_escape(_cut(subject, SUBJECT_LIMIT))}" for subject in text.subjects]
    return fit_body(head, changes or ["- (none)"], tail, PR_BODY_LIMIT)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def fit_body(head: str, lines: list[str], tail: str, limit: int) -> str:
    """`head`, as many of `lines` as fit, a line saying how many were left out, and `tail`,
    in at most `limit` characters (the changelog in the PR's diff has every entry)."""

    def more(count: int) -> str:
        return f"- \u2026 and {count} more (see the changelog in this PR)"

    kept: list[str] = []
    used = len(head) + len(tail)
    for number, line in enumerate(lines):
        after = len(lines) - number - 1  # a line that fits must leave room to say these
        room = limit - used - len(line) - (len(more(after)) + 1 if after else 0)
        if room < 0:
            kept.append(more(after + 1))
            break
        kept.append(line)
        used += len(line) + 1
    return head + "\n".join(kept) + tail
