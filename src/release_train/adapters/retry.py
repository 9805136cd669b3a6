"""Every GitHub API request: sent by PyGithub's requester, counted, retried within bounds."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
from github.Requester import Requester

from release_train.adapters.backoff import Backoff
from release_train.errors import BUG_HINT, ErrorCode, ReleaseError

PER_PAGE = 100
MAX_PAGES = 10  # 1,000 checks on one commit is far beyond any CI this tool meets
SERVER_ERRORS = frozenset({500, 502, 503, 504})
# GitHub's docs: after a secondary limit without `retry-after`, wait at least a minute.
SECONDARY_LIMIT_WAIT = 60.0
PERMISSIONS_HINT = (
    "give the token these fine-grained permissions on every repository of the family: "
    "contents:write, pull_requests:write, actions:write, checks:read, statuses:read"
)
RETRY_HINT = (
    "GitHub kept failing or limiting this token; wait a few minutes and re-run: "
    "the run resumes from the failed step"
)


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: status, decoded JSON body (or None) and lower-cased headers."""

    status: int
    data: Any
    headers: Mapping[str, str]

    @property
    def message(self) -> str:
        return describe(self.data)


@dataclass(frozen=True)
class Call:
    """One API call as the retry loop sees it.

    `action` completes "the token cannot ..." when GitHub answers 403. `expect` lists the
    error statuses the caller handles itself (404 absent, 422 already exists...): they come
    back as answers, never retried. `replay=False` marks a call whose repetition would act
    twice (a workflow dispatch): it is retried only when the request surely never arrived.
    """

    method: str
    path: str
    action: str
    repo: str | None = None
    expect: Collection[int] = ()
    replay: bool = True

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


Send = Callable[[], Answer]  # raises requests.RequestException when no answer came back


def decode(text: str) -> Any:
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:  # a proxy's HTML error page, say
        return {"message": " ".join(text.split())[:200]}


def already_exists(answer: Answer) -> bool:
    # GitHub says it as a message ("Reference already exists", "A pull request already
    # exists for ...") or as an error code (`already_exists` for a release's tag_name).
    return answer.status == 422 and "already exists" in answer.message.lower().replace("_", " ")


def describe(data: Any) -> str:
    """GitHub's error text: the `message` and each entry of `errors` (message or code)."""
    if not isinstance(data, dict):
        return ""
    parts = [str(data.get("message") or "")]
    errors = data.get("errors")
    for error in errors if isinstance(errors, list) else []:
        if isinstance(error, dict):
            parts.append(str(error.get("message") or error.get("code") or ""))
        else:
            parts.append(str(error))
    return ": ".join(part for part in parts if part)


@dataclass
class Retry(Backoff):
    """Exponential backoff with jitter, or GitHub's `retry-after`, both capped at `max_backoff`."""

    clock: Callable[[], float] = time.time

    def run(self, call: Call, send: Send) -> Answer:
        """`send` until it answers for good; ReleaseError when it never does."""
        for attempt in range(1, self.attempts + 1):
            try:
                answer = send()
            except requests.RequestException as exc:
                # A connect timeout never reached GitHub; any other drop may have acted.
                replayable = call.replay or isinstance(exc, requests.ConnectTimeout)
                error = _lost(call, exc, attempt, ambiguous=not replayable)
                if not replayable:
                    raise error from exc
                error.__cause__ = exc
                wait = self._backoff(attempt)
            else:
                if answer.status < 400 or answer.status in call.expect:
                    return answer
                error, wait = self._judge(call, answer, attempt)
            if attempt == self.attempts:
                raise error
            self.sleep(wait)
        raise ReleaseError(
            ErrorCode.INTERNAL, f"{call.label}: no attempt was allowed", hint=BUG_HINT
        )

    def _backoff(self, attempt: int) -> float:
        return self.delay(attempt)

    def _judge(self, call: Call, answer: Answer, attempt: int) -> tuple[ReleaseError, float]:
        """(the error if this was the last attempt, the wait before the next) or raise now."""
        status, headers = answer.status, answer.headers
        if status == 401:
            raise _denied(
                call, answer, "GitHub rejected the token", "the token is invalid or expired"
            )
        if status in (403, 429):
            wait = self._limit_wait(call, answer)
            if wait is not None:
                return _exhausted(call, answer, attempt), wait
            if status == 403:
                raise _denied(call, answer, f"the token cannot {call.action}", PERMISSIONS_HINT)
            return _exhausted(call, answer, attempt), self._backoff(attempt)
        if status in SERVER_ERRORS:
            if not call.replay:
                raise ReleaseError(
                    ErrorCode.GITHUB_ERROR,
                    f"{call.label}: {status} {answer.message} (it may have taken effect)",
                    repo=call.repo,
                    hint="check on GitHub whether it happened before re-running",
                )
            return _exhausted(call, answer, attempt), self._backoff(attempt)
        request_id = headers.get("x-github-request-id")
        raise ReleaseError(
            ErrorCode.GITHUB_ERROR,
            f"{call.label}: {status} {answer.message}".rstrip(),
            repo=call.repo,
            hint=f"GitHub request id {request_id}" if request_id else None,
        )

    def _limit_wait(self, call: Call, answer: Answer) -> float | None:
        """Seconds to wait out a rate limit, None when the 403/429 is no rate limit."""
        headers = answer.headers
        retry_after = headers.get("retry-after", "")
        if retry_after.strip().isdigit():
            return min(float(retry_after), self.max_backoff)
        if "secondary rate limit" in answer.message.lower():
            return min(SECONDARY_LIMIT_WAIT, self.max_backoff)
        if headers.get("x-ratelimit-remaining") == "0":
            reset = float(headers.get("x-ratelimit-reset") or 0)
            until = reset - self.clock()
            if until > self.max_backoff:
                # The hourly budget is spent: waiting here would outlast any sane step.
                at = datetime.fromtimestamp(reset, UTC).strftime("%H:%M:%S UTC")
                raise ReleaseError(
                    ErrorCode.GITHUB_ERROR,
                    f"{call.label}: {answer.status} {answer.message}",
                    repo=call.repo,
                    hint=f"the token's API rate limit is spent until {at}; re-run after that",
                )
            return max(until, 0.0) + 1.0
        return None


def _denied(call: Call, answer: Answer, message: str, hint: str) -> ReleaseError:
    on = f" on {call.repo}" if call.repo else ""
    return ReleaseError(
        ErrorCode.PERMISSION_DENIED,
        f"{message}{on} ({call.label}: {answer.status} {answer.message})",
        repo=call.repo,
        hint=hint,
    )


def _exhausted(call: Call, answer: Answer, attempt: int) -> ReleaseError:
    return ReleaseError(
        ErrorCode.GITHUB_ERROR,
        f"{call.label}: {answer.status} {answer.message} after {attempt} attempts",
        repo=call.repo,
        hint=RETRY_HINT,
    )


def _lost(
    call: Call, exc: requests.RequestException, attempt: int, *, ambiguous: bool
) -> ReleaseError:
    # The exception's text names the URL only, but its class is all a reader needs.
    what = f"no answer ({type(exc).__name__})"
    if ambiguous:
        return ReleaseError(
            ErrorCode.GITHUB_ERROR,
            f"{call.label}: {what}; it may have taken effect",
            repo=call.repo,
            hint="check on GitHub whether it happened before re-running",
        )
    return ReleaseError(
        ErrorCode.GITHUB_ERROR,
        f"{call.label}: {what} after {attempt} attempts",
        repo=call.repo,
        hint="check the network and GITHUB_API_URL, then re-run: the run resumes",
    )


class Api:
    """Sends each call through PyGithub's requester under `retry`; `count` counts every try."""

    def __init__(self, requester: Requester, retry: Retry) -> None:
        self.requester = requester
        self.retry = retry
        self.count = 0
        self._lock = threading.Lock()

    def call(
        self, call: Call, *, params: Mapping[str, str] | None = None, body: Any = None
    ) -> Answer:
        """The answer: a success, or an error status listed in `call.expect`."""

        def send() -> Answer:
            with self._lock:
                self.count += 1
            status, headers, text = self.requester.requestJson(
                call.method, call.path, parameters=dict(params or {}), input=body
            )
            lowered = {str(k).lower(): str(v) for k, v in headers.items()}
            return Answer(status, decode(text), lowered)

        return self.retry.run(call, send)

    def pages(self, call: Call, key: str, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """Every item of a `{total_count, <key>: [...]}` listing, page by page."""
        items: list[dict[str, Any]] = []
        for page in range(1, MAX_PAGES + 1):
            query = {**params, "per_page": str(PER_PAGE), "page": str(page)}
            data = self.call(call, params=query).data
            chunk = data[key]
            items.extend(chunk)
            if len(chunk) < PER_PAGE or len(items) >= int(data["total_count"]):
                break
        return items
