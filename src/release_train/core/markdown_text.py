"""Commit text as literal Markdown: escaped as mdformat would, so an entry is a fixed point
of mdformat while a reader sees the subject as written."""

from __future__ import annotations

import html
import html.entities
import re
import unicodedata

# Escaping follows mdformat's canonical form (its `text` and `paragraph` renderers) so that
# an entry is a fixed point of mdformat, while showing the subject literally. Where
# CommonMark escaping cannot help, a zero-width joiner breaks the construct: `@team`
# mentions and e-mail autolinks, `[label]` reference links and `[ ]` task boxes (the file
# may define `[1.2.3]: url`), GitHub's bare-URL autolinks, and `<<` (see `defuse`).
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


def literal(text: str) -> str:
    """One line of `text`, shown literally inside a paragraph or a heading."""
    return token(defuse(visible(text)))


def visible(text: str) -> str:
    """One line of printable text: controls and bidi overrides dropped, whitespace collapsed."""
    if text.isprintable():  # no Cc, Cs or Cf (bidi) character: the common case, kept fast
        return " ".join(text.split())
    kept = (ch for ch in text if ch.isspace() or not _hidden(ch))
    return " ".join("".join(kept).split())


def _hidden(ch: str) -> bool:
    return ch in _BIDI or unicodedata.category(ch) in ("Cc", "Cs")


def defuse(text: str) -> str:
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


def token(text: str) -> str:
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


def line_start(line: str) -> str:
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


def code(text: str) -> str:
    """A code span as mdformat writes it: a longer fence and padding around backticks."""
    text = visible(text)
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    return f"{'`' * (longest + 1)} {text} {'`' * (longest + 1)}" if longest else f"`{text}`"


# Table cells and PR bodies: escaped for GFM, not kept mdformat-stable.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_BLOCK_START = re.compile(r"^(\d{0,9})([-+=]|#(?=#{0,5}(?: |$))|(?<=\d)[.)](?= |$))")


def md_escape(text: str) -> str:
    """Text safe inside a GFM table cell: no HTML, no markup, no pipes, no mentions."""
    # Control and format characters (escapes, bidi overrides) are dropped: they hide text.
    text = "".join(c for c in text if c.isprintable() or c.isspace())
    text = " ".join(text.split())
    text = html.escape(text, quote=True)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    # At the start of a list item the text could open a heading, a rule or a nested list.
    text = _BLOCK_START.sub(r"\1\\\2", text, count=1)
    # A zero-width joiner keeps "@team" from becoming a mention or a link.
    return text.replace("@", "@\u200d")
