"""Every request's way in: faults, token auth, rate limits, routing (API, git, admin), the log."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl, unquote

from release_train.errors import ReleaseError
from release_train.sandbox.github import (
    actions,
    admin,
    ci,
    gitdata,
    graphql_api,
    hosting,
    pulls,
    releases,
    repos,
    rules,
)
from release_train.sandbox.github.api import DOCS, ApiError, Reply, Request, Router
from release_train.sandbox.github.faults import SECONDARY_LIMIT_MESSAGE, FaultPlan, FaultRule
from release_train.sandbox.github.forge import Forge
from release_train.sandbox.github.hosting import Raw
from release_train.sandbox.github.model import TokenRecord
from release_train.sandbox.github.server import Exchange

API_PREFIX = "/api/v3"
GRAPHQL_DOCS = "https://docs.github.com/graphql"
RATE_WINDOW = 3600
LOG = logging.getLogger(__name__)

# Order matters where templates overlap: `/commits/{ref+}/status` before `/commits/{ref+}`.
ROUTER = Router(
    [
        *ci.ROUTES,
        *rules.ROUTES,
        *pulls.ROUTES,
        *gitdata.ROUTES,
        *actions.ROUTES,
        *releases.ROUTES,
        *repos.ROUTES,
    ]
)


class RateLimits:
    """GitHub's primary limit per token: `limit` calls per hour, reported in `x-ratelimit-*`."""

    def __init__(self, forge: Forge) -> None:
        self.forge = forge
        self._used: dict[str, tuple[int, int]] = {}  # token -> (window start, used)
        self._lock = threading.Lock()

    def status(self, token: str, count: bool) -> dict[str, int]:
        now = int(time.time())
        limit = self.forge.store.state.rate_limit
        with self._lock:
            start, used = self._used.get(token, (now, 0))
            if now >= start + RATE_WINDOW:
                start, used = now, 0
            if count:
                used += 1
            self._used[token] = (start, used)
        return {
            "limit": limit,
            "used": used,
            "remaining": max(limit - used, 0),
            "reset": start + RATE_WINDOW,
        }

    def headers(self, status: dict[str, int]) -> list[tuple[str, str]]:
        return [
            ("x-ratelimit-limit", str(status["limit"])),
            ("x-ratelimit-remaining", str(status["remaining"])),
            ("x-ratelimit-used", str(status["used"])),
            ("x-ratelimit-reset", str(status["reset"])),
            ("x-ratelimit-resource", "core"),
        ]


def json_raw(status: int, body: Any, headers: list[tuple[str, str]] | None = None) -> Raw:
    data = b"" if body is None else json.dumps(body, indent=None).encode()
    head = [("Content-Type", "application/json; charset=utf-8"), *(headers or [])]
    return Raw(status, head, data)


class Frontend:
    """The application the HTTP server calls for each request."""

    def __init__(self, forge: Forge, faults: FaultPlan) -> None:
        self.forge = forge
        self.faults = faults
        self.limits = RateLimits(forge)
        self.stopping = threading.Event()
        self.log: list[dict[str, Any]] = []
        self.log_lock = threading.Lock()

    def __call__(self, ex: Exchange) -> Raw | None:
        path, _, query = ex.target.partition("?")
        if path == "/_sandbox" or path.startswith("/_sandbox/"):
            return admin.handle(self, ex.method, path.removeprefix("/_sandbox"), query, ex.body)
        fields = graphql_api.root_fields(ex.body) if path == graphql_api.PATH else frozenset()
        rules = self.faults.draw(ex.method, path, fields)
        for rule in rules:
            if rule.kind == "latency":
                self.stopping.wait(rule.latency)
        failure = next((r for r in rules if r.kind != "latency"), None)
        raw: Raw | None
        token = self._token(ex)
        if failure is not None and failure.phase == "before":
            raw = self._fault(failure)
        else:
            raw = self._dispatch(ex, path, query, token)
            if failure is not None:
                raw = self._fault(failure)
        entry = {
            "method": ex.method,
            "path": path,
            "query": query,
            "status": raw.status if raw is not None else 0,
            "time": time.time(),
            "kind": "api" if path.startswith((API_PREFIX, graphql_api.PATH)) else "git",
            "login": token.login if token is not None else None,
            "fault": failure.kind if failure is not None else None,
        }
        with self.log_lock:
            self.log.append(entry)
        return raw

    def _fault(self, rule: FaultRule) -> Raw | None:
        if rule.kind == "drop":
            return None
        if rule.kind == "secondary_rate_limit":
            body = {
                "message": SECONDARY_LIMIT_MESSAGE,
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
                "status": "403",
            }
            return json_raw(403, body, [("retry-after", str(rule.retry_after))])
        return json_raw(rule.status, {"message": "Server Error", "documentation_url": DOCS})

    def _token(self, ex: Exchange) -> TokenRecord | None:
        header = ex.headers.get("Authorization") or ""
        scheme, _, value = header.partition(" ")
        if scheme.lower() in ("token", "bearer"):
            return self.forge.store.token(value.strip())
        basic = hosting.basic_token(header)
        return self.forge.store.token(basic) if basic else None

    def _dispatch(self, ex: Exchange, path: str, query: str, token: TokenRecord | None) -> Raw:
        if path == graphql_api.PATH:
            return self._graphql(ex, token)
        if path.startswith(API_PREFIX + "/") or path == API_PREFIX:
            return self._api(ex, path.removeprefix(API_PREFIX) or "/", query, token)
        request = hosting.GitRequest(ex.method, path, query, dict(ex.headers.items()), ex.body)
        return hosting.serve(self.forge, request, token)

    def _api(self, ex: Exchange, sub: str, query: str, token: TokenRecord | None) -> Raw:
        if token is None:
            has_auth = bool(ex.headers.get("Authorization"))
            message = "Bad credentials" if has_auth else "Requires authentication"
            return json_raw(401, ApiError(401, message).reply().body)
        counted = sub != "/rate_limit"
        status = self.limits.status(token.token, count=counted)
        headers = [
            *self.limits.headers(status),
            ("x-github-api-version-selected", "2022-11-28"),
            ("x-github-media-type", "github.v3; format=json"),
            ("x-github-request-id", uuid.uuid4().hex[:20].upper()),
        ]
        try:
            if counted and status["used"] > status["limit"]:
                raise ApiError(403, f"API rate limit exceeded for {token.login}.")
            reply = self._route(ex, sub, query, token, status)
        except ApiError as error:
            reply = error.reply()
        except ReleaseError as error:  # a git plumbing failure is the server's fault: a 500
            LOG.warning("stand-in error on %s %s: %s", ex.method, sub, error.message)
            reply = Reply(500, {"message": "Server Error", "documentation_url": DOCS})
        extra = list(reply.headers.items())
        return json_raw(reply.status, reply.body if reply.status != 204 else None, headers + extra)

    def _graphql(self, ex: Exchange, token: TokenRecord | None) -> Raw:
        """`POST /api/graphql`, authenticated and rate limited as GitHub's GraphQL API is."""
        if token is None:
            message = (
                "Bad credentials"
                if ex.headers.get("Authorization")
                else "This endpoint requires you to be authenticated."
            )
            return json_raw(401, {"message": message, "documentation_url": GRAPHQL_DOCS})
        if ex.method != "POST":
            return json_raw(404, {"message": "Not Found", "documentation_url": GRAPHQL_DOCS})
        limits = self.limits.status(token.token, count=True)
        headers = self.limits.headers(limits)
        headers = [(k, "graphql" if k == "x-ratelimit-resource" else v) for k, v in headers]
        if limits["used"] > limits["limit"]:  # GraphQL says so in a 200's errors
            message = f"API rate limit exceeded for {token.login}."
            return json_raw(
                200, {"errors": [{"type": "RATE_LIMITED", "message": message}]}, headers
            )
        status, body = graphql_api.serve(self.forge, token, ex.body)
        return json_raw(status, body, headers)

    def _route(
        self, ex: Exchange, sub: str, query: str, token: TokenRecord, status: dict[str, int]
    ) -> Reply:
        if sub == "/rate_limit":
            core = {k: status[k] for k in ("limit", "remaining", "reset", "used")}
            search = {"limit": 30, "remaining": 30, "reset": status["reset"], "used": 0}
            return Reply(200, {"resources": {"core": core, "search": search}, "rate": core})
        handler, params = ROUTER.find(ex.method, sub)
        if ex.method not in ("GET", "HEAD") and token.read_only:
            raise ApiError(403, "Resource not accessible by integration")
        try:
            body = json.loads(ex.body) if ex.body.strip() else None
        except ValueError as exc:
            raise ApiError(400, "Problems parsing JSON") from exc
        request = Request(
            method=ex.method,
            path=sub,
            query=dict(parse_qsl(query)),
            body=body,
            token=token,
            params={key: unquote(value) for key, value in params.items()},
        )
        return handler(self.forge, request)

    def requests(self) -> list[dict[str, Any]]:
        with self.log_lock:
            return list(self.log)

    def clear_requests(self) -> None:
        with self.log_lock:
            self.log.clear()
