"""TAG's GitHub Release: a draft holding only this version's entry, then published, and a
run stopped between the two publishes the draft it left instead of making another."""

from __future__ import annotations

from release_train.core.changelog import entry_of

from .conftest import Rig

REPO = "ghr_core"


def test_a_release_stopped_between_draft_and_publish_publishes_its_draft(rig: Rig) -> None:
    config = rig.config("ghrelease", settings={"github_release": True})
    rig.push(REPO, "feat(api): add the thing (#7)")
    owner = rig.world.owner
    # GitHub refuses the publishing PATCH once (as it would a second published release).
    rig.admin.add_fault(
        "error",
        count=1,
        method="PATCH",
        path_prefix=f"/api/v3/repos/{owner}/{REPO}/releases/",
        status=422,
    )

    status, state = rig.release(config, None)

    repo = state.repos[REPO]
    assert status != 0 and repo.phase == "MERGED" and repo.error is not None
    [draft] = [r for r in rig.admin.snapshot()["releases"] if r["repo"] == REPO]
    assert draft["draft"] is True and draft["tag_name"] == repo.tag

    status, state = rig.resume(config, state.run_id)

    assert status == 0, state.repos[REPO].error
    [release] = [r for r in rig.admin.snapshot()["releases"] if r["repo"] == REPO]
    assert (release["id"], release["draft"]) == (draft["id"], False)
    written = rig.show(REPO, "main", "CHANGELOG.md")
    assert release["body"] == entry_of(written, repo.new_version)
    server = f"{rig.world.github.server_url}/{owner}/{REPO}"
    assert release["body"].startswith(f"## [{repo.new_version}]({server}/compare/")
    assert "- **api:** add the thing ([#7]" in release["body"]
    assert written.startswith("# Changelog\n") and "# Changelog" not in release["body"]
    assert state.repos[REPO].release_url == f"{server}/releases/tag/{repo.tag}"
