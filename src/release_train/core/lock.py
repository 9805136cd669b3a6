"""The family lock's rules: who may take it, and why a second train may not (no I/O here).

One family, one train: a lock document names the run that holds the family, the process
that runs it (owner, host, pid, Actions run URL) and until when that process may hold
it. The document stays `unfinished` after a run stops without success, because a second
train would re-release repos the first one still has to finish; it is `released` when the
run succeeds or someone breaks it with `release-train unlock RUN_ID`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Hold(StrEnum):
    RUNNING = "running"  # a process works on the run now
    UNFINISHED = "unfinished"  # no process; the run has work left and must be resumed
    RELEASED = "released"  # free: the run succeeded, or the lock was broken


class FamilyLock(BaseModel):
    """The lock document (`locks/<owner>.json`), as it crosses the store."""

    model_config = ConfigDict(extra="forbid")

    family: str
    run_id: str
    hold: Hold = Hold.RUNNING
    owner: str  # user@host, or the Actions actor
    host: str
    pid: int
    actions_run_id: str | None = None
    actions_attempt: str | None = None
    url: str | None = None  # the Actions run, when there is one
    created_at: datetime
    expires_at: datetime  # after this, the holder's process is surely gone

    def renewed(self, now: datetime, lifetime: timedelta, hold: Hold = Hold.RUNNING) -> FamilyLock:
        return self.model_copy(update={"hold": hold, "expires_at": now + lifetime})


class Verdict(StrEnum):
    FREE = "free"  # nobody holds it
    OWN = "own"  # this run holds it already: a resume
    TAKE_OVER = "take over"  # a re-run of the Actions run that held it
    RUNNING = "running"  # another run's process holds it
    STALE = "stale"  # another run's process died without letting go (same host)
    EXPIRED = "expired"  # another run's process has outlived the lock: surely gone
    UNFINISHED = "unfinished"  # another run stopped with work left


@dataclass(frozen=True)
class Claim:
    """Who asks: this process, for `run_id`."""

    run_id: str
    actions_run_id: str | None
    host: str


def judge(
    held: FamilyLock | None, claim: Claim, now: datetime, holder_alive: bool | None
) -> Verdict:
    """May `claim` take the family? `holder_alive`: is the holder's pid alive (None: unknown,
    another host)."""
    if held is None or held.hold is Hold.RELEASED:
        return Verdict.FREE
    if held.run_id == claim.run_id:
        return Verdict.OWN
    same_actions_run = claim.actions_run_id is not None and (
        claim.actions_run_id == held.actions_run_id
    )
    expired = now >= held.expires_at
    if held.hold is Hold.UNFINISHED:
        # A re-run of the Actions run whose earlier attempt stopped: it carries on the train.
        return Verdict.TAKE_OVER if same_actions_run else Verdict.UNFINISHED
    if expired:
        return Verdict.TAKE_OVER if same_actions_run else Verdict.EXPIRED
    if holder_alive is False and held.host == claim.host:
        return Verdict.STALE
    return Verdict.RUNNING


TAKES = frozenset({Verdict.FREE, Verdict.OWN, Verdict.TAKE_OVER})


def refusal(held: FamilyLock, verdict: Verdict) -> tuple[str, str]:
    """(message, hint) of FAMILY_LOCKED for a claim `judge` refused."""
    who = f"{held.owner}" + (f", {held.url}" if held.url else f", pid {held.pid} on {held.host}")
    since = f"since {_when(held.created_at)}"
    until = _when(held.expires_at)
    about = {
        Verdict.RUNNING: f"run {held.run_id} is releasing it ({who}, {since}, "
        f"lock expires {until})",
        Verdict.STALE: f"run {held.run_id} holds it, but its process (pid {held.pid} on "
        f"{held.host}) is no longer running ({since}, lock expires {until})",
        Verdict.EXPIRED: f"run {held.run_id} holds it ({who}); the lock expired {until}",
        Verdict.UNFINISHED: f"run {held.run_id} stopped unfinished ({who}, {since})",
    }[verdict]
    message = f"family {held.family} is locked: {about}"
    if verdict is Verdict.RUNNING:
        hint = f"wait for run {held.run_id} to end; one train at a time per family"
    else:
        hint = (
            f"finish that run with `release-train resume {held.run_id}`, or abandon it with "
            f"`release-train unlock {held.run_id}` (close its open release PRs first)"
        )
    return message, hint


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
