"""A merge-queue branch as REST shows it, against the spec: the 405 merge, the rulesets."""

from __future__ import annotations

import pytest
from github import GithubException

from release_train.adapters.github import GitHub
from release_train.adapters.github_access import branch_rules
from tests.contract.conftest import ContractWorld, open_pull
from tests.integration.sandbox.test_github_fixtures import OWNER, REPO

QUEUE_REQUIRED = "Repository rule violations found\n\nChanges must be made through the merge queue"


def test_pulls_merge_into_a_queue_branch_is_refused(world: ContractWorld) -> None:
    world.admin.require_merge_queue(REPO, "main")
    pr = open_pull(world)
    with pytest.raises(GithubException) as caught:
        pr.merge(merge_method="squash", sha=pr.head.sha)
    assert (caught.value.status, caught.value.data["message"]) == (405, QUEUE_REQUIRED)
    world.expect("pulls/merge", 405)


def test_repos_rulesets_show_the_merge_queue_rule(world: ContractWorld) -> None:
    world.admin.require_merge_queue(REPO, "main", merge_method="SQUASH")
    world.admin.set_ci(REPO, ruleset=["test"])
    requester = world.gh.requester
    _, listed = requester.requestJsonAndCheck("GET", f"/repos/{OWNER}/{REPO}/rulesets")
    assert [(r["id"] == 1, r["name"]) for r in listed] == [
        (True, "required checks"),
        (False, "merge_queue"),
    ]
    _, ruleset = requester.requestJsonAndCheck("GET", listed[1]["_links"]["self"]["href"])
    assert ruleset["conditions"] == {"ref_name": {"include": ["refs/heads/main"], "exclude": []}}
    assert [(r["type"], r["parameters"]["merge_method"]) for r in ruleset["rules"]] == [
        ("merge_queue", "SQUASH")
    ]
    world.expect("repos/get-repo-rulesets", 200)
    world.expect("repos/get-repo-ruleset", 200)


def test_the_preflight_reads_the_queue_from_the_branch_rules(world: ContractWorld) -> None:
    world.admin.require_merge_queue(REPO, "dev-*")
    github = GitHub(world.stand_in.api_url, world.stand_in.token, OWNER, attempts=1)
    assert not branch_rules(github, REPO, "main").merge_queue
    world.admin.require_merge_queue(REPO, "main")
    assert branch_rules(github, REPO, "main").merge_queue
    world.expect("repos/get-branch-rules", 200)
