"""PEP 440 versions, the bump a range of commits calls for, and tag names built from a template."""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from packaging.version import InvalidVersion, Version

from release_train.core.commits import Commit, Kind
from release_train.errors import ErrorCode, ReleaseError

_TAG_FIELDS = frozenset({"repo", "package", "version"})
_GLOB_SPECIAL = re.compile(r"([*?\[\\])")
_REASON_SUBJECT_MAX = 72


class Bump(StrEnum):
    """How far a release moves the version; members are declared from smallest to largest."""

    PATCH = "patch"
    MINOR = "minor"
    MAJOR = "major"

    @property
    def rank(self) -> int:
        return list(Bump).index(self)


class Prerelease(StrEnum):
    """PEP 440 pre-release phases, declared in the order PEP 440 sorts them."""

    ALPHA = "a"
    BETA = "b"
    RC = "rc"

    @property
    def rank(self) -> int:
        return list(Prerelease).index(self)


@dataclass(frozen=True)
class BumpDecision:
    """The inferred bump, the commits that decided it, and why, in one line."""

    bump: Bump | None
    drivers: tuple[Commit, ...]
    reason: str


def parse_version(text: str) -> Version:
    """A PEP 440 version from `text`; a leading `v` is accepted, as in tags."""
    try:
        return Version(text.strip())
    except InvalidVersion:
        raise ReleaseError(
            ErrorCode.VERSION_INVALID,
            f"not a PEP 440 version: {text!r}",
            hint="versions look like 1.2.3, 2.0, 1.5.0rc1 or 1.2.3.post1 (PEP 440)",
        ) from None


def infer_bump(commits: Sequence[Commit]) -> BumpDecision:
    """Breaking -> major, else a feat -> minor, else any change -> patch (spec, Step 0.3).

    Every unreleased change gives at least a patch, reverts included; merge and release
    commits are not changes and are ignored.
    """
    changes = tuple(commit for commit in commits if commit.is_change)
    breaking = tuple(commit for commit in changes if commit.breaking)
    if breaking:
        return BumpDecision(Bump.MAJOR, breaking, _counted(breaking, "breaking change", True))
    feats = tuple(c for c in changes if c.kind is Kind.CONVENTIONAL and c.type == "feat")
    if feats:
        return BumpDecision(Bump.MINOR, feats, _counted(feats, "feature", False))
    if not changes:
        return BumpDecision(None, (), "no changes since the last release")
    fixes = sum(1 for commit in changes if commit.type == "fix")
    parts = [_plural(fixes, "fix"), _plural(len(changes) - fixes, "other change")]
    return BumpDecision(Bump.PATCH, changes, " and ".join(part for part in parts if part))


def next_version(
    current: str,
    bump: Bump,
    *,
    zero_major: bool = True,
    prerelease: Prerelease | None = None,
) -> str:
    """The canonical PEP 440 version after `current`, always strictly greater than it.

    Post, dev and local parts of a final `current` are ignored (`1.2.3.post1` + patch is
    `1.2.4`). A pre-release (or dev release) of X has reserved X: the next final is X itself
    unless the bump is larger than X's own kind (`1.5.0rc1` + minor -> `1.5.0`, + major ->
    `2.0.0`). Pre-release phases never go backwards: asking for `a` after `1.5.0rc2` gives
    `1.5.0rc3`, since `1.5.0a1` would sort before what was already published.
    """
    version = parse_version(current)
    if zero_major and bump is Bump.MAJOR and version.major == 0:
        bump = Bump.MINOR  # 0.x: a breaking change bumps the minor (SemVer §4)
    release = _release(version)
    target = release if _reserves(version) and bump.rank <= _kind(release).rank else None
    if target is None:
        target = _bumped(release, bump)
    epoch = f"{version.epoch}!" if version.epoch else ""
    text = epoch + ".".join(str(part) for part in target)
    if prerelease is not None:
        text += _pre_suffix(version, prerelease, same_release=target == release)
    return str(Version(text))


def format_tag(template: str, repo: str, version: str, package: str | None = None) -> str:
    """The tag for `version`, e.g. `{repo}/v{version}` -> `omnibase_core/v1.2.0`."""
    _check_template(template)
    return template.format(repo=repo, package=package or repo, version=version)


def tag_glob(template: str, repo: str, package: str | None = None) -> str:
    """A `git tag -l` / `for-each-ref refs/tags/<glob>` pattern for every version's tag."""
    _check_template(template)
    pieces = _template_pieces(template, repo, package)
    return "".join("*" if piece is None else _GLOB_SPECIAL.sub(r"\\\1", piece) for piece in pieces)


def version_from_tag(
    template: str, repo: str, tag: str, package: str | None = None
) -> Version | None:
    """The version in `tag`, or None when the tag is not this template's or not PEP 440."""
    _check_template(template)
    pieces = _template_pieces(template, repo, package)
    pattern = "".join("(?P<version>.+)" if piece is None else re.escape(piece) for piece in pieces)
    match = re.fullmatch(pattern, tag)
    if match is None:
        return None
    try:
        return Version(match["version"])
    except InvalidVersion:
        return None


def _release(version: Version) -> tuple[int, ...]:
    """Release tuple padded to three parts; trailing zeros past the third dropped."""
    parts = list(version.release) + [0] * max(0, 3 - len(version.release))
    while len(parts) > 3 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def _reserves(version: Version) -> bool:
    """Whether `version` sorts before its own release: a pre-release or a plain dev release.

    `1.0.0.post1.dev2` is a dev release of a post release: it sorts after 1.0.0.
    """
    return version.pre is not None or (version.dev is not None and version.post is None)


def _kind(release: tuple[int, ...]) -> Bump:
    """The bump that a final `release` is the first version of."""
    if len(release) > 3 or release[2] != 0:
        return Bump.PATCH
    return Bump.MINOR if release[1] != 0 else Bump.MAJOR


def _bumped(release: tuple[int, ...], bump: Bump) -> tuple[int, ...]:
    major, minor, micro = release[:3]
    if bump is Bump.MAJOR:
        return (major + 1, 0, 0)
    if bump is Bump.MINOR:
        return (major, minor + 1, 0)
    return (major, minor, micro + 1)


def _pre_suffix(version: Version, phase: Prerelease, *, same_release: bool) -> str:
    """`rc1` on a new release; on the current one, the next number of the current phase."""
    if not same_release or version.pre is None:
        return f"{phase}1"
    current_phase = Prerelease(version.pre[0])
    number = version.pre[1]
    if phase.rank > current_phase.rank:
        return f"{phase}1"
    # `1.5.0rc1.dev2` sorts before `1.5.0rc1`, so the dev's own pre-release is next.
    step = 0 if version.dev is not None and version.post is None else 1
    return f"{current_phase}{number + step}"


def _check_template(template: str) -> None:
    """Exactly one `{version}`, only known fields: otherwise tags would collide or mislead."""
    try:
        fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(template)]
    except ValueError as exc:
        raise _template_error(template, str(exc)) from None
    names = [name for name, _, _ in fields if name is not None]
    unknown = sorted(set(names) - _TAG_FIELDS)
    if unknown:
        raise _template_error(template, f"unknown field {{{unknown[0]}}}")
    if names.count("version") != 1:
        raise _template_error(template, "it must hold {version} exactly once")
    if any(spec or conv for name, spec, conv in fields if name is not None):
        raise _template_error(template, "format specs and conversions are not supported")


def _template_error(template: str, why: str) -> ReleaseError:
    return ReleaseError(
        ErrorCode.CONFIG_INVALID,
        f"bad tag template {template!r}: {why}",
        hint='use fields {repo}, {package} and {version}, e.g. "{repo}/v{version}"',
    )


def _template_pieces(template: str, repo: str, package: str | None) -> list[str | None]:
    """The template as literal pieces, with None standing for the `{version}` field."""
    values = {"repo": repo, "package": package or repo}
    pieces: list[str | None] = []
    for literal, name, _, _ in string.Formatter().parse(template):
        pieces.append(literal)
        if name is not None:
            pieces.append(values.get(name))
    return pieces


def _counted(drivers: tuple[Commit, ...], noun: str, example: bool) -> str:
    """`2 breaking changes (a1b2c3d feat!: drop x)`: the count and, if asked, the first one."""
    text = _plural(len(drivers), noun)
    if not example:
        return text
    first = drivers[0]
    subject = first.subject
    if len(subject) > _REASON_SUBJECT_MAX:
        subject = subject[: _REASON_SUBJECT_MAX - 1] + "…"
    label = f"{first.sha[:7]} {subject}" if first.sha else subject
    return f"{text} ({label})"


def _plural(count: int, noun: str) -> str:
    if count == 0:
        return ""
    suffix = "" if count == 1 else ("es" if noun.endswith("x") else "s")
    return f"{count} {noun}{suffix}"
