"""Reads a pyproject.toml and edits its version and family pins, changing no other byte."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum

import tomlkit
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AbstractTable, Array, InlineTable, String

from release_train.errors import ErrorCode, ReleaseError

# PEP 508 name and extras, in the spelling the file uses. packaging's Requirement says
# *what* a requirement is but not *where* its parts sit in the text, and the pin must
# replace only the specifier's characters (defect 5), so the text is located here and
# the result is checked against packaging afterwards.
_NAME_AND_EXTRAS = re.compile(
    r"\s*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(?:\s*\[[^\]]*\])?"
)
# What follows the extras: whitespace, the specifier (no `;`), then the marker part.
_SPEC_AND_MARKER = re.compile(r"(?P<ws>\s*)(?P<spec>[^;]*?)(?P<tail>\s*(?:;.*)?)\Z", re.DOTALL)


class PinPolicy(StrEnum):
    """How a dependent pins a family member released in the same run."""

    EXACT = "exact"
    COMPATIBLE = "compatible"
    FLOOR = "floor"


@dataclass(frozen=True)
class ProjectInfo:
    """What the plan needs from a pyproject: identity, version and requirements."""

    name: str | None
    version: str | None
    dynamic_version: bool
    dependencies: tuple[str, ...]


def read_project(text: str, *, source: str = "pyproject.toml") -> ProjectInfo:
    """The project's name, static version, dynamic flag and every requirement string."""
    doc = _parse(text, source)
    project = _project(doc, source)
    name = project.get("name")
    version = project.get("version")
    if name is not None and not isinstance(name, str):
        raise _invalid(source, "project.name is not a string")
    if version is not None and not isinstance(version, str):
        raise _invalid(source, "project.version is not a string")
    dependencies = tuple(str(item) for _, item in _requirement_items(doc, source))
    return ProjectInfo(
        name=None if name is None else str(name),
        version=None if version is None else str(version),
        dynamic_version=_is_dynamic_version(project, source),
        dependencies=dependencies,
    )


def requirement_names(text: str, *, source: str = "pyproject.toml") -> set[str]:
    """PEP 503 names of everything the project requires, in any table the graph reads."""
    doc = _parse(text, source)
    return {
        canonicalize_name(_requirement(str(item), where, source).name)
        for where, item in _requirement_items(doc, source)
    }


def set_version(text: str, new_version: str, *, source: str = "pyproject.toml") -> str:
    """Replace project.version's value, keeping its quotes and comment; dynamic: unchanged."""
    _check_version(new_version)
    doc = _parse(text, source)
    project = _project(doc, source)
    dynamic = _is_dynamic_version(project, source)
    current = project.get("version")
    if current is None:
        if dynamic:
            return text  # the version comes from the tag the run creates
        raise ReleaseError(
            ErrorCode.BUMP_FAILED,
            f"{source} has no project.version and does not declare it dynamic",
            hint='add `version = "..."` to [project] or list "version" in project.dynamic',
        )
    if dynamic:
        raise _invalid(source, 'project.version is set although "version" is in project.dynamic')
    if not isinstance(current, String):
        raise _invalid(source, "project.version is not a string")
    if str(current) == new_version:
        return text
    table = doc["project"]
    if not isinstance(table, AbstractTable):
        raise _invalid(source, "[project] is not a table")
    table["version"] = _respell(current, new_version, 0, len(current))
    return _dump(doc, text, source)


def pin_specifier(version: str, policy: PinPolicy) -> str:
    """The specifier a dependent gets for `version`: `==1.5.0`, `~=1.5.0` or `>=1.5.0`."""
    parsed = _check_version(version)
    if policy is PinPolicy.EXACT:
        spec = f"=={version}"
    elif policy is PinPolicy.FLOOR:
        spec = f">={version}"
    else:
        # `~=2` is not a valid specifier; `~=2.0` means the same thing for a one-part release.
        spec = f"~={version}" if len(parsed.release) > 1 else f"~={parsed.major}.0"
    try:
        SpecifierSet(spec)
    except InvalidSpecifier:
        raise ReleaseError(
            ErrorCode.VERSION_INVALID,
            f"cannot pin {policy} to {version!r}: {spec!r} is not a valid specifier",
        ) from None
    return spec


def pin_specifiers(versions: Mapping[str, str], policy: PinPolicy) -> dict[str, str]:
    """package -> the specifier PIN writes for it, from package -> released version."""
    return {package: pin_specifier(v, policy) for package, v in sorted(versions.items())}


def pin_dependencies(
    text: str,
    pins: Mapping[str, str],
    policy: PinPolicy,
    *,
    source: str = "pyproject.toml",
) -> str:
    """Rewrite the specifier of each requirement on a pinned package; nothing else changes.

    `pins` maps a package name in any spelling to its new version. Requirements given by
    URL (`pkg @ https://...`) are left alone: a URL names one exact artifact, so a version
    pin would either contradict it or be ignored, and the release engine refuses such
    sources for family members anyway (`family_sources`).
    """
    wanted = _wanted_specifiers(pins, policy)
    doc = _parse(text, source)
    changed = False
    for array, index, item, where in _requirement_slots(doc, source):
        requirement = _requirement(str(item), where, source)
        spec = wanted.get(canonicalize_name(requirement.name))
        if spec is None or requirement.url is not None:
            continue
        span = _specifier_span(str(item), requirement, where)
        old = str(item)[span[0] : span[1]]
        if old and str(SpecifierSet(old.strip("()"))) == spec:
            continue  # already pinned: leave the bytes as they are
        replacement = f"({spec})" if old.startswith("(") else spec
        new_value = str(item)[: span[0]] + replacement + str(item)[span[1] :]
        _check_pinned(requirement, new_value, spec, where)
        array[index] = _respell(item, replacement, span[0], span[1])
        changed = True
    return _dump(doc, text, source) if changed else text


def _wanted_specifiers(pins: Mapping[str, str], policy: PinPolicy) -> dict[str, str]:
    wanted: dict[str, str] = {}
    for name, version in sorted(pins.items()):
        spec = pin_specifier(version, policy)
        if wanted.setdefault(canonicalize_name(name), spec) != spec:
            raise ReleaseError(
                ErrorCode.PIN_FAILED,
                f"two spellings of {canonicalize_name(name)} are pinned to different versions",
            )
    return wanted


def family_sources(
    text: str, members: Iterable[str], *, source: str = "pyproject.toml"
) -> dict[str, str]:
    """Family members that [tool.uv.sources] takes from a path, git, URL or workspace.

    Such a source makes a release build against something other than the released
    package, so the engine refuses it (UNRELEASABLE_SOURCE). `index` sources are fine.
    """
    family = {canonicalize_name(member) for member in members}
    doc = _parse(text, source)
    tool = doc.get("tool")
    uv = tool.get("uv") if isinstance(tool, Mapping) else None
    sources = uv.get("sources") if isinstance(uv, Mapping) else None
    if not isinstance(sources, Mapping):
        return {}
    found: dict[str, str] = {}
    for key in sorted(sources, key=str):
        name = canonicalize_name(str(key))
        if name not in family:
            continue
        entry = sources[key]
        # One source table, or a list of them split by markers; any unreleasable one counts.
        entries = entry if isinstance(entry, list) else [entry]
        kinds = [kind for part in entries if (kind := _source_kind(part)) is not None]
        if kinds:
            found[name] = kinds[0]
    return dict(sorted(found.items()))


def _source_kind(entry: object) -> str | None:
    if not isinstance(entry, Mapping):
        return None
    if entry.get("workspace") is True:
        return "workspace"
    for kind in ("path", "git", "url"):
        if kind in entry:
            return kind
    return None


def _parse(text: str, source: str) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(text)
    except TOMLKitError as exc:
        raise _invalid(source, f"is not valid TOML: {exc}") from None


def _dump(doc: tomlkit.TOMLDocument, original: str, source: str) -> str:
    # tomlkit round-trips what it parses; if it ever did not, "every other byte stays"
    # would silently be false, so refuse instead of writing a reformatted file.
    if tomlkit.dumps(tomlkit.parse(original)) != original:
        raise ReleaseError(
            ErrorCode.PIN_FAILED,
            f"{source} does not survive a tomlkit round trip unchanged",
            hint="edit this file by hand, or report it with the file attached",
        )
    return tomlkit.dumps(doc)


def _project(doc: tomlkit.TOMLDocument, source: str) -> Mapping[str, object]:
    project = doc.get("project", {})
    if not isinstance(project, Mapping):
        raise _invalid(source, "[project] is not a table")
    return project


def _is_dynamic_version(project: Mapping[str, object], source: str) -> bool:
    dynamic = project.get("dynamic", [])
    if not isinstance(dynamic, list):
        raise _invalid(source, "project.dynamic is not an array")
    return "version" in dynamic


def _requirement_arrays(doc: tomlkit.TOMLDocument, source: str) -> Iterator[tuple[str, Array]]:
    """The arrays of requirement strings: dependencies, optional groups, dependency groups."""
    project = _project(doc, source)
    candidates: list[tuple[str, object]] = [("project.dependencies", project.get("dependencies"))]
    for label, table in (
        ("project.optional-dependencies", project.get("optional-dependencies")),
        ("dependency-groups", doc.get("dependency-groups")),
    ):
        if table is None:
            continue
        if not isinstance(table, Mapping):
            raise _invalid(source, f"{label} is not a table")
        candidates.extend((f"{label}.{group}", table[group]) for group in table)
    for where, value in candidates:
        if value is None:
            continue
        if not isinstance(value, Array):
            raise _invalid(source, f"{where} is not an array")
        yield where, value


def _requirement_slots(
    doc: tomlkit.TOMLDocument, source: str
) -> Iterator[tuple[Array, int, String, str]]:
    for where, array in _requirement_arrays(doc, source):
        for index, item in enumerate(array):
            if isinstance(item, String):
                yield array, index, item, where
            elif not (where.startswith("dependency-groups.") and isinstance(item, InlineTable)):
                # `{include-group = "..."}` tables are the only non-string entries allowed.
                raise _invalid(source, f"{where} holds a non-string entry {item!r}")


def _requirement_items(doc: tomlkit.TOMLDocument, source: str) -> Iterator[tuple[str, String]]:
    for _, _, item, where in _requirement_slots(doc, source):
        yield where, item


def _requirement(text: str, where: str, source: str) -> Requirement:
    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        raise _invalid(source, f"{where} has an invalid requirement {text!r}: {exc}") from None


def _specifier_span(value: str, requirement: Requirement, where: str) -> tuple[int, int]:
    """Where the specifier sits in `value`; an empty span right after name/extras if none."""
    head = _NAME_AND_EXTRAS.match(value)
    rest = _SPEC_AND_MARKER.match(value, head.end()) if head else None
    if head is None or rest is None or head.group("name") != requirement.name:
        raise ReleaseError(
            ErrorCode.PIN_FAILED,
            f"cannot locate the specifier in {where} requirement {value!r}",
        )
    if not rest.group("spec"):
        return head.end(), head.end()
    return rest.start("spec"), rest.end("spec")


def _check_pinned(before: Requirement, new_value: str, spec: str, where: str) -> None:
    """Guard the text surgery: same name, extras and marker; exactly the new specifier."""
    try:
        after = Requirement(new_value)
        same = (
            after.name == before.name
            and after.extras == before.extras
            and str(after.marker) == str(before.marker)
            and str(after.specifier) == spec
        )
    except InvalidRequirement:
        same = False
    if not same:
        raise ReleaseError(
            ErrorCode.PIN_FAILED,
            f"pinning {where} requirement {str(before)!r} to {spec} would change its meaning",
        )


def _respell(item: String, replacement: str, start: int, end: int) -> String:
    """`item` with value[start:end] replaced, written in the same quoting style.

    The raw text between the quotes is spliced directly when the part up to `end` is
    written without escapes (always, for a requirement's name, extras and specifier), so
    escapes in a marker keep their exact spelling; otherwise the value is re-escaped.
    """
    value = str(item)
    new_value = value[:start] + replacement + value[end:]
    quote = item.type.value
    raw = item.as_string()[len(quote) : -len(quote)]
    # TOML drops one newline right after a multi-line string's opening delimiter.
    lead = ""
    if item.type.is_multiline():
        lead = next((nl for nl in ("\r\n", "\n") if raw.startswith(nl)), "")
    if raw.startswith(lead + value[:end]):
        body = lead + value[:start] + replacement + raw[len(lead) + end :]
        return String(item.type, new_value, body, item.trivia)
    fallback = String.from_raw(new_value, item.type)
    return String(item.type, new_value, fallback.as_string()[len(quote) : -len(quote)], item.trivia)


def _check_version(version: str) -> Version:
    try:
        return Version(version)
    except InvalidVersion:
        raise ReleaseError(
            ErrorCode.VERSION_INVALID, f"{version!r} is not a PEP 440 version"
        ) from None


def _invalid(source: str, cause: str) -> ReleaseError:
    return ReleaseError(ErrorCode.PYPROJECT_INVALID, f"{source}: {cause}")


__all__ = [
    "PinPolicy",
    "ProjectInfo",
    "family_sources",
    "pin_dependencies",
    "pin_specifier",
    "read_project",
    "requirement_names",
    "set_version",
]
