"""The conventional (release-please) changelog style: links, bold scopes, sections, config."""

from __future__ import annotations

import datetime
from typing import Any

import mdformat
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from release_train.config import parse_config
from release_train.core.changelog import (
    BREAKING,
    Format,
    Section,
    Style,
    entry_of,
    group_commits,
    has_entry,
    insert_entry,
    render_entry,
)
from release_train.core.commits import Commit, parse_commit
from release_train.errors import ErrorCode, ReleaseError
from tests.core.test_changelog import blocks, hostile_text

DAY = datetime.date(2026, 12, 1)
URL = "https://github.com/OmniNode-ai/omnibase_core"
FORMAT = Format(Style.CONVENTIONAL, repo_url=URL)
TAGS: dict[str, Any] = {"tag": "omnibase_core/v1.5.0", "previous_tag": "omnibase_core/v1.4.0"}


def commits(*messages: str) -> list[Commit]:
    """Oldest first, each with a 40-digit SHA made of its index (aaa…, bbb…, …, 1010…)."""
    return [parse_commit(m, (f"{i:x}" * 40)[:40]) for i, m in enumerate(messages, start=10)]


def entry(history: list[Commit], pins: list[tuple[str, str]] | None = None, **kw: object) -> str:
    options: dict[str, object] = {"fmt": FORMAT, **TAGS, **kw}
    return render_entry("1.5.0", DAY, history, pins or [], **options)  # type: ignore[arg-type]


EXPECTED = f"""\
## [1.5.0]({URL}/compare/omnibase_core/v1.4.0...omnibase_core/v1.5.0) (2026-12-01)

### \u26a0 BREAKING CHANGES

- **api:** \\`load()\\` takes a path

### Features

- **api:** add x ([#12]({URL}/issues/12)) ([ccccccc]({URL}/commit/{"c" * 40}))
- **parser:** handle empty body ([#123]({URL}/issues/123)) ([aaaaaaa]({URL}/commit/{"a" * 40}))
- add \\<b> tags ([bbbbbbb]({URL}/commit/{"b" * 40}))

### Bug Fixes

- close the file ([ddddddd]({URL}/commit/{"d" * 40}))

### Performance Improvements

- faster scan ([eeeeeee]({URL}/commit/{"e" * 40}))

### Dependencies

- `omnibase-spi` pinned to ==1.2.1

### Reverts

- Revert "feat: y" ([1010101]({URL}/commit/{"10" * 20}))

### Documentation

- **readme:** typo ([1111111]({URL}/commit/{"11" * 20}))
"""


def test_entry_matches_release_please() -> None:
    history = commits(
        "feat(parser): handle empty body (#123)",
        "feat: add <b> tags",
        "feat(api)!: add x (#12)\n\nBREAKING CHANGE: `load()` takes a path",
        "fix: close the file",
        "perf: faster scan",
        "chore: bump tooling",
        'Revert "feat: y"',
        "docs(readme): typo",
        "Merge pull request #3 from me/branch",
        "release: omnibase_core v1.4.0",
        "refactor: tidy",
        "not conventional at all",
    )
    text = entry(history, [("omnibase-spi", "==1.2.1")])
    assert text == EXPECTED
    assert mdformat.text(text) == text


def test_a_first_release_has_no_compare_link() -> None:
    text = entry(commits("feat: first"), previous_tag=None)
    assert text.startswith("## 1.5.0 (2026-12-01)\n\n### Features\n\n- first ([")
    assert has_entry(f"# Changelog\n\n{text}", "1.5.0")


def test_hidden_changes_only_say_so_and_nothing_at_all_says_no_changes() -> None:
    assert entry(commits("chore: tooling", "ci: cache")).endswith(
        "(2026-12-01)\n\n- No user-facing changes.\n"
    )
    assert entry([]).endswith("(2026-12-01)\n\n- No changes.\n")


def test_pins_without_deps_commits_still_get_a_dependencies_section() -> None:
    text = entry([], [("omnibase-core", "==1.5.0")])
    assert text.endswith(
        "(2026-12-01)\n\n### Dependencies\n\n- `omnibase-core` pinned to ==1.5.0\n"
    )


def test_without_a_repository_url_entries_carry_no_links() -> None:
    text = render_entry("1.5.0", DAY, commits("fix(io): x (#4)"), fmt=Format(Style.CONVENTIONAL))
    assert text == "## 1.5.0 (2026-12-01)\n\n### Bug Fixes\n\n- **io:** x\n"


def test_group_commits_gives_highlights_breaking_first() -> None:
    history = commits("fix: a", "feat!: b", "feat(x): c", "chore: d")
    groups = group_commits(history)
    assert [(g.key, g.title, [c.description for c in g.commits]) for g in groups] == [
        (BREAKING, "\u26a0 BREAKING CHANGES", ["b"]),
        ("feat", "Features", ["c", "b"]),
        ("fix", "Bug Fixes", ["a"]),
    ]


CONFIG = {"owner": "OmniNode-ai", "repos": {"omnibase_core": {}}}


def test_configured_sections_replace_the_defaults() -> None:
    sections = [
        {"type": "feat", "section": "New"},
        {"type": "feature", "section": "New"},
        {"type": "chore", "section": "Chores"},
        {"type": "fix", "hidden": True},
    ]
    config = parse_config({**CONFIG, "changelog_sections": sections}, "test")
    fmt = config.changelog_format("omnibase_core", "https://ghe.example/")
    assert fmt.repo_url == "https://ghe.example/OmniNode-ai/omnibase_core"
    assert fmt.sections[:2] == (Section("feat", "New"), Section("feature", "New"))
    history = commits("feat: a", "feature: b", "chore: c", "fix: d", "docs: e")
    text = render_entry("1.5.0", DAY, history, fmt=fmt, **TAGS)
    assert [line for line in text.splitlines() if line.startswith("#")] == [
        "## [1.5.0](https://ghe.example/OmniNode-ai/omnibase_core/compare/"
        "omnibase_core/v1.4.0...omnibase_core/v1.5.0) (2026-12-01)",
        "### New",
        "### Chores",
    ]
    assert "- a ([aaaaaaa]" in text and "- b ([bbbbbbb]" in text and "- c ([" in text


def test_config_server_url_wins_and_spec_style_is_kept() -> None:
    config = parse_config(
        {**CONFIG, "changelog_style": "spec", "server_url": "https://git.corp/"}, "test"
    )
    fmt = config.changelog_format("omnibase_core", "https://github.com")
    assert fmt.repo_url == "https://git.corp/OmniNode-ai/omnibase_core"
    text = render_entry("1.5.0", DAY, commits("feat(x): a"), fmt=fmt, **TAGS)
    assert text == "## v1.5.0 (2026-12-01)\n\n### Features\n\n- feat(x): a\n"


def test_a_shown_section_needs_a_name() -> None:
    with pytest.raises(ReleaseError) as caught:
        parse_config({**CONFIG, "changelog_sections": [{"type": "feat"}]}, "test")
    assert caught.value.code is ErrorCode.CONFIG_INVALID
    assert "needs a section name" in caught.value.message


scopes = st.one_of(st.none(), hostile_text.filter(lambda s: "(" not in s and ")" not in s))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["feat", "fix", "docs", "chore"]), scopes, hostile_text,
                          st.booleans(), st.integers(1, 999)), max_size=6))  # fmt: skip
def test_property_entries_are_mdformat_stable_and_inserted_once(
    raw: list[tuple[str, str | None, str, bool, int]],
) -> None:
    messages = [
        f"{kind}{'' if scope is None else f'({scope})'}: {text}{f' (#{pr})' if link else ''}"
        for kind, scope, text, link, pr in raw
    ]
    text = entry(commits(*messages))
    assert mdformat.text(text) == text
    once = insert_entry("# Changelog\n", text, "1.5.0")
    assert mdformat.text(once) == once
    assert insert_entry(once, text, "1.5.0") == once


@pytest.mark.parametrize("text", ["---", "==", "# x", "1. x", "> x", "* x", "a *", "<", "x\\"])
@pytest.mark.parametrize("scope", ["", "(s)"])
def test_text_is_escaped_with_its_neighbours_as_mdformat_does(text: str, scope: str) -> None:
    for message in (f"fix{scope}: {text} (#5)", f"feat{scope}!: x\n\nBREAKING CHANGE: {text}"):
        rendered = entry(commits(message))
        assert mdformat.text(rendered) == rendered


# --- one version's entry, for its GitHub Release ------------------------------------------

FILE = """\
# Changelog

## [1.5.0](https://x.io/compare/v1.4.0...v1.5.0) (2026-12-01)

### Features

- new

```md
## v1.4.0 inside a fence
```

## v1.4.0 (2026-11-01)

- old

[1.4.0]: https://x.io/v1.4.0
"""


def test_entry_of_is_the_version_heading_up_to_the_next_release() -> None:
    assert entry_of(FILE, "1.5.0") == (
        "## [1.5.0](https://x.io/compare/v1.4.0...v1.5.0) (2026-12-01)\n\n### Features\n\n"
        "- new\n\n```md\n## v1.4.0 inside a fence\n```\n"
    )
    assert entry_of(FILE, "1.4.0") == "## v1.4.0 (2026-11-01)\n\n- old\n"  # no definitions
    assert entry_of(FILE, "1.3.0") is None


def test_entry_of_a_rendered_and_inserted_entry_is_that_entry() -> None:
    text = entry(commits("feat(x): a (#1)", "fix: b"))
    older = "# Changelog\n\n## v1.4.0 (2026-11-01)\n\n- old\n"
    assert entry_of(insert_entry(older, text, "1.5.0"), "1.5.0") == text
    assert entry_of(insert_entry(None, text, "1.5.0"), "1.5.0") == text


@settings(max_examples=150, deadline=None)
@given(st.lists(blocks, max_size=8), st.lists(hostile_text, max_size=3))
def test_property_entry_of_gives_back_the_inserted_entry(raw: list[str], texts: list[str]) -> None:
    old = mdformat.text("\n\n".join(raw))
    assume(mdformat.text(old) == old and not has_entry(old, "1.5.0"))
    text = entry(commits(*(f"fix: {t}" for t in texts)))
    assert entry_of(insert_entry(old, text, "1.5.0"), "1.5.0") == text
