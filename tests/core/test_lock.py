"""The family lock's rules: who may take it (issue 12, item 3), and what a refusal says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from release_train.core.lock import Claim, FamilyLock, Hold, Verdict, judge, refusal

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def held(hold: Hold = Hold.RUNNING, **update: object) -> FamilyLock:
    base = FamilyLock(
        family="acme",
        run_id="run-a",
        hold=hold,
        owner="alice@box",
        host="box",
        pid=4242,
        actions_run_id="777",
        actions_attempt="1",
        url="https://github.com/acme/central/actions/runs/777",
        created_at=T0,
        expires_at=T0 + timedelta(hours=6),
    )
    return base.model_copy(update=update)


OTHER = Claim("run-b", None, "box")
RERUN = Claim("run-b", "777", "runner-2")  # attempt 2 of Actions run 777, another runner


@pytest.mark.parametrize(
    ("lock", "claim", "at", "alive", "verdict"),
    [
        (None, OTHER, T0, None, Verdict.FREE),
        (held(Hold.RELEASED), OTHER, T0, None, Verdict.FREE),
        (held(), Claim("run-a", None, "box"), T0, True, Verdict.OWN),
        (held(Hold.UNFINISHED), Claim("run-a", None, "elsewhere"), T0, None, Verdict.OWN),
        (held(), OTHER, T0 + timedelta(hours=1), True, Verdict.RUNNING),
        (held(), Claim("run-b", None, "elsewhere"), T0, None, Verdict.RUNNING),
        (held(), OTHER, T0 + timedelta(hours=1), False, Verdict.STALE),
        (held(), OTHER, T0 + timedelta(hours=6), None, Verdict.EXPIRED),
        (held(), RERUN, T0 + timedelta(hours=6), None, Verdict.TAKE_OVER),
        (held(), RERUN, T0 + timedelta(hours=5), None, Verdict.RUNNING),
        (held(Hold.UNFINISHED), OTHER, T0, None, Verdict.UNFINISHED),
        (held(Hold.UNFINISHED), RERUN, T0, None, Verdict.TAKE_OVER),
        (
            held(actions_run_id=None),
            Claim("run-b", None, "box"),
            T0 + timedelta(hours=7),
            None,
            Verdict.EXPIRED,
        ),
    ],
)
def test_who_may_take_the_family(
    lock: FamilyLock | None, claim: Claim, at: datetime, alive: bool | None, verdict: Verdict
) -> None:
    assert judge(lock, claim, at, alive) is verdict


def test_a_running_train_says_who_runs_it_where_and_until_when() -> None:
    message, hint = refusal(held(), Verdict.RUNNING)

    assert message == (
        "family acme is locked: run run-a is releasing it (alice@box, "
        "https://github.com/acme/central/actions/runs/777, since 2026-12-01 10:00:00 UTC, "
        "lock expires 2026-12-01 16:00:00 UTC)"
    )
    assert hint == "wait for run run-a to end; one train at a time per family"


def test_a_dead_local_holder_is_named_with_resume_and_unlock() -> None:
    message, hint = refusal(held(url=None), Verdict.STALE)

    assert message == (
        "family acme is locked: run run-a holds it, but its process (pid 4242 on box) is no "
        "longer running (since 2026-12-01 10:00:00 UTC, lock expires 2026-12-01 16:00:00 UTC)"
    )
    assert hint == (
        "finish that run with `release-train resume run-a`, or abandon it with "
        "`release-train unlock run-a` (close its open release PRs first)"
    )


def test_an_unfinished_run_blocks_with_the_same_two_ways_out() -> None:
    message, hint = refusal(held(Hold.UNFINISHED, url=None), Verdict.UNFINISHED)

    assert message == (
        "family acme is locked: run run-a stopped unfinished (alice@box, pid 4242 on box, "
        "since 2026-12-01 10:00:00 UTC)"
    )
    assert "`release-train resume run-a`" in hint and "`release-train unlock run-a`" in hint
