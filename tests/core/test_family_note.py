"""The family's release note: per tier, version changes, highlights and the pins that moved."""

from __future__ import annotations

from release_train.core.commits import parse_commit
from release_train.core.family_note import MAX_HIGHLIGHTS, highlights, note_markdown
from release_train.core.graph import build_graph
from release_train.core.plan import PlanOptions, RepoScan, make_plan
from release_train.core.state import (
    Gate,
    IndexStatus,
    RepoError,
    RunState,
    block,
    mark_failed,
    mark_phase,
    new_state,
    run_result,
    settle,
)

SERVER = "https://github.com/OmniNode-ai"
SPI, CORE, INFRA, CLAUDE = "omnibase_spi", "omnibase_core", "omnibase_infra", "omniclaude"
FAMILY = {SPI: [], CORE: [SPI], INFRA: [CORE], CLAUDE: [CORE]}
LOGS = {
    SPI: [
        "fix: tolerate empty envelopes",
        "feat(protocol): add the event bus protocol (#12)",
        "feat!: drop ProtocolLegacy\n\nBREAKING CHANGE: ProtocolLegacy is gone; use Protocol",
    ],
    CORE: ["feat: `ModelNode` <b>validates</b> @team names, fixes #7 (#31)"],
    INFRA: ["fix: retry the bus connection"],
    CLAUDE: ["docs: a typo"],
}
PINS = {SPI: {}, CORE: {"omnibase-spi": "==0.10.0"}, INFRA: {"omnibase-core": "==0.47.0"}}
VERSIONS = {SPI: "0.9.1", CORE: "0.46.2", INFRA: "0.38.4", CLAUDE: "0.3.0"}


def sample_state() -> RunState:
    """The family after omniclaude's CI failed: spi, core and infra released."""
    scans = {
        repo: RepoScan(
            repo,
            repo.replace("_", "-"),
            VERSIONS[repo],
            f"{repo}/v{VERSIONS[repo]}",
            "a" * 40,
            tuple(parse_commit(m, f"{n:x}{i:039x}") for i, m in enumerate(LOGS[repo])),
        )
        for n, repo in enumerate(FAMILY, start=1)
    }
    plan = make_plan(scans, build_graph(FAMILY), list(FAMILY), PlanOptions(), "release-x")
    gate = Gate(kind="yes", token="yes:release-x")
    state = new_state(plan, dict.fromkeys(FAMILY, "{repo}/v{version}"), gate, "keep-going")
    for number, repo in enumerate((SPI, CORE, INFRA), start=40):
        found = state.repos[repo]
        found.pr_number, found.pr_url = number, f"{SERVER}/{repo}/pull/{number}"
        found.merge_sha = found.tag_sha = "b" * 40
        found.index_status = IndexStatus.AVAILABLE
        found.pins = PINS[repo]
        mark_phase(found, "DONE")
    error = RepoError(code="CI_FAILED", message="check 'test' failed", step="MERGE")
    mark_failed(state.repos[CLAUDE], error)
    block(state, list(state.repos), CLAUDE)
    settle(state)
    return state


EXPECTED_NOTE = f"""\
## Family release `release-x`

3 of 4 repos released.

### Tier 1

- **omnibase\\_spi** 0.9.1 → 0.10.0 ([omnibase\\_spi/v0.10.0]({SERVER}/omnibase_spi/tree/omnibase_spi/v0.10.0))
  - **Breaking:** ProtocolLegacy is gone; use Protocol ([1000000](https://github.com/OmniNode-ai/omnibase_spi/commit/1000000000000000000000000000000000000002))
  - **protocol:** add the event bus protocol ([#12]({SERVER}/omnibase_spi/pull/12))

### Tier 2

- **omnibase\\_core** 0.46.2 → 0.47.0 ([omnibase\\_core/v0.47.0]({SERVER}/omnibase_core/tree/omnibase_core/v0.47.0)), now requires omnibase-spi ==0.10.0
  - \\`ModelNode\\` &lt;b&gt;validates&lt;/b&gt; @\u200dteam names, fixes #\u200d7 ([#31]({SERVER}/omnibase_core/pull/31))

### Tier 3

- **omnibase\\_infra** 0.38.4 → 0.38.5 ([omnibase\\_infra/v0.38.5]({SERVER}/omnibase_infra/tree/omnibase_infra/v0.38.5)), now requires omnibase-core ==0.47.0

**Not released:** omniclaude (failed at MERGE)
"""  # noqa: E501 - the note's lines hold whole links


def test_the_note_shows_each_tier_its_versions_highlights_and_moved_pins() -> None:
    assert note_markdown(sample_state()) == EXPECTED_NOTE


def test_the_note_is_in_the_result_and_survives_the_state_file() -> None:
    state = sample_state()
    reread = RunState.model_validate_json(state.model_dump_json())
    assert run_result(reread).release_note == EXPECTED_NOTE


def test_a_run_that_released_nothing_says_so() -> None:
    state = sample_state()
    for repo in state.repos.values():
        repo.status = "failed"  # type: ignore[assignment]
    assert note_markdown(state).splitlines()[2] == "No repo was released."


def test_highlights_keep_the_first_ones_and_count_the_rest() -> None:
    log = [parse_commit(f"feat: feature {i}", f"{i:040x}") for i in range(MAX_HIGHLIGHTS + 3)]
    kept, more = highlights(log)
    assert (len(kept), more) == (MAX_HIGHLIGHTS, 3)
    assert kept[0].text == f"feature {MAX_HIGHLIGHTS + 2}"  # newest first


def test_fixes_and_chores_are_no_highlights() -> None:
    log = [parse_commit(m) for m in ("fix: a", "chore: b", "Merge branch 'x'", "docs: c")]
    assert highlights(log) == ([], 0)


def test_one_repo_is_one_repo() -> None:
    state = sample_state()
    state.repos = {SPI: state.repos[SPI]}
    assert note_markdown(state).splitlines()[2] == "1 of 1 repo released."
