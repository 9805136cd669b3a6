"""Reads a pyproject.toml and edits its version and family pins, changing no other byte."""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from enum import StrEnum

import tomlkit
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from tomlkit.items import String

from release_train.core import poetry
from release_train.core.declared import (
    array_slots,
    family_sources,
    parse_requirement,
    project_table,
    read_declared,
    requirement_names,
    requirement_strings,
    uv_sources,
)
from release_train.core.tomltext import dump, invalid, load, parse, respell
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
# A direct reference instead: `@ URL`, then (after whitespace) the marker part.
_URL_AND_MARKER = re.compile(r"\s*@\s*(?P<url>\S+?)(?P<tail>(?:\s+;.*)?\s*)\Z", re.DOTALL)


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
    dependencies: tuple[str, ...]  # PEP 508 strings; Poetry's translated to PEP 440


def read_project(text: str, *, source: str = "pyproject.toml") -> ProjectInfo:
    """Name, static version, dynamic flag and requirements, from [project] or [tool.poetry]."""
    doc = load(text, source)
    project = project_table(doc, source)
    legacy = poetry.table(doc) or {}
    name = project.get("name", legacy.get("name"))
    version = project.get("version", legacy.get("version"))
    if name is not None and not isinstance(name, str):
        raise invalid(source, "project.name is not a string")
    if version is not None and not isinstance(version, str):
        raise invalid(source, "project.version is not a string")
    dependencies = [r for _, kind, _, r in requirement_strings(doc, source) if kind is not None]
    dependencies += [poetry.requirement(slot) for slot in poetry.slots(doc, source)]
    return ProjectInfo(
        name=None if name is None else str(name),
        version=None if version is None else str(version),
        dynamic_version=_is_dynamic_version(project, source),
        dependencies=tuple(dependencies),
    )


def _version_item(
    doc: tomlkit.TOMLDocument, source: str
) -> tuple[MutableMapping[str, object], object] | None:
    """The table holding the static version and its value: [project], else [tool.poetry].

    A table whose sub-tables are split around others (`[project]`, `[tool.hatch]`,
    `[project.scripts]`, as omnibase_infra has it) is a tomlkit proxy, not a Table.
    """
    for table in (doc.get("project"), poetry.table(doc)):
        if isinstance(table, MutableMapping) and "version" in table:
            return table, table["version"]
    return None


def set_version(text: str, new_version: str, *, source: str = "pyproject.toml") -> str:
    """Replace the static version (project.version, else tool.poetry.version) in place.

    Its quotes and comment stay; a dynamic version without a Poetry one is left unchanged.
    """
    _check_version(new_version)
    doc = parse(text, source)
    project = project_table(doc, source)
    dynamic = _is_dynamic_version(project, source)
    found = _version_item(doc, source)
    if found is None:
        if dynamic:
            return text  # the version comes from the tag the run creates
        raise ReleaseError(
            ErrorCode.BUMP_FAILED,
            f"{source} has no project.version or tool.poetry.version and does not declare "
            "it dynamic",
            hint='add `version = "..."` to [project] or list "version" in project.dynamic',
        )
    table, current = found
    if dynamic and "version" in project:
        raise invalid(source, 'project.version is set although "version" is in project.dynamic')
    if not isinstance(current, String):
        raise invalid(source, "the version is not a string")
    if str(current) == new_version:
        return text
    table["version"] = respell(current, new_version, 0, len(current))
    return dump(doc, text, source)


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
            hint="choose another pin_policy, or tag a PEP 440 version",
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
    drop_sources: bool = False,
    source: str = "pyproject.toml",
) -> str:
    """Rewrite the specifier of each requirement on a pinned package; nothing else changes.

    `pins` maps a package name in any spelling to its new version. Every array a resolver
    reads is pinned: dependencies, extras, dependency groups, and uv's override and
    constraint dependencies (an override beats project.dependencies in `uv lock`), and
    Poetry's dependency tables. A package taken from git, a path or a URL (a direct
    reference `pkg @ URL`, a `[tool.uv.sources]` entry, a Poetry git/path/url table) is left
    alone: a version pin would contradict it or be ignored. With `drop_sources` (config
    `family_sources = "drop"`) that source is removed instead and the version pinned.
    """
    wanted = _wanted_specifiers(pins, policy)
    doc = parse(text, source)
    changed = False
    for slot in array_slots(doc, source):
        requirement = parse_requirement(str(slot.item), slot.where, source)
        spec = wanted.get(canonicalize_name(requirement.name))
        if spec is None or (requirement.url is not None and not drop_sources):
            continue
        item, where = slot.item, slot.where
        span = _specifier_span(str(item), requirement, where)
        old = str(item)[span[0] : span[1]]
        if requirement.url is None and old and str(SpecifierSet(old.strip("()"))) == spec:
            continue  # already pinned: leave the bytes as they are
        replacement = f"({spec})" if old.startswith("(") else spec
        new_value = str(item)[: span[0]] + replacement + str(item)[span[1] :]
        _check_pinned(requirement, new_value, spec, where)
        slot.array[slot.index] = respell(item, replacement, span[0], span[1])
        changed = True
    if drop_sources:
        changed |= _drop_uv_sources(doc, set(wanted))
    changed |= poetry.pin(doc, wanted, drop_sources, source)
    return dump(doc, text, source) if changed else text


def _drop_uv_sources(doc: tomlkit.TOMLDocument, names: set[str]) -> bool:
    """Remove the `[tool.uv.sources]` entries of `names` that are not index sources."""
    dropped = {s.name for s in uv_sources(doc)} & names
    if not dropped:
        return False
    sources = doc["tool"]["uv"]["sources"]  # uv_sources found entries there
    if not isinstance(sources, MutableMapping):
        return False
    for key in [k for k in sources if canonicalize_name(str(k)) in dropped]:
        del sources[key]
    return True


def _wanted_specifiers(pins: Mapping[str, str], policy: PinPolicy) -> dict[str, str]:
    wanted: dict[str, str] = {}
    for name, version in sorted(pins.items()):
        spec = pin_specifier(version, policy)
        if wanted.setdefault(canonicalize_name(name), spec) != spec:
            raise ReleaseError(
                ErrorCode.PIN_FAILED,
                f"two spellings of {canonicalize_name(name)} are pinned to different versions",
                hint="give each package one name in the config (`package`)",
            )
    return wanted


def _is_dynamic_version(project: Mapping[str, object], source: str) -> bool:
    dynamic = project.get("dynamic", [])
    if not isinstance(dynamic, list):
        raise invalid(source, "project.dynamic is not an array")
    return "version" in dynamic


def _specifier_span(value: str, requirement: Requirement, where: str) -> tuple[int, int]:
    """Where the specifier sits in `value`; an empty span right after name/extras if none.

    For a direct reference the span is ` @ URL`, which the pin replaces when it drops it.
    """
    head = _NAME_AND_EXTRAS.match(value)
    pattern = _SPEC_AND_MARKER if requirement.url is None else _URL_AND_MARKER
    rest = pattern.match(value, head.end()) if head else None
    if head is None or rest is None or head.group("name") != requirement.name:
        raise ReleaseError(
            ErrorCode.PIN_FAILED,
            f"cannot locate the specifier in {where} requirement {value!r}",
            hint="write the requirement in PEP 508 form (`name>=1.0`) and resume the run",
        )
    if requirement.url is not None:
        return head.end(), rest.end("url")
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
            hint="simplify the requirement by hand (one name, one specifier) and resume the run",
        )


def _check_version(version: str) -> Version:
    try:
        return Version(version)
    except InvalidVersion:
        raise ReleaseError(
            ErrorCode.VERSION_INVALID,
            f"{version!r} is not a PEP 440 version",
            hint="fix the version in pyproject.toml or the tag it comes from",
        ) from None


__all__ = [
    "PinPolicy",
    "ProjectInfo",
    "family_sources",
    "pin_dependencies",
    "pin_specifier",
    "read_declared",
    "read_project",
    "requirement_names",
    "set_version",
]
