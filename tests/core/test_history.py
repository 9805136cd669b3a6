"""The run list of `status` and the view of one run: exact text, order, unreadable states."""

from __future__ import annotations

from datetime import timedelta

from release_train.core import history
from release_train.core.state import RunStatus
from tests.core.test_state_engine import CORE
from tests.core.test_summary import AT, partial_state


def test_the_list_is_newest_first_with_unreadable_states_last() -> None:
    older, newer = partial_state(), partial_state()
    older.run_id, older.started_at, older.status = "r-1", AT - timedelta(hours=2), RunStatus.SUCCESS
    newer.run_id = "r-2"
    entries = [
        history.unreadable("r-0", archived=False, location="x", error="state x is not valid"),
        history.entry(older, archived=True, location="a/r-1.json"),
        history.entry(newer, archived=False, location="r-2.json"),
    ]
    listing = history.RunList(store="local files in /s", runs=history.newest_first(entries))

    assert history.runs_text(listing) == (
        "Runs in local files in /s (newest first)\n"
        "\n"
        "  Run         Status              Started (UTC)     Repos  Done  Failed  Blocked  Plan\n"
        "  ──────────  ──────────────────  ────────────────  ─────  ────  ──────  ───────  "
        "────────────\n"
        f"  r-2         partial             2026-02-25 09:30  6      1     1       4        "
        f"{history.short_hash(newer.plan_hash)}\n"
        f"  r-1         success (archived)  2026-02-25 07:30  6      1     1       4        "
        f"{history.short_hash(older.plan_hash)}\n"
        "  r-0         unreadable          -                 -      -     -       -        -\n"
        "\n"
        f"  r-2: failed: {CORE}\n"
        f"  r-1: failed: {CORE}\n"
        "  r-0: state x is not valid\n"
        "\n"
        "details and the resume command: release-train status RUN\n"
    )


def test_an_empty_store_says_so() -> None:
    listing = history.RunList(store="local files in /s", runs=[])
    assert history.runs_text(listing) == "no runs in local files in /s\n"


def test_one_run_shows_the_failing_output_and_the_resume_command() -> None:
    state = partial_state()
    error = state.repos[CORE].error
    assert error is not None
    error.output = "".join(f"line {n}\n" for n in range(1, 21))

    text = history.run_text(
        state, archived=False, location="s.json", resume="release-train resume x"
    )

    tail = "".join(f"    | line {n}\n" for n in range(9, 21))
    assert text.endswith(
        f"\n  {CORE}: output of MERGE (last lines):\n{tail}\nresume with: release-train resume x\n"
    )
    done = history.run_text(state, archived=True, location="s.json", resume="r")
    assert "resume with" not in done and "output of MERGE" in done
