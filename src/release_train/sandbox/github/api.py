"""The REST layer's plumbing: requests, replies, GitHub-shaped errors, routing and pagination."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

if TYPE_CHECKING:
    from release_train.sandbox.github.forge import Forge
    from release_train.sandbox.github.model import TokenRecord

DOCS = "https://docs.github.com/rest"


@dataclass
class Request:
    """An authenticated API call, its path relative to `/api/v3`."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    token: TokenRecord
    params: dict[str, str] = field(default_factory=dict)

    def json_field(self, name: str, default: Any = None) -> Any:
        return self.body.get(name, default) if isinstance(self.body, dict) else default

    def require(self, name: str) -> Any:
        value = self.json_field(name)
        if value is None:
            raise ApiError(422, f'Invalid request.\n\n"{name}" wasn\'t supplied.')
        return value


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    """An error response in GitHub's shape: `{"message", "documentation_url"[, "errors"]}`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = headers or {}

    def reply(self) -> Reply:
        body: dict[str, Any] = {"message": self.message, "documentation_url": DOCS}
        if self.errors is not None:
            body["errors"] = self.errors
        body["status"] = str(self.status)
        return Reply(self.status, body, dict(self.headers))


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


def validation_failed(resource: str, code: str, **extra: str) -> ApiError:
    return ApiError(
        422, "Validation Failed", errors=[{"resource": resource, "code": code, **extra}]
    )


Handler = Callable[["Forge", Request], Reply]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


def template(text: str) -> re.Pattern[str]:
    """`{name}` matches one path segment, `{name+}` the rest of the path (refs, file paths)."""
    regex = re.sub(r"\{(\w+)\+\}", r"(?P<\1>.+)", text)
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)
    return re.compile(f"^{regex}$")


def route(method: str, path: str, handler: Handler) -> Route:
    return Route(method, template(path), handler)


class Router:
    def __init__(self, routes: Sequence[Route]) -> None:
        self.routes = list(routes)

    def find(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        allowed = False
        for candidate in self.routes:
            match = candidate.pattern.match(path)
            if not match:
                continue
            if candidate.method == method:
                return candidate.handler, match.groupdict()
            allowed = True
        raise ApiError(405, "Method Not Allowed") if allowed else not_found()


def paginate(req: Request, items: list[Any], base_url: str, key: str | None = None) -> Reply:
    """A page of `items` with GitHub's `Link` header; `key` wraps it as `{total_count, key}`."""
    per_page = min(max(_int(req.query.get("per_page"), 30), 1), 100)
    page = max(_int(req.query.get("page"), 1), 1)
    chunk = items[(page - 1) * per_page : page * per_page]
    last = max((len(items) + per_page - 1) // per_page, 1)
    links = []
    for rel, number in (("next", page + 1), ("last", last), ("first", 1), ("prev", page - 1)):
        if (rel in ("next", "last") and page < last) or (rel in ("first", "prev") and page > 1):
            query = {**req.query, "per_page": str(per_page), "page": str(number)}
            links.append(f'<{base_url}?{urlencode(sorted(query.items()))}>; rel="{rel}"')
    headers = {"Link": ", ".join(links)} if links else {}
    body: Any = chunk if key is None else {"total_count": len(items), key: chunk}
    return Reply(200, body, headers)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default
