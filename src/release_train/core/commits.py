"""Conventional Commits 1.0 parser: a whole message in, a typed `Commit` out, never an error."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import NamedTuple

from packaging.version import InvalidVersion, Version

# The subject of the tool's own release commits (spec, Sub-Step 6: COMMIT); not changes.
RELEASE_SUBJECT = "release: {repo} v{version}"

BREAKING_TOKENS = frozenset({"BREAKING CHANGE", "BREAKING-CHANGE"})

# CC 1.0 §1-§5: a noun type, an optional (scope), an optional "!", then ": " and a text.
# The scope may not hold parentheses, so `fix(scope!)` keeps "!" inside the scope and is
# not breaking (DESIGN defect 3). Spec §4 says one space; we accept several.
_HEADER = re.compile(
    r"(?P<type>[A-Za-z][A-Za-z0-9_-]*)(?:\((?P<scope>[^()\n]+)\))?(?P<bang>!)?: +(?P<desc>\S.*)"
)
# CC 1.0 §8-§9, §15-§16: "Token: value" or "Token #value"; tokens use "-" for spaces except
# "BREAKING CHANGE", which (with its synonym) must be upper case.
_FOOTER = re.compile(
    r"(?P<token>BREAKING CHANGE|[A-Za-z0-9][A-Za-z0-9-]*)(?:: | (?=#))(?P<value>.*)"
)
_PR_SUFFIX = re.compile(r"\(#(?P<pr>[0-9]{1,9})\)\Z")
_MERGE_PR = re.compile(r"Merge pull request #(?P<pr>[0-9]{1,9}) from \S.*")
_MERGE = re.compile(r"Merge (?:branch|branches|remote-tracking branch|tag|commit) \S.*")
_GIT_REVERT = re.compile(r'Revert "(?P<subject>.*)"')
_RELEASE = re.compile(r"release: (?P<repo>[A-Za-z0-9._-]+) v(?P<version>\S+)")


class Kind(StrEnum):
    """What a commit is, before what it changes."""

    CONVENTIONAL = "conventional"
    MERGE = "merge"
    REVERT = "revert"
    RELEASE = "release"
    OTHER = "other"


class Footer(NamedTuple):
    """One CC footer or git trailer; the value may run over several lines."""

    token: str
    value: str

    @property
    def is_breaking(self) -> bool:
        return self.token in BREAKING_TOKENS


class Commit(NamedTuple):
    """A parsed commit message; `kind` says which of the optional fields mean anything.

    A NamedTuple rather than a frozen dataclass: it is as immutable, and five times
    cheaper to build, which matters when a plan parses 60,000 commits. For the same
    reason the body and footers, which only the changelog reads, are parsed on access;
    `breaking` reads the footers eagerly only when the message mentions BREAKING.
    """

    message: str
    sha: str
    subject: str  # the first meaningful line, as written
    kind: Kind
    type: str | None
    scope: str | None
    breaking: bool
    description: str
    pr_number: int | None
    reverts: str | None

    @property
    def body(self) -> str:
        return _body_and_footers(self.message)[0]

    @property
    def footers(self) -> tuple[Footer, ...]:
        return _body_and_footers(self.message)[1]

    @property
    def is_change(self) -> bool:
        """Merges repeat commits already in the range, and release commits are ours."""
        return self.kind is not Kind.RELEASE and self.kind is not Kind.MERGE

    @property
    def breaking_notes(self) -> tuple[str, ...]:
        notes = tuple(footer.value for footer in self.footers if footer.is_breaking)
        if not notes and self.breaking:
            return (self.description,)
        return notes


def parse_commit(message: str, sha: str = "") -> Commit:
    """Parse a whole message (subject, body, footers) per Conventional Commits 1.0."""
    subject = _split_subject(message)[0]
    title, pr_number = _strip_pr_suffix(subject)
    kind, cc_type, scope, bang, description, merged_pr, reverts = _classify(subject, title)
    # A BREAKING CHANGE footer is breaking whatever the subject looks like (CC 1.0 §12);
    # both of its tokens contain "BREAKING", so other messages skip the footer parse.
    breaking = bang or (
        "BREAKING" in message and any(f.is_breaking for f in _body_and_footers(message)[1])
    )
    return Commit(
        message,
        sha,
        subject,
        kind,
        cc_type,
        scope,
        breaking,
        title if description is None else description,
        pr_number if merged_pr is None else merged_pr,
        reverts,
    )


def _body_and_footers(message: str) -> tuple[str, tuple[Footer, ...]]:
    rest = _split_subject(message)[1]
    if not any(line.strip() for line in rest):
        return "", ()
    return _split_footers(rest)


def parse_release_subject(subject: str) -> tuple[str, str] | None:
    """`release: <repo> v<version>` -> (repo, version); the squash suffix ` (#12)` is allowed."""
    title, _ = _strip_pr_suffix(subject.strip())
    match = _RELEASE.fullmatch(title)
    if match is None:
        return None
    try:
        Version(match["version"])
    except InvalidVersion:
        return None
    return match["repo"], match["version"]


# kind, type, scope, "!", description (None: the title), merged PR, reverted subject.
_Fields = tuple[Kind, str | None, str | None, bool, str | None, int | None, str | None]
_OTHER: _Fields = (Kind.OTHER, None, None, False, None, None, None)


def _classify(subject: str, title: str) -> _Fields:
    """The fields the subject decides. Order matters: merges and release commits would
    otherwise read as CC or other. Cheap prefix tests run before each regex."""
    if subject.startswith("Merge "):
        if merge := _MERGE_PR.fullmatch(subject):
            return (Kind.MERGE, None, None, False, subject, int(merge["pr"]), None)
        if _MERGE.fullmatch(subject):
            return (Kind.MERGE, None, None, False, subject, None, None)
    if subject.startswith("release: ") and parse_release_subject(subject) is not None:
        return (Kind.RELEASE, None, None, False, None, None, None)
    if title.startswith('Revert "') and (revert := _GIT_REVERT.fullmatch(title)):
        return (Kind.REVERT, None, None, False, None, None, revert["subject"])
    header = _HEADER.fullmatch(title)
    if header is None:
        return _OTHER
    cc_type = header["type"].lower()
    description = header["desc"].strip()
    # `revert: <subject>` is kept a REVERT (not CONVENTIONAL) so that both spellings of a
    # revert read the same; its type, scope and "!" are still parsed as CC.
    kind = Kind.REVERT if cc_type == "revert" else Kind.CONVENTIONAL
    reverts = description if kind is Kind.REVERT else None
    return (kind, cc_type, header["scope"], header["bang"] is not None, description, None, reverts)


def _split_subject(message: str) -> tuple[str, list[str]]:
    """First meaningful line and the lines after it; CRLF and leading `#` comments dropped.

    Only leading comment lines are skipped: later `#` lines are kept, since GitHub squash
    bodies use Markdown headings and git keeps them when the message came from `-m`.
    """
    if "\r" in message:
        message = message.replace("\r\n", "\n").replace("\r", "\n")
    first, newline, rest = message.partition("\n")
    if first.strip() and not first.startswith("#"):  # the common case, without a split
        return first.strip(), rest.split("\n") if newline else []
    lines = message.split("\n")
    for index, line in enumerate(lines):
        if line.strip() and not line.startswith("#"):
            return line.strip(), lines[index + 1 :]
    return "", []


def _split_footers(lines: list[str]) -> tuple[str, tuple[Footer, ...]]:
    """Body text and footers from the lines after the subject.

    Footers are the trailing paragraphs that each open with a footer line (CC 1.0 §8),
    like git trailers. A line that opens with `BREAKING CHANGE:` starts the footers even
    earlier, since §10 lets its value run over several paragraphs of explanation; the
    same words inside a sentence are never a footer.
    """
    paragraphs = _paragraphs(lines)
    start = len(paragraphs)
    while start > 0 and _FOOTER.fullmatch(paragraphs[start - 1][0]):
        start -= 1
    body_lines = [line for paragraph in paragraphs[:start] for line in [*paragraph, ""]]
    footer_lines = [line for paragraph in paragraphs[start:] for line in [*paragraph, ""]]
    for index, line in enumerate(body_lines):
        if _breaking_footer(line):
            footer_lines = body_lines[index:] + footer_lines
            body_lines = body_lines[:index]
            break
    return "\n".join(body_lines).strip(), _footers(footer_lines)


def _paragraphs(lines: list[str]) -> list[list[str]]:
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            paragraphs[-1].append(line.rstrip())
        elif paragraphs[-1]:
            paragraphs.append([])
    return [paragraph for paragraph in paragraphs if paragraph]


def _breaking_footer(line: str) -> bool:
    match = _FOOTER.fullmatch(line)
    return match is not None and match["token"] in BREAKING_TOKENS


def _footers(lines: list[str]) -> tuple[Footer, ...]:
    """Each footer line starts a footer; other lines continue the previous value (§10)."""
    parsed: list[tuple[str, list[str]]] = []
    for line in lines:
        match = _FOOTER.fullmatch(line)
        if match is not None:
            parsed.append((match["token"], [match["value"]]))
        elif parsed:
            parsed[-1][1].append(line)
    return tuple(Footer(token, "\n".join(value).strip()) for token, value in parsed)


def _strip_pr_suffix(subject: str) -> tuple[str, int | None]:
    """GitHub squash titles end with ` (#123)`: the PR number, and the title without it."""
    if not subject.endswith(")"):
        return subject, None
    # A search for the literal "(#" stays linear on long subjects, unlike a lazy `.*?` prefix.
    match = _PR_SUFFIX.search(subject)
    if match is None:
        return subject, None
    return subject[: match.start()].rstrip(), int(match["pr"])
