"""GitHub's official OpenAPI description, fetched once with npm, and a validator of responses.

The description is the npm package `@octokit/openapi` (GitHub's own
`github/rest-api-description`, republished with Octokit's extensions) at a pinned
version whose tarball digest is pinned too, so a contract failure always means "the
stand-in changed", never "the description changed under us". Nothing here hand-writes
a schema: operations, responses and schemas are all looked up in the description.

Two descriptions are checked: `api.github.com`, because that is the service the release
engine really talks to in production, and `ghes-3.19`, because the stand-in is addressed
the way a GitHub Enterprise Server is (`base_url=".../api/v3"`), which is also how
PyGithub is pointed at it. Both describe paths relative to their server URL
(`https://api.github.com` and `{protocol}://{hostname}/api/v3`), so the same concrete
path, minus `/api/v3`, matches in both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema.validators import extend
from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker
from referencing import Registry
from referencing.jsonschema import DRAFT4

from tests.contract.npm_pack import cache_root, fetch_members

PACKAGE = "@octokit/openapi"
VERSION = "23.0.2"
# `npm view @octokit/openapi@23.0.2 dist.integrity`: the tarball is checked against it.
INTEGRITY = (
    "sha512-pV8M7L9GY23AybNvTmo2nyjmpmnt6+2sRE/tqr0ZLQcPS4ln"
    "w7u5eZGNmwRNkBC3D7gZXbFx5AHzLUVRBXGDhg=="
)
DOTCOM = "api.github.com"
GHES = "ghes-3.19"
DESCRIPTIONS = (DOTCOM, GHES)
API_PREFIX = "/api/v3"
_BASE_URI = "urn:github-openapi"
_NO_BODY_STATUSES = (204, 304)
# GitHub documents these once for the whole API ("Troubleshooting the REST API", "Rate
# limits for the REST API") instead of under each operation: any call may answer 401 for a
# bad token, 403 for a missing permission or a secondary rate limit, and 404 for a
# resource that is missing or hidden from the token. They are validated against the
# description's own shared responses, and a verdict says when this fallback was used.
API_WIDE_RESPONSES = {401: "requires_authentication", 403: "forbidden", 404: "not_found"}


def _null_or(keyword: Any) -> Any:
    """`keyword`, except that `null` passes where the schema says `nullable: true`."""

    def check(validator: Any, value: Any, instance: Any, schema: Any) -> Any:
        if instance is None and schema.get("nullable") is True:
            return
        yield from keyword(validator, value, instance, schema)

    return check


# Two readings of GitHub's description that its real responses require:
# - `nullable: true` beside `oneOf` or `enum` but without `type` (a commit's `author` is
#   null when no account owns its email; an unfinished check run's `conclusion` is null).
#   OpenAPI 3.0.3 lets `nullable` widen only a sibling `type`; GitHub means the 3.0.0
#   reading, "null is allowed here".
# - `oneOf` whose branches overlap (a 409 of the contents API is "repository rule
#   violation" or "basic error", and every basic error is both), so a true `oneOf` would
#   reject GitHub's own answers. It is validated as `anyOf`: some branch must match.
_KEYWORDS = OAS30ReadValidator.VALIDATORS
_Validator: Any = extend(
    OAS30ReadValidator,
    {
        "allOf": _null_or(_KEYWORDS["allOf"]),
        "anyOf": _null_or(_KEYWORDS["anyOf"]),
        "oneOf": _null_or(_KEYWORDS["anyOf"]),
        "enum": _null_or(_KEYWORDS["enum"]),
    },
)


def cache_dir(version: str = VERSION) -> Path:
    """`$RELEASE_TRAIN_CACHE/openapi/<version>`, by default under `~/.cache/release-train`."""
    return cache_root() / "openapi" / version


def fetch(names: Iterable[str] = DESCRIPTIONS, *, version: str = VERSION) -> dict[str, Path]:
    """The description files, downloaded with `npm pack` on first use and cached after."""
    target = cache_dir(version)
    wanted = {name: target / f"{name}.json" for name in sorted(set(names))}
    missing = {f"package/generated/{n}.json": p for n, p in wanted.items() if not p.is_file()}
    if missing:
        fetch_members(PACKAGE, version, INTEGRITY if version == VERSION else None, missing)
    return wanted


@dataclass(frozen=True)
class Operation:
    """One operation of the description, found by method and concrete path."""

    method: str
    template: str
    operation_id: str
    pointer: str  # JSON pointer to the operation object

    def __str__(self) -> str:
        return f"{self.operation_id} ({self.method.upper()} {self.template})"


@dataclass
class Verdict:
    """What the description says about one response: `problems` is empty when it conforms."""

    description: str
    method: str
    path: str
    status: int
    operation: Operation | None = None
    response: str | None = None  # "200", "default", "4XX", or "api-wide:forbidden"
    schema_checked: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        what = str(self.operation) if self.operation else f"{self.method} {self.path}"
        head = f"[{self.description}] {what} -> {self.status}"
        return head if self.ok else head + ":\n  " + "\n  ".join(self.problems)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


# GitHub's git refs, file paths, tag and branch names keep their slashes in the URL even
# though OpenAPI says a path parameter is one segment; only these may span segments.
_SLASHED = ("{ref}", "{path}", "{tag}", "{branch}")


@dataclass(frozen=True)
class _Template:
    template: str
    single: re.Pattern[str]  # every parameter is one path segment
    spanning: re.Pattern[str] | None  # a slashed parameter (`{ref}`, `{path}`) spans several
    literal: int  # characters outside parameters: the more, the more specific


def _compile(template: str) -> _Template:
    parts = re.split(r"(\{[^}]+\})", template)
    params = [i for i, part in enumerate(parts) if part.startswith("{")]
    slashed = [i for i in params if parts[i] in _SLASHED]

    def regex(spanning_index: int | None) -> re.Pattern[str]:
        # `contents/` with an empty `{path}` is the repository root, as GitHub serves it.
        spans = ".*" if spanning_index is not None and parts[spanning_index] == "{path}" else ".+"
        pieces = [
            (spans if i == spanning_index else "[^/]+") if i in params else re.escape(part)
            for i, part in enumerate(parts)
        ]
        return re.compile("^" + "".join(pieces) + "$")

    literal = sum(len(part) for i, part in enumerate(parts) if i not in params)
    spanning = regex(slashed[-1]) if slashed else None
    return _Template(template, regex(None), spanning, literal)


class Description:
    """One OpenAPI description of GitHub's REST API, indexed for response validation."""

    def __init__(self, name: str, document: Mapping[str, Any]) -> None:
        self.name = name
        self.document = document
        self.version = str(document.get("info", {}).get("version", "?"))
        self._registry: Registry[Any] = Registry().with_resource(
            _BASE_URI, DRAFT4.create_resource(document)
        )
        self._templates: dict[str, list[_Template]] = {}
        for template, item in sorted(document["paths"].items()):
            for method in sorted(item):
                if "operationId" in item[method]:
                    self._templates.setdefault(method, []).append(_compile(template))

    @classmethod
    def load(cls, path: Path) -> Description:
        with path.open("rb") as handle:
            return cls(path.name.removesuffix(".json"), json.load(handle))

    def operation(self, method: str, path: str) -> Operation | None:
        """The operation a concrete request path (full URL, `/api/v3` or not) addresses."""
        path = urlsplit(path).path.removeprefix(API_PREFIX) or "/"
        candidates = self._templates.get(method.lower(), [])
        for attempt in ("single", "spanning"):
            found = [
                t
                for t in candidates
                if (pattern := getattr(t, attempt)) is not None and pattern.match(path)
            ]
            if found:
                best = max(found, key=lambda t: (t.literal, t.template))
                return self._operation(method.lower(), best.template)
        return None

    def _operation(self, method: str, template: str) -> Operation:
        op = self.document["paths"][template][method]
        pointer = f"/paths/{_escape(template)}/{method}"
        return Operation(method.upper(), template, str(op["operationId"]), pointer)

    def validate(
        self, method: str, path: str, status: int, body: bytes, content_type: str | None = None
    ) -> Verdict:
        """Check one response: a described operation, a described status, a conforming body."""
        verdict = Verdict(self.name, method.upper(), path, status)
        verdict.operation = self.operation(method, path)
        if verdict.operation is None:
            verdict.problems.append(f"no operation of {self.name} matches {method} {path}")
            return verdict
        found = self._response(verdict.operation, status)
        if found is None:
            described = sorted(self._get(verdict.operation.pointer)["responses"])
            verdict.problems.append(
                f"status {status} is not described for {verdict.operation} "
                f"(described: {', '.join(described)})"
            )
            return verdict
        verdict.response, pointer = found
        self._check_body(verdict, pointer, body, content_type)
        return verdict

    def _get(self, pointer: str) -> Any:
        node: Any = self.document
        for token in pointer.strip("/").split("/"):
            node = node[token.replace("~1", "/").replace("~0", "~")]
        return node

    def _response(self, operation: Operation, status: int) -> tuple[str, str] | None:
        """(the key that describes `status`, JSON pointer to the dereferenced response)."""
        responses = self._get(operation.pointer)["responses"]
        for key in (str(status), f"{str(status)[0]}XX", "default"):
            if key in responses:
                return key, self._deref(f"{operation.pointer}/responses/{key}")
        shared = API_WIDE_RESPONSES.get(status)
        if shared is not None:
            return f"api-wide:{shared}", f"/components/responses/{shared}"
        return None

    def _deref(self, pointer: str) -> str:
        """Follow local `$ref`s of a response object (not a schema) to where it is defined."""
        node = self._get(pointer)
        while isinstance(node, dict) and "$ref" in node:
            pointer = str(node["$ref"]).removeprefix("#")
            node = self._get(pointer)
        return pointer

    def _check_body(
        self, verdict: Verdict, pointer: str, body: bytes, content_type: str | None
    ) -> None:
        content = self._get(pointer).get("content") or {}
        if not content:
            if body.strip() and verdict.status in _NO_BODY_STATUSES:
                verdict.problems.append(f"a {verdict.status} response must have no body")
            return
        media = "application/json" if "application/json" in content else sorted(content)[0]
        if content_type is not None and "json" in media and "json" not in content_type.lower():
            verdict.problems.append(f"content type {content_type!r}, described: {media}")
        try:
            instance = json.loads(body)
        except ValueError:
            verdict.problems.append(f"the body is not JSON: {body[:80]!r}")
            return
        schema_pointer = f"{pointer}/content/{_escape(media)}/schema"
        validator = _Validator(
            {"$ref": f"{_BASE_URI}#{schema_pointer}"},
            registry=self._registry,
            format_checker=oas30_format_checker,
        )
        verdict.schema_checked = True
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        verdict.problems.extend(_explain(error) for error in errors)


def _explain(error: Any) -> str:
    """One line per `jsonschema` error; for `oneOf`/`anyOf`, why the closest branch failed."""
    where = error.json_path
    if not error.context:
        return f"{where}: {error.message}"
    branches: dict[int, list[Any]] = {}
    for sub in error.context:
        branches.setdefault(int(sub.schema_path[0]), []).append(sub)
    index, closest = min(branches.items(), key=lambda item: (len(item[1]), item[0]))
    first = closest[0]
    return (
        f"{where}: matches no branch of {error.validator}; branch {index} is closest, "
        f"with {len(closest)} error(s), first {first.json_path}: {first.message}"
    )


class Contract:
    """Several descriptions at once: a response conforms when it conforms to each of them."""

    def __init__(self, descriptions: Iterable[Description]) -> None:
        self.descriptions = {d.name: d for d in descriptions}

    @classmethod
    def load(cls, names: Iterable[str] = DESCRIPTIONS, *, version: str = VERSION) -> Contract:
        paths = fetch(names, version=version)
        return cls(Description.load(paths[name]) for name in sorted(paths))

    def validate(
        self,
        method: str,
        path: str,
        status: int,
        body: bytes,
        content_type: str | None = None,
        *,
        only: Iterable[str] | None = None,
    ) -> list[Verdict]:
        names = sorted(self.descriptions if only is None else only)
        return [
            self.descriptions[name].validate(method, path, status, body, content_type)
            for name in names
        ]
