"""Slack messages: the HIGH_RISK gate, the LOW_RISK summary, reply verdicts, hostile text."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from release_train.core.family_note import Highlight
from release_train.core.graph import build_graph
from release_train.core.messages import (
    MAX_BLOCKS,
    MAX_HEADER,
    MAX_MESSAGE_TEXT,
    MAX_SECTION,
    SlackMessage,
    ack_message,
    escape,
    gate_message,
    link,
    summary_message,
    verdict,
)
from release_train.core.plan import Plan, PlanEntry, Skip
from release_train.core.state import IndexStatus, RepoError, RepoState, RepoStatus, RunState
from release_train.core.versions import Bump
from tests.core.test_family_note import sample_state
from tests.core.test_render import spec_example_plan
from tests.core.test_summary import partial_state

RUN = "release-20260225-a3f7b2"

# Step 2.2 of the specification, with our reply hint; the plan table is the spec's.
SPEC_GATE_TEXT = """\
[HIGH_RISK] release — coordinated release of 6 repos

Run: release-20260225-a3f7b2
Plan Hash: {plan_hash}

RELEASE PLAN:
Tier 1:
  omnibase_spi       1.2.0 → 1.2.1  (patch, 3 commits)
Tier 2:
  omnibase_core      1.4.0 → 1.5.0  (minor, 8 commits)
Tier 3:
  omnibase_infra     2.0.0 → 2.1.0  (minor, 12 commits)
  omniintelligence   0.9.0 → 0.9.1  (patch, 2 commits)
  omnimemory         0.3.0 → 0.3.1  (patch, 1 commit)
Tier 4:
  omniclaude         0.3.0 → 0.4.0  (minor, 15 commits)

Commands:
  approve  — execute full release plan
  reject   — cancel entire release

This is HIGH_RISK — silence will NOT auto-advance."""

OUR_LINK = re.compile(r"<https?://[^\s<>|`@]+\|[^<>|]*>")
ENTITY = re.compile(r"&(?:amp|lt|gt);")
MENTION = re.compile(r"@(?:channel|here|everyone)|<!|<@", re.IGNORECASE)


def mrkdwn_texts(message: SlackMessage) -> list[str]:
    """Every text Slack renders: the fallback and each block's text or elements."""
    texts = [message.text]
    for block in message.blocks:
        if "text" in block:
            texts.append(block["text"]["text"])
        texts.extend(element["text"] for element in block.get("elements", []))
    return texts


def assert_safe(message: SlackMessage) -> None:
    for text in mrkdwn_texts(message):
        bare = OUR_LINK.sub("", text)
        assert "<" not in bare and ">" not in bare, text
        assert "&" not in ENTITY.sub("", bare), text
        assert not MENTION.search(text), text


def assert_within_limits(message: SlackMessage) -> None:
    assert len(message.blocks) <= MAX_BLOCKS
    for block in message.blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= MAX_SECTION
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text"
            assert len(block["text"]["text"]) <= MAX_HEADER


def types(message: SlackMessage) -> list[str]:
    return [block["type"] for block in message.blocks]


def test_the_gate_fallback_is_the_specifications_message() -> None:
    plan = spec_example_plan()
    message = gate_message(plan, RUN)
    assert message.text == SPEC_GATE_TEXT.format(plan_hash=plan.plan_hash)


def test_the_gate_blocks_carry_the_plan_hash_and_the_instructions() -> None:
    plan = spec_example_plan()
    message = gate_message(plan, RUN)
    assert types(message) == [
        "header",
        "section",
        "section",
        "section",
        "context",
        "section",
        "divider",
        "section",
        "context",
    ]
    texts = mrkdwn_texts(message)
    assert message.blocks[0]["text"]["text"] == (
        "[HIGH_RISK] release — coordinated release of 6 repos"
    )
    assert message.blocks[1]["text"]["text"] == (f"*Run:* `{RUN}`\n*Plan Hash:* `{plan.plan_hash}`")
    table = message.blocks[3]["text"]["text"]
    assert table.startswith("```\nTier 1:\n  omnibase_spi ") and table.endswith("\n```")
    assert "omniclaude         0.3.0 → 0.4.0  (minor, 15 commits)" in table
    assert "`approve`" in texts[-2] and "`reject`" in texts[-2]
    assert "silence will NOT auto-advance" in texts[-1]
    assert_within_limits(message)
    assert_safe(message)


def test_the_gate_names_skipped_repos() -> None:
    plan = spec_example_plan()
    plan = Plan(plan.run_id, plan.entries[:1], (Skip("omnimemory", 3, "0.3.0"),), plan.graph, ())
    message = gate_message(plan, RUN)
    assert message.blocks[0]["text"]["text"].endswith("coordinated release of 1 repo")
    assert any("omnimemory (0.3.0)" in text for text in mrkdwn_texts(message))


def entry(repo: str, reason: str = "1 fix", tier: int = 1, version: str = "1.0.0") -> PlanEntry:
    return PlanEntry(
        repo=repo,
        package=repo,
        tier=tier,
        current=version,
        new=version + ".1",
        bump=Bump.PATCH,
        commits=1,
        reason=reason,
        drivers=(),
        cascade_from=(),
        last_tag=None,
        head="a" * 40,
        upstreams=(),
    )


def big_plan(count: int, reason: str = "1 fix") -> Plan:
    entries = tuple(entry(f"repo_{i:04d}_" + "x" * 30, reason, tier=i % 7) for i in range(count))
    return Plan(RUN, entries, (), build_graph({}), ())


def test_a_huge_plan_is_cut_to_slacks_limits_and_says_how_much_is_left_out() -> None:
    message = gate_message(big_plan(2000, "feat: " + "long reason " * 40), RUN)
    assert_within_limits(message)
    texts = mrkdwn_texts(message)
    assert any(re.search(r"… and \d+ more lines", t) for t in texts)
    assert any(re.search(r"… and \d+ more repos", t) for t in texts)
    assert re.search(r"… and \d+ more lines$", message.text)
    assert len(message.text) <= 3100
    # The instructions survive the cut.
    assert "silence will NOT auto-advance" in texts[-1]


def test_the_summary_has_counts_outcomes_links_and_the_gate() -> None:
    state = partial_state()
    message = summary_message(state)
    assert types(message) == [
        "header",
        "section",
        "section",
        "section",
        "section",
        "section",
        "divider",
        "section",
    ]
    assert message.blocks[0]["text"]["text"] == f"[release] run {RUN} complete"
    assert message.blocks[1]["text"]["text"] == (
        "*Results:*\nReleased:  1 repo\nFailed:    1 repo\nBlocked:   4 repos\n"
        "Skipped:   0 repos (no unreleased commits)"
    )
    details = message.blocks[3]["text"]["text"].splitlines()
    assert details[0] == (
        "• `omnibase_spi` 1.2.0 → 1.2.1 (patch) — done · tag `omnibase_spi/v1.2.1` · "
        "<https://github.com/OmniNode-ai/omnibase_spi/pull/42|PR #42> · index: available"
    )
    assert details[1].startswith("• `omnibase_core` 1.4.0 → 1.5.0 (minor) — failed at MERGE: ")
    assert "&lt;b&gt;lint&lt;/b&gt;" in details[1] and "@\u200dteam" in details[1]
    assert details[2] == "• `omnibase_infra` 2.0.0 → 2.1.0 (minor) — blocked by omnibase_core"
    assert message.blocks[4]["text"]["text"] == "*Release note:*"
    assert message.blocks[5]["text"]["text"] == "*Tier 1*\n• `omnibase_spi` 1.2.0 → 1.2.1"
    assert message.blocks[7]["text"]["text"] == (
        f"*Status:* PARTIAL\n*Plan Hash:* `{state.plan_hash}`\n*Gate:* `{state.gate_token}`"
    )
    assert message.text.startswith(f"[release] run {RUN} complete\n\nResults:\n  Released:  1 repo")
    assert message.text.endswith(f"Gate: {state.gate_token}")
    assert_safe(message)
    assert_within_limits(message)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("approve", "approve"),
        ("Approve!", "approve"),
        ("  YES, ship it", "approve"),
        ("release", "approve"),
        ("proceed.", "approve"),
        ("<@U0BOT0001> approve", "approve"),
        ("\u201capprove\u201d", "approve"),
        ("reject", "reject"),
        ("No", "reject"),
        ("hold on a second", "reject"),
        ("Deny.", "reject"),
        ("cancel", "reject"),
        ("approved", None),  # the first word must be a keyword, not contain one
        ("I approve", None),
        ("", None),
        ("<@U0BOT0001>", None),
        ("looks good", None),
    ],
)
def test_a_replys_first_word_decides(text: str, expected: str | None) -> None:
    assert verdict(text) == expected


def test_escape_defuses_slacks_control_characters_and_mentions() -> None:
    assert escape("a & b <!channel> <@U1> @here") == (
        "a &amp; b &lt;!channel&gt; &lt;@\u200dU1&gt; @\u200dhere"
    )


def test_only_plain_http_urls_become_links() -> None:
    assert link("https://x.test/p?a=1&b=2", "PR #1") == "<https://x.test/p?a=1&amp;b=2|PR #1>"
    assert link("javascript:alert(1)", "PR #1") == "PR #1"
    assert link("https://x.test/a|<!here>", "PR #1") == "PR #1"
    assert link("https://x.test/\n", "PR #1") == "PR #1"  # found by the property test below
    assert link("https://x.test/@channel", "PR #1") == "PR #1"
    assert link(None, "a|<b>") == "a|&lt;b&gt;"


def test_the_acknowledgement_mentions_only_the_approver() -> None:
    assert (
        ack_message("U0ALICE01", RUN).text
        == f"Approved by <@U0ALICE01>: starting release run `{RUN}`."
    )
    assert "<" not in ack_message("<!channel>", RUN).text


PIECES = [*"<>&|`*_~@!#:/ .\nab", "@channel", "<!here>", "<@U1>", "&lt;", "<https://e.test|x>"]
HOSTILE = st.lists(st.sampled_from(PIECES), max_size=20).map("".join)


def hostile_state(name: str, message: str, url: str) -> RunState:
    repo = RepoState(
        repo=name,
        package=name,
        tier=1,
        old_version=name[:10],
        new_version="1.0.1",
        bump="patch",
        base="a" * 40,
        branch="b",
        tag=f"{name}/v1.0.1",
        tag_sha="c" * 40,
        pr_number=3,
        pr_url=url,
        status=RepoStatus.FAILED,
        index_status=IndexStatus.PENDING,
        error=RepoError(code="CI_FAILED", message=message, step="MERGE"),
    )
    blocked = repo.model_copy(
        update={"repo": "b", "status": RepoStatus.BLOCKED, "blocked_by": name, "error": None}
    )
    noted = [Highlight(kind=k, text=message, scope=name, pr=7) for k in ("breaking", "feature")]
    released = repo.model_copy(
        update={
            "repo": "c",
            "status": RepoStatus.DONE,
            "error": None,
            "highlights": noted,
            "pins": {name: message},
        }
    )
    return RunState(
        run_id=RUN,
        plan_hash="sha256:0123456789ab",
        gate_token=f"1.2:{name}",
        repos={name: repo, "b": blocked, "c": released},
        skipped={name + "s": message},
    )


@settings(max_examples=150, deadline=None)
@given(name=HOSTILE, reason=HOSTILE, url=HOSTILE)
def test_hostile_text_cannot_ping_or_forge_links(name: str, reason: str, url: str) -> None:
    plan = Plan(RUN, (entry(name, reason),), (Skip(reason, 2, name),), build_graph({}), ())
    for message in (
        gate_message(plan, name),
        summary_message(hostile_state(name, reason, "https://x.test/" + url)),
        summary_message(hostile_state(name, reason, url)),
    ):
        assert_safe(message)
        assert_within_limits(message)


def test_blocks_are_plain_json_data() -> None:
    def walk(value: Any) -> None:
        assert isinstance(value, dict | list | str | bool | int)
        for child in (
            value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
        ):
            walk(child)

    walk(gate_message(spec_example_plan(), RUN).blocks)
    walk(summary_message(partial_state()).blocks)


NOTE_SECTION = """\
*Tier 1*
• `omnibase_spi` 0.9.1 → 0.10.0
    ◦ *Breaking:* ProtocolLegacy is gone; use Protocol
    ◦ *protocol:* add the event bus protocol (<https://github.com/OmniNode-ai/omnibase_spi/pull/12|#12>)
*Tier 2*
• `omnibase_core` 0.46.2 → 0.47.0, now requires omnibase-spi ==0.10.0
    ◦ `ModelNode` &lt;b&gt;validates&lt;/b&gt; @\u200dteam names, fixes #7 (<https://github.com/OmniNode-ai/omnibase_core/pull/31|#31>)
*Tier 3*
• `omnibase_infra` 0.38.4 → 0.38.5, now requires omnibase-core ==0.47.0"""


def test_the_summary_carries_the_family_note() -> None:
    message = summary_message(sample_state())
    assert message.blocks[4]["text"]["text"] == "*Release note:*"
    assert message.blocks[5]["text"]["text"] == NOTE_SECTION
    assert_safe(message)


def test_a_large_familys_note_is_fitted_to_slacks_limits() -> None:
    state = sample_state()
    template = state.repos["omnibase_core"]
    many = [Highlight(kind="feature", text="x" * 400, scope="s" * 80) for _ in range(20)]
    state.repos = {
        f"repo_{i:03d}": template.model_copy(
            update={"repo": f"repo_{i:03d}", "tier": i % 9, "highlights": many}
        )
        for i in range(600)
    }
    message = summary_message(state)
    assert_within_limits(message)
    assert types(message)[-2:] == ["divider", "section"]  # the footer survives the cut
    texts = mrkdwn_texts(message)
    assert "*Release note:*" in texts
    assert re.search(r"… and \d+ more repos$", texts[texts.index("*Release note:*") - 1])
    assert re.search(r"… and \d+ more lines$", texts[-2])
    assert max(len(t) for t in texts[1:]) <= MAX_SECTION
    assert sum(len(t) for t in texts[1:]) <= MAX_MESSAGE_TEXT  # texts[0]: the fallback
