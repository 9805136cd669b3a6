from __future__ import annotations

import re

from release_train.core.commits import parse_commit
from release_train.core.graph import build_graph
from release_train.core.plan import Plan, PlanOptions, RepoScan, make_plan
from release_train.core.render import md_escape, mermaid_graph, plan_markdown, plan_text
from tests.core.test_graph import SPEC_DEPENDENCY_MAP

# Phase 1 of the specification, byte for byte.
SPEC_PLAN_TABLE = """\
Release Plan (run: release-20260225-a3f7b2)
---
  Repo               Tier  Current  New      Bump   Commits
  ─────────────────  ────  ───────  ───────  ─────  ───────
  omnibase_spi       1     1.2.0    1.2.1    patch  3
  omnibase_core      2     1.4.0    1.5.0    minor  8
  omnibase_infra     3     2.0.0    2.1.0    minor  12
  omniintelligence   3     0.9.0    0.9.1    patch  2
  omnimemory         3     0.3.0    0.3.1    patch  1
  omniclaude         4     0.3.0    0.4.0    minor  15

  Skipped (no unreleased commits):
    (none)

  Total: 6 repos, 41 commits
"""

SPEC_EXAMPLE = {  # repo: (current, commit count, whether one of them is a feature)
    "omnibase_spi": ("1.2.0", 3, False),
    "omnibase_core": ("1.4.0", 8, True),
    "omnibase_infra": ("2.0.0", 12, True),
    "omniintelligence": ("0.9.0", 2, False),
    "omnimemory": ("0.3.0", 1, False),
    "omniclaude": ("0.3.0", 15, True),
}


def spec_example_plan(hostile: str = "") -> Plan:
    scans = {}
    for repo, (current, count, feat) in SPEC_EXAMPLE.items():
        messages = [f"fix: change {i}{hostile}" for i in range(count)]
        if feat:
            messages[0] = f"feat: feature{hostile}"
        commits = tuple(parse_commit(m, f"{i:040x}") for i, m in enumerate(messages))
        scans[repo] = RepoScan(repo, repo, current, f"{repo}/v{current}", "a" * 40, commits)
    graph = build_graph(SPEC_DEPENDENCY_MAP)
    return make_plan(scans, graph, list(scans), PlanOptions(), "release-20260225-a3f7b2")


def test_plan_text_is_the_specifications_table() -> None:
    assert plan_text(spec_example_plan()) == SPEC_PLAN_TABLE


def test_plan_text_lists_skipped_repos_and_singulars() -> None:
    scans = {
        "a": RepoScan("a", "a", "1.0.0", "a/v1.0.0", "f" * 40, (parse_commit("fix: x", "1" * 40),)),
        "b": RepoScan("b", "b", "2.0.0", "b/v2.0.0", "f" * 40, ()),
    }
    plan = make_plan(scans, build_graph({"a": [], "b": []}), ["a", "b"], PlanOptions(), "r1")
    assert plan_text(plan) == (
        "Release Plan (run: r1)\n"
        "---\n"
        "  Repo               Tier  Current  New      Bump   Commits\n"
        "  ─────────────────  ────  ───────  ───────  ─────  ───────\n"
        "  a                  1     1.0.0    1.0.1    patch  1\n"
        "\n"
        "  Skipped (no unreleased commits):\n"
        "    b (2.0.0)\n"
        "\n"
        "  Total: 1 repo, 1 commit\n"
    )


def test_long_values_widen_their_column() -> None:
    scans = {
        "a_very_long_repository_name": RepoScan(
            "a_very_long_repository_name",
            "x",
            "1.0.0rc1",
            None,
            "f" * 40,
            (parse_commit("fix: x"),),
        )
    }
    plan = make_plan(
        scans, build_graph({"a_very_long_repository_name": []}), list(scans), PlanOptions(), "r"
    )
    lines = plan_text(plan).splitlines()
    assert lines[2] == "  Repo                         Tier  Current   New      Bump   Commits"
    assert lines[4] == "  a_very_long_repository_name  1     1.0.0rc1  1.0.0    patch  1"


HOSTILE = " | <script>alert(1)</script> `rm -rf` @org/team [x](http://e) *b* ~s~ \\"


def test_md_escape_neutralises_markup() -> None:
    escaped = md_escape(HOSTILE)
    assert "|" not in escaped.replace("\\|", "")
    assert "<" not in escaped and ">" not in escaped
    assert "`" not in escaped.replace("\\`", "")
    assert "@org" not in escaped
    assert "](" not in escaped.replace("\\](", "")


def test_markdown_table_rows_keep_their_columns_with_hostile_commits() -> None:
    text = plan_markdown(spec_example_plan(hostile=HOSTILE))
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert rows[0] == "| Repo | Tier | Current | New | Bump | Commits | Why |"
    for row in rows:
        unescaped_pipes = re.findall(r"(?<!\\)\|", row)
        assert len(unescaped_pipes) == 8, row
    assert "<script>" not in text


def test_mermaid_block_is_well_formed() -> None:
    lines = mermaid_graph(spec_example_plan())
    assert lines[0] == "```mermaid" and lines[-1] == "```" and lines[1] == "flowchart LR"
    body = lines[2:-1]
    assert all(not line.startswith("```") for line in body)
    edges = [line for line in body if "-->" in line]
    assert len(edges) == sum(len(v) for v in SPEC_DEPENDENCY_MAP.values())
    for line in body:
        if "[" in line:
            assert re.fullmatch(r'  n_\w+\["[^"\[\]]*"\]', line), line
