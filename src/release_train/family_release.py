"""The family's release note as a GitHub Release of the central repo (`family_release`).

A release needs a tag (GitHub makes it at the default branch's head when it is new), so the
release is `train/<run id>`: one per run, never another repo's `<repo>/v<version>`. It is
made once, when the run has released every repo, so its body is the final note and an
immutable release never needs editing; a retried create finds it and keeps it. A failure
to make it is a warning: the family is released all the same (it is not retried later).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from release_train.config import Config
from release_train.core.family_note import note_markdown
from release_train.core.state import RunState, RunStatus
from release_train.errors import ErrorCode, ReleaseError

if TYPE_CHECKING:
    from release_train.adapters.github import GitHub

TAG = "train/{run_id}"


def central_repo(config: Config, env: Mapping[str, str]) -> str | None:
    """`owner/name` of the central repo: the config's, the Action's own, or the state's."""
    name = config.family_release_repo or env.get("GITHUB_REPOSITORY") or config.state.repo
    if not name:
        return None
    return name if "/" in name else f"{config.owner}/{name}"


def publish(github: GitHub, config: Config, env: Mapping[str, str], state: RunState) -> str | None:
    """The family release's URL; None when it is off or the run is not finished."""
    if not config.family_release or state.status is not RunStatus.SUCCESS:
        return None
    repo = central_repo(config, env)
    if repo is None:
        raise ReleaseError(
            ErrorCode.USAGE,
            "family_release is on, but there is no central repo to publish it in",
            hint="set family_release_repo (owner/name) in the config",
        )
    tag = TAG.format(run_id=state.run_id)
    title = f"Family release {state.run_id}"
    return github.create_family_release(repo, tag, title, note_markdown(state))
