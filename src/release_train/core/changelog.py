"""CHANGELOG entries rendered from parsed commits, and their idempotent insertion into a file."""

from __future__ import annotations

import datetime
import html.entities
import re
import unicodedata
from collections.abc import Sequence

from release_train.core.commits import Commit
from release_train.errors import ErrorCode, ReleaseError

TITLE = "# Changelog"
INTRO = "All notable changes to this project are documented in this file, newest first."
NO_CHANGES = "No changes."
EMPTY_SUBJECT = "(empty commit message)"

# Escaping follows mdformat's canonical form (its `text` and `paragraph` renderers) so that
# an entry is a fixed point of mdformat, while showing the subject literally. Where
# CommonMark escaping cannot help, a zero-width joiner breaks the construct: `@team`
# mentions and e-mail autolinks, `[label]` reference links and `[ ]` task boxes (the file
# may define `[1.2.3]: url`), GitHub's bare-URL autolinks, and `<<` (see `_defuse`).
# Not covered: GitHub's `~x~` strikethrough, since plain mdformat drops a `\~` escape.
_ZWJ = "\u200d"
_SCHEME = re.compile(r"(?<=[A-Za-z])(?=://)")
_WWW = re.compile(r"(?i)www(?=\.)")
# Bidi controls could reorder what a reader sees (CVE-2021-42574).
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LESS_THAN = re.compile("<(?:[^ ]|$)")
_DOUBLE_LESS_THAN = re.compile("(?<=<)(?=<)")
_CHAR_REFERENCE = re.compile(
    "&(?:#[0-9]{1,7}|#[Xx][0-9A-Fa-f]{1,6}|"
    + "|".join(sorted({name.rstrip(";") for name in html.entities.html5}))
    + ");"
)
_ATX = re.compile(r"#{1,6}(?:[ \t]|$)")
_BULLET = re.compile(r"[-*+](?:[ \t]|$)")
_ORDERED = re.compile(r"[0-9]+([.)])(?:[ \t]|$)")

# Insertion works on top-level lines: mdformat writes top-level headings and fences at
# column 0, and anything nested (list items, quotes) is indented or prefixed.
_HEADING = re.compile(r"##(?:[ \t]|$)")
_FENCE_OPEN = re.compile(r"(`{3,})[^`]*|(~{3,}).*")
_DEFINITION = re.compile(r"\[(?:[^\]\\]|\\.)+\]:")


def render_entry(
    version: str,
    day: datetime.date,
    commits: Sequence[Commit],
    pins: Sequence[tuple[str, str]] = (),
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
    blocks = ["## " + _token(_defuse(_visible(f"v{version} ({day.isoformat()})")))]
    for title, items in sections:
        if items:
            blocks += [f"### {title}", "\n".join(items)]
    if len(blocks) == 1:
        blocks.append(_item(NO_CHANGES))
    return "\n\n".join(blocks) + "\n"


def _item(text: str) -> str:
    return "- " + _line_start(_token(_defuse(_visible(text) or EMPTY_SUBJECT)))


def _pin_item(package: str, specifier: str) -> str:
    if not _visible(package) or not _visible(specifier):
        raise ReleaseError(
            ErrorCode.CHANGELOG_FAILED,
            f"incomplete dependency pin {package!r} {specifier!r}",
            hint="this is a bug in release-train; please report it",
        )
    return "- " + _code(package) + _token(" pinned to " + _defuse(_visible(specifier)))


def _visible(text: str) -> str:
    """One line of printable text: controls and bidi overrides dropped, whitespace collapsed."""
    if text.isprintable():  # no Cc, Cs or Cf (bidi) character: the common case, kept fast
        return " ".join(text.split())
    kept = (ch for ch in text if ch.isspace() or not _hidden(ch))
    return " ".join("".join(kept).split())


def _hidden(ch: str) -> bool:
    return ch in _BIDI or unicodedata.category(ch) in ("Cc", "Cs")


def _defuse(text: str) -> str:
    """Zero-width joiners where escaping cannot stop a mention, a link or a task box."""
    text = text.replace("@", "@" + _ZWJ).replace("[", "[" + _ZWJ)
    # mdformat's `<` escape consumes the next character, so in `<<b>` the second `<`
    # would stay bare and open HTML; a joiner between them gets both escaped.
    text = _DOUBLE_LESS_THAN.sub(_ZWJ, text)
    text = _WWW.sub(lambda match: match.group() + _ZWJ, _SCHEME.sub(_ZWJ, text))
    # mdformat's punctuation table comes from a newer Unicode than this Python's; a joiner
    # keeps an unassigned neighbour from deciding whether "_" is escaped.
    if "_" not in text:
        return text
    out: list[str] = []
    for index, ch in enumerate(text):
        out.append(ch)
        after = text[index + 1 : index + 2]
        neighbour = after if ch == "_" else ch
        if after and "_" in (ch, after) and unicodedata.category(neighbour) == "Cn":
            out.append(_ZWJ)
    return "".join(out)


def _token(text: str) -> str:
    """mdformat's escaping of one text token, in its order (backslashes first)."""
    text = _emphasis(_emphasis(text.replace("\\", "\\\\"), "*"), "_")
    text = _brackets(text)
    text = _LESS_THAN.sub(r"\\\g<0>", text).replace("`", "\\`")
    return _CHAR_REFERENCE.sub(r"\\\g<0>", text)


def _emphasis(text: str, marker: str) -> str:
    """Escape `*`/`_` unless both neighbours are spaces (or, for `_`, both are word chars)."""
    if marker not in text:
        return text
    out: list[str] = []
    for index, ch in enumerate(text):
        if ch == marker:
            before = text[index - 1] if index else None
            after = text[index + 1] if index + 1 < len(text) else None
            spaced = _space(before) and _space(after)
            inner = marker == "_" and not _loose(before) and not _loose(after)
            if not (spaced or inner):
                out.append("\\")
        out.append(ch)
    return "".join(out)


def _space(ch: str | None) -> bool:
    return ch is not None and (ch in "\t\n\f\r" or unicodedata.category(ch) == "Zs")


def _loose(ch: str | None) -> bool:
    """Whitespace, punctuation (Unicode P and S) or an edge: where `_` may open or close."""
    return ch is None or _space(ch) or unicodedata.category(ch)[0] in "PS"


def _brackets(text: str) -> str:
    """Escape brackets unless they close a flat pair not followed by `:` or `(`."""
    escape_at: list[int] = []
    start: int | None = None
    for match in re.finditer(r"[\[\]]", text):
        at = match.start()
        if match.group() == "[":
            escape_at += [] if start is None else [start]
            start = at
        elif start is None:
            escape_at.append(at)
        else:
            escape_at += [start, at] if text[at + 1 : at + 2] in (":", "(") else []
            start = None
    escape_at += [] if start is None else [start]
    for at in sorted(escape_at, reverse=True):
        text = text[:at] + "\\" + text[at:]
    return text


def _line_start(line: str) -> str:
    """mdformat's guards for a paragraph line that would open another block."""
    if _ATX.match(line):
        line = "\\" + line
    if line.startswith(">") or _BULLET.match(line):
        line = "\\" + line
    if ordered := _ORDERED.match(line):
        line = line.replace(ordered[1], "\\" + ordered[1], 1)
    compact = line.replace(" ", "").replace("\t", "")
    if len(compact) >= 3 and set(compact) == {"-"}:  # a thematic break
        line = line.replace("-", "\\-", 1)
    stripped = line.strip(" \t")
    if set(stripped) == {"-"}:  # a setext underline
        line = line.replace("-", "\\-", 1)
    elif set(stripped) == {"="}:
        line = line.replace("=", "\\=", 1)
    return line


def _code(text: str) -> str:
    """A code span as mdformat writes it: a longer fence and padding around backticks."""
    text = _visible(text)
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    return f"{'`' * (longest + 1)} {text} {'`' * (longest + 1)}" if longest else f"`{text}`"


def has_entry(text: str, version: str) -> bool:
    """Whether a top-level heading names `version`: `## v1.2.3 (…)`, `## [1.2.3]`, `## 1.2.3`."""
    # Our own headings hold the version as escaped Markdown; a PEP 440 version never changes.
    names = "|".join(
        re.escape(name) for name in sorted({version, _token(_defuse(_visible(version)))})
    )
    pattern = re.compile(rf"##[ \t]+\[?v?(?:{names})(?:\]|(?=[\s(]|$))", re.IGNORECASE)
    lines = text.splitlines()
    fenced = _fenced(lines)
    return any(pattern.match(line) for at, line in enumerate(lines) if at not in fenced)


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
