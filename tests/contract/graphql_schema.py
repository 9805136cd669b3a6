"""GitHub's public GraphQL schema, fetched once with npm, and checks of documents and answers.

The schema is the npm package `@octokit/graphql-schema` (GitHub's published schema,
republished by Octokit) at a pinned version whose tarball digest is pinned too, cached
like the OpenAPI description (`openapi.py`). Its `schema.json` (an introspection result)
is loaded rather than `schema.graphql`, whose SDL defines some fields twice and which
graphql-core therefore refuses to build.

A response is checked against the query that asked for it: every selected field is there
(and nothing else), each value has the field's type in GitHub's schema (non-null, lists,
enums, scalars, objects and the `__typename` of abstract types), recursively.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    build_client_schema,
    get_named_type,
    is_abstract_type,
    is_required_input_field,
    parse,
    validate,
)

from tests.contract.npm_pack import cache_root, fetch_members

PACKAGE = "@octokit/graphql-schema"
VERSION = "15.26.1"
# `npm view @octokit/graphql-schema@15.26.1 dist.integrity`: the tarball is checked against it.
INTEGRITY = (
    "sha512-RFDC2MpRBd4AxSRvUeBIVeBU7ojN/SxDfALUd7iVYOSeEK3gZaqR2M"
    "GOysj4Zh2xj2RY5fQAUT+Oqq7hWTraMA=="
)
_OID = re.compile(r"^[0-9a-f]{40}$")
_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
_SCALARS: dict[str, Any] = {
    "ID": lambda v: isinstance(v, str),
    "String": lambda v: isinstance(v, str),
    "Boolean": lambda v: isinstance(v, bool),
    "Int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "Float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "GitObjectID": lambda v: isinstance(v, str) and bool(_OID.match(v)),
    "DateTime": lambda v: isinstance(v, str) and bool(_DATETIME.match(v)),
    "URI": lambda v: isinstance(v, str),
}


def cache_file(version: str = VERSION) -> Path:
    """`$RELEASE_TRAIN_CACHE/graphql-schema/<version>/schema.json` (default ~/.cache/...)."""
    return cache_root() / "graphql-schema" / version / "schema.json"


def fetch(version: str = VERSION) -> Path:
    """The schema file, downloaded with `npm pack` on first use and cached after."""
    target = cache_file(version)
    if not target.is_file():
        integrity = INTEGRITY if version == VERSION else None
        fetch_members(PACKAGE, version, integrity, {"package/schema.json": target})
    return target


def load(version: str = VERSION) -> GraphQLSchema:
    with fetch(version).open("rb") as handle:
        return build_client_schema(json.load(handle))


def document_problems(schema: GraphQLSchema, document: str) -> list[str]:
    """What GitHub's schema says is wrong with `document` (graphql-core's `validate`)."""
    return [error.message for error in validate(schema, parse(document))]


def response_problems(
    schema: GraphQLSchema, document: str, answer: Mapping[str, Any], operation: str | None = None
) -> list[str]:
    """Where `answer` (`{"data", "errors"}`) departs from what `document` asks of `schema`."""
    problems = _errors_problems(answer)
    data = answer.get("data")
    if data is None:
        return problems if "errors" in answer else [*problems, "neither data nor errors"]
    ast = parse(document)
    fragments = {d.name.value: d for d in ast.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in ast.definitions if isinstance(d, OperationDefinitionNode)]
    op = next(o for o in operations if operation is None or (o.name and o.name.value == operation))
    root = schema.mutation_type if op.operation.value == "mutation" else schema.query_type
    assert root is not None
    walker = _Walker(schema, fragments, problems)
    walker.object(root, op.selection_set, data, "data")
    return problems


def _errors_problems(answer: Mapping[str, Any]) -> list[str]:
    problems = []
    for key in sorted(set(answer) - {"data", "errors", "extensions"}):
        problems.append(f"unexpected top-level key {key!r}")
    errors = answer.get("errors", [])
    if not isinstance(errors, list) or ("errors" in answer and not errors):
        return [*problems, "errors: not a non-empty list"]
    for index, error in enumerate(errors):
        if not isinstance(error, dict) or not isinstance(error.get("message"), str):
            problems.append(f"errors[{index}]: no message")
            continue
        path = error.get("path")
        if path is not None and not all(isinstance(p, str | int) for p in path):
            problems.append(f"errors[{index}].path: {path!r}")
        for loc in error.get("locations") or []:
            if set(loc) != {"line", "column"}:
                problems.append(f"errors[{index}].locations: {loc!r}")
    return problems


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        problems: list[str],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.problems = problems

    def _fields(
        self, parent: Any, selections: SelectionSetNode, typename: str | None
    ) -> list[FieldNode]:
        """The fields selected on a value of concrete type `typename` (fragments applied)."""
        found: list[FieldNode] = []
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                found.append(selection)
                continue
            if isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                condition, inner = fragment.type_condition, fragment.selection_set
            else:
                assert isinstance(selection, InlineFragmentNode)
                condition, inner = selection.type_condition, selection.selection_set
            if condition is None or self._applies(condition.name.value, parent, typename):
                found.extend(self._fields(parent, inner, typename))
        return found

    def _applies(self, condition: str, parent: Any, typename: str | None) -> bool:
        if typename is None:
            return bool(condition == parent.name)
        if condition == typename:
            return True
        target = self.schema.get_type(condition)
        concrete = self.schema.get_type(typename)
        if target is None or not isinstance(concrete, GraphQLObjectType):
            return False
        return is_abstract_type(target) and self.schema.is_sub_type(target, concrete)  # type: ignore[arg-type]

    def object(self, parent: Any, selections: SelectionSetNode, value: Any, where: str) -> None:
        if not isinstance(value, dict):
            self.problems.append(f"{where}: expected an object, got {value!r}")
            return
        typename = parent.name if isinstance(parent, GraphQLObjectType) else value.get("__typename")
        if is_abstract_type(parent):
            concrete = self.schema.get_type(str(typename))
            if not isinstance(concrete, GraphQLObjectType) or not self.schema.is_sub_type(
                parent, concrete
            ):
                self.problems.append(f"{where}: __typename {typename!r} is not a {parent.name}")
                return
            parent_fields = concrete.fields
        else:
            parent_fields = parent.fields
        wanted: dict[str, FieldNode] = {}
        for field in self._fields(parent, selections, typename):
            wanted.setdefault((field.alias or field.name).value, field)
        for key in sorted(set(value) - set(wanted)):
            self.problems.append(f"{where}.{key}: not selected")
        for key, field in sorted(wanted.items()):
            if key not in value:
                self.problems.append(f"{where}.{key}: missing")
                continue
            name = field.name.value
            if name == "__typename":
                if not isinstance(value[key], str):
                    self.problems.append(f"{where}.{key}: not a type name")
                continue
            definition = parent_fields.get(name)
            if definition is None:
                self.problems.append(f"{where}.{key}: no field {name} in GitHub's schema")
                continue
            self.value(definition.type, field, value[key], f"{where}.{key}")

    def value(self, kind: Any, field: FieldNode, value: Any, where: str) -> None:
        if isinstance(kind, GraphQLNonNull):
            if value is None:
                self.problems.append(f"{where}: null for a non-null {kind}")
                return
            kind = kind.of_type
        if value is None:
            return
        if isinstance(kind, GraphQLList):
            if not isinstance(value, list):
                self.problems.append(f"{where}: expected a list")
                return
            for index, item in enumerate(value):
                self.value(kind.of_type, field, item, f"{where}[{index}]")
            return
        named = get_named_type(kind)
        if isinstance(named, GraphQLEnumType):
            if value not in named.values:
                self.problems.append(f"{where}: {value!r} is not a {named.name}")
        elif isinstance(named, GraphQLScalarType):
            check = _SCALARS.get(named.name)
            if check is None or not check(value):
                self.problems.append(f"{where}: {value!r} is not a {named.name}")
        elif field.selection_set is None:
            self.problems.append(f"{where}: an object field without a selection")
        else:
            self.object(named, field.selection_set, value, where)


def subset_problems(github: GraphQLSchema, ours: GraphQLSchema) -> list[str]:
    """Where `ours` is not a part of `github`: a type, field, argument or value it lacks or
    types differently (leaving things out is fine; renaming or retyping is drift)."""
    problems: list[str] = []
    for name, kind in sorted(ours.type_map.items()):
        if name.startswith("__"):
            continue
        theirs = github.get_type(name)
        if theirs is None or type(theirs) is not type(kind):
            problems.append(f"{name}: not a {type(kind).__name__} in GitHub's schema")
            continue
        problems.extend(_type_problems(name, kind, theirs))
    return problems


def _type_problems(name: str, kind: Any, theirs: Any) -> list[str]:
    problems: list[str] = []
    if isinstance(kind, GraphQLEnumType):
        problems += [
            f"{name}.{v}: no such value" for v in sorted(set(kind.values) - set(theirs.values))
        ]
    for interface in getattr(kind, "interfaces", ()):
        if interface.name not in {i.name for i in theirs.interfaces}:
            problems.append(f"{name}: GitHub's does not implement {interface.name}")
    for member in getattr(kind, "types", ()):
        if member.name not in {t.name for t in theirs.types}:
            problems.append(f"{name}: GitHub's union has no {member.name}")
    fields = getattr(kind, "fields", {})
    for field_name, field in sorted(fields.items()):
        other = theirs.fields.get(field_name)
        if other is None:
            problems.append(f"{name}.{field_name}: no such field")
            continue
        if str(field.type) != str(other.type):
            problems.append(f"{name}.{field_name}: {field.type}, GitHub's is {other.type}")
        for arg_name, arg in sorted(getattr(field, "args", {}).items()):
            their_arg = other.args.get(arg_name)
            if their_arg is None or str(arg.type) != str(their_arg.type):
                problems.append(f"{name}.{field_name}({arg_name}:): differs from GitHub's")
    if isinstance(theirs, GraphQLInputObjectType):
        # Every input field GitHub requires must be here too, or a client would omit it.
        required = [f for f, v in theirs.fields.items() if is_required_input_field(v)]
        problems += [
            f"{name}.{f}: required by GitHub, missing" for f in required if f not in fields
        ]
    return problems
