"""The twelve per-repo steps (Phase 3): each probes the world (`done`) before it acts (`apply`).

A step's probe looks at the file, the branch, the PR, the tag or the index, not only at the
state file, so a crash between an effect and its record is harmless: the resumed run finds
the effect and records it without doing it again. The steps live by stage: `edits` (the
worktree, up to the local commit), `remote` and `merge` (what changes on GitHub) and
`publishing` (the release workflow and the index); this module lists them in order.
"""

from __future__ import annotations

from release_train.core.release_text import fit_body
from release_train.steps.edits import Bump, Changelog, Commit, Lint, Lock, Pin, Worktree
from release_train.steps.merge import Merge
from release_train.steps.protocol import Step, release_message
from release_train.steps.publishing import Publish
from release_train.steps.remote import PullRequest, Push, Tag, pr_body

__all__ = [
    "STEPS",
    "Bump",
    "Changelog",
    "Commit",
    "Lint",
    "Lock",
    "Merge",
    "Pin",
    "Publish",
    "PullRequest",
    "Push",
    "Step",
    "Tag",
    "Worktree",
    "fit_body",
    "pr_body",
    "release_message",
    "steps_after",
]

STEPS: tuple[Step, ...] = (
    Worktree(),
    Bump(),
    Pin(),
    Changelog(),
    Lock(),
    Lint(),
    Commit(),
    Push(),
    PullRequest(),
    Merge(),
    Tag(),
    Publish(),
)


def steps_after(phase: str) -> list[Step]:
    """The steps still to run for a repo whose last completed phase is `phase`."""
    names = [s.phase for s in STEPS]
    if phase == "PLANNED":
        return list(STEPS)
    if phase not in names:
        return []
    return list(STEPS[names.index(phase) + 1 :])
