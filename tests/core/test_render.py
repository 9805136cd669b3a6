from __future__ import annotations

import dataclasses
import json
import re

from release_train.core.commits import parse_commit
from release_train.core.graph import build_graph
from release_train.core.plan import Plan, PlanOptions, RepoScan, make_plan
from release_train.core.problems import Problem, Severity
from release_train.core.render import (
    md_escape,
    mermaid_graph,
    plan_json,
    plan_markdown,
    plan_text,
    problems_markdown,
    problems_text,
)
from release_train.errors import ErrorCode
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


# -- preflight problems ----------------------------------------------------------------

PROBLEMS = (
    Problem(
        "omnibase_core",
        ErrorCode.PUBLISH_TRIGGER_MISMATCH,
        Severity.ERROR,
        "release.yml listens to v[0-9]*.[0-9]*.[0-9]*, not omnibase_core/v1.5.0",
        'set tag_format = "v{version}"',
    ),
    Problem(
        "omniclaude",
        ErrorCode.UNRELEASABLE_SOURCE,
        Severity.ERROR,
        "takes omninode-intelligence from git:\n  git+https://e/x@v1",
    ),
    Problem(None, ErrorCode.EDGE_DROPPED, Severity.WARNING, "a -> b left out", "b's pin stays"),
)


def plan_with_problems() -> Plan:
    return dataclasses.replace(spec_example_plan(), problems=PROBLEMS)


def test_plan_text_lists_the_problems_after_the_table() -> None:
    text = plan_text(plan_with_problems())
    assert text.startswith(SPEC_PLAN_TABLE)
    assert text[len(SPEC_PLAN_TABLE) :] == (
        "\n"
        "Problems (2 errors, 1 warning):\n"
        "  error   omnibase_core  PUBLISH_TRIGGER_MISMATCH  release.yml listens to "
        "v[0-9]*.[0-9]*.[0-9]*, not omnibase_core/v1.5.0\n"
        '          hint: set tag_format = "v{version}"\n'
        "  error   omniclaude     UNRELEASABLE_SOURCE       takes omninode-intelligence from git:\n"
        "            git+https://e/x@v1\n"
        "  warning (family)       EDGE_DROPPED              a -> b left out\n"
        "          hint: b's pin stays\n"
    )


def test_plan_markdown_has_a_problems_table() -> None:
    text = plan_markdown(plan_with_problems())
    start = text.index("### Problems")
    section = text[start : text.index("### What each repo releases")]
    assert section == (
        "### Problems (2 errors, 1 warning)\n"
        "\n"
        "`release` refuses to start until the errors are fixed.\n"
        "\n"
        "| Severity | Repo | Code | Problem | Hint |\n"
        "| --- | --- | --- | --- | --- |\n"
        "| error | omnibase\\_core | PUBLISH\\_TRIGGER\\_MISMATCH | release.yml listens to "
        "v\\[0-9\\]\\*.\\[0-9\\]\\*.\\[0-9\\]\\*, not omnibase\\_core/v1.5.0 "
        "| set tag\\_format = &quot;v{version}&quot; |\n"
        "| error | omniclaude | UNRELEASABLE\\_SOURCE | takes omninode-intelligence from git: "
        "git+https://e/x@\u200dv1 |  |\n"
        "| warning | (family) | EDGE\\_DROPPED | a -&gt; b left out | b&#x27;s pin stays |\n"
        "\n"
    )
    assert "Skipped" in text[:start]


def test_plan_markdown_with_warnings_only_says_the_release_can_start() -> None:
    plan = dataclasses.replace(spec_example_plan(), problems=PROBLEMS[2:])
    assert "### Problems (0 errors, 1 warning)\n\nWarnings only: the release can start.\n" in (
        plan_markdown(plan)
    )


def test_plan_without_problems_has_no_problems_section() -> None:
    plan = spec_example_plan()
    assert "Problems" not in plan_text(plan) and "Problems" not in plan_markdown(plan)
    assert json.loads(plan_json(plan))["problems"] == []


def test_plan_json_lists_every_problem() -> None:
    assert json.loads(plan_json(plan_with_problems()))["problems"] == [
        {
            "repo": "omnibase_core",
            "code": "PUBLISH_TRIGGER_MISMATCH",
            "severity": "error",
            "message": "release.yml listens to v[0-9]*.[0-9]*.[0-9]*, not omnibase_core/v1.5.0",
            "hint": 'set tag_format = "v{version}"',
        },
        {
            "repo": "omniclaude",
            "code": "UNRELEASABLE_SOURCE",
            "severity": "error",
            "message": "takes omninode-intelligence from git:\n  git+https://e/x@v1",
            "hint": None,
        },
        {
            "repo": None,
            "code": "EDGE_DROPPED",
            "severity": "warning",
            "message": "a -> b left out",
            "hint": "b's pin stays",
        },
    ]


def test_problem_text_cannot_drive_the_terminal() -> None:
    problem = Problem(
        "a", ErrorCode.USAGE, Severity.ERROR, "bad\x1b[2J\n  more\x07", "hint\x1b]0;x"
    )
    lines = problems_text([problem])
    assert lines[2:] == [
        "  error   a  USAGE  bad[2J",
        "            more",
        "          hint: hint]0;x",
    ]


def test_a_finding_of_several_repos_is_listed_once_with_its_repos() -> None:
    same = ("no local Python satisfies requires-python '>=3.12'", "install one")
    problems = [
        Problem("core", ErrorCode.EDGE_DROPPED, Severity.WARNING, "spi left out", "pin stays"),
        Problem("core", ErrorCode.NO_INTERPRETER, Severity.WARNING, *same),
        Problem("infra", ErrorCode.NO_INTERPRETER, Severity.WARNING, *same),
        Problem("claude", ErrorCode.NO_INTERPRETER, Severity.WARNING, *same),
    ]
    assert problems_text(problems) == [
        "",
        "Problems (0 errors, 4 warnings):",
        "  warning core     EDGE_DROPPED    spi left out",
        "          hint: pin stays",
        "  warning 3 repos  NO_INTERPRETER  no local Python satisfies requires-python '>=3.12'",
        "          repos: core, infra, claude",
        "          hint: install one",
    ]
    rows = [line for line in problems_markdown(problems) if line.startswith("| warning")]
    assert rows == [
        "| warning | core | EDGE\\_DROPPED | spi left out | pin stays |",
        "| warning | core, infra, claude | NO\\_INTERPRETER | no local Python satisfies "
        "requires-python &#x27;&gt;=3.12&#x27; | install one |",
    ]
