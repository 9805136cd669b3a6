"""One family, one train: the family lock taken, renewed, left and broken through a state store.

The rules live in `core.lock`; this module knows who this process is (user@host or the
Actions run), whether a local holder's pid is alive, and writes the lock document with the
store's compare-and-swap, so two runs that race for it cannot both win.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import socket
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError

from release_train.adapters.store import StateStore
from release_train.core.lock import TAKES, Claim, FamilyLock, Hold, Verdict, judge, refusal
from release_train.errors import ErrorCode, ReleaseError

# A hosted Actions job ends after 6 hours: a lock older than that has lost its process.
DEFAULT_LIFETIME = timedelta(hours=6)
CAS_ATTEMPTS = 3  # a lost race re-reads the lock and judges again


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Trains:
    """The family lock of `family` in `store`, as this process sees it."""

    store: StateStore
    family: str
    env: Mapping[str, str]
    lifetime: timedelta = DEFAULT_LIFETIME
    clock: Callable[[], datetime] = _utcnow
    alive: Callable[[int], bool] = pid_alive
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)

    def mine(self, run_id: str) -> FamilyLock:
        env, now = self.env, self.clock()
        actions_run = env.get("GITHUB_RUN_ID") or None
        url = None
        if actions_run and env.get("GITHUB_REPOSITORY"):
            server = (env.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
            url = f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{actions_run}"
        return FamilyLock(
            family=self.family,
            run_id=run_id,
            owner=env.get("GITHUB_ACTOR") or f"{_user()}@{self.host}",
            host=self.host,
            pid=self.pid,
            actions_run_id=actions_run,
            actions_attempt=env.get("GITHUB_RUN_ATTEMPT") or None,
            url=url,
            created_at=now,
            expires_at=now + self.lifetime,
        )

    def read(self) -> tuple[FamilyLock | None, str | None]:
        found = self.store.read_lock(self.family)
        if found is None:
            return None, None
        text, version = found
        try:
            return FamilyLock.model_validate_json(text), version
        except ValidationError as exc:
            raise ReleaseError(
                ErrorCode.STATE_CORRUPT,
                f"the family lock of {self.family} in {self.store.describe()} is not valid",
                hint=f"remove locks/{self.family}.json there once no train runs",
            ) from exc

    def check(self, run_id: str) -> tuple[FamilyLock | None, str | None, Verdict]:
        """(the lock, its version, the verdict) if `run_id` may take the family now, else
        FAMILY_LOCKED naming who has it and what to do; nothing is written."""
        held, version = self.read()
        alive = self.alive(held.pid) if held is not None and held.host == self.host else None
        claim = Claim(run_id, self.env.get("GITHUB_RUN_ID") or None, self.host)
        verdict = judge(held, claim, self.clock(), alive)
        if held is not None and verdict not in TAKES:
            message, hint = refusal(held, verdict)
            raise ReleaseError(ErrorCode.FAMILY_LOCKED, message, hint=hint)
        return held, version, verdict

    def acquire(self, run_id: str) -> FamilyLock:
        """Take the family for `run_id`, or FAMILY_LOCKED naming who has it and what to do."""
        for _ in range(CAS_ATTEMPTS):
            held, version, verdict = self.check(run_id)
            lock = self.mine(run_id)
            if verdict is Verdict.OWN and held is not None:
                lock = lock.model_copy(update={"created_at": held.created_at})
            if self.store.write_lock(self.family, _dump(lock), version):
                return lock
        raise ReleaseError(
            ErrorCode.FAMILY_LOCKED,
            f"the family lock of {self.family} keeps changing under run {run_id}",
            hint="another train is starting: wait for it, then check `release-train status`",
        )

    def leave(self, lock: FamilyLock, *, finished: bool) -> None:
        """The process ends: free the family when the run finished, else keep it `unfinished`."""
        held, version = self.read()
        ours = held is not None and (held.run_id, held.host, held.pid) == (
            lock.run_id,
            lock.host,
            lock.pid,
        )
        if held is None or not ours or held.hold is not Hold.RUNNING:
            return  # taken over (a re-run of the Actions run) or broken: not ours to write
        hold = Hold.RELEASED if finished else Hold.UNFINISHED
        self.store.write_lock(
            self.family, _dump(held.renewed(self.clock(), timedelta(), hold)), version
        )

    @contextlib.contextmanager
    def holding(self, run_id: str) -> Iterator[Holding]:
        """Hold the family while the block runs. It stays `unfinished` when the block ends,
        raising or not, unless the block set `free` (the run succeeded, or never began)."""
        holding = Holding(self.acquire(run_id))
        try:
            yield holding
        except BaseException:
            with contextlib.suppress(ReleaseError):  # the original error matters more
                self.leave(holding.lock, finished=holding.free)
            raise
        self.leave(holding.lock, finished=holding.free)

    def unlock(self, run_id: str) -> FamilyLock:
        """`release-train unlock RUN_ID`: break the family lock that `run_id` holds."""
        held, version = self.read()
        if held is None or held.hold is Hold.RELEASED:
            raise ReleaseError(
                ErrorCode.USAGE,
                f"family {self.family} is not locked",
                hint="nothing to unlock; start a release",
            )
        if held.run_id != run_id:
            raise ReleaseError(
                ErrorCode.FAMILY_LOCKED,
                f"family {self.family} is locked by run {held.run_id}, not {run_id}",
                hint=f"name the run that holds it: `release-train unlock {held.run_id}`",
            )
        live = held.hold is Hold.RUNNING and self.clock() < held.expires_at
        if live and held.host == self.host and self.alive(held.pid):
            raise ReleaseError(
                ErrorCode.RUN_IN_PROGRESS,
                f"run {run_id} is running (pid {held.pid} on {held.host})",
                hint="stop it first (Ctrl-C records its state), then unlock",
            )
        broken = held.renewed(self.clock(), timedelta(), Hold.RELEASED)
        if not self.store.write_lock(self.family, _dump(broken), version):
            raise ReleaseError(
                ErrorCode.FAMILY_LOCKED,
                f"the family lock of {self.family} changed while unlocking",
                hint="check `release-train status` and try again",
            )
        return held


@dataclass
class Holding:
    """The lock a run holds, and whether to free the family when it lets go."""

    lock: FamilyLock
    free: bool = False


def _dump(lock: FamilyLock) -> str:
    return lock.model_dump_json(indent=2) + "\n"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
