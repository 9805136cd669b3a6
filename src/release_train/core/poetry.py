"""Poetry's `[tool.poetry]` tables: name, version, dependencies and groups, read and pinned."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass

import tomlkit
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from tomlkit.items import AbstractTable, String

from release_train.core.graph import EdgeKind
from release_train.core.tomltext import invalid, respell

# Keys of a Poetry dependency table that say where the package comes from instead of
# the index; "drop" removes them all, so the entry falls back to the released package.
SOURCE_KEYS = ("git", "branch", "rev", "tag", "subdirectory", "path", "develop", "url")
_CARET_TILDE = re.compile(r"(?P<op>\^|~(?!=))\s*(?P<version>\S+)\Z")
_BARE = re.compile(r"[0-9][0-9A-Za-z.!+*-]*\Z")


@dataclass(frozen=True)
class Slot:
    """One Poetry dependency: the table it sits in, its key and value, and its edge kind."""

    table: MutableMapping[str, object]  # plain data, a tomlkit Table, or its proxy
    key: str
    value: object
    kind: EdgeKind
    group: str | None
    where: str

    @property
    def name(self) -> str:
        return canonicalize_name(self.key)


def table(doc: Mapping[str, object]) -> Mapping[str, object] | None:
    tool = doc.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, Mapping) else None
    return poetry if isinstance(poetry, Mapping) else None


def _constraint(upper: Version | None, lower: str) -> str:
    return f">={lower}" if upper is None else f">={lower},<{upper}"


def _upper(op: str, version: str) -> Version:
    release = list(Version(version).release)
    if op == "^":
        # ^1.2.3 <2.0.0, ^0.2.3 <0.3.0, ^0.0.3 <0.0.4, ^0.0 <0.1, ^0 <1 (Poetry's docs).
        index = next((i for i, part in enumerate(release) if part), len(release) - 1)
    else:
        # ~1.2.3 <1.3.0, ~1.2 <1.3, ~1 <2.
        index = min(1, len(release) - 1)
    bumped = [*release[:index], release[index] + 1]
    return Version(".".join(str(part) for part in bumped))


def to_pep440(constraint: str) -> str:
    """A Poetry constraint as a PEP 440 specifier: `^1.2` -> `>=1.2,<2`; `*` -> ``.

    A union (`||`) has no PEP 440 spelling; it reads as "any version", which is all the
    graph needs (it reads names, not ranges).
    """
    if "||" in constraint:
        return ""
    parts = []
    for part in (p.strip() for p in constraint.split(",")):
        if part in ("", "*"):
            continue
        match = _CARET_TILDE.match(part)
        try:
            if match:
                parts.append(_constraint(_upper(match["op"], match["version"]), match["version"]))
            elif _BARE.match(part):
                parts.append(f"=={part}")
            else:
                parts.append(part.replace(" ", ""))
            SpecifierSet(parts[-1])
        except (InvalidVersion, InvalidSpecifier):
            return ""
    return ",".join(parts)


def _tables(poetry: Mapping[str, object]) -> Iterator[tuple[str, EdgeKind, str | None, object]]:
    yield "tool.poetry.dependencies", EdgeKind.REQUIRED, None, poetry.get("dependencies")
    yield "tool.poetry.dev-dependencies", EdgeKind.GROUP, "dev", poetry.get("dev-dependencies")
    groups = poetry.get("group")
    if isinstance(groups, Mapping):
        for group in sorted(groups, key=str):
            body = groups[group]
            deps = body.get("dependencies") if isinstance(body, Mapping) else None
            yield f"tool.poetry.group.{group}.dependencies", EdgeKind.GROUP, str(group), deps


def _extras_of(poetry: Mapping[str, object]) -> dict[str, str]:
    """Package name -> the first (sorted) extra that lists it."""
    extras = poetry.get("extras")
    found: dict[str, str] = {}
    if isinstance(extras, Mapping):
        for extra in sorted(extras, key=str):
            for name in extras[extra] if isinstance(extras[extra], list) else []:
                found.setdefault(canonicalize_name(str(name)), str(extra))
    return found


def slots(doc: Mapping[str, object], source: str) -> Iterator[Slot]:
    """Every Poetry dependency but `python`, with its kind: main, optional (an extra), group."""
    poetry = table(doc)
    if poetry is None:
        return
    extras = _extras_of(poetry)
    for where, kind, group, deps in _tables(poetry):
        if deps is None:
            continue
        if not isinstance(deps, MutableMapping):
            raise invalid(source, f"[{where}] is not a table")
        for key in list(deps):
            value = deps[key]
            if key == "python":
                continue
            slot = Slot(deps, key, value, kind, group, where)
            if kind is EdgeKind.REQUIRED and _is_optional(value):
                slot = Slot(deps, key, value, EdgeKind.OPTIONAL, extras.get(slot.name), where)
            yield slot


def _is_optional(value: object) -> bool:
    return isinstance(value, Mapping) and value.get("optional") is True


def source_kind(value: object) -> str | None:
    """`git`, `path` or `url` when the entry takes the package from there, else None."""
    entries = value if isinstance(value, list) else [value]
    for entry in entries:
        if isinstance(entry, Mapping):
            for kind in ("git", "path", "url"):
                if kind in entry:
                    return kind
    return None


def requirement(slot: Slot) -> str:
    """The dependency as a PEP 508 string (name, extras, translated specifier)."""
    value = slot.value
    constraint, extras = "", ""
    if isinstance(value, str):
        constraint = value
    elif isinstance(value, Mapping):
        constraint = str(value.get("version", ""))
        names = value.get("extras")
        if isinstance(names, list) and names:
            extras = "[" + ",".join(str(n) for n in names) + "]"
    return f"{slot.key}{extras}{to_pep440(constraint)}"


def _pinned(constraint: str, spec: str) -> bool:
    return str(SpecifierSet(to_pep440(constraint))) == str(SpecifierSet(spec))


def pin(doc: tomlkit.TOMLDocument, wanted: Mapping[str, str], drop: bool, source: str) -> bool:
    """Pin each wanted Poetry dependency to its PEP 440 specifier (Poetry reads those too).

    A git/path/url entry is left alone unless `drop`: then its source keys go and the
    released version takes their place. Whether anything changed is returned.
    """
    changed = False
    for slot in list(slots(doc, source)):
        spec = wanted.get(slot.name)
        if spec is None:
            continue
        changed |= _pin_slot(slot, spec, drop)
    return changed


def _pin_slot(slot: Slot, spec: str, drop: bool) -> bool:
    value = slot.value
    if isinstance(value, String):
        if _pinned(str(value), spec):
            return False
        slot.table[slot.key] = respell(value, spec, 0, len(str(value)))
        return True
    if not isinstance(value, AbstractTable):
        return False  # a list of constraints per marker: not ours to merge into one
    return _pin_table(slot, value, spec, drop)


def _pin_table(slot: Slot, value: AbstractTable, spec: str, drop: bool) -> bool:
    if source_kind(value) is not None:
        if not drop:
            return False
        for key in SOURCE_KEYS:
            if key in value:
                del value[key]
        if not any(key != "version" for key in value):
            replacement = String.from_raw(spec)
            replacement.trivia.comment_ws = value.trivia.comment_ws
            replacement.trivia.comment = value.trivia.comment
            replacement.trivia.trail = value.trivia.trail
            slot.table[slot.key] = replacement
            return True
    current = value.get("version")
    if isinstance(current, String):
        if _pinned(str(current), spec):
            return False
        value["version"] = respell(current, spec, 0, len(str(current)))
    else:
        value["version"] = spec
    return True
