"""The plan's Markdown parses as GitHub Markdown: problems and repo details stay text."""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Sequence
from datetime import date

from hypothesis import example, given, settings
from markdown_it.token import Token

from release_train.core.plan import Plan, PlanEntry
from release_train.core.plan_detail import (
    GROUPS,
    DetailInputs,
    changelog_entry,
    commit_groups,
    with_details,
)
from release_train.core.problems import Problem, Severity
from release_train.core.pyproject import PinPolicy
from release_train.core.render import plan_markdown
from release_train.errors import ErrorCode
from tests.core.test_plan_detail import family_plan
from tests.core.test_render import spec_example_plan
from tests.core.test_summary_gfm import (
    assert_only_details_html,
    blocks,
    distinct_names,
    flowchart,
    gfm,
    hostile,
    hostile_plan,
    section,
    shown,
    tables,
)

PROBLEM_HEADERS = ["Severity", "Repo", "Code", "Problem", "Hint"]
DETAILS = "What each repo releases"


@settings(max_examples=50, deadline=None)
@given(hostile, hostile)
@example("x | y <script>@all</script>\n## pwned", '`z` --> ]"%%;\n- item')
def test_hostile_problem_text_stays_in_its_cell(message: str, hint: str) -> None:
    problem = Problem("omnibase_core", ErrorCode.FAMILY_OVERRIDE, Severity.WARNING, message, hint)
    plan = dataclasses.replace(spec_example_plan(), problems=(problem,))
    tokens = gfm().parse(plan_markdown(plan))
    assert_only_details_html(tokens)
    found = tables(tokens)
    assert [t.headers for t in found] == [found[0].headers, PROBLEM_HEADERS]
    assert found[-1].rows == [
        ["warning", "omnibase_core", "FAMILY_OVERRIDE", shown(message), shown(hint)]
    ]


# -- what a reader sees of one repo's <details> ---------------------------------------------


def item_text(inline: Token) -> str:
    """A commit line: its short SHA as code, then the subject as plain text, nothing else."""
    kinds = [c.type for c in inline.children or []]
    assert kinds == ["code_inline", "text"], (kinds, inline.content)
    code, text = inline.children or []
    return f"{code.content}{text.content}"


def _bold(inline: Token) -> str | None:
    """The text of a paragraph that is one bold phrase (a section title in a details block)."""
    kinds = [c for c in inline.children or [] if c.type != "text" or c.content]
    if [c.type for c in kinds] == ["strong_open", "text", "strong_close"]:
        return kinds[1].content
    return None


def repo_details(tokens: Sequence[Token]) -> list[dict[str, object]]:
    """Per `<details>`: its summary, the commit lines under each bold title, its fences."""
    found: list[dict[str, object]] = []
    title = ""
    for token in tokens:
        if token.type == "html_block" and token.content.startswith("<details>"):
            summary = token.content.split("<summary>", 1)[1].split("</summary>", 1)[0]
            found.append({"summary": html.unescape(summary), "fences": []})
        elif token.type == "inline" and (bold := _bold(token)) is not None:
            title = bold
        elif token.type == "inline" and token.level == 3 and title in dict(GROUPS).values():
            lines = found[-1].setdefault(title, [])
            assert isinstance(lines, list)
            lines.append(item_text(token))
        elif token.type == "fence" and token.info == "markdown":
            fences = found[-1]["fences"]
            assert isinstance(fences, list)
            fences.append(token.content)
    return found


def expected(entry: PlanEntry) -> dict[str, object]:
    summary = f"{entry.repo} {entry.current} → {entry.new} ({entry.bump}, "
    summary += f"{entry.commits} commit{'' if entry.commits == 1 else 's'})"
    groups = commit_groups(entry.log)
    shown_groups = {
        title: [f"{c.sha[:7]} {shown(c.subject)}" for c in groups[key]]
        for key, title in GROUPS
        if groups[key]
    }
    # The fence holds the changelog entry byte for byte: what CHANGELOG will write.
    return {"summary": shown(summary), "fences": [changelog_entry(entry)], **shown_groups}


def detailed(plan: Plan) -> Plan:
    return with_details(plan, DetailInputs(PinPolicy.EXACT, date(2026, 2, 25), "https://e/x"))


def test_each_repo_is_a_details_block_with_its_commits_and_changelog() -> None:
    plan = family_plan()
    tokens = gfm().parse(plan_markdown(plan))
    assert_only_details_html(tokens)
    assert repo_details(tokens) == [expected(e) for e in plan.entries]
    [link] = [t for t in tokens if t.type == "inline" and "compare" in t.content]
    assert [c.attrs["href"] for c in link.children or [] if c.type == "link_open"] == [
        plan.entries[0].compare_url
    ]
    assert blocks(tokens)[-2:] == ["heading", "fence"]
    flowchart(tokens, 2)


@settings(max_examples=100, deadline=None)
@given(distinct_names, hostile)
@example(["a-b", "<b>x</b>", "@a"], "x | y <script>@all</script> `z`\n</details>\n\n## pwned")
@example(["a", "b", "c"], "````\n</details>\n<img src=x>")
def test_hostile_commits_stay_text_in_the_details(names: list[str], text: str) -> None:
    plan = detailed(hostile_plan(names, text))
    tokens = gfm().parse(plan_markdown(plan))
    assert_only_details_html(tokens)
    assert repo_details(tokens) == [expected(e) for e in plan.entries]
    under = section(tokens, DETAILS)
    assert sum(t.type == "html_block" for t in under) == 2 * len(plan.entries)
    assert not any(t.type == "heading_open" for t in under)  # nothing opened a heading
    assert blocks(tokens)[-1] == "fence"
    flowchart(tokens, len(names))
