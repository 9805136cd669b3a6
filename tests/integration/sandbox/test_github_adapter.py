"""The GitHub adapter against the stand-in over HTTP: idempotent creates, CI, merges, retries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from github import GithubException

from release_train.adapters.github import CheckInfo, ChecksState, GitHub
from release_train.errors import ErrorCode, ReleaseError
from tests.integration.sandbox.test_github_fixtures import (
    OWNER,
    World,
    commit_on_branch,
    gh_world,
    wait_for,
)

__all__ = ["gh_world"]

API = f"/api/v3/repos/{OWNER}/demo"
BRANCH = "release/demo-v1.1.0"
TAG = "demo/v1.1.0"


@dataclass
class Waits:
    """The injected sleep: records each wait instead of sleeping."""

    seconds: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


@pytest.fixture
def waits() -> Waits:
    return Waits()


@pytest.fixture
def hub(gh_world: World, waits: Waits) -> GitHub:
    return client(gh_world, waits)


def client(world: World, waits: Waits, token: str | None = None, attempts: int = 5) -> GitHub:
    token = token or world.stand_in.token
    return GitHub(world.stand_in.api_url, token, OWNER, attempts=attempts, sleep=waits)


def main_sha(world: World) -> str:
    return str(world.admin.snapshot()["repos"]["demo"]["branches"]["main"])


def release_branch(world: World, text: str = "1.1.0\n") -> str:
    return commit_on_branch(world, BRANCH, {"VERSION": text}, "chore(release): demo 1.1.0")


def open_pull(world: World, hub: GitHub) -> tuple[int, str]:
    head = release_branch(world)
    pull = hub.create_pull("demo", head=BRANCH, base="main", title="Release 1.1.0", body="")
    return pull.number, head


def error_of(call: Callable[[], object]) -> ReleaseError:
    with pytest.raises(ReleaseError) as raised:
        call()
    return raised.value


# Pull requests: a retried POST must not open a second PR.


def test_create_pull_after_a_lost_answer_returns_the_pull_it_opened(
    gh_world: World, hub: GitHub, waits: Waits
) -> None:
    head = release_branch(gh_world)
    gh_world.admin.add_fault(
        "drop", count=1, method="POST", path_prefix=f"{API}/pulls", phase="after"
    )

    pull = hub.create_pull("demo", head=BRANCH, base="main", title="Release 1.1.0", body="b")

    assert (pull.number, pull.head_ref, pull.head_sha, pull.base_ref) == (1, BRANCH, head, "main")
    assert (pull.state, pull.merged, pull.merge_commit_sha) == ("open", False, None)
    assert pull.url.endswith(f"/{OWNER}/demo/pull/1")
    # Three requests: the lost POST, the POST that says "already exists", the lookup.
    assert (len(gh_world.admin.snapshot()["pulls"]), len(waits.seconds), hub.requests) == (1, 1, 3)
    assert hub.find_pull("demo", BRANCH, "main") == pull


def test_a_pull_without_commits_is_a_pr_failure(gh_world: World, hub: GitHub) -> None:
    gh_world.repo.create_git_ref(f"refs/heads/{BRANCH}", main_sha(gh_world))
    assert hub.find_pull("demo", BRANCH, "main") is None

    error = error_of(lambda: hub.create_pull("demo", head=BRANCH, base="main", title="t", body=""))

    assert error.code is ErrorCode.PR_FAILED
    assert "No commits between main and" in error.message


# CI: check runs, commit statuses, both, or none at all.


def test_checks_of_actions_only_ci_are_not_pending_for_the_empty_combined_status(
    gh_world: World, hub: GitHub
) -> None:
    gh_world.admin.set_ci("demo", duration=0.05)
    _, head = open_pull(gh_world, hub)

    wait_for(lambda: hub.checks("demo", head).state == "success")

    before = hub.requests
    state = hub.checks("demo", head)
    assert hub.requests - before == 2  # check runs and the combined status, one page each
    assert [(c.name, c.state) for c in state.checks] == [("test", "success")]
    assert (state.checks[0].url or "").startswith(f"{gh_world.stand_in.server_url}/{OWNER}/demo/")
    assert state.failed == ()


def test_checks_of_no_ci_then_of_statuses_only_ci(gh_world: World, hub: GitHub) -> None:
    gh_world.admin.set_ci("demo", conclusion="none")
    _, head = open_pull(gh_world, hub)
    commit = gh_world.repo.get_commit(head)
    url = "https://jenkins.example.invalid/job/12"

    assert hub.checks("demo", head) == ChecksState("none", ())
    # An outside CI (Jenkins, say) posts commit statuses and makes no check runs.
    commit.create_status("pending", url, "building", "ci/jenkins")
    assert hub.checks("demo", head) == ChecksState(
        "pending", (CheckInfo("ci/jenkins", "pending", url),)
    )
    commit.create_status("success", url, "built", "ci/jenkins")
    assert hub.checks("demo", head) == ChecksState(
        "success", (CheckInfo("ci/jenkins", "success", url),)
    )


def test_failing_checks_name_each_failure_with_its_url(gh_world: World, hub: GitHub) -> None:
    gh_world.admin.set_ci("demo", conclusion="failure", duration=0.05, checks=["lint", "test"])
    _, head = open_pull(gh_world, hub)
    commit = gh_world.repo.get_commit(head)
    commit.create_status("failure", "https://ci.example.invalid/7", "deploy failed", "deploy")
    commit.create_status("success", context="docs")

    wait_for(lambda: "pending" not in {c.state for c in hub.checks("demo", head).checks})

    state = hub.checks("demo", head)
    assert state.state == "failure"
    seen = " ".join(f"{c.name}:{c.state}" for c in state.checks)
    assert seen == "deploy:failure docs:success lint:failure test:failure"
    assert [c.name for c in state.failed] == ["deploy", "lint", "test"]
    assert state.failed[0].url == "https://ci.example.invalid/7"
    assert all("/actions/runs/" in (c.url or "") for c in state.failed[1:])


# Merging with the expected head.


def test_merge_after_a_lost_answer_and_again_returns_the_one_merge_commit(
    gh_world: World, hub: GitHub, waits: Waits
) -> None:
    number, head = open_pull(gh_world, hub)
    gh_world.admin.add_fault("drop", count=1, method="PUT", phase="after")

    merged = hub.merge("demo", number, sha=head, title="Release 1.1.0 (#1)", message="notes")
    again = hub.merge("demo", number, sha=head, title="Release 1.1.0 (#1)", message="notes")

    snapshot = gh_world.admin.snapshot()
    assert merged == again == snapshot["repos"]["demo"]["branches"]["main"]
    assert [(m["method"], m["sha"]) for m in snapshot["merges"]] == [("squash", merged)]
    assert len(waits.seconds) == 1
    pull = hub.get_pull("demo", number)
    assert (pull.merged, pull.merge_commit_sha, pull.state) == (True, merged, "closed")
    assert hub.find_pull("demo", BRANCH, "main") == pull


def test_merge_with_a_stale_head_is_refused(gh_world: World, hub: GitHub) -> None:
    number, stale = open_pull(gh_world, hub)
    moved = release_branch(gh_world, "1.1.0 and a late change\n")

    error = error_of(lambda: hub.merge("demo", number, sha=stale, title="t", message=""))

    assert error.code is ErrorCode.MERGE_FAILED
    assert "head moved" in error.message and "Head branch was modified" in error.message
    assert error.hint is not None and moved[:12] in error.hint and stale[:12] in error.hint
    assert gh_world.admin.snapshot()["merges"] == []


def test_merge_blocked_by_a_running_required_check_is_not_mergeable(
    gh_world: World, hub: GitHub
) -> None:
    gh_world.admin.set_ci("demo", required=["test"], duration=60)
    number, head = open_pull(gh_world, hub)
    running = hub.checks("demo", head)
    assert (running.state, [(c.name, c.state) for c in running.checks]) == (
        "pending",
        [("test", "pending")],
    )

    error = error_of(lambda: hub.merge("demo", number, sha=head, title="t", message=""))

    assert error.code is ErrorCode.MERGE_FAILED
    assert error.message == '#1 not mergeable: 405 Required status check "test" is expected.'


# Tags and releases.


def test_create_tag_after_a_lost_answer_and_again_is_done_once(
    gh_world: World, hub: GitHub, waits: Waits
) -> None:
    main = main_sha(gh_world)
    gh_world.admin.add_fault(
        "drop", count=1, method="POST", path_prefix=f"{API}/git/refs", phase="after"
    )

    hub.create_tag("demo", TAG, main)
    hub.create_tag("demo", TAG, main)

    repo = gh_world.admin.snapshot()["repos"]["demo"]
    assert hub.tag_sha("demo", TAG) == repo["refs"][f"refs/tags/{TAG}"] == main
    assert len(waits.seconds) == 1
    # The release-1.0.0 tag is annotated: its ref names a tag object, peeled to the commit.
    assert hub.tag_sha("demo", "demo/v1.0.0") == repo["tags"]["demo/v1.0.0"]
    assert repo["refs"]["refs/tags/demo/v1.0.0"] != repo["tags"]["demo/v1.0.0"]


def test_create_tag_over_another_commit_is_a_conflict(gh_world: World, hub: GitHub) -> None:
    main = main_sha(gh_world)
    other = release_branch(gh_world)
    assert hub.tag_sha("demo", TAG) is None
    hub.create_tag("demo", TAG, main)

    error = error_of(lambda: hub.create_tag("demo", TAG, other))

    assert error.code is ErrorCode.TAG_CONFLICT
    assert main in error.message and other in error.message
    assert hub.tag_sha("demo", TAG) == main


def test_a_draft_is_found_though_the_by_tag_lookup_hides_it_then_published(
    gh_world: World, hub: GitHub
) -> None:
    draft = hub.create_draft_release("demo", "demo/v1.0.0", "demo 1.0.0", "notes")

    assert draft.draft and "/releases/tag/untagged-" in draft.url
    assert hub.find_release("demo", "demo/v1.0.0") == draft
    published = hub.publish_release("demo", draft.id)
    assert (published.id, published.draft) == (draft.id, False)
    assert published.url.endswith(f"/{OWNER}/demo/releases/tag/demo/v1.0.0")
    assert hub.find_release("demo", "demo/v1.0.0") == published
    assert hub.publish_release("demo", draft.id) == published  # publishing again: no change
    assert hub.find_release("demo", TAG) is None
    assert len(gh_world.admin.snapshot()["releases"]) == 1


def test_a_published_release_is_immutable_in_the_stand_in(gh_world: World, hub: GitHub) -> None:
    draft = hub.create_draft_release("demo", "demo/v1.0.0", "demo 1.0.0", "notes")
    hub.publish_release("demo", draft.id)
    [release] = hub.repository("demo").get_releases()  # listed: fetched, not lazy
    for change in ({"draft": True}, {"tag_name": "demo/v9.0.0"}):
        with pytest.raises(GithubException) as raised:
            release.update_release("demo 1.0.0", "notes", **change)
        assert raised.value.status == 422
    assert release.update_release("renamed", "better notes").body == "better notes"


def test_create_draft_after_a_lost_answer_returns_that_draft(gh_world: World, hub: GitHub) -> None:
    gh_world.admin.add_fault(
        "drop", count=1, method="POST", path_prefix=f"{API}/releases", phase="after"
    )

    draft = hub.create_draft_release("demo", "demo/v1.0.0", "demo 1.0.0", "notes")

    assert draft.draft
    assert [r["id"] for r in gh_world.admin.snapshot()["releases"]] == [draft.id]


# Workflows.


def test_dispatch_then_workflow_runs_finds_the_run(gh_world: World, hub: GitHub) -> None:
    gh_world.admin.set_publish("demo", mode="dispatch")
    main = main_sha(gh_world)
    hub.create_tag("demo", TAG, main)

    hub.dispatch("demo", "release.yml", "main", {"tag": TAG})

    runs = hub.workflow_runs("demo", "release.yml", event="workflow_dispatch", head_sha=main)
    assert [(r.event, r.head_sha, r.head_branch) for r in runs] == [
        ("workflow_dispatch", main, "main")
    ]
    assert hub.get_run("demo", runs[0].id).url == runs[0].url
    assert hub.workflow_runs("demo", "release.yml", event="push") == []
    missing = error_of(lambda: hub.dispatch("demo", "publish.yml", "main", {}))
    assert missing.code is ErrorCode.PUBLISH_NOT_STARTED


def test_a_dispatch_whose_answer_was_lost_is_not_sent_twice(
    gh_world: World, hub: GitHub, waits: Waits
) -> None:
    gh_world.admin.set_publish("demo", mode="dispatch")
    gh_world.admin.add_fault("error", count=1, status=502, method="POST", phase="after")

    error = error_of(lambda: hub.dispatch("demo", "release.yml", "main", {"tag": TAG}))

    assert error.code is ErrorCode.GITHUB_ERROR and "may have taken effect" in error.message
    assert (hub.requests, waits.seconds) == (1, [])
    assert len(hub.workflow_runs("demo", "release.yml")) == 1


# Retries: transient answers are retried within bounds, the rest are not.


@pytest.mark.parametrize(
    ("fault", "waited"),
    [
        ({"kind": "error", "count": 2, "status": 502}, [(0.25, 0.5), (0.5, 1.0)]),
        ({"kind": "error", "count": 1, "status": 429}, [(0.25, 0.5)]),
        ({"kind": "drop", "count": 1}, [(0.25, 0.5)]),
        ({"kind": "secondary_rate_limit", "count": 1, "retry_after": 7}, [(7.0, 7.0)]),
        ({"kind": "secondary_rate_limit", "count": 1, "retry_after": 100}, [(30.0, 30.0)]),
    ],
    ids=["5xx-backoff", "429-backoff", "dropped", "retry-after", "retry-after-capped"],
)
def test_transient_failures_are_retried_after_a_bounded_wait(
    gh_world: World, hub: GitHub, waits: Waits, fault: dict[str, Any], waited: list[Any]
) -> None:
    options = {key: value for key, value in fault.items() if key != "kind"}
    gh_world.admin.add_fault(fault["kind"], method="GET", **options)

    assert hub.branch_sha("demo", "main") == main_sha(gh_world)

    assert hub.requests == len(waited) + 1
    assert len(waits.seconds) == len(waited)
    assert all(low <= s <= high for s, (low, high) in zip(waits.seconds, waited, strict=True))


def test_attempts_are_bounded(gh_world: World, waits: Waits) -> None:
    hub = client(gh_world, waits, attempts=3)
    gh_world.admin.add_fault("error", count=10, status=503)

    error = error_of(lambda: hub.branch_sha("demo", "main"))

    assert error.code is ErrorCode.GITHUB_ERROR
    assert error.message == (
        f"GET /repos/{OWNER}/demo/git/ref/heads/main: 503 Server Error after 3 attempts"
    )
    assert (hub.requests, len(waits.seconds)) == (3, 2)


def test_a_spent_hourly_rate_limit_fails_fast(gh_world: World, hub: GitHub, waits: Waits) -> None:
    gh_world.admin.set_rate_limit(0)

    error = error_of(lambda: hub.branch_sha("demo", "main"))

    assert error.code is ErrorCode.GITHUB_ERROR
    assert error.hint is not None and "rate limit is spent until" in error.hint
    assert (hub.requests, waits.seconds) == (1, [])


def test_a_bad_token_is_permission_denied_and_never_shown(gh_world: World, waits: Waits) -> None:
    token = "ghp_not-a-real-token-0123456789"
    hub = client(gh_world, waits, token)

    error = error_of(lambda: hub.branch_sha("demo", "main"))

    assert error.code is ErrorCode.PERMISSION_DENIED
    assert error.hint == "the token is invalid or expired"
    assert token not in error.render()
    assert (hub.requests, waits.seconds) == (1, [])


def test_a_token_without_write_access_names_what_it_cannot_do(
    gh_world: World, waits: Waits
) -> None:
    token = gh_world.admin.make_token(read_only=True)
    hub = client(gh_world, waits, token)

    error = error_of(lambda: hub.create_tag("demo", TAG, main_sha(gh_world)))

    assert error.code is ErrorCode.PERMISSION_DENIED
    assert error.message.startswith(f"the token cannot create tag {TAG} on demo")
    assert error.hint is not None and "contents:write" in error.hint
    assert token not in error.render() and hub.requests == 1


def test_absent_things_answer_404_or_422_at_once(
    gh_world: World, hub: GitHub, waits: Waits
) -> None:
    head = release_branch(gh_world)

    assert hub.branch_sha("demo", BRANCH) == head
    hub.delete_branch("demo", BRANCH)
    hub.delete_branch("demo", BRANCH)  # already gone (422): nothing to do
    assert hub.branch_sha("demo", BRANCH) is None
    assert error_of(lambda: hub.get_pull("demo", 99)).code is ErrorCode.PR_FAILED
    assert (hub.requests, waits.seconds) == (5, [])


# Construction.


def test_from_env_reads_the_api_url_and_falls_back_to_gh_token(gh_world: World) -> None:
    stand_in = gh_world.stand_in
    env = {"GITHUB_API_URL": stand_in.api_url, "GITHUB_TOKEN": "", "GH_TOKEN": stand_in.token}

    hub = GitHub.from_env(OWNER, env)

    assert hub.branch_sha("demo", "main") == main_sha(gh_world)
    assert hub.repository("demo") is hub.repository("demo")
    assert hub.repository("demo").get_branch("main").commit.sha == main_sha(gh_world)


def test_from_env_without_a_token_says_what_to_set() -> None:
    error = error_of(lambda: GitHub.from_env(OWNER, {}))

    assert error.code is ErrorCode.USAGE
    assert error.hint is not None and "GITHUB_TOKEN" in error.hint
