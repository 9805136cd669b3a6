"""Slack messages of a run: the HIGH_RISK gate (Step 2.2), the LOW_RISK summary (Step 4.4).

Each is Block Kit with a plain fallback `text` (what notifications and old clients show).
Everything that came from a repository (names, commit subjects, error text) is escaped
the way Slack asks (`&`, `<`, `>`) and its `@` defused, so a commit cannot ping a channel
or forge a link; the only `<…>` in a message are the links built here.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from release_train.core.family_note import Highlight, released_tiers, repo_url, requires
from release_train.core.plan import Plan
from release_train.core.state import RepoState, RepoStatus, RunState, RunStatus, run_result

Block = dict[str, Any]
Verdict = Literal["approve", "reject"]

# The specification's `slack_gate_poll.py` keywords (Phase 2, Step 2.2).
ACCEPT_KEYWORDS = ("approve", "release", "yes", "proceed")
REJECT_KEYWORDS = ("reject", "cancel", "no", "hold", "deny")
# Slack's limits: a section's text, a header's text, blocks per message.
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_BLOCKS = 50
MAX_FALLBACK = 3000
MAX_MESSAGE_TEXT = 12000  # all blocks' text together (undocumented; Slack's own figure)
DETAIL_SECTIONS, NOTE_SECTIONS = 2, 1  # of the summary: 3 sections stay below that total
# One repo's line is cut before escaping, so an escaped line stays far below MAX_SECTION.
MAX_LINE = 300
FENCE = "```"
NOT_A_BACKTICK = "\u02cb"  # MODIFIER LETTER GRAVE ACCENT: looks like one, ends no code span
QUOTES = "\u201c\u201d\u2018\u2019"  # typographic quotes around a reply's first word
_LEADING_MENTION = re.compile(r"^(?:\s*<@[A-Z0-9]+(?:\|[^>]*)?>)+")
_SAFE_URL = re.compile(r"https?://[^\s<>|`@]+")  # no "@": no userinfo, no mention look-alike


@dataclass(frozen=True)
class SlackMessage:
    text: str  # the fallback, escaped like the blocks
    blocks: list[Block] = field(default_factory=list)


def escape(text: str) -> str:
    """Text safe in Slack mrkdwn: Slack's three escapes, and no `@` that could mention."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # A zero-width joiner keeps "@channel" / "@here" from ever notifying anyone.
    return text.replace("@", "@\u200d")


def code(text: str) -> str:
    """`text` as inline code; a backtick inside would end the span, so it is replaced."""
    return f"`{escape(text).replace('`', NOT_A_BACKTICK)}`"


def link(url: str | None, label: str) -> str:
    """`<url|label>` for an http(s) URL without characters that could end the link."""
    if url and _SAFE_URL.fullmatch(url):
        # Slack decodes its three escapes inside a link too; `&` is the only one a URL can hold.
        return f"<{url.replace('&', '&amp;')}|{escape(label).replace('|', '¦')}>"
    return escape(label)


def _cut(text: str, limit: int = MAX_LINE) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(text: str, limit: int) -> Block:
    return {"type": "plain_text", "text": _cut(text.replace("@", "@\u200d"), limit), "emoji": False}


def header(text: str) -> Block:
    return {"type": "header", "text": _plain(text, MAX_HEADER)}


def section(mrkdwn: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn[:MAX_SECTION]}}


def context(mrkdwn: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": mrkdwn[:MAX_SECTION]}]}


DIVIDER: Block = {"type": "divider"}


def pack(
    lines: Sequence[str], *, budget: int, fenced: bool = False, noun: str = "more"
) -> list[Block]:
    """`lines` (escaped already) in at most `budget` sections of <= MAX_SECTION characters.

    Lines that do not fit are counted in a last "… and N more" line instead of being lost
    silently. A fenced section keeps its lines in a code block, for aligned columns.
    """
    room = MAX_SECTION - (2 * len(FENCE) + 2 if fenced else 0) - 40  # 40: the "and N more"
    chunks: list[list[str]] = [[]]
    for index, line in enumerate(lines):
        size = sum(len(x) + 1 for x in chunks[-1]) + len(line)
        if chunks[-1] and size > room:
            if len(chunks) == budget:
                chunks[-1].append(f"… and {len(lines) - index} {noun}")
                break
            chunks.append([])
        chunks[-1].append(line)
    blocks = []
    for chunk in chunks:
        body = "\n".join(chunk)
        blocks.append(section(f"{FENCE}\n{body}\n{FENCE}" if fenced else body))
    return blocks if lines else []


def verdict(text: str) -> Verdict | None:
    """The reply's decision: its first word (after any leading @-mentions) as a keyword."""
    words = _LEADING_MENTION.sub("", text).split()
    if not words:
        return None
    first = words[0].strip(string.punctuation + QUOTES).lower()
    if first in ACCEPT_KEYWORDS:
        return "approve"
    if first in REJECT_KEYWORDS:
        return "reject"
    return None


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _plan_lines(plan: Plan) -> list[str]:
    """The specification's tiered plan table, one escaped line per tier heading or repo."""
    width = max((len(_cut(e.repo, 40)) for e in plan.entries), default=0) + 2
    lines: list[str] = []
    tier: int | None = None
    for entry in sorted(plan.entries, key=lambda e: e.tier):  # stable: release order in a tier
        if entry.tier != tier:
            tier = entry.tier
            lines.append(f"Tier {tier}:")
        versions = f"{_cut(entry.current, 40)} → {_cut(entry.new, 40)}"
        counts = f"({entry.bump}, {_plural(entry.commits, 'commit')})"
        lines.append(f"  {_cut(entry.repo, 40).ljust(width)} {versions}  {counts}")
    return [escape(line).replace("`", NOT_A_BACKTICK) for line in lines]


def _why_lines(plan: Plan) -> list[str]:
    return [f"• {code(_cut(e.repo, 60))} {escape(_cut(e.reason))}" for e in plan.entries]


def gate_message(plan: Plan, run_id: str) -> SlackMessage:
    """Step 2.2's HIGH_RISK gate: the plan, its hash, how to answer, and that silence waits."""
    count = len(plan.entries)
    title = f"[HIGH_RISK] release — coordinated release of {_plural(count, 'repo')}"
    ids = f"*Run:* {code(run_id)}\n*Plan Hash:* {code(plan.plan_hash)}"
    commands = (
        "*Commands* (reply in this thread):\n"
        "`approve`  — execute full release plan\n"
        "`reject`  — cancel entire release"
    )
    warning = (
        "This is HIGH_RISK — silence will NOT auto-advance. Only the configured approvers' "
        f"replies count. Accepted: {', '.join(ACCEPT_KEYWORDS)}; "
        f"rejected: {', '.join(REJECT_KEYWORDS)}."
    )
    skipped = ", ".join(f"{s.repo} ({s.current})" for s in plan.skipped)
    tail = [DIVIDER, section(commands), context(warning)]
    if skipped:
        tail.insert(0, context(escape(_cut(f"Skipped (no unreleased commits): {skipped}", 2000))))
    head = [header(title), section(ids), section("*RELEASE PLAN:*")]
    budget = MAX_BLOCKS - len(head) - len(tail) - 1  # 1: the "why" title
    plan_blocks = pack(_plan_lines(plan), budget=budget // 2, fenced=True, noun="more lines")
    why_blocks = pack(_why_lines(plan), budget=budget - len(plan_blocks), noun="more repos")
    why_title = [context("*Why each repo is released:*")] if why_blocks else []
    blocks = [*head, *plan_blocks, *why_title, *why_blocks, *tail]
    text_lines = [
        escape(title),
        "",
        f"Run: {escape(run_id)}",
        f"Plan Hash: {escape(plan.plan_hash)}",
        "",
        "RELEASE PLAN:",
        *_plan_lines(plan),
        "",
        "Commands:",
        "  approve  — execute full release plan",
        "  reject   — cancel entire release",
        "",
        "This is HIGH_RISK — silence will NOT auto-advance.",
    ]
    return SlackMessage(_fallback(text_lines), blocks)


def _fallback(lines: Sequence[str]) -> str:
    text = "\n".join(lines)
    if len(text) <= MAX_FALLBACK:
        return text
    cut = text[:MAX_FALLBACK].rsplit("\n", 1)[0]
    return f"{cut}\n… and {text[len(cut) :].count(chr(10))} more lines"


def _outcome(repo: RepoState) -> str:
    """What became of one repo: its status, and the step and cause when it failed."""
    if repo.status is RepoStatus.FAILED and repo.error is not None:
        return f"failed at {repo.error.step}: {_cut(repo.error.line())}"
    if repo.status is RepoStatus.BLOCKED:
        return f"blocked by {_cut(repo.blocked_by or '?', 60)}"
    return str(repo.status)


def _detail_line(repo: RepoState) -> str:
    versions = f"{escape(_cut(repo.old_version, 40))} → {escape(_cut(repo.new_version, 40))}"
    parts = [f"• {code(_cut(repo.repo, 60))} {versions} ({escape(repo.bump)}) — "]
    parts[0] += escape(_outcome(repo))
    if repo.tag_sha:
        parts.append(f"tag {code(_cut(repo.tag, 80))}")
    if repo.pr_number is not None:
        parts.append(link(repo.pr_url, f"PR #{repo.pr_number}"))
    if repo.status is RepoStatus.DONE:
        parts.append(f"index: {escape(str(repo.index_status))}")
    return " · ".join(parts)


def _counts(state: RunState) -> list[str]:
    result = run_result(state)
    lines = [
        f"Released:  {_plural(result.repos_succeeded, 'repo')}",
        f"Failed:    {_plural(result.repos_failed, 'repo')}",
    ]
    if result.repos_blocked:
        lines.append(f"Blocked:   {_plural(result.repos_blocked, 'repo')}")
    lines.append(f"Skipped:   {_plural(result.repos_skipped, 'repo')} (no unreleased commits)")
    return lines


def _status(state: RunState) -> str:
    return "IN PROGRESS" if state.status is RunStatus.IN_PROGRESS else run_result(state).status


def summary_message(state: RunState) -> SlackMessage:
    """Step 4.4's LOW_RISK summary: counts, each repo's outcome, status, plan hash, gate."""
    done = "complete" if state.status is not RunStatus.IN_PROGRESS else "in progress"
    title = f"[release] run {state.run_id} {done}"
    footer = (
        f"*Status:* {escape(_status(state))}\n*Plan Hash:* {code(state.plan_hash)}\n"
        f"*Gate:* {code(state.gate_token) if state.gate_token else '-'}"
    )
    head = [header(title), section("*Results:*\n" + "\n".join(_counts(state)))]
    tail = [DIVIDER, section(footer)]
    skipped = ", ".join(f"{repo} ({version})" for repo, version in sorted(state.skipped.items()))
    if skipped:
        tail.insert(0, context(escape(_cut(f"Skipped: {skipped}", 2000))))
    details = [_detail_line(r) for r in state.repos.values()]
    # Far below MAX_BLOCKS: Slack also refuses a message whose blocks hold more than about
    # MAX_MESSAGE_TEXT characters in all (msg_blocks_too_long, slackapi/bolt-js#2509).
    detail_blocks = pack(details, budget=DETAIL_SECTIONS, noun="more repos")
    note = pack(note_lines(state), budget=NOTE_SECTIONS, noun="more lines")
    note_title = [section("*Release note:*")] if note else []
    blocks = [*head, section("*Details:*"), *detail_blocks, *note_title, *note, *tail]
    text_lines = [
        escape(title),
        "",
        "Results:",
        *(f"  {line}" for line in _counts(state)),
        "",
        "Details:",
        *(
            escape(
                f"  {_cut(r.repo, 60)}  {r.old_version} → {r.new_version}  ({r.bump}) {_outcome(r)}"
            )
            for r in state.repos.values()
        ),
        "",
        f"Status: {escape(_status(state))}",
        f"Plan Hash: {escape(state.plan_hash)}",
        f"Gate: {escape(state.gate_token or '-')}",
    ]
    return SlackMessage(_fallback(text_lines), blocks)


def note_lines(state: RunState) -> list[str]:
    """The family's release note (core/family_note) in mrkdwn: tiers, repos, highlights."""
    lines = []
    for tier, repos in released_tiers(state):
        lines.append(f"*Tier {tier}*")
        for repo in repos:
            versions = f"{_cut(repo.old_version, 40)} → {_cut(repo.new_version, 40)}"
            line = f"• {code(_cut(repo.repo, 60))} {escape(versions)}"
            if repo.pins:
                line += ", now requires " + escape(_cut(requires(repo)))
            lines.append(line)
            base = repo_url(repo)
            lines += [f"    ◦ {_highlight(item, base)}" for item in repo.highlights]
            if repo.more_highlights:
                lines.append(f"    ◦ … and {repo.more_highlights} more")
    return lines


def _highlight(item: Highlight, base: str | None) -> str:
    scope = escape(_cut(item.scope or "", 40))
    scope = f"*{scope}:* " if scope else ""
    lead = "*Breaking:* " if item.kind == "breaking" else ""
    ref = ""
    if item.pr is not None and base:
        ref = f" ({link(f'{base}/pull/{item.pr}', f'#{item.pr}')})"
    return f"{lead}{scope}{escape(_cut(item.text, 200))}{ref}"


def _who(user: str) -> str:
    return f"<@{user}>" if re.fullmatch(r"[UW][A-Z0-9]+", user) else escape(user)


def ack_message(user: str, run_id: str) -> SlackMessage:
    """The in-thread acknowledgement of an approval; `<@user>` is the one mention we make."""
    text = f"Approved by {_who(user)}: starting release run {code(run_id)}."
    return SlackMessage(text, [section(text)])


def closed_message(run_id: str, *, rejected_by: str | None = None) -> SlackMessage:
    """The in-thread end of a request nobody approved: rejected, or expired unanswered."""
    if rejected_by is not None:
        text = f"Rejected by {_who(rejected_by)}: release run {code(run_id)} will not start."
    else:
        text = (
            f"No approval in time: release run {code(run_id)} will not start. "
            "Replies here no longer count; dispatch the release again for a new request."
        )
    return SlackMessage(text, [section(text)])
