"""The reviewer's detail of a plan: commits by kind, pins, the changelog entry, compare links."""

from __future__ import annotations

import json
from datetime import date

from release_train.core import changelog
from release_train.core.commits import parse_commit
from release_train.core.graph import build_graph
from release_train.core.plan import Plan, PlanOptions, RepoScan, make_plan
from release_train.core.plan_detail import (
    DetailInputs,
    changelog_entry,
    commit_groups,
    with_details,
)
from release_train.core.pyproject import PinPolicy
from release_train.core.render import plan_json, plan_markdown, plan_text
from tests.core.test_render import SPEC_PLAN_TABLE, spec_example_plan

DAY = date(2026, 2, 25)
BASE = "https://github.example/acme"


def sha(n: int) -> str:
    return f"{n:x}" * 40


def family_plan(policy: PinPolicy = PinPolicy.EXACT, base: str | None = BASE) -> Plan:
    """`core` (a release with every kind of commit) and `app`, which depends on it."""
    messages = [
        "fix(io): close files",
        "Merge pull request #4 from acme/x",
        "feat: add hooks (#5)",
        "feat(api)!: drop the v1 API",
        "docs: explain hooks",
        "release: core v1.4.0",
        "refactor: tidy\n\nBREAKING CHANGE: the config moved",
    ]
    commits = tuple(parse_commit(m, sha(i + 1)) for i, m in enumerate(messages))
    scans = {
        "core": RepoScan("core", "acme-core", "1.4.0", "core/v1.4.0", sha(7), commits),
        "app": RepoScan("app", "acme-app", "0.3.0", None, sha(8), ()),
    }
    graph = build_graph({"core": [], "app": ["core"]})
    plan = make_plan(scans, graph, ["app", "core"], PlanOptions(), "r1")
    return with_details(plan, DetailInputs(policy, DAY, base))


def test_commits_are_grouped_breaking_first_newest_first_without_merges_or_releases() -> None:
    entry = family_plan().entries[0]
    groups = commit_groups(entry.log)
    assert {key: [c.subject for c in found] for key, found in groups.items()} == {
        "breaking": ["refactor: tidy", "feat(api)!: drop the v1 API"],
        "features": ["feat: add hooks (#5)"],
        "fixes": ["fix(io): close files"],
        "other": ["docs: explain hooks"],
    }


def test_the_changelog_is_what_the_changelog_step_renders_with_the_pins_pin_writes() -> None:
    plan = family_plan(PinPolicy.COMPATIBLE)
    core, app = plan.entries
    assert app.pins == (("acme-core", "~=2.0.0"),) and core.pins == ()
    assert changelog_entry(app) == changelog.render_entry(
        "0.3.1", DAY, (), [("acme-core", "~=2.0.0")]
    )
    assert changelog_entry(core) == changelog.render_entry("2.0.0", DAY, core.log)


def test_the_detail_leaves_the_plan_hash_alone() -> None:
    plan = family_plan()
    assert plan.plan_hash == Plan(plan.run_id, plan.entries, (), plan.graph, ()).plan_hash
    bare = make_plan({}, build_graph({}), [], PlanOptions(), "r1")
    assert with_details(bare, DetailInputs(PinPolicy.EXACT, DAY)).entries == ()
    spec = spec_example_plan()
    assert with_details(spec, DetailInputs(PinPolicy.EXACT, DAY)).plan_hash == spec.plan_hash


def test_compare_links_only_in_api_mode_and_only_from_a_tag() -> None:
    core, app = family_plan().entries
    assert core.compare_url == f"{BASE}/core/compare/core/v1.4.0...{sha(7)}"
    assert app.compare_url is None  # no release yet: nothing to compare with
    assert family_plan(base=None).entries[0].compare_url is None


def test_plain_text_is_the_table_unless_the_detail_is_asked_for() -> None:
    spec = with_details(spec_example_plan(), DetailInputs(PinPolicy.EXACT, DAY, BASE))
    assert plan_text(spec) == SPEC_PLAN_TABLE
    text = plan_text(family_plan(), detail=True)
    assert text.split("  Total: 2 repos, 5 commits\n", 1)[1] == (
        "\n"
        "Details:\n"
        "\n"
        "  core 1.4.0 -> 2.0.0 (major)\n"
        "    Last release: core/v1.4.0\n"
        f"    Compare: {BASE}/core/compare/core/v1.4.0...{sha(7)}\n"
        "    Breaking changes:\n"
        "      7777777 refactor: tidy\n"
        "      4444444 feat(api)!: drop the v1 API\n"
        "    Features:\n"
        "      3333333 feat: add hooks (#5)\n"
        "    Fixes:\n"
        "      1111111 fix(io): close files\n"
        "    Other changes:\n"
        "      5555555 docs: explain hooks\n"
        "    Changelog entry:\n"
        "      ## v2.0.0 (2026-02-25)\n"
        "\n"
        "      ### Breaking Changes\n"
        "\n"
        "      - the config moved\n"
        "      - drop the v1 API\n"
        "\n"
        "      ### Features\n"
        "\n"
        "      - feat(api)!: drop the v1 API\n"
        "      - feat: add hooks (#5)\n"
        "\n"
        "      ### Bug Fixes\n"
        "\n"
        "      - fix(io): close files\n"
        "\n"
        "      ### Other Changes\n"
        "\n"
        "      - refactor: tidy\n"
        "      - docs: explain hooks\n"
        "\n"
        "  app 0.3.0 -> 0.3.1 (patch)\n"
        "    Last release: (none: the first release)\n"
        "    Pins (written by PIN):\n"
        "      acme-core==2.0.0\n"
        "    Changelog entry:\n"
        "      ## v0.3.1 (2026-02-25)\n"
        "\n"
        "      ### Dependencies\n"
        "\n"
        "      - `acme-core` pinned to ==2.0.0\n"
    )


def test_text_detail_drops_control_characters_from_subjects() -> None:
    commit = parse_commit("fix: \x1b[2J\x1b]0;pwned\x07 ok", sha(1))
    scans = {"a": RepoScan("a", "a", "1.0.0", "a/v1.0.0", sha(1), (commit,))}
    plan = make_plan(scans, build_graph({"a": []}), ["a"], PlanOptions(), "r")
    text = plan_text(plan, detail=True)
    assert "\x1b" not in text and "\x07" not in text
    assert "      1111111 fix: [2J]0;pwned ok\n" in text


def test_markdown_puts_each_repo_in_a_details_block() -> None:
    text = plan_markdown(family_plan())
    start = text.index("### What each repo releases")
    assert text[start : text.index("### Dependency graph")] == (
        "### What each repo releases\n"
        "\n"
        "<details>\n"
        "<summary>core 1.4.0 → 2.0.0 (major, 5 commits)</summary>\n"
        "\n"
        f"Last release: core/v1.4.0 ([compare]({BASE}/core/compare/core/v1.4.0...{sha(7)}))\n"
        "\n"
        "**Breaking changes**\n"
        "\n"
        "- `7777777` refactor: tidy\n"
        "- `4444444` feat(api)!: drop the v1 API\n"
        "\n"
        "**Features**\n"
        "\n"
        "- `3333333` feat: add hooks (#5)\n"
        "\n"
        "**Fixes**\n"
        "\n"
        "- `1111111` fix(io): close files\n"
        "\n"
        "**Other changes**\n"
        "\n"
        "- `5555555` docs: explain hooks\n"
        "\n"
        "**Changelog entry**\n"
        "\n"
        "```markdown\n"
        f"{changelog_entry(family_plan().entries[0])}"
        "```\n"
        "\n"
        "</details>\n"
        "\n"
        "<details>\n"
        "<summary>app 0.3.0 → 0.3.1 (patch, 0 commits)</summary>\n"
        "\n"
        "Last release: (none: the first release)\n"
        "\n"
        "No changes since the last release: cascade: same-run upstream core is released\n"
        "\n"
        "**Pins written by PIN**\n"
        "\n"
        "- acme-core==2.0.0\n"
        "\n"
        "**Changelog entry**\n"
        "\n"
        "```markdown\n"
        "## v0.3.1 (2026-02-25)\n"
        "\n"
        "### Dependencies\n"
        "\n"
        "- `acme-core` pinned to ==2.0.0\n"
        "```\n"
        "\n"
        "</details>\n"
        "\n"
    )


def test_markdown_cuts_long_ranges_and_says_so() -> None:
    commits = tuple(parse_commit(f"fix: change {i}", f"{i:040x}") for i in range(250))
    scans = {"a": RepoScan("a", "a", "1.0.0", "a/v1.0.0", sha(1), commits)}
    plan = make_plan(scans, build_graph({"a": []}), ["a"], PlanOptions(), "r")
    text = plan_markdown(with_details(plan, DetailInputs(PinPolicy.EXACT, DAY)))
    assert text.count("- `00000") == 50 and "- … and 200 more\n" in text
    assert "```\n… 54 more lines: the JSON plan has them all\n" in text  # 254 lines, 200 shown
    assert len(json.loads(plan_json(plan))["entries"][0]["commit_groups"]["fixes"]) == 250


def test_json_carries_the_whole_detail() -> None:
    core, app = json.loads(plan_json(family_plan()))["entries"]
    assert core["last_tag"] == "core/v1.4.0"
    assert core["compare_url"] == f"{BASE}/core/compare/core/v1.4.0...{sha(7)}"
    assert core["commit_groups"] == {
        "breaking": [
            {"sha": sha(7), "subject": "refactor: tidy"},
            {"sha": sha(4), "subject": "feat(api)!: drop the v1 API"},
        ],
        "features": [{"sha": sha(3), "subject": "feat: add hooks (#5)"}],
        "fixes": [{"sha": sha(1), "subject": "fix(io): close files"}],
        "other": [{"sha": sha(5), "subject": "docs: explain hooks"}],
    }
    assert core["changelog"] == changelog_entry(family_plan().entries[0]) and core["pins"] == {}
    assert app["pins"] == {"acme-core": "==2.0.0"}
    assert (app["compare_url"], app["last_tag"]) == (None, None)
    assert app["commit_groups"] == {"breaking": [], "features": [], "fixes": [], "other": []}


def test_a_plan_made_without_details_shows_no_changelog_entry() -> None:
    plan = spec_example_plan()
    assert [changelog_entry(e) for e in plan.entries] == [""] * 6
    assert "Changelog entry" not in plan_markdown(plan)
    assert "Changelog entry" not in plan_text(plan, detail=True)
