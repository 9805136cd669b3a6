from __future__ import annotations

from release_train.core.state import PHASES, IndexStatus, dry_run_result
from tests.core.test_render import spec_example_plan


def test_phases_are_the_specifications() -> None:
    assert PHASES[0] == "PLANNED" and PHASES[-1] == "DONE" and len(PHASES) == 14


# The specification's ModelSkillResult fields in its order, then ours (repos_blocked).
RESULT_KEYS = [
    "skill",
    "status",
    "run_id",
    "gate_token",
    "plan_hash",
    "repos_attempted",
    "repos_succeeded",
    "repos_failed",
    "repos_skipped",
    "repos_blocked",
    "details",
    "release_note",
]


def test_dry_run_result_has_the_model_skill_result_shape() -> None:
    plan = spec_example_plan()
    formats = {e.repo: "{repo}/v{version}" for e in plan.entries}
    result = dry_run_result(plan, formats).model_dump(mode="json")
    assert list(result) == RESULT_KEYS
    assert (result["skill"], result["status"], result["gate_token"]) == ("release", "DRY_RUN", None)
    assert result["plan_hash"] == plan.plan_hash
    assert (result["repos_attempted"], result["repos_succeeded"], result["repos_failed"]) == (
        0,
        0,
        0,
    )
    first = result["details"][0]
    assert first == {
        "repo": "omnibase_spi",
        "tier": 1,
        "old_version": "1.2.0",
        "new_version": "1.2.1",
        "bump": "patch",
        "pr_url": None,
        "pr_number": None,
        "tag": "omnibase_spi/v1.2.1",
        "pypi_status": IndexStatus.PENDING.value,
        "phase": "PLANNED",
        "status": "pending",
        "error": None,
        "error_code": None,
        "blocked_by": None,
        "merge_sha": None,
        "commits": 3,
        "reason": first["reason"],
    }
    assert first["reason"].startswith("3 fixes")
