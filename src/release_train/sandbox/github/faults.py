"""Injected faults: 5xx, secondary rate limits, dropped connections, latency; by rate or count."""

from __future__ import annotations

import random
import threading
from typing import Literal

from pydantic import BaseModel, Field, model_validator

FaultKind = Literal["error", "secondary_rate_limit", "drop", "latency"]
SECONDARY_LIMIT_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID."
)


class FaultRule(BaseModel):
    """One fault. `phase="after"` answers (or drops) *after* the request took effect.

    A rule fires on each matching request with probability `rate`, or on each of the next
    `count` matching requests; `method` and `path_prefix` (e.g. `/api/v3/repos/o/r/pulls`
    or `/o/r.git`) narrow what matches; `graphql` (a root field such as
    `enqueuePullRequest`) narrows `POST /api/graphql` to the requests that select it.
    """

    kind: FaultKind
    rate: float | None = Field(default=None, ge=0.0, le=1.0)
    count: int | None = Field(default=None, ge=0)
    method: str | None = None
    path_prefix: str | None = None
    graphql: str | None = None
    status: int = 502
    retry_after: int = 1
    latency: float = 0.0
    phase: Literal["before", "after"] = "before"
    id: int = 0
    fired: int = 0

    @model_validator(mode="after")
    def _needs_a_trigger(self) -> FaultRule:
        if self.rate is None and self.count is None:
            raise ValueError("a fault needs `rate` (probability) or `count` (next N requests)")
        return self

    def matches(self, method: str, path: str, fields: frozenset[str] = frozenset()) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        if self.graphql is not None and self.graphql not in fields:
            return False
        return not self.path_prefix or path.startswith(self.path_prefix)


class FaultPlan:
    """The active rules, drawn against one seedable RNG so a failing run can be replayed."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)  # noqa: S311 - replayable faults, not secrets
        self._rules: list[FaultRule] = []
        self._next_id = 1

    def seed(self, seed: int) -> None:
        with self._lock:
            self._rng = random.Random(seed)  # noqa: S311 - replayable faults, not secrets

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            rule = rule.model_copy(update={"id": self._next_id, "fired": 0})
            self._next_id += 1
            self._rules.append(rule)
            return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return [rule.model_copy() for rule in self._rules]

    def draw(self, method: str, path: str, fields: frozenset[str] = frozenset()) -> list[FaultRule]:
        """The rules that fire for this request: any latency first, then at most one failure.

        `fields`: the root fields of a GraphQL request, which rules with `graphql` match.
        """
        fired: list[FaultRule] = []
        with self._lock:
            for rule in self._rules:
                if rule.kind != "latency" and any(f.kind != "latency" for f in fired):
                    continue
                if rule.matches(method, path, fields) and self._fires(rule):
                    rule.fired += 1
                    fired.append(rule)
            self._rules = [r for r in self._rules if r.count is None or r.count > 0]
        return sorted(fired, key=lambda r: r.kind != "latency")

    def _fires(self, rule: FaultRule) -> bool:
        if rule.count is not None:
            if rule.count <= 0:
                return False
            rule.count -= 1
            return True
        return self._rng.random() < (rule.rate or 0.0)
