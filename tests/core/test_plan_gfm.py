"""The plan's Markdown parses as GitHub Markdown: problems and repo details stay text."""

from __future__ import annotations

import dataclasses

from hypothesis import example, given, settings

from release_train.core.problems import Problem, Severity
from release_train.core.render import plan_markdown
from release_train.errors import ErrorCode
from tests.core.test_render import spec_example_plan
from tests.core.test_summary_gfm import assert_no_html, gfm, hostile, shown, tables

PROBLEM_HEADERS = ["Severity", "Repo", "Code", "Problem", "Hint"]


@settings(max_examples=50, deadline=None)
@given(hostile, hostile)
@example("x | y <script>@all</script>\n## pwned", '`z` --> ]"%%;\n- item')
def test_hostile_problem_text_stays_in_its_cell(message: str, hint: str) -> None:
    problem = Problem("omnibase_core", ErrorCode.FAMILY_OVERRIDE, Severity.WARNING, message, hint)
    plan = dataclasses.replace(spec_example_plan(), problems=(problem,))
    tokens = gfm().parse(plan_markdown(plan))
    assert_no_html(tokens)
    found = tables(tokens)
    assert [t.headers for t in found][-1] == PROBLEM_HEADERS
    assert found[-1].rows == [
        ["warning", "omnibase_core", "FAMILY_OVERRIDE", shown(message), shown(hint)]
    ]
