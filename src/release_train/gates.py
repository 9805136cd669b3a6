"""The approval gates (Phase 2): a GitHub environment's reviewers, a Slack thread, an attestation.

Each returns the `Gate` the run's state records: who approved, when, and a token that
binds the approval to this run (and, for the environment gate, to the plan hash).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from release_train.adapters.slack import Reply, Slack
from release_train.core.messages import (
    SlackMessage,
    ack_message,
    closed_message,
    gate_message,
    verdict,
)
from release_train.core.plan import Plan
from release_train.core.state import Gate, now
from release_train.errors import ErrorCode, ReleaseError
from release_train.preflight import validate_gate_token

FIRST_POLL = 2.0
MAX_POLL = 30.0
ENVIRONMENT_HINT = (
    "configure required reviewers on the environment {env!r} (Settings → Environments) "
    "and bind the release job to it: a release never runs unreviewed"
)


class Approvals(Protocol):
    """What the environment gate needs from GitHub (`adapters.github.GitHub` has it)."""

    def run_approvals(self, repo: str, run_id: int) -> list[dict[str, Any]] | None: ...


# The environment gate.


def _in_environment(review: Mapping[str, Any], environment: str) -> bool:
    return any(env.get("name") == environment for env in review.get("environments") or [])


def _login(review: Mapping[str, Any]) -> str:
    return str((review.get("user") or {}).get("login") or "?")


def _stamp(review: Mapping[str, Any], environment: str) -> datetime | None:
    # A review carries no time of its own in GitHub's API; the environment entry's
    # `updated_at` is the nearest the API gives (the sandbox sets it to the review's time).
    stamps = []
    for env in review.get("environments") or []:
        raw = env.get("updated_at") or env.get("created_at")
        if env.get("name") == environment and raw:
            stamps.append(datetime.fromisoformat(str(raw).replace("Z", "+00:00")))
    return max(stamps, default=None)


def environment_gate(
    github: Approvals,
    *,
    repo: str,
    actions_run_id: int,
    environment: str,
    run_id: str,
    plan_hash: str,
) -> Gate:
    """The reviewers of this workflow run's `environment`: all approved, none rejected."""
    reviews = github.run_approvals(repo, actions_run_id)
    if reviews is None:
        raise ReleaseError(
            ErrorCode.GITHUB_ERROR,
            f"no workflow run {actions_run_id} in {repo}",
            hint="pass this workflow run's id (GITHUB_RUN_ID) and its repository "
            "(GITHUB_REPOSITORY); the token needs actions:read there",
        )
    mine = [r for r in reviews if _in_environment(r, environment)]
    rejected = sorted({_login(r) for r in mine if r.get("state") == "rejected"})
    if rejected:
        raise ReleaseError(
            ErrorCode.GATE_REJECTED,
            f"run {run_id} was rejected in environment {environment!r} by {', '.join(rejected)}",
            hint="nothing was released; dispatch a new run once the plan is agreed",
        )
    approved = [r for r in mine if r.get("state") == "approved"]
    if not approved:
        raise ReleaseError(
            ErrorCode.GATE_REJECTED,
            f"run {run_id} has no approval in environment {environment!r} "
            f"(workflow run {actions_run_id})",
            hint=ENVIRONMENT_HINT.format(env=environment),
        )
    stamps = [s for s in (_stamp(r, environment) for r in approved) if s is not None]
    return Gate(
        kind="environment",
        token=f"environment:{repo}#{actions_run_id}:{plan_hash}",
        approved_by=", ".join(sorted({_login(r) for r in approved})),
        at=max(stamps, default=now()),
    )


# The Slack gate.


def ts_key(ts: str) -> tuple[int, int]:
    """A Slack ts ("1700000000.000100") in a form that orders like time."""
    seconds, _, fraction = ts.partition(".")
    return int(seconds or 0), int((fraction or "0").ljust(6, "0")[:6])


def counts(reply: Reply, *, gate_ts: str, approvers: Collection[str], bot_user: str) -> bool:
    """Whether a reply may decide the gate (DESIGN, "Slack approvals")."""
    return (
        ts_key(reply.ts) > ts_key(gate_ts)
        and reply.user is not None
        and reply.user in approvers
        and reply.user != bot_user
        and not reply.bot
        and not reply.edited
    )


def _decide(
    replies: Sequence[Reply], *, gate_ts: str, approvers: Collection[str], bot_user: str
) -> tuple[Reply, str] | None:
    """The first reply, in time order, that counts and says approve or reject."""
    for reply in sorted(replies, key=lambda r: ts_key(r.ts)):
        if not counts(reply, gate_ts=gate_ts, approvers=approvers, bot_user=bot_user):
            continue
        decided = verdict(reply.text)
        if decided is not None:
            return reply, decided
    return None


def _timeout(timeout_seconds: float, run_id: str) -> ReleaseError:
    minutes = round(timeout_seconds / 60)
    return ReleaseError(
        ErrorCode.GATE_TIMEOUT,
        f"no approval of run {run_id} in Slack after {minutes} minutes",
        hint="nothing was released; dispatch the workflow again for a new request, or pass "
        "--gate-attestation <slack_ts>:<run_id> if it was approved in that thread",
    )


def slack_gate(
    slack: Slack,
    *,
    channel: str,
    approvers: Collection[str],
    plan: Plan,
    run_id: str,
    timeout_seconds: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Gate:
    """Post the HIGH_RISK request, then poll its thread until an approver decides or time's up."""
    if not approvers:
        raise ReleaseError(
            ErrorCode.CONFIG_INVALID,
            "the Slack gate has no approvers",
            hint="list the Slack user ids (U…) allowed to approve in slack.approvers",
        )
    bot_user = slack.bot_user_id()
    gate_ts = slack.post(channel, gate_message(plan, run_id))
    deadline = clock() + timeout_seconds
    delay = FIRST_POLL
    while True:
        replies = slack.replies(channel, gate_ts, oldest=gate_ts)
        found = _decide(replies, gate_ts=gate_ts, approvers=approvers, bot_user=bot_user)
        if found is not None:
            break
        remaining = deadline - clock()
        if remaining <= 0:
            _tell_thread(slack, channel, gate_ts, closed_message(run_id))
            raise _timeout(timeout_seconds, run_id)
        sleep(min(delay, remaining))
        delay = min(delay * 2, MAX_POLL)
    reply, decided = found
    if decided == "reject":
        _tell_thread(slack, channel, gate_ts, closed_message(run_id, rejected_by=str(reply.user)))
        raise ReleaseError(
            ErrorCode.GATE_REJECTED,
            f"run {run_id} was rejected in Slack by {reply.user}: {reply.text[:80]!r}",
            hint="nothing was released; dispatch a new run once the plan is agreed",
        )
    _tell_thread(slack, channel, gate_ts, ack_message(str(reply.user), run_id))
    return Gate(
        kind="slack",
        token=f"{gate_ts}:{run_id}",
        approved_by=reply.user,
        at=datetime.fromtimestamp(float(reply.ts), UTC),
    )


def _tell_thread(slack: Slack, channel: str, gate_ts: str, message: SlackMessage) -> None:
    # Best effort: the decision stands whether or not the thread hears about it.
    try:
        slack.post(channel, message, thread_ts=gate_ts)
    except ReleaseError:
        return


# The attestation gate.


def attestation_gate(token: str, run_id: str) -> Gate:
    """`--gate-attestation <slack_ts>:<run_id>`: an approval given earlier, for this run."""
    validate_gate_token(token, run_id)
    return Gate(kind="attestation", token=token)
