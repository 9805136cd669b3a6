"""The family's release note: per tier, what each released repo changed and now requires.

No per-repo tool can write it: it joins every repo's version change, its highlights (the
breaking changes and features of its range) and the pins that moved, for one run. The
highlights are taken from the plan's commits when the run starts and kept in the state,
so a resumed run (on another machine, without the clones) writes the same note.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

from release_train.core.commits import Commit
from release_train.core.plan_detail import commit_groups
from release_train.core.render import md_escape, md_link

if TYPE_CHECKING:  # the state imports this module to keep its repos' highlights
    from release_train.core.state import RepoState, RunState

MAX_HIGHLIGHTS = 20  # kept per repo in the state; the rest are counted
MAX_TEXT = 200  # characters of one highlight kept in the state
NO_TEXT = "(no description)"
# In a release body `#12` links to the central repo's issue 12, not to the repo's own.
_ISSUE_REF = re.compile(r"#(?=[0-9])")


class Highlight(BaseModel):
    """One breaking change or feature of a repo's range, as the note shows it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["breaking", "feature"]
    text: str
    scope: str | None = None
    sha: str = ""
    pr: int | None = None


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def highlights(log: Sequence[Commit]) -> tuple[list[Highlight], int]:
    """The breaking changes, then the features of a range, newest first; and how many more.

    A breaking commit shows its `BREAKING CHANGE` notes (each one) or else its description.
    """
    groups = commit_groups(log)
    found = [
        Highlight(kind="breaking", text=_cut(note), scope=c.scope, sha=c.sha, pr=c.pr_number)
        for c in groups["breaking"]
        for note in c.breaking_notes
    ]
    found += [
        Highlight(
            kind="feature", text=_cut(c.description), scope=c.scope, sha=c.sha, pr=c.pr_number
        )
        for c in groups["features"]
    ]
    return found[:MAX_HIGHLIGHTS], max(0, len(found) - MAX_HIGHLIGHTS)


def released_tiers(state: RunState) -> list[tuple[int, list[RepoState]]]:
    """The released repos by tier, lowest tier first, in release order within a tier."""
    tiers: dict[int, list[RepoState]] = {}
    for repo in state.repos.values():
        if repo.status == "done":
            tiers.setdefault(repo.tier, []).append(repo)
    return sorted(tiers.items())


def requires(repo: RepoState) -> str:
    """`omnibase-core ==0.47.0, omnibase-spi ==0.10.0`: the pins PIN moved, by package."""
    return ", ".join(f"{package} {spec}" for package, spec in sorted(repo.pins.items()))


def not_released(state: RunState) -> list[str]:
    """`repo (failed at MERGE)` / `repo (blocked by x)` for each repo the run did not release."""
    found = []
    for repo in state.repos.values():
        if repo.status == "done":
            continue
        if repo.error is not None:
            found.append(f"{repo.repo} (failed at {repo.error.step})")
        elif repo.blocked_by:
            found.append(f"{repo.repo} (blocked by {repo.blocked_by})")
        else:
            found.append(f"{repo.repo} ({repo.status})")
    return found


def repo_url(repo: RepoState) -> str | None:
    """The repository's web page, from its release PR's URL."""
    if repo.pr_url and "/pull/" in repo.pr_url:
        return repo.pr_url.rsplit("/pull/", 1)[0]
    return None


def note_markdown(state: RunState) -> str:
    """The note as GitHub Markdown: a heading, one section per tier, what was not released."""
    tiers = released_tiers(state)
    count = sum(len(repos) for _, repos in tiers)
    lines = [
        f"## Family release `{state.run_id}`",
        "",
        f"{count} of {_repos(len(state.repos))} released." if tiers else "No repo was released.",
        "",
    ]
    for tier, repos in tiers:
        lines += [f"### Tier {tier}", ""]
        for repo in repos:
            lines += _repo_markdown(repo)
        lines.append("")
    missing = not_released(state)
    if missing:
        lines += ["**Not released:** " + _text(", ".join(missing)), ""]
    return "\n".join(lines)


def _repos(count: int) -> str:
    return f"{count} repo" if count == 1 else f"{count} repos"


def _text(text: str) -> str:
    return _ISSUE_REF.sub("#\u200d", md_escape(text))


def _repo_markdown(repo: RepoState) -> list[str]:
    base = repo_url(repo)
    tag = md_link(repo.tag, f"{base}/tree/{repo.tag}") if base and repo.tag_sha else _text(repo.tag)
    line = f"- **{_text(repo.repo)}** {_text(repo.old_version)} → {_text(repo.new_version)} ({tag})"
    if repo.pins:
        line += ", now requires " + _text(requires(repo))
    items = [f"  - {_highlight_markdown(h, base)}" for h in repo.highlights]
    if repo.more_highlights:
        items.append(f"  - … and {repo.more_highlights} more")
    return [line, *items]


def _highlight_markdown(item: Highlight, base: str | None) -> str:
    scope = _text(item.scope or "")
    scope = f"**{scope}:** " if scope else ""
    lead = "**Breaking:** " if item.kind == "breaking" else ""
    ref = ""
    if item.pr is not None:
        ref = f" ({md_link(f'#{item.pr}', f'{base}/pull/{item.pr}')})" if base else ""
    elif item.sha and base:
        ref = f" ({md_link(item.sha[:7], f'{base}/commit/{item.sha}')})"
    return f"{lead}{scope}{_text(item.text) or NO_TEXT}{ref}"
