"""A run's summary: the specification's text table, `status`, and Markdown with its graph."""

from __future__ import annotations

from datetime import UTC, datetime

from release_train.core.state import IndexStatus, RepoError, RunState, block, mark_failed, settle
from release_train.core.summary import (
    headline,
    state_graph,
    status_text,
    summary_markdown,
    summary_text,
)
from tests.core.test_state_engine import CORE, SPI, advance, fresh_state

AT = datetime(2026, 2, 25, 9, 30, tzinfo=UTC)
SERVER = "https://github.com/OmniNode-ai"
# A check name is whatever a repo's CI calls it: markup, pipes and mentions included.
HOSTILE_CHECK = "<b>lint</b> | @team `x`"


def partial_state() -> RunState:
    """The spec's family after omnibase_core's CI failed under fail-fast."""
    state = fresh_state()
    state.started_at = AT
    advance(state, SPI, "DONE")
    spi = state.repos[SPI]
    spi.pr_number, spi.pr_url = 42, f"{SERVER}/{SPI}/pull/42"
    spi.merge_sha = spi.tag_sha = "a" * 40
    spi.index_status = IndexStatus.AVAILABLE
    advance(state, CORE, "PR_CREATED")
    core = state.repos[CORE]
    core.pr_number, core.pr_url = 88, f"{SERVER}/{CORE}/pull/88"
    failure = RepoError(
        code="CI_FAILED",
        message=f"check '{HOSTILE_CHECK}' failed on 0123456789ab",
        step="MERGE",
        hint=f"see {SERVER}/{CORE}/actions/runs/7/job/9",
    )
    mark_failed(core, failure)
    block(state, list(state.repos), CORE)
    settle(state)
    state.updated_at = AT
    return state


PARTIAL_SUMMARY = """\
Release Summary (run: release-20260225-a3f7b2)
---
  Repo               Old    New      PR                Tag                      PyPI
  ─────────────────  ─────  ───────  ────────────────  ───────────────────────  ─────────
  omnibase_spi       1.2.0  1.2.1    #42 (merged)      omnibase_spi/v1.2.1      available
  omnibase_core      1.4.0  1.5.0    #88 (open)        omnibase_core/v1.5.0     -
  omnibase_infra     2.0.0  2.1.0    -                 omnibase_infra/v2.1.0    -
  omniintelligence   0.9.0  0.9.1    -                 omniintelligence/v0.9.1  -
  omnimemory         0.3.0  0.3.1    -                 omnimemory/v0.3.1        -
  omniclaude         0.3.0  0.4.0    -                 omniclaude/v0.4.0        -

  Status: PARTIAL (1/6 repos released, 1 failed, 4 blocked)

  omnibase_core: MERGE failed: [CI_FAILED] check '<b>lint</b> | @team `x`' failed on 0123456789ab
    hint: see https://github.com/OmniNode-ai/omnibase_core/actions/runs/7/job/9
  omnibase_infra: blocked by omnibase_core
  omniintelligence: blocked by omnibase_core
  omnimemory: blocked by omnibase_core
  omniclaude: blocked by omnibase_core
"""


def test_summary_text_is_the_specifications_table_with_what_went_wrong() -> None:
    assert summary_text(partial_state()) == PARTIAL_SUMMARY


def test_summary_of_a_successful_run_is_the_specifications_example() -> None:
    state = fresh_state()
    for number, (name, repo) in enumerate(state.repos.items(), start=1):
        advance(state, name, "DONE")
        repo.pr_number, repo.merge_sha = number, f"{number:040x}"
        repo.index_status = (
            IndexStatus.PENDING if name == "omniintelligence" else IndexStatus.AVAILABLE
        )
    settle(state)

    lines = summary_text(state).splitlines()

    # The spec's Step 4.3 rows, with the tag column as wide as its longest tag.
    assert lines[4] == (
        "  omnibase_spi       1.2.0  1.2.1    #1 (merged)       omnibase_spi/v1.2.1      available"
    )
    assert lines[7] == (
        "  omniintelligence   0.9.0  0.9.1    #4 (merged)       omniintelligence/v0.9.1  pending"
    )
    assert lines[-1] == "  Status: SUCCESS (6/6 repos released)"


def test_headline_of_a_run_still_going() -> None:
    state = fresh_state()
    advance(state, SPI, "DONE")

    assert headline(state) == "Status: IN PROGRESS (1/6 repos released)"


def test_status_text_shows_status_and_phase_apart() -> None:
    text = status_text(partial_state(), archived=False, location="/state/r.json")

    head = """\
Run release-20260225-a3f7b2: partial
  state: /state/r.json
  plan hash: sha256:43ce1a37ed8f; started 2026-02-25 09:30:00Z; updated 2026-02-25 09:30:00Z; \
attempt 1
  gate: attestation, token 1767225600.000100:release-20260225-a3f7b2

  Repo               Tier  New      Status   Phase       PR
  ─────────────────  ────  ───────  ───────  ──────────  ──────
  omnibase_spi       1     1.2.1    done     DONE        #42
  omnibase_core      2     1.5.0    failed   PR_CREATED  #88
  omnibase_infra     3     2.1.0    blocked  PLANNED     -
  omniintelligence   3     0.9.1    blocked  PLANNED     -
  omnimemory         3     0.3.1    blocked  PLANNED     -
  omniclaude         4     0.4.0    blocked  PLANNED     -
"""
    assert text == head + PARTIAL_SUMMARY
    archived = status_text(partial_state(), archived=True, location="/state/archive/r.json")
    assert archived.startswith("Run release-20260225-a3f7b2: partial (archived)\n")


def test_markdown_summary_escapes_what_repos_and_tools_wrote() -> None:
    text = summary_markdown(partial_state())

    assert text.startswith(
        "## Release summary `release-20260225-a3f7b2`\n\n"
        "**Status: PARTIAL (1/6 repos released, 1 failed, 4 blocked)** · "
        "plan hash `sha256:43ce1a37ed8f`\n\n"
    )
    rows = [line for line in text.splitlines() if line.startswith("| omni")]
    assert rows[:2] == [
        f"| omnibase\\_spi | 1.2.0 | 1.2.1 | [#42 (merged)]({SERVER}/{SPI}/pull/42) "
        f"| [omnibase\\_spi/v1.2.1]({SERVER}/{SPI}/tree/omnibase_spi/v1.2.1) | available | done "
        "| DONE |",
        f"| omnibase\\_core | 1.4.0 | 1.5.0 | [#88 (open)]({SERVER}/{CORE}/pull/88) "
        "| omnibase\\_core/v1.5.0 | - | failed | PR\\_CREATED |",
    ]
    assert all(row.count(" | ") == 7 for row in rows)  # eight cells each, nothing spills
    problem = next(line for line in text.splitlines() if line.startswith("- omnibase\\_core"))
    assert problem == (
        "- omnibase\\_core: MERGE failed: \\[CI\\_FAILED\\] check &#x27;&lt;b&gt;lint&lt;/b&gt; "
        "\\| @\u200dteam \\`x\\`&#x27; failed on 0123456789ab"
    )
    assert "<b>" not in text and "@team" not in text
    assert text.endswith("\n".join(state_graph(partial_state())) + "\n")


def test_markdown_links_each_tag_to_its_own_repository() -> None:
    text = summary_markdown(partial_state())

    spi_row = next(line for line in text.splitlines() if line.startswith("| omnibase\\_spi"))
    assert f"[omnibase\\_spi/v1.2.1]({SERVER}/{SPI}/tree/omnibase_spi/v1.2.1)" in spi_row


def test_state_graph_colours_each_repo_by_its_status() -> None:
    assert state_graph(partial_state()) == [
        "```mermaid",
        "flowchart LR",
        '  n_omnibase_spi["omnibase_spi 1.2.0 #8594; 1.2.1"]',
        '  n_omnibase_core["omnibase_core 1.4.0 #8594; 1.5.0"]',
        '  n_omnibase_infra["omnibase_infra 2.0.0 #8594; 2.1.0"]',
        '  n_omniintelligence["omniintelligence 0.9.0 #8594; 0.9.1"]',
        '  n_omnimemory["omnimemory 0.3.0 #8594; 0.3.1"]',
        '  n_omniclaude["omniclaude 0.3.0 #8594; 0.4.0"]',
        "  n_omnibase_core --> n_omnibase_infra",
        "  n_omnibase_core --> n_omniclaude",
        "  n_omnibase_core --> n_omniintelligence",
        "  n_omnibase_core --> n_omnimemory",
        "  n_omnibase_infra --> n_omniclaude",
        "  n_omnibase_spi --> n_omnibase_core",
        "  n_omnibase_spi --> n_omnibase_infra",
        "  n_omnibase_spi --> n_omniintelligence",
        "  n_omnibase_spi --> n_omnimemory",
        "  n_omniintelligence --> n_omniclaude",
        "  classDef blocked fill:#ffedd5,stroke:#c2410c",
        "  classDef done fill:#dcfce7,stroke:#15803d",
        "  classDef failed fill:#fee2e2,stroke:#b91c1c",
        "  class n_omnibase_spi done",
        "  class n_omnibase_core failed",
        "  class n_omnibase_infra blocked",
        "  class n_omniintelligence blocked",
        "  class n_omnimemory blocked",
        "  class n_omniclaude blocked",
        "```",
    ]
