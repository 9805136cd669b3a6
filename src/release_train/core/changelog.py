"""CHANGELOG entries rendered from parsed commits, and their idempotent insertion into a file."""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple
from urllib.parse import quote

from release_train.core.commits import Commit, Kind
from release_train.core.markdown_text import code, defuse, line_start, literal, token, visible
from release_train.errors import ErrorCode, ReleaseError

TITLE = "# Changelog"
INTRO = "All notable changes to this project are documented in this file, newest first."
NO_CHANGES = "No changes."
NO_NOTABLE_CHANGES = "No user-facing changes."
EMPTY_SUBJECT = "(empty commit message)"


class Style(StrEnum):
    CONVENTIONAL = "conventional"  # release-please's and python-semantic-release's layout
    SPEC = "spec"  # the specification's (Sub-Step 4: CHANGELOG)


class Section(NamedTuple):
    """Where commits of one Conventional Commits type are listed (release-please's
    `changelog-sections`); a hidden type is left out of the entry."""

    type: str
    title: str = ""
    hidden: bool = False


# The key of the breaking changes group; no commit type is spelled with a space.
BREAKING = "breaking change"
BREAKING_TITLE = "\u26a0 BREAKING CHANGES"
DEPENDENCIES = "Dependencies"
# release-please's defaults (its DefaultChangelogNotes), in its order.
DEFAULT_SECTIONS: tuple[Section, ...] = (
    Section("feat", "Features"),
    Section("fix", "Bug Fixes"),
    Section("perf", "Performance Improvements"),
    Section("deps", DEPENDENCIES),
    Section("revert", "Reverts"),
    Section("docs", "Documentation"),
    Section("style", "Styles", hidden=True),
    Section("chore", "Miscellaneous Chores", hidden=True),
    Section("refactor", "Code Refactoring", hidden=True),
    Section("test", "Tests", hidden=True),
    Section("build", "Build System", hidden=True),
    Section("ci", "Continuous Integration", hidden=True),
)


@dataclass(frozen=True)
class Format:
    """How entries are written: the style, its sections and the repository's web page
    (`https://github.com/OWNER/REPO`) that headings and commits link to (None: no links)."""

    style: Style = Style.SPEC
    sections: tuple[Section, ...] = DEFAULT_SECTIONS
    repo_url: str | None = None


SPEC_FORMAT = Format()


class Group(NamedTuple):
    """One section of an entry: its title, the key it is found by (a commit type, or
    BREAKING), and its commits in the order listed."""

    key: str
    title: str
    commits: tuple[Commit, ...]


def group_commits(
    commits: Sequence[Commit], sections: Sequence[Section] = DEFAULT_SECTIONS
) -> list[Group]:
    """The non-empty sections of a range, breaking changes first, then in `sections`' order.

    A breaking commit is listed under BREAKING and under its type, as release-please does;
    merges, our release commits, hidden and unknown types are left out. Within a section,
    commits sort by scope (scoped first) and description, like conventional-changelog's
    header sort, so an entry does not depend on the order commits were merged in.
    """
    return [group for group in _all_groups(commits, sections) if group.commits]


def _all_groups(commits: Sequence[Commit], sections: Sequence[Section]) -> list[Group]:
    changes = sorted((c for c in commits if c.is_change), key=_order)
    groups = [Group(BREAKING, BREAKING_TITLE, tuple(c for c in changes if c.breaking))]
    titles: dict[str, list[str]] = {}
    for section in sections:
        if not section.hidden:
            titles.setdefault(section.title, []).append(section.type)
    for title, types in titles.items():
        listed = tuple(c for c in changes if _type(c) in types)
        groups.append(Group(types[0], title, listed))
    return groups


def _order(commit: Commit) -> tuple[bool, str, str]:
    return commit.scope is None, commit.scope or "", commit.description


def _type(commit: Commit) -> str | None:
    """A `Revert "..."` commit of git's own is listed as a revert."""
    return "revert" if commit.kind is Kind.REVERT else commit.type


# Insertion works on top-level lines: mdformat writes top-level headings and fences at
# column 0, and anything nested (list items, quotes) is indented or prefixed.
_HEADING = re.compile(r"##(?:[ \t]|$)")
_TOP = re.compile(r"#{1,2}(?:[ \t]|$)")  # what ends an entry: the next release, or a title
_FENCE_OPEN = re.compile(r"(`{3,})[^`]*|(~{3,}).*")
_DEFINITION = re.compile(r"\[(?:[^\]\\]|\\.)+\]:")


class Release(NamedTuple):
    """The release an entry is for: its version, date, and tags (None: the first release)."""

    version: str
    day: datetime.date
    tag: str | None = None
    previous_tag: str | None = None


def render_entry(
    version: str,
    day: datetime.date,
    commits: Sequence[Commit],
    pins: Sequence[tuple[str, str]] = (),
    *,
    fmt: Format = SPEC_FORMAT,
    tag: str | None = None,
    previous_tag: str | None = None,
) -> str:
    """The Markdown entry for one release, in `fmt`'s style."""
    if fmt.style is Style.CONVENTIONAL:
        release = Release(version, day, tag, previous_tag)
        return _conventional_entry(release, commits, pins, fmt)
    return _spec_entry(version, day, commits, pins)


def _conventional_entry(
    release: Release, commits: Sequence[Commit], pins: Sequence[tuple[str, str]], fmt: Format
) -> str:
    """release-please's layout: a heading linked to the compare view, then per section
    `- **scope:** description ([#12](…/issues/12)) ([abc1234](…/commit/<sha>))`."""
    blocks = [_linked_heading(release, fmt.repo_url)]
    pin_items = [_pin_item(package, spec) for package, spec in sorted(pins)]
    groups = _all_groups(commits, fmt.sections)
    if pin_items and all(group.title != DEPENDENCIES for group in groups):
        groups.append(Group("deps", DEPENDENCIES, ()))  # the family's pins are always listed
    for group in groups:
        if not group.commits and not (pin_items and group.title == DEPENDENCIES):
            continue
        if group.key == BREAKING:
            items = [_scoped(c, note) for c in group.commits for note in c.breaking_notes]
        else:
            items = [_scoped(c, c.description, _links(c, fmt.repo_url)) for c in group.commits]
        items += pin_items if group.title == DEPENDENCIES else []
        blocks += [f"### {group.title}", "\n".join(items)]
    if len(blocks) == 1:
        hidden = any(c.is_change for c in commits)
        blocks.append(_item(NO_NOTABLE_CHANGES if hidden else NO_CHANGES))
    return "\n\n".join(blocks) + "\n"


def _linked_heading(release: Release, repo_url: str | None) -> str:
    """`## [1.5.0](…/compare/<previous tag>...<tag>) (2026-12-01)`; unlinked for a first release."""
    version = literal(release.version)
    day = release.day.isoformat()
    if repo_url is None or release.tag is None or release.previous_tag is None:
        return f"## {version} ({day})"
    span = f"{quote(release.previous_tag, safe='/')}...{quote(release.tag, safe='/')}"
    return f"## [{version}]({repo_url}/compare/{span}) ({day})"


def _scoped(commit: Commit, text: str, links: str = "") -> str:
    """`- **scope:** text` and its links. mdformat escapes each run of text as a whole, so
    each is escaped with its neighbours: the scope with its colon, the text with the space
    before it and the ` (` of a first link, which hold nothing to escape themselves."""
    scope = visible(commit.scope or "")
    before, after = (" " if scope else ""), (" (" if links else "")
    shown = token(before + defuse(visible(text) or EMPTY_SUBJECT) + after)
    shown = shown.removeprefix(before).removesuffix(after)
    if not scope:  # alone, the line could open another block (`# x`); after a scope not
        return "- " + line_start(shown + links)
    return f"- **{token(defuse(scope) + ':')}** {shown}{links}"


def _links(commit: Commit, repo_url: str | None) -> str:
    """The PR (`(#12)` of a squash merge) and the commit, linked as release-please does."""
    if repo_url is None:
        return ""
    links = f" ([#{commit.pr_number}]({repo_url}/issues/{commit.pr_number}))"
    links = links if commit.pr_number is not None else ""
    sha = quote(commit.sha)
    return links + (f" ([{sha[:7]}]({repo_url}/commit/{sha}))" if sha else "")


def _spec_entry(
    version: str,
    day: datetime.date,
    commits: Sequence[Commit],
    pins: Sequence[tuple[str, str]],
) -> str:
    """The Markdown entry for one release (spec, Sub-Step 4: CHANGELOG), newest commit first."""
    changes = [commit for commit in reversed(commits) if commit.is_change]
    sections = [
        ("Breaking Changes", [_item(note) for c in changes for note in c.breaking_notes]),
        ("Features", [_item(c.subject) for c in changes if c.type == "feat"]),
        ("Bug Fixes", [_item(c.subject) for c in changes if c.type == "fix"]),
        ("Dependencies", [_pin_item(package, spec) for package, spec in sorted(pins)]),
        ("Other Changes", [_item(c.subject) for c in changes if c.type not in ("feat", "fix")]),
    ]
    blocks = ["## " + literal(f"v{version} ({day.isoformat()})")]
    for title, items in sections:
        if items:
            blocks += [f"### {title}", "\n".join(items)]
    if len(blocks) == 1:
        blocks.append(_item(NO_CHANGES))
    return "\n\n".join(blocks) + "\n"


def _item(text: str) -> str:
    return "- " + line_start(literal(visible(text) or EMPTY_SUBJECT))


def _pin_item(package: str, specifier: str) -> str:
    if not visible(package) or not visible(specifier):
        raise ReleaseError(
            ErrorCode.CHANGELOG_FAILED,
            f"incomplete dependency pin {package!r} {specifier!r}",
            hint="this is a bug in release-train; please report it",
        )
    return "- " + code(package) + token(" pinned to " + defuse(visible(specifier)))


def has_entry(text: str, version: str) -> bool:
    """Whether a top-level heading names `version`: `## v1.2.3 (…)`, `## [1.2.3]`, `## 1.2.3`."""
    return _entry_start(text.splitlines(), version) is not None


def entry_of(text: str, version: str) -> str | None:
    """The entry of `version` as the file has it (a GitHub Release's body): its heading and
    what follows up to the next release heading, without the file's link definitions."""
    lines = text.splitlines()
    start = _entry_start(lines, version)
    if start is None:
        return None
    fenced = _fenced(lines)
    ends = (at for at in range(start + 1, len(lines)) if at not in fenced and _TOP.match(lines[at]))
    end = next(ends, len(lines))
    block = lines[start:end]
    # mdformat moves every link definition to the end of the file, after the last entry.
    while block and (not block[-1].strip() or (end == len(lines) and _DEFINITION.match(block[-1]))):
        block.pop()
    return "\n".join(block) + "\n"


def _entry_start(lines: Sequence[str], version: str) -> int | None:
    # Our own headings hold the version as escaped Markdown; a PEP 440 version never changes.
    names = "|".join(re.escape(name) for name in sorted({version, literal(version)}))
    pattern = re.compile(rf"##[ \t]+\[?v?(?:{names})(?:\]|(?=[\s(]|$))", re.IGNORECASE)
    fenced = _fenced(lines)
    found = (at for at, line in enumerate(lines) if at not in fenced and pattern.match(line))
    return next(found, None)


def insert_entry(existing: str | None, entry: str, version: str) -> str:
    """`existing` with `entry` before its first release heading; unchanged if already there."""
    if existing is not None and has_entry(existing, version):
        return existing
    block = entry.strip("\r\n") + "\n"
    if existing is None or not existing.strip():
        return f"{TITLE}\n\n{INTRO}\n\n{block}"
    newline = "\r\n" if "\r\n" in existing else "\n"
    block = block.replace("\n", newline)
    lines = existing.splitlines(keepends=True)
    at = _insertion_line(lines)
    head, tail = "".join(lines[:at]), "".join(lines[at:])
    # Only the junction is normalised: one blank line on each side of the new entry.
    head = re.sub(r"(?:\r?\n|\r)[ \t\r\n]*\Z", newline, head)
    head = head + newline if head and not head.endswith(("\n", "\r")) else head
    return (head + newline if head else "") + block + (newline + tail if tail else "")


def _insertion_line(lines: Sequence[str]) -> int:
    """The first top-level `## ` heading; else before trailing link definitions; else the end."""
    bare = [line.rstrip("\r\n") for line in lines]
    fenced = _fenced(bare)
    for at, line in enumerate(bare):
        if at not in fenced and _HEADING.match(line):
            return at
    # mdformat moves link reference definitions to the end, after every block.
    at = len(bare)
    while at > 0 and at - 1 not in fenced and _DEFINITION.match(bare[at - 1]):
        at -= 1
    return at if at < len(bare) and (at == 0 or not bare[at - 1].strip()) else len(bare)


def _fenced(lines: Sequence[str]) -> set[int]:
    """Indices of lines in column-0 fenced code blocks; an unclosed fence counts as text, so
    that whatever was appended after it is still found by `has_entry`."""
    fenced: set[int] = set()
    opened: tuple[int, str] | None = None
    for index, line in enumerate(lines):
        if opened is None:
            match = _FENCE_OPEN.fullmatch(line)
            opened = None if match is None else (index, match.group(1) or match.group(2))
        elif re.fullmatch(rf"{re.escape(opened[1][0])}{{{len(opened[1])},}}[ \t]*", line):
            fenced.update(range(opened[0], index + 1))
            opened = None
    return fenced
