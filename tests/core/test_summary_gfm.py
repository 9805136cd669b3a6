"""The job summaries parse as GitHub Markdown: right tables, escaped text, a sound Mermaid graph.

Checked by parsing with markdown-it-py (CommonMark plus GFM tables) rather than by
looking at the text: what a reader sees is the token stream, so the assertions are there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from hypothesis import example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from release_train.core.commits import parse_commit
from release_train.core.family_note import NO_TEXT, Highlight, note_markdown
from release_train.core.graph import build_graph
from release_train.core.plan import Plan, PlanOptions, RepoScan, make_plan
from release_train.core.render import plan_markdown, why
from release_train.core.state import (
    Gate,
    IndexStatus,
    RepoError,
    RunState,
    block,
    mark_failed,
    mark_phase,
    new_state,
    settle,
)
from release_train.core.summary import summary_markdown
from tests.core.test_family_note import sample_state
from tests.core.test_render import spec_example_plan
from tests.core.test_summary import partial_state

PLAN_HEADERS = ["Repo", "Tier", "Current", "New", "Bump", "Commits", "Why"]
SUMMARY_HEADERS = ["Repo", "Old", "New", "PR", "Tag", "PyPI", "Status", "Phase"]
SERVER = "https://github.com/acme"

# Pieces of text that mean something to Markdown, GitHub, HTML or Mermaid.
HOSTILE_PIECES = [
    *"|\\`*_~[]()<>!&#;:%\"'@{}-=\n\r\t\x00",
    "\\|",
    "<script>alert(1)</script>",
    "<!-- x",
    "<b>",
    "```",
    "`code`",
    "@octocat",
    "@org/team",
    "a@b.io",
    "-->",
    "---",
    "%%",
    '"]',
    "];",
    "end",
    "classDef x fill:red",
    "click n_a call x()",
    "graph TD",
    "&amp;",
    "&#35;",
    "# ",
    "1. ",
    "- ",
    "> ",
    "[x](http://evil)",
    "![i](http://evil/i.png)",
    "https://evil.io",
    "\u2028",
    "\u00a0",
    "é",
]
hostile = st.lists(st.sampled_from(HOSTILE_PIECES) | st.text(max_size=3), max_size=8).map("".join)


def gfm() -> MarkdownIt:
    return MarkdownIt("commonmark").enable(["table", "strikethrough"])


def shown(raw: str) -> str:
    """What a cell or list item should read once rendered: the text, on one line, no pings."""
    # markdown-it turns NUL into U+FFFD; the escaping drops control characters instead.
    text = "".join(c for c in raw if c.isprintable() or c.isspace())
    return " ".join(text.split()).replace("@", "@\u200d")


# -- reading the token stream ---------------------------------------------------------


def walk(tokens: Sequence[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        yield from walk(token.children or [])


def inline_text(token: Token, links: list[str] | None = None) -> str:
    """The text of an inline token; anything but plain text and links fails the test."""
    parts = []
    for child in token.children or []:
        if child.type == "text":
            parts.append(child.content)
        elif child.type == "link_open" and links is not None:
            links.append(str(child.attrs["href"]))
        elif child.type == "link_close" and links is not None:
            continue
        else:
            raise AssertionError(f"markup from the text: {child.type} in {token.content!r}")
    return "".join(parts)


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    links: list[list[str]]  # per row, the targets of its links


def tables(tokens: Sequence[Token]) -> list[Table]:
    found: list[Table] = []
    row: list[str] | None = None
    for i, token in enumerate(tokens):
        if token.type == "table_open":
            found.append(Table([], [], []))
        elif token.type == "tr_open":
            row = []
            links: list[str] = []
        elif token.type in ("th_open", "td_open"):
            assert row is not None
            row.append(inline_text(tokens[i + 1], links))
        elif token.type == "tr_close":
            assert row is not None
            if found[-1].headers:
                found[-1].rows.append(row)
                found[-1].links.append(links)
            else:
                found[-1].headers = row
    return found


def blocks(tokens: Sequence[Token]) -> list[str]:
    """The document's top-level blocks: `heading`, `paragraph`, `table`, `fence`..."""
    return [t.type.removesuffix("_open") for t in tokens if t.level == 0 and t.nesting >= 0]


def assert_no_html(tokens: Sequence[Token]) -> None:
    kinds = {t.type for t in walk(tokens)}
    assert not kinds & {"html_inline", "html_block", "image"}, kinds


# The plan's own HTML: each repo's `<details>` opening (a plain-text summary) and closing.
_DETAILS_HTML = re.compile(r"<details>\n<summary>[^<>\n]*</summary>\n|</details>\n")


def assert_only_details_html(tokens: Sequence[Token]) -> None:
    """No HTML from the text: only the plan's `<details>` blocks, balanced, one per release."""
    html_blocks = [t for t in walk(tokens) if t.type.startswith("html") or t.type == "image"]
    assert all(t.type == "html_block" and _DETAILS_HTML.fullmatch(t.content) for t in html_blocks)
    assert [t.content.startswith("<details>") for t in html_blocks] == [True, False] * (
        len(html_blocks) // 2
    )


def section(tokens: Sequence[Token], title: str) -> list[Token]:
    """The tokens under the level-0 heading `title`, up to the next one."""
    starts = [
        i for i, t in enumerate(tokens) if t.type == "inline" and t.content == title and i > 0
    ]
    assert len(starts) == 1 and tokens[starts[0] - 1].type == "heading_open", title
    rest = tokens[starts[0] + 2 :]
    end = next((i for i, t in enumerate(rest) if t.type == "heading_open" and t.level == 0), None)
    return list(rest[:end])


def assert_table(table: Table, headers: list[str], names: list[str]) -> None:
    assert table.headers == headers
    assert all(len(row) == len(headers) for row in table.rows), table.rows
    assert [row[0] for row in table.rows] == [shown(n) for n in names]


# -- the Mermaid block ----------------------------------------------------------------

_ID = r"[A-Za-z_][A-Za-z0-9_]*"
_NODE = re.compile(rf'  (?P<id>{_ID})\["(?P<label>[^"\n\[\]`]*)"\]')
_EDGE = re.compile(rf"  (?P<up>{_ID}) --> (?P<down>{_ID})")
_CLASSDEF = re.compile(rf"  classDef {_ID} [a-z-]+:[#0-9a-z]+(,[a-z-]+:[#0-9a-z]+)*")
_CLASS = re.compile(rf"  class (?P<id>{_ID}) {_ID}")
# Mermaid reads `#name;`/`#123;` as entities; any other `#`, a `%%` or a `;` outside one is risky.
_LABEL_TEXT = re.compile(r"(?:[A-Za-z0-9 ._:/+=-]|#[0-9]+;)*")


def flowchart(tokens: Sequence[Token], repos: int) -> dict[str, str]:
    """Check the one ```mermaid fence line by line; return its nodes (id -> label)."""
    # Other fences (the plan's changelog entries) are checked where they are made.
    fences = [t for t in tokens if t.type == "fence" and t.info != "markdown"]
    assert [f.info for f in fences] == ["mermaid"]
    lines = fences[0].content.splitlines()
    assert lines[0] == "flowchart LR"
    nodes: dict[str, str] = {}
    edges = classes = 0
    for line in lines[1:]:
        if node := _NODE.fullmatch(line):
            assert node["id"] not in nodes, f"two repos share the id {node['id']}"
            assert _LABEL_TEXT.fullmatch(node["label"]), line
            nodes[node["id"]] = node["label"]
        elif edge := _EDGE.fullmatch(line):
            assert edge["up"] in nodes and edge["down"] in nodes, line
            edges += 1
        elif cls := _CLASS.fullmatch(line):
            assert cls["id"] in nodes, line
            classes += 1
        else:
            assert _CLASSDEF.fullmatch(line), line
    assert len(nodes) == repos and classes == repos
    return nodes


# -- building plans and runs with hostile text ----------------------------------------


def hostile_plan(names: Sequence[str], subject: str) -> Plan:
    """A chain `names[0] <- names[1] <- ...` and, apart, a last repo with nothing to release."""
    scans = {}
    for i, name in enumerate(names):
        messages = [f"fix: {subject}", f"feat(x)!: {subject}"] if i < len(names) - 1 else []
        commits = tuple(parse_commit(m, f"{j:040x}") for j, m in enumerate(messages))
        scans[name] = RepoScan(name, f"pkg{i}", "1.0.0", None, "a" * 40, commits)
    # The last repo stands alone, so no cascade gives it a release.
    chain = len(names) - 1
    graph = build_graph({n: names[i - 1 : i] if i < chain else [] for i, n in enumerate(names)})
    return make_plan(scans, graph, list(names), PlanOptions(), "release-20260225-a3f7b2")


def hostile_run(names: Sequence[str], text: str) -> RunState:
    """The first repo released, the second failed with `text` everywhere, the third blocked."""
    plan = hostile_plan([*names, "zz-last"], text)
    state = new_state(
        plan, dict.fromkeys([*names, "zz-last"], "{repo}/v{version}"), Gate(kind="yes"), "fail-fast"
    )
    first, second = state.repos[names[0]], state.repos[names[1]]
    first.pr_number, first.pr_url = 1, f"{SERVER}/x/pull/1"
    first.merge_sha = first.tag_sha = "b" * 40
    first.index_status = IndexStatus.TIMEOUT
    mark_phase(first, "DONE")
    second.pr_number, second.pr_url = 2, f"{SERVER}/y/pull/2"
    error = RepoError(code="CI_FAILED", message=text, step="MERGE", hint=f"see {text}")
    mark_failed(second, error)
    block(state, list(state.repos), names[1])
    settle(state)
    return state


distinct_names = st.lists(hostile.filter(shown), min_size=3, max_size=3, unique_by=shown)


# -- the plan ---------------------------------------------------------------------------


def test_the_spec_plan_parses_into_the_plan_table_and_graph() -> None:
    plan = spec_example_plan()
    tokens = gfm().parse(plan_markdown(plan))
    found = blocks(tokens)
    assert found[:8] == [
        "heading", "paragraph", "table", "paragraph", "heading", "paragraph", "heading",
        "html_block",
    ]  # fmt: skip
    assert found[-2:] == ["heading", "fence"]  # the repo details (tests/core/test_plan_gfm.py)
    [table] = tables(tokens)
    assert_table(table, PLAN_HEADERS, [e.repo for e in plan.entries])
    assert table.rows[1] == [
        "omnibase_core",
        "2",
        "1.4.0",
        "1.5.0",
        "minor",
        "8",
        shown(why(plan.entries[1])),
    ]
    assert flowchart(tokens, 6)["n_omnibase_spi"] == "omnibase_spi 1.2.0 #8594; 1.2.1"


@settings(max_examples=100, deadline=None)
@given(distinct_names, hostile)
@example(["a-b", "a_b", "a b"], 'x | y <script>@all</script> `z` --> ]"%%;\nnext')
def test_hostile_repo_names_and_commits_stay_text_in_the_plan(names: list[str], text: str) -> None:
    plan = hostile_plan(names, text)
    tokens = gfm().parse(plan_markdown(plan))
    assert_only_details_html(tokens)
    [table] = tables(tokens)  # nothing the text said opened another table
    released = [e.repo for e in plan.entries]
    assert_table(table, PLAN_HEADERS, released)
    assert [row[6] for row in table.rows] == [shown(why(e)) for e in plan.entries]
    skipped = section(tokens, "Skipped (no unreleased commits)")
    items = [inline_text(t) for t in skipped if t.type == "inline" and t.level == 3]
    assert items == [shown(f"{names[-1]} (1.0.0)")]  # the skipped repo, one list item
    flowchart(tokens, len(names))
    assert blocks(tokens)[-1] == "fence"


# -- the final summary ----------------------------------------------------------------


def test_the_partial_run_summary_has_the_spec_columns_links_and_problems() -> None:
    tokens = gfm().parse(summary_markdown(partial_state()))
    assert blocks(tokens) == [
        "heading", "paragraph", "table", "heading", "bullet_list", "heading", "fence"
    ]  # fmt: skip
    [table] = tables(tokens)
    assert_table(table, SUMMARY_HEADERS, list(partial_state().repos))
    assert table.rows[0][3:] == ["#42 (merged)", "omnibase_spi/v1.2.1", "available", "done", "DONE"]
    assert table.links[0] == [
        "https://github.com/OmniNode-ai/omnibase_spi/pull/42",
        "https://github.com/OmniNode-ai/omnibase_spi/tree/omnibase_spi/v1.2.1",
    ]
    problems = [inline_text(t) for t in tokens if t.type == "inline" and t.level == 3]
    assert problems[0] == shown(
        "omnibase_core: MERGE failed: [CI_FAILED] check '<b>lint</b> | @team `x`' failed on "
        "0123456789ab"
    )
    assert (
        problems[1] == "hint: see https://github.com/OmniNode-ai/omnibase_core/actions/runs/7/job/9"
    )
    assert problems[2:] == [
        f"{r}: blocked by omnibase_core" for r in list(partial_state().repos)[2:]
    ]
    flowchart(tokens, 6)


@settings(max_examples=100, deadline=None)
@given(distinct_names, hostile)
@example(["@admin", "x|y", "<img src=x>"], '``` \n## pwned\n<script>alert(1)</script> --> x["y"]')
def test_hostile_text_stays_text_in_the_run_summary(names: list[str], text: str) -> None:
    state = hostile_run(names, text)
    tokens = gfm().parse(summary_markdown(state))
    assert_no_html(tokens)
    assert blocks(tokens) == [
        "heading", "paragraph", "table", "heading", "bullet_list", "heading", "fence"
    ]  # fmt: skip
    [table] = tables(tokens)
    assert_table(table, SUMMARY_HEADERS, list(state.repos))
    first, second = state.repos[names[0]], state.repos[names[1]]
    assert table.rows[0][3:6] == ["#1 (merged)", shown(first.tag), "timeout"]
    assert [unquote(link) for link in table.links[0]] == [
        f"{SERVER}/x/pull/1",
        f"{SERVER}/x/tree/{first.tag}",
    ]
    assert table.links[1:] == [[f"{SERVER}/y/pull/2"], []]
    problems = [inline_text(t) for t in tokens if t.type == "inline" and t.level == 3]
    assert problems[:2] == [
        shown(f"{second.repo}: MERGE failed: [CI_FAILED] {text}"),
        shown(f"hint: see {text}"),
    ]
    assert problems[2:] == [shown(f"{names[2]}: blocked by {second.repo}")]
    flowchart(tokens, 3)  # zz-last had nothing to release: not part of the run


# -- the family's release note --------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(subject=hostile, scope=hostile, name=hostile)
def test_the_family_note_shows_commit_text_as_written_and_links_only_ours(
    subject: str, scope: str, name: str
) -> None:

    state = sample_state()
    core = state.repos["omnibase_core"]
    core.highlights = [Highlight(kind="feature", text=subject, scope=scope or None, pr=5)]
    core.pins = {name or "x": "==1.0"}
    tokens = gfm().parse(note_markdown(state))
    assert_no_html(tokens)
    items = [
        tokens[i + 2]
        for i, t in enumerate(tokens)
        if t.type == "list_item_open" and t.level == 3  # the highlights, nested under a repo
    ]
    links: list[str] = []
    texts = [note_text(item, links) for item in items]
    feature = next(t for t in texts if t.endswith(" (#5)"))

    def defused(text: str) -> str:
        return re.sub("#(?=[0-9])", "#\u200d", shown(text))

    lead = defused(scope) + ": " if shown(scope) else ""
    assert feature == lead + (defused(subject) or NO_TEXT) + " (#5)"
    base = "https://github.com/OmniNode-ai/"
    assert all(link.startswith(base) for link in links), links


def note_text(token: Token, links: list[str]) -> str:
    """An item's text: plain text, our links and our bold (a scope); nothing else."""
    parts = []
    for child in token.children or []:
        if child.type == "text":
            parts.append(child.content)
        elif child.type == "link_open":
            links.append(str(child.attrs["href"]))
        elif child.type not in ("link_close", "strong_open", "strong_close"):
            raise AssertionError(f"markup from the text: {child.type} in {token.content!r}")
    return "".join(parts)
