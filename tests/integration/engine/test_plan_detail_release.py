"""The plan's detail is what the release then writes: the changelog entry, the pins, the range."""

from __future__ import annotations

from release_train import runs
from release_train.config import load_config
from release_train.core.changelog import entry_of
from release_train.core.plan_detail import changelog_entry, commit_groups, pull_request

from .conftest import Rig

HOSTILE = "feat(api)!: drop <b>v1</b> | @team `x` [y](http://e)"


def test_the_plan_shows_the_changelog_and_pins_the_release_writes(rig: Rig) -> None:
    config = rig.config("detail")
    feature = rig.push("dtl_core", HOSTILE)
    fix = rig.push("dtl_core", "fix: close the file")
    options = runs.Options(env=rig.env())
    plan, _ = runs.plan_release(load_config(config)[0], options)
    core, app = plan.entries

    assert [c.sha for c in commit_groups(core.log)["breaking"]] == [feature]
    fixes = commit_groups(core.log)["fixes"]
    assert [c.sha for c in fixes][:1] == [fix]
    assert [c.subject for c in fixes] == ["fix: close the file", "fix: a change after the release"]
    server = f"{rig.world.github.server_url}/{rig.world.owner}"
    assert core.compare_url == f"{server}/dtl_core/compare/dtl_core/v1.0.0...{fix}"
    assert app.pins == (("dtl-core", "==2.0.0"),)

    status, state = rig.release(config, None)

    assert status == 0 and state.plan_hash == plan.plan_hash
    assert state.repos["dtl_app"].pins == dict(app.pins)
    for entry in (core, app):
        written = rig.show(entry.repo, "main", "CHANGELOG.md")
        # `release --dry-run` shows these: the entry, the PR's title and body, and the tag.
        assert entry_of(written, entry.new) == changelog_entry(entry), written
        [pull] = [
            p for p in rig.pulls(entry.repo) if p["head_ref"] == state.repos[entry.repo].branch
        ]
        assert (pull["title"], pull["body"]) == pull_request(plan, entry)
        assert state.repos[entry.repo].tag == entry.tag
