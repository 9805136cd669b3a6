"""CHANGELOG entries: categories, hostile subjects shown literally, mdformat-stable insertion."""

from __future__ import annotations

import datetime
import unicodedata

import mdformat
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from release_train.core.changelog import INTRO, has_entry, insert_entry, render_entry
from release_train.core.commits import Commit, parse_commit
from release_train.errors import ErrorCode, ReleaseError

DAY = datetime.date(2026, 2, 25)
ZWJ = "\u200d"
# GitHub's Markdown without autolink literals (the joiners cover those, tested apart) and
# without strikethrough (a known limit: plain mdformat drops a `\~` escape).
PARSER = MarkdownIt("commonmark").enable("table")
UNSAFE_TOKENS = {"html_inline", "html_block", "link_open", "image", "em_open", "strong_open"}
HOSTILE = [
    *"<>`*_[]()@#-+=\\|&;:!~{}.'\"$%^?/,0a \t\n\r",
    *["<script>", "</script>", "<!--", "-->", "<b>", "**", "__", "``", "[x](y)", "![i](u)"],
    *["[x]", "[ ]", "@team", "# ", "1.", "1)", "&amp;", "&#35;", "&copy", "https://", "www."],
    *[
        "x@y.z",
        "é",
        "😀",
        "\u00a0",
        ZWJ,
        "\u202e",
        "\u200f",
        "\x00",
        "\x1b",
        "\u2028",
        "\ufffd",
        "__a__",
    ],
]
hostile_text = st.lists(st.sampled_from(HOSTILE) | st.characters(codec="utf-8"), max_size=25).map(
    "".join
)


def commits(*messages: str) -> list[Commit]:
    return [parse_commit(message, sha=f"{index:07x}") for index, message in enumerate(messages)]


# Bidi embeddings, overrides and isolates by class, plus the three invisible direction marks.
BIDI_CLASSES = {"LRE", "RLE", "PDF", "LRO", "RLO", "LRI", "RLI", "FSI", "PDI"}
BIDI_MARKS = {"\u200e", "\u200f", "\u061c"}


def hidden(ch: str) -> bool:
    bidi = unicodedata.bidirectional(ch) in BIDI_CLASSES or ch in BIDI_MARKS
    return bidi or unicodedata.category(ch) in ("Cc", "Cs")


def visible(text: str) -> str:
    """What a reader should see: controls and bidi overrides gone, whitespace collapsed."""
    return " ".join("".join(ch for ch in text if ch.isspace() or not hidden(ch)).split())


def shown(text: str) -> str:
    """The visible text as a parser reads it back, without the joiners the renderer adds."""
    return visible(text).replace(ZWJ, "")


def literal_items(markdown: str) -> list[str]:
    """Each list item's plain text, after checking it is one paragraph of plain text only."""
    tree = SyntaxTreeNode(PARSER.parse(markdown))
    assert not {token.type for token in PARSER.parse(markdown)} & UNSAFE_TOKENS
    items: list[str] = []
    for block in tree.children:
        if block.type != "bullet_list":
            continue
        for item in block.children:
            assert [child.type for child in item.children] == ["paragraph"]
            inline = item.children[0].children[0]
            assert {child.type for child in inline.children} <= {"text", "code_inline"}
            items.append("".join(child.content for child in inline.children).replace(ZWJ, ""))
    return items


def assert_clean(markdown: str) -> None:
    assert mdformat.text(markdown) == markdown


# --- the entry: sections, order, categories --------------------------------------------------

EXAMPLE = """\
## v1.5.0 (2026-02-25)

### Breaking Changes

- \\`load()\\` takes a path

### Features

- feat(api): add x (#12)

### Bug Fixes

- fix: resolve edge case

### Dependencies

- `omnibase-core` pinned to ==1.5.0
- `omnibase-spi` pinned to >=1.2.1,\\<2

### Other Changes

- refactor: new loader
- chore: update dependencies
"""


def test_entry_lists_sections_in_order_newest_first() -> None:
    history = commits(
        "chore: update dependencies",
        "fix: resolve edge case",
        "Merge pull request #3 from me/branch",
        "refactor: new loader\n\nBREAKING CHANGE: `load()` takes a path",
        "feat(api): add x (#12)",
        "release: omnibase-core v1.4.0",
    )
    pins = [("omnibase-spi", ">=1.2.1,<2"), ("omnibase-core", "==1.5.0")]
    entry = render_entry("1.5.0", DAY, history, pins)
    assert entry == EXAMPLE
    assert_clean(entry)


def test_entry_without_changes_says_so() -> None:
    merges_only = commits("Merge branch 'main' into dev", "release: core v1.0.0")
    assert render_entry("1.0.1", DAY, merges_only) == "## v1.0.1 (2026-02-25)\n\n- No changes.\n"
    assert render_entry("1.0.1", DAY, []) == render_entry("1.0.1", DAY, merges_only)


def test_pins_alone_make_a_dependencies_section() -> None:
    entry = render_entry("0.3.1", DAY, [], [("omnimemory", "==0.3.1")])
    assert (
        entry == "## v0.3.1 (2026-02-25)\n\n### Dependencies\n\n- `omnimemory` pinned to ==0.3.1\n"
    )


def test_defect3_feature_type_is_not_a_feature() -> None:
    entry = render_entry("1.0.1", DAY, commits("feature: looks like one"))
    assert "### Features" not in entry
    assert entry.endswith("### Other Changes\n\n- feature: looks like one\n")


def test_defect3_bang_inside_scope_is_not_breaking() -> None:
    entry = render_entry("1.0.1", DAY, commits("fix(scope!): handle x"))
    assert "### Breaking Changes" not in entry
    assert entry.endswith("### Bug Fixes\n\n- fix(scope!): handle x\n")


def test_defect3_breaking_footer_lands_in_breaking_changes() -> None:
    entry = render_entry("2.0.0", DAY, commits("fix: x\n\nBody.\n\nBREAKING-CHANGE: y is gone"))
    assert "### Breaking Changes\n\n- y is gone\n\n### Bug Fixes\n\n- fix: x\n" in entry


def test_bang_commit_notes_its_description_and_multiline_footers_fold() -> None:
    history = commits("feat(core)!: drop Python 3.10", "chore: z\n\nBREAKING CHANGE: a\nb\n\nc")
    entry = render_entry("2.0.0", DAY, history)
    assert "### Breaking Changes\n\n- a b c\n- drop Python 3.10\n" in entry


def test_escaped_pin_and_code_span_with_backticks() -> None:
    entry = render_entry("1.0.0", DAY, [], [("we`ird", "==1.0")])
    assert "- `` we`ird `` pinned to ==1.0\n" in entry
    assert literal_items(entry) == ["we`ird pinned to ==1.0"]
    assert_clean(entry)


@pytest.mark.parametrize(("package", "specifier"), [(" ", "==1"), ("core", ""), ("core", "\x00")])
def test_incomplete_pin_is_refused(package: str, specifier: str) -> None:
    with pytest.raises(ReleaseError) as caught:
        render_entry("1.0.0", DAY, [], [(package, specifier)])
    assert caught.value.code is ErrorCode.CHANGELOG_FAILED


# --- hostile subjects ------------------------------------------------------------------------

ESCAPES = {
    "fix: <script>alert(1)</script>": r"fix: \<script>alert(1)\</script>",
    "fix: a | b `c` *d* _e_ ~f~": r"fix: a | b \`c\` \*d\* \_e\_ ~f~",
    "fix: see [docs](https://x.io)": "fix: see \\[\u200ddocs\\](https\u200d://x.io)",
    "chore: ping @org/team and a@b.io": "chore: ping @\u200dorg/team and a@\u200db.io",
    "  # not a heading": r"\# not a heading",
    "1. not a list": r"1\. not a list",
    "- not a list": r"\- not a list",
    "fix: trailing\\": r"fix: trailing\\",
    "docs: <!-- hidden -->": r"docs: \<!-- hidden -->",
    "fix: &amp; &lt; & ;": r"fix: \&amp; \&lt; & ;",
    "fix: keep snake_case and a * b": "fix: keep snake_case and a * b",
    "---": r"\---",
    "--": r"\--",
    "==": r"\==",
    "> quoted": r"\> quoted",
    "[ ] task": "[\u200d ] task",
}


@pytest.mark.parametrize(("subject", "expected"), sorted(ESCAPES.items()))
def test_hostile_subject_is_escaped_and_literal(subject: str, expected: str) -> None:
    entry = render_entry("1.0.0", DAY, commits(subject))
    assert entry.endswith(f"\n- {expected}\n")
    assert literal_items(entry) == [shown(parse_commit(subject).subject)]
    assert_clean(entry)


def test_bare_urls_and_mentions_are_defused_for_github() -> None:
    entry = render_entry("1.0.0", DAY, commits("fix: https://evil.io www.evil.io @admin"))
    assert "://" not in entry.replace(ZWJ + "://", "")
    assert "www." not in entry.replace("www" + ZWJ + ".", "")
    assert "@admin" not in entry


def test_controls_and_bidi_overrides_are_dropped() -> None:
    entry = render_entry("1.0.0", DAY, commits("fix: a\x1b[31m\u202eb\x00c"))
    assert entry.endswith("- fix: a\\[\u200d31mbc\n")


def test_underscore_next_to_a_code_point_newer_than_this_python_is_stable() -> None:
    # U+11B00 is punctuation since Unicode 15; mdformat's table knows it, Python 3.11 does not.
    entry = render_entry("1.0.0", DAY, commits("fix: a_\U00011b00 \U00011b00_b"))
    assert_clean(entry)
    assert literal_items(entry) == ["fix: a_\U00011b00 \U00011b00_b"]


def fold(commit_list: list[Commit]) -> list[str]:
    """The items an entry should list, in order, computed independently of the renderer."""
    newest = [c for c in reversed(commit_list) if c.is_change]
    notes = [note for c in newest for note in c.breaking_notes]
    feats = [c.subject for c in newest if c.type == "feat"]
    fixes = [c.subject for c in newest if c.type == "fix"]
    other = [c.subject for c in newest if c.type not in ("feat", "fix")]
    texts = notes + feats + fixes + other
    return [shown(visible(text) or "(empty commit message)") for text in texts] or ["No changes."]


@settings(max_examples=200, deadline=None)
@given(st.lists(hostile_text, max_size=6))
@example(["feat: a\n\nBREAKING CHANGE: [x]: y", "~~gone~~ *a* _b_ `c` <d>"])
def test_property_entry_is_literal_and_mdformat_stable(messages: list[str]) -> None:
    history = commits(*messages)
    entry = render_entry("1.2.3", DAY, history)
    assert_clean(entry)
    assert literal_items(entry) == fold(history)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(hostile_text, hostile_text), max_size=3))
def test_property_pins_are_literal_and_mdformat_stable(raw: list[tuple[str, str]]) -> None:
    pins = [(f"pkg{name}", f"=={spec}") for name, spec in raw]
    entry = render_entry("1.2.3", DAY, [], pins)
    assert_clean(entry)
    expected = [shown(f"{name} pinned to {spec}") for name, spec in sorted(pins)]
    assert literal_items(entry) == (expected or ["No changes."])


# --- insertion -------------------------------------------------------------------------------

ENTRY = render_entry("1.1.0", DAY, commits("feat: add y"))
KEEP_A_CHANGELOG = """\
# Changelog

## [Unreleased]

## [1.0.0] - 2025-01-01

### Added

- First release, see [1.0.0].

[1.0.0]: https://example.com/compare/v0.9.0...v1.0.0
"""


def test_new_file_gets_title_intro_and_entry() -> None:
    expected = f"# Changelog\n\n{INTRO}\n\n{ENTRY}"
    assert insert_entry(None, ENTRY, "1.1.0") == expected
    assert insert_entry("", ENTRY, "1.1.0") == expected
    assert insert_entry("\n  \n", ENTRY, "1.1.0") == expected
    assert_clean(expected)


def test_entry_goes_before_the_first_release_heading() -> None:
    old = f"# Changelog\n\n{INTRO}\n\n" + render_entry("1.0.0", DAY, commits("fix: x"))
    new = insert_entry(old, ENTRY, "1.1.0")
    assert new == f"# Changelog\n\n{INTRO}\n\n{ENTRY}\n" + old.split("\n\n", 2)[2]
    assert new.index("## v1.1.0") < new.index("## v1.0.0")
    assert_clean(new)


def test_keep_a_changelog_style_is_kept_byte_for_byte() -> None:
    new = insert_entry(KEEP_A_CHANGELOG, ENTRY, "1.1.0")
    assert new == f"# Changelog\n\n{ENTRY}\n" + KEEP_A_CHANGELOG.split("\n\n", 1)[1]
    assert_clean(new)


def test_bracketed_subject_is_not_a_link_to_a_definition_in_the_file() -> None:
    entry = render_entry("1.1.0", DAY, commits("fix: backport [1.0.0]"))
    new = insert_entry(KEEP_A_CHANGELOG, entry, "1.1.0")
    inline = next(token for token in PARSER.parse(new) if "backport" in token.content)
    assert [child.type for child in inline.children or []] == ["text"]
    assert inline.children is not None
    assert inline.children[0].content.replace(ZWJ, "") == "fix: backport [1.0.0]"
    assert_clean(new)


def test_file_without_release_headings_gets_the_entry_before_its_definitions() -> None:
    old = "# Changelog\n\nSee [the guide].\n\n[the guide]: https://example.com/guide\n"
    new = insert_entry(old, ENTRY, "1.1.0")
    assert new == "# Changelog\n\nSee [the guide].\n\n" + ENTRY + "\n" + old.rsplit("\n\n", 1)[1]
    assert_clean(new)
    assert insert_entry("# Changelog", ENTRY, "1.1.0") == "# Changelog\n\n" + ENTRY


def test_headings_inside_code_fences_are_not_release_headings() -> None:
    old = "# Changelog\n\nFormat:\n\n```md\n## v1.1.0 (2020-01-01)\n```\n\n## v1.0.0\n\n- x\n"
    assert not has_entry(old, "1.1.0")
    new = insert_entry(old, ENTRY, "1.1.0")
    assert new.index("```\n\n## v1.1.0 (2026") < new.index("## v1.0.0")
    assert_clean(new)


def test_unclosed_fence_still_finds_what_was_appended() -> None:
    old = "# Changelog\n\n~~~\ncode\n"
    once = insert_entry(old, ENTRY, "1.1.0")
    assert once == old + "\n" + ENTRY
    assert insert_entry(once, ENTRY, "1.1.0") == once


def test_crlf_files_stay_crlf_and_extra_blank_lines_collapse_at_the_junction() -> None:
    old = "# Changelog\r\n\r\n\r\n\r\n## v1.0.0\r\n\r\n- x\r\n"
    new = insert_entry(old, ENTRY, "1.1.0")
    assert (
        new == "# Changelog\r\n\r\n" + ENTRY.replace("\n", "\r\n") + "\r\n## v1.0.0\r\n\r\n- x\r\n"
    )


def test_file_opening_with_a_release_heading() -> None:
    old = "## v1.0.0\n\n- x\n"
    assert insert_entry(old, ENTRY, "1.1.0") == ENTRY + "\n" + old


@pytest.mark.parametrize(
    "heading",
    ["## v1.2.3", "## v1.2.3 (2024-01-01)", "## [1.2.3] - 2024-01-01", "## 1.2.3", "##\tV1.2.3",
     "## [v1.2.3](https://x.io)", "## v1.2.3 ##"],
)  # fmt: skip
def test_has_entry_accepts_common_heading_styles(heading: str) -> None:
    text = f"# Changelog\n\n{heading}\n\n- x\n"
    assert has_entry(text, "1.2.3")
    assert insert_entry(text, ENTRY, "1.2.3") is text


@pytest.mark.parametrize(
    "heading",
    ["## v1.2.30", "## v1.2.3rc1", "## v11.2.3", "### v1.2.3", " ## v1.2.3", "- ## v1.2.3",
     "## Release notes for 1.2.3", "##v1.2.3"],
)  # fmt: skip
def test_has_entry_rejects_other_versions_and_nested_headings(heading: str) -> None:
    assert not has_entry(f"# Changelog\n\n{heading}\n", "1.2.3")


# Blocks of a realistic CHANGELOG, hostile text included; mdformat makes each document clean.
versions = st.from_regex(r"[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{1,2}(rc[0-9])?", fullmatch=True)
blocks = st.one_of(
    hostile_text,
    hostile_text.map(lambda text: "- " + text),
    hostile_text.map(lambda text: "> " + text),
    versions.map(lambda version: f"## v{version} (2020-01-01)"),
    versions.map(lambda version: f"## [{version}] - 2020-01-01"),
    st.sampled_from(["# Changelog", "## [Unreleased]", "### Fixed", "---", "<div>\n\n</div>"]),
    versions.map(lambda version: f"```\n## v{version}\n```"),
    versions.map(lambda version: f"[{version}]: https://example.com/{version}"),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(blocks, max_size=8), versions, st.lists(hostile_text, max_size=3))
def test_property_insertion_keeps_mdformat_clean_files_clean(
    raw: list[str], version: str, messages: list[str]
) -> None:
    old = mdformat.text("\n\n".join(raw))
    assume(mdformat.text(old) == old)
    entry = render_entry(version, DAY, commits(*messages))
    new = insert_entry(old, entry, version)
    assert_clean(new)
    assert insert_entry(new, entry, version) == new
    assert has_entry(new, version)
    if has_entry(old, version):
        assert new == old
    elif old.strip():
        # Everything that was there is still there, byte for byte, around the new entry.
        assert new.replace(entry + "\n", "", 1) == old or new == old + "\n" + entry
