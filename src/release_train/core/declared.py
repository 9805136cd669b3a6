"""What a pyproject declares about other packages: dependencies with kinds, sources, uv overrides.

PEP 621 (`project.dependencies`, extras), PEP 735 (`[dependency-groups]`), uv
(`tool.uv.dev-dependencies`, `override-`/`constraint-dependencies`, `tool.uv.sources`) and
Poetry (`[tool.poetry]`) all say it differently; the graph and the preflight read it here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import tomlkit
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from tomlkit.items import Array, String

from release_train.core import poetry
from release_train.core.graph import EdgeKind
from release_train.core.tomltext import invalid, load

# uv's settings that constrain resolution without adding a dependency: not edges, but
# they hold family pins that PIN must rewrite (an override beats project.dependencies).
UV_PIN_ARRAYS = ("override-dependencies", "constraint-dependencies")


@dataclass(frozen=True)
class Dependency:
    name: str  # PEP 503 normalised
    kind: EdgeKind
    group: str | None  # the extra or dependency group
    where: str  # the table, e.g. "project.optional-dependencies.spi"


@dataclass(frozen=True, order=True)
class Source:
    """A package taken from somewhere other than an index: git, path, url or workspace."""

    name: str  # PEP 503 normalised
    kind: str
    where: str  # "tool.uv.sources", "tool.poetry.dependencies", "project.dependencies"


@dataclass(frozen=True, order=True)
class Override:
    """A requirement in `[tool.uv] override-dependencies` or `constraint-dependencies`."""

    name: str  # PEP 503 normalised
    requirement: str
    where: str  # "tool.uv.override-dependencies"


@dataclass(frozen=True)
class Declared:
    dependencies: tuple[Dependency, ...] = ()
    sources: tuple[Source, ...] = ()
    overrides: tuple[Override, ...] = ()


@dataclass(frozen=True)
class ArraySlot:
    """One requirement string in one of the arrays a pin may rewrite."""

    array: Array
    index: int
    item: String
    where: str
    kind: EdgeKind | None  # None: a uv override/constraint, which is no dependency
    group: str | None


def project_table(doc: Mapping[str, object], source: str) -> Mapping[str, object]:
    project = doc.get("project", {})
    if not isinstance(project, Mapping):
        raise invalid(source, "[project] is not a table")
    return project


def _uv(doc: Mapping[str, object]) -> Mapping[str, object]:
    tool = doc.get("tool")
    uv = tool.get("uv") if isinstance(tool, Mapping) else None
    return uv if isinstance(uv, Mapping) else {}


def _arrays(
    doc: Mapping[str, object], source: str
) -> Iterator[tuple[str, EdgeKind | None, str | None, object]]:
    project = project_table(doc, source)
    yield "project.dependencies", EdgeKind.REQUIRED, None, project.get("dependencies")
    for label, kind, table in (
        ("project.optional-dependencies", EdgeKind.OPTIONAL, project.get("optional-dependencies")),
        ("dependency-groups", EdgeKind.GROUP, doc.get("dependency-groups")),
    ):
        if table is None:
            continue
        if not isinstance(table, Mapping):
            raise invalid(source, f"{label} is not a table")
        for group in table:
            yield f"{label}.{group}", kind, str(group), table[group]
    uv = _uv(doc)
    # uv's legacy spelling of the `dev` dependency group.
    yield "tool.uv.dev-dependencies", EdgeKind.GROUP, "dev", uv.get("dev-dependencies")
    for key in UV_PIN_ARRAYS:
        yield f"tool.uv.{key}", None, None, uv.get(key)


def _entries(
    doc: Mapping[str, object], source: str
) -> Iterator[tuple[str, EdgeKind | None, str | None, list[object], int, object]]:
    """Every entry of the PEP 621, PEP 735 and uv requirement arrays, checked to be a string.

    Works on tomllib's plain data (to read) and on tomlkit's document (to edit) alike.
    """
    for where, kind, group, value in _arrays(doc, source):
        if value is None:
            continue
        if not isinstance(value, list):
            raise invalid(source, f"{where} is not an array")
        for index, item in enumerate(value):
            if isinstance(item, str):
                yield where, kind, group, value, index, item
            elif not (where.startswith("dependency-groups.") and isinstance(item, Mapping)):
                # `{include-group = "..."}` tables are the only non-string entries allowed.
                raise invalid(source, f"{where} holds a non-string entry {item!r}")


def requirement_strings(
    doc: Mapping[str, object], source: str
) -> Iterator[tuple[str, EdgeKind | None, str | None, str]]:
    """(where, kind, group, requirement) of each string; kind None: a uv override/constraint."""
    for where, kind, group, _, _, item in _entries(doc, source):
        yield where, kind, group, str(item)


def array_slots(doc: tomlkit.TOMLDocument, source: str) -> Iterator[ArraySlot]:
    """Every requirement string as tomlkit holds it, with its place, for a pin to rewrite."""
    for where, kind, group, array, index, item in _entries(doc, source):
        if isinstance(array, Array) and isinstance(item, String):
            yield ArraySlot(array, index, item, where, kind, group)


def parse_requirement(text: str, where: str, source: str) -> Requirement:
    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        raise invalid(source, f"{where} has an invalid requirement {text!r}: {exc}") from None


def url_kind(url: str) -> str:
    """The kind of source a PEP 508 direct reference (`pkg @ URL`) names."""
    if url.startswith("git+"):
        return "git"
    return "path" if url.startswith("file:") else "url"


def _uv_source_kind(entry: object) -> str | None:
    if not isinstance(entry, Mapping):
        return None
    if entry.get("workspace") is True:
        return "workspace"
    for kind in ("path", "git", "url"):
        if kind in entry:
            return kind
    return None


def uv_sources(doc: Mapping[str, object]) -> list[Source]:
    """Packages `[tool.uv.sources]` takes from a path, git, URL or workspace (`index`: fine)."""
    sources = _uv(doc).get("sources")
    if not isinstance(sources, Mapping):
        return []
    found = []
    for key in sorted(sources, key=str):
        entry = sources[key]
        # One source table, or a list of them split by markers; any unreleasable one counts.
        entries = entry if isinstance(entry, list) else [entry]
        kinds = [kind for part in entries if (kind := _uv_source_kind(part)) is not None]
        if kinds:
            found.append(Source(canonicalize_name(str(key)), kinds[0], "tool.uv.sources"))
    return found


def read_declared(text: str, *, source: str = "pyproject.toml") -> Declared:
    """Every dependency (with its kind), every non-index source and every uv override."""
    doc = load(text, source)
    dependencies, sources, overrides = [], uv_sources(doc), []
    for where, kind, group, item in requirement_strings(doc, source):
        requirement = parse_requirement(item, where, source)
        name = canonicalize_name(requirement.name)
        if kind is None:
            overrides.append(Override(name, item, where))
            continue
        dependencies.append(Dependency(name, kind, group, where))
        if requirement.url is not None:
            sources.append(Source(name, url_kind(requirement.url), where))
    for entry in poetry.slots(doc, source):
        dependencies.append(Dependency(entry.name, entry.kind, entry.group, entry.where))
        if (origin := poetry.source_kind(entry.value)) is not None:
            sources.append(Source(entry.name, origin, entry.where))
    return Declared(tuple(dependencies), tuple(sorted(set(sources))), tuple(sorted(overrides)))


def requirement_names(text: str, *, source: str = "pyproject.toml") -> set[str]:
    """PEP 503 names of everything the project requires, in any table the graph reads."""
    return {d.name for d in read_declared(text, source=source).dependencies}


def family_sources(
    text: str, members: Iterable[str], *, source: str = "pyproject.toml"
) -> dict[str, str]:
    """Family members taken from a path, git, URL or workspace instead of the index.

    Such a source makes a release build against something other than the released
    package, so the engine refuses it (UNRELEASABLE_SOURCE) unless `family_sources` is
    "drop", where PIN removes it. `index` sources are fine.
    """
    family = {canonicalize_name(member) for member in members}
    found: dict[str, str] = {}
    for entry in read_declared(text, source=source).sources:
        if entry.name in family:
            found.setdefault(entry.name, entry.kind)
    return dict(sorted(found.items()))
