"""A resume fetches only what its remaining steps need (issue 12, item 6)."""

from __future__ import annotations

from tests.integration.engine.conftest import Rig


def _git_repos(rig: Rig) -> set[str]:
    """The repos git talked to the server about since the log was last cleared."""
    paths = (r["path"] for r in rig.admin.requests() if r["kind"] == "git")
    return {path.split("/")[2].removesuffix(".git") for path in paths}


def test_a_resume_leaves_the_clones_of_done_repos_alone(rig: Rig) -> None:
    config = rig.config("fetch")
    rig.push("fch_core", "fix: the resume round")
    rig.admin.set_ci("fch_app", conclusion="failure")
    try:
        status, state = rig.release(config, "fch-resume")
    finally:
        rig.admin.set_ci("fch_app", conclusion="success")
    assert status == 1
    assert (state.repos["fch_core"].status, state.repos["fch_app"].status) == ("done", "failed")
    commit = state.repos["fch_app"].release_commit
    assert commit is not None
    rig.admin.rerun_ci("fch_app", commit)
    rig.admin.clear_requests()

    status, state = rig.resume(config, "fch-resume")

    assert status == 0
    assert {name: repo.status for name, repo in state.repos.items()} == {
        "fch_core": "done",
        "fch_app": "done",
    }
    assert _git_repos(rig) == {"fch_app"}  # fch_core was done: its clone was not fetched
