"""Simulated CI on the GitHub stand-in: check runs moving through stages, statuses, no-CI repos."""

from __future__ import annotations

from tests.integration.sandbox.test_github_fixtures import (
    World,
    commit_on_branch,
    gh_world,
    wait_for,
)

__all__ = ["gh_world"]


def _open_pr(world: World) -> str:
    head = commit_on_branch(world, "feature", {"a.txt": "a\n"}, "feat: a")
    world.repo.create_pull(title="feat: a", body="", head="feature", base="main")
    return head


def test_check_runs_go_queued_in_progress_completed(gh_world: World) -> None:
    gh_world.admin.set_ci("demo", duration=0.6)
    head = _open_pr(gh_world)
    commit = gh_world.repo.get_commit(head)
    seen: list[tuple[str, str | None]] = []

    def stage() -> bool:
        run = commit.get_check_runs()[0]
        if not seen or seen[-1] != (run.status, run.conclusion):
            seen.append((run.status, run.conclusion))
        return run.status == "completed"

    wait_for(stage)

    assert seen[0][0] in ("queued", "in_progress")
    assert seen[-1] == ("completed", "success")
    assert [s for s, _ in seen] == sorted(
        {s for s, _ in seen}, key=["queued", "in_progress", "completed"].index
    )
    run = commit.get_check_runs()[0]
    assert (run.name, run.head_sha, run.app.slug) == ("test", head, "github-actions")
    # Actions-only CI posts no commit statuses: the combined state is "pending" with none counted.
    combined = commit.get_combined_status()
    assert (combined.state, combined.total_count) == ("pending", 0)


def test_failing_ci_concludes_failure(gh_world: World) -> None:
    gh_world.admin.set_ci("demo", conclusion="failure", duration=0.05)
    head = _open_pr(gh_world)

    wait_for(lambda: gh_world.repo.get_commit(head).get_check_runs()[0].status == "completed")

    assert gh_world.repo.get_commit(head).get_check_runs()[0].conclusion == "failure"
    assert gh_world.repo.get_pull(1).mergeable_state == "unstable"


def test_a_repo_without_ci_has_no_checks_and_no_statuses(gh_world: World) -> None:
    gh_world.admin.set_ci("demo", conclusion="none")
    head = _open_pr(gh_world)

    commit = gh_world.repo.get_commit(head)

    assert commit.get_check_runs().totalCount == 0
    combined = commit.get_combined_status()
    assert (combined.state, combined.total_count, combined.statuses) == ("pending", 0, [])


def test_statuses_mode_reports_through_the_combined_status(gh_world: World) -> None:
    gh_world.admin.set_ci("demo", mode="statuses", duration=0.05)
    head = _open_pr(gh_world)
    commit = gh_world.repo.get_commit(head)

    wait_for(lambda: commit.get_combined_status().state == "success")

    combined = commit.get_combined_status()
    assert [(s.context, s.state) for s in combined.statuses] == [("ci/test", "success")]


def test_posted_statuses_combine_newest_per_context(gh_world: World) -> None:
    commit = gh_world.repo.get_commit("main")

    commit.create_status("pending", context="deploy", description="waiting")
    assert commit.get_combined_status().state == "pending"
    commit.create_status("success", context="deploy")
    commit.create_status("success", context="lint")
    combined = commit.get_combined_status()

    assert (combined.state, combined.total_count) == ("success", 2)
    commit.create_status("failure", context="lint")
    assert commit.get_combined_status().state == "failure"
    assert [s.state for s in commit.get_statuses()] == ["failure", "success", "success", "pending"]


def test_a_rerun_replaces_the_failed_check_in_the_latest_view(gh_world: World) -> None:
    gh_world.admin.set_ci("demo", conclusion="failure", duration=0.05)
    head = _open_pr(gh_world)
    commit = gh_world.repo.get_commit(head)
    wait_for(lambda: commit.get_check_runs()[0].status == "completed")
    gh_world.admin.set_ci("demo", conclusion="success")

    gh_world.admin.rerun_ci("demo", head)
    wait_for(lambda: commit.get_check_runs()[0].conclusion == "success")

    # GitHub's default `filter=latest` shows the newest run per name; `all` shows both.
    assert [r.conclusion for r in commit.get_check_runs()] == ["success"]
    assert sorted(str(r.conclusion) for r in commit.get_check_runs(filter="all")) == [
        "failure",
        "success",
    ]
    assert gh_world.repo.get_pull(1).mergeable_state == "clean"


def test_statuses_only_ci_makes_no_check_runs(gh_world: World) -> None:
    gh_world.admin.set_ci("demo", mode="statuses", duration=0.05)
    head = _open_pr(gh_world)
    commit = gh_world.repo.get_commit(head)
    wait_for(lambda: commit.get_combined_status().state == "success")
    assert commit.get_check_runs().totalCount == 0
