"""A run's summary (Step 4.3) as the specification's text table, and as Markdown with links."""

from __future__ import annotations

from release_train.core.render import (
    MERMAID_CLASSES,
    md_escape,
    md_link,
    mermaid_id,
    mermaid_label,
    table,
)
from release_train.core.state import RepoState, RepoStatus, RunState, RunStatus, run_result

SUMMARY_COLUMNS = (("Repo", 17), ("Old", 5), ("New", 7), ("PR", 16), ("Tag", 21), ("PyPI", 9))
STATUS_COLUMNS = (("Repo", 17), ("Tier", 4), ("New", 7), ("Status", 7), ("Phase", 10), ("PR", 6))


def _pr(repo: RepoState) -> str:
    if repo.pr_number is None:
        return "-"
    return f"#{repo.pr_number} (merged)" if repo.merge_sha else f"#{repo.pr_number} (open)"


def _pypi(repo: RepoState) -> str:
    return str(repo.index_status) if repo.status is RepoStatus.DONE else "-"


def headline(state: RunState) -> str:
    released = sum(1 for r in state.repos.values() if r.status is RepoStatus.DONE)
    total = len(state.repos)
    result = run_result(state)
    words = f"{released}/{total} repos released"
    extra = [
        f"{n} {what}"
        for n, what in ((result.repos_failed, "failed"), (result.repos_blocked, "blocked"))
        if n
    ]
    status = "IN PROGRESS" if state.status is RunStatus.IN_PROGRESS else result.status
    return f"Status: {status} ({words}{', ' if extra else ''}{', '.join(extra)})"


def _errors(state: RunState) -> list[str]:
    lines = []
    for repo in state.repos.values():
        if repo.error is not None:
            lines.append(f"  {repo.repo}: {repo.error.step} failed: {repo.error.line()}")
            if repo.error.hint:
                lines.append(f"    hint: {repo.error.hint}")
        elif repo.status is RepoStatus.BLOCKED:
            lines.append(f"  {repo.repo}: blocked by {repo.blocked_by}")
    return lines


def summary_text(state: RunState) -> str:
    """Step 4.3's table, then what failed or was blocked and why."""
    rows = [
        [r.repo, r.old_version, r.new_version, _pr(r), r.tag, _pypi(r)]
        for r in state.repos.values()
    ]
    errors = _errors(state)
    lines = [
        f"Release Summary (run: {state.run_id})",
        "---",
        *table(SUMMARY_COLUMNS, rows),
        "",
        f"  {headline(state)}",
        *(["", *errors] if errors else []),
    ]
    return "\n".join(lines) + "\n"


def status_text(state: RunState, *, archived: bool, location: str) -> str:
    """`release-train status`: where every repo is, then the summary table."""
    rows = [
        [r.repo, str(r.tier), r.new_version, str(r.status), r.phase, _pr(r).split()[0]]
        for r in state.repos.values()
    ]
    gate = state.gate
    lines = [
        f"Run {state.run_id}: {state.status}" + (" (archived)" if archived else ""),
        f"  state: {location}",
        f"  plan hash: {state.plan_hash}; started {state.started_at:%Y-%m-%d %H:%M:%S}Z; "
        f"updated {state.updated_at:%Y-%m-%d %H:%M:%S}Z; attempt {state.attempts}",
        f"  gate: {gate.kind}"
        + (f", token {gate.token}" if gate.token else "")
        + (f", approved by {gate.approved_by}" if gate.approved_by else "")
        if gate
        else "  gate: -",
        "",
        *table(STATUS_COLUMNS, rows),
        "",
    ]
    return "\n".join(lines) + summary_text(state)


def _link(text: str, url: str | None) -> str:
    return md_link(text, url) if url else md_escape(text)


def _tag_url(repo: RepoState) -> str | None:
    """The tag's page, in the repository its PR was opened in."""
    if not (repo.pr_url and repo.tag_sha and "/pull/" in repo.pr_url):
        return None
    return f"{repo.pr_url.rsplit('/pull/', 1)[0]}/tree/{repo.tag}"


def summary_markdown(state: RunState) -> str:
    """The summary for a job summary or a PR comment: links, errors with hints, the graph."""
    rows = []
    for r in state.repos.values():
        tag_url = _tag_url(r)
        rows.append(
            f"| {md_escape(r.repo)} | {md_escape(r.old_version)} | {md_escape(r.new_version)} "
            f"| {_link(_pr(r), r.pr_url)} | {_link(r.tag, tag_url)} | {_pypi(r)} "
            f"| {r.status} | {md_escape(r.phase)} |"
        )
    errors = [f"- {md_escape(line.strip())}" for line in _errors(state)]
    lines = [
        f"## Release summary `{state.run_id}`",
        "",
        f"**{md_escape(headline(state))}** · plan hash `{state.plan_hash}`",
        "",
        "| Repo | Old | New | PR | Tag | PyPI | Status | Phase |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        *(["### Problems", "", *errors, ""] if errors else []),
        "### Dependency graph",
        "",
        *state_graph(state),
    ]
    return "\n".join(lines) + "\n"


def state_graph(state: RunState) -> list[str]:
    """`flowchart LR` of the run's repos, each node coloured by its status."""
    lines = ["```mermaid", "flowchart LR"]
    for r in state.repos.values():
        label = mermaid_label(f"{r.repo} {r.old_version} → {r.new_version}")
        lines.append(f'  {mermaid_id(r.repo)}["{label}"]')
    edges = sorted((up, r.repo) for r in state.repos.values() for up in r.upstreams)
    lines += [f"  {mermaid_id(up)} --> {mermaid_id(down)}" for up, down in edges]
    used = sorted({str(r.status) for r in state.repos.values()})
    lines += [f"  classDef {name} {MERMAID_CLASSES[name]}" for name in used]
    lines += [f"  class {mermaid_id(r.repo)} {r.status}" for r in state.repos.values()]
    lines.append("```")
    return lines
