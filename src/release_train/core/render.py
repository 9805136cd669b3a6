"""The plan as text (the specification's table), GitHub Markdown with a Mermaid graph, and JSON."""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from release_train.core.markdown_text import md_escape as md_escape  # noqa: PLC0414 - re-exported
from release_train.core.plan import Plan, PlanEntry
from release_train.core.plan_detail import (
    GROUPS,
    changelog_entry,
    commit_groups,
    detail_data,
    pull_request,
)
from release_train.core.problems import Problem, Severity, errors

RULE = "─"
FAMILY = "(family)"  # the repo column of a family-wide problem
# Minimum column widths of the specification's plan table (Phase 1).
PLAN_COLUMNS = (("Repo", 17), ("Tier", 4), ("Current", 7), ("New", 7), ("Bump", 5), ("Commits", 7))


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def table(headers: Sequence[tuple[str, int]], rows: Sequence[Sequence[str]]) -> list[str]:
    """A two-space indented, two-space separated table with a rule under the header."""
    widths = [
        max(minimum, len(name), *(len(row[i]) for row in rows))
        for i, (name, minimum) in enumerate(headers)
    ]

    def line(cells: Sequence[str]) -> str:
        return ("  " + "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))).rstrip()

    return [line([h for h, _ in headers]), line([RULE * w for w in widths])] + [
        line(r) for r in rows
    ]


def plan_text(plan: Plan, *, detail: bool = False) -> str:
    """The specification's table; with `detail`, each repo's commits, pins and changelog."""
    rows = [
        [e.repo, str(e.tier), e.current, e.new, str(e.bump), str(e.commits)] for e in plan.entries
    ]
    skipped = [f"    {s.repo} ({s.current})" for s in plan.skipped] or ["    (none)"]
    lines = [
        f"Release Plan (run: {plan.run_id})",
        "---",
        *table(PLAN_COLUMNS, rows),
        "",
        "  Skipped (no unreleased commits):",
        *skipped,
        "",
        f"  Total: {_plural(len(plan.entries), 'repo')}, {_plural(plan.total_commits, 'commit')}",
        *problems_text(plan.problems),
        *(detail_text(plan) if detail else []),
    ]
    return "\n".join(lines) + "\n"


def _printable(line: str) -> str:
    return "".join(c for c in line if c.isprintable())


def _terminal(text: str) -> str:
    """One line without control characters: a commit cannot move the cursor or recolour."""
    return " ".join("".join(c for c in text if c.isprintable() or c.isspace()).split())


def _last_release(entry: PlanEntry) -> str:
    return entry.last_tag or "(none: the first release)"


def detail_text(plan: Plan) -> list[str]:
    """Per repo: last release, compare link, commits by kind, pins, the changelog entry."""
    lines = ["", "Details:"]
    for e in plan.entries:
        lines += ["", f"  {e.repo} {e.current} -> {e.new} ({e.bump})"]
        lines.append(f"    Last release: {_last_release(e)}")
        lines += [f"    Compare: {e.compare_url}"] if e.compare_url else []
        groups = commit_groups(e.log)
        for key, title in GROUPS:
            if groups[key]:
                lines.append(f"    {title}:")
                lines += [f"      {c.sha[:7]} {_terminal(c.subject)}" for c in groups[key]]
        if e.pins:
            lines.append("    Pins (written by PIN):")
            lines += [f"      {package}{spec}" for package, spec in e.pins]
        if entry_text := changelog_entry(e):
            lines.append("    Changelog entry:")
            lines += [f"      {line}".rstrip() for line in entry_text.splitlines()]
    return lines


def writes_text(plan: Plan) -> str:
    """What `release` will write per repo (`--dry-run`), from the functions its steps call:
    the tag, the pins, the PR's title and body, and the changelog entry."""
    lines = ["", "What the release will write:"]
    for e in plan.entries:
        title, body = pull_request(plan, e)
        lines += ["", f"  {e.repo} {e.current} -> {e.new}", f"    Tag: {e.tag or '(unknown)'}"]
        pins = ", ".join(f"{package}{spec}" for package, spec in e.pins) or "(none)"
        lines += [f"    Pins: {pins}", f"    Pull request: {title}"]
        # Both texts are written as shown; their commit text has no control characters left.
        lines += [f"      {line}".rstrip() for line in body.splitlines()]
        lines.append("    Changelog entry:")
        lines += [f"      {line}".rstrip() for line in changelog_entry(e).splitlines()]
    return "\n".join(lines) + "\n"


def _problem_count(problems: Sequence[Problem]) -> str:
    found = len(errors(problems))
    return f"{_plural(found, 'error')}, {_plural(len(problems) - found, 'warning')}"


def grouped(problems: Sequence[Problem]) -> list[tuple[Problem, tuple[str, ...]]]:
    """Each finding once, with every repo it was found in: five repos that lack the same
    Python are one entry naming the five, not five copies of its message and hint."""
    found: dict[tuple[object, ...], tuple[Problem, list[str]]] = {}
    for p in problems:
        key = (p.severity, p.code, p.message, p.hint)
        found.setdefault(key, (p, []))[1].append(p.repo or FAMILY)
    return [(first, tuple(repos)) for first, repos in found.values()]


def _repos_label(repos: Sequence[str]) -> str:
    return repos[0] if len(repos) == 1 else f"{len(repos)} repos"


def problems_text(problems: Sequence[Problem]) -> list[str]:
    """The preflight's findings under the table; nothing at all when there are none."""
    if not problems:
        return []
    entries = grouped(problems)
    repo_width = max(len(_repos_label(repos)) for _, repos in entries)
    code_width = max(len(p.code) for p in problems)
    lines = ["", f"Problems ({_problem_count(problems)}):"]
    for p, repos in entries:
        label = _repos_label(repos)
        head = f"  {p.severity:<7} {label:<{repo_width}}  {p.code:<{code_width}}  "
        message, *more = [_printable(line) for line in p.message.splitlines()] or [""]
        lines.append(head + message)
        # Continuation lines and the hint sit under the repo column, as one block per problem.
        if len(repos) > 1:
            lines.append(" " * 10 + "repos: " + ", ".join(_printable(r) for r in repos))
        lines += [" " * 10 + line for line in more]
        if p.hint:
            lines.append(" " * 10 + "hint: " + _terminal(p.hint))
    return [line.rstrip() for line in lines]


def mermaid_label(text: str) -> str:
    """Text safe inside a quoted Mermaid label."""
    return re.sub(r"[^A-Za-z0-9 ._:/+=-]", lambda m: f"#{ord(m.group())};", text)


def mermaid_id(repo: str) -> str:
    """A node id unique to `repo`: the name itself when it is a plain identifier.

    Other names are folded to `_` and get a digest of the whole name, so `a-b` and `a_b`
    stay two nodes; the `h_` prefix keeps them apart from every plain name's `n_` id.
    """
    if re.fullmatch(r"[A-Za-z0-9_]*", repo):
        return "n_" + repo
    digest = hashlib.sha256(repo.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"h_{re.sub(r'[^A-Za-z0-9_]', '_', repo)}_{digest}"


MERMAID_CLASSES = {
    "release": "fill:#dbeafe,stroke:#1d4ed8",
    "skipped": "fill:#f3f4f6,stroke:#9ca3af,color:#6b7280",
    "outside": "fill:#ffffff,stroke:#d1d5db,color:#9ca3af,stroke-dasharray:4",
    "done": "fill:#dcfce7,stroke:#15803d",
    "running": "fill:#fef9c3,stroke:#a16207",
    "failed": "fill:#fee2e2,stroke:#b91c1c",
    "blocked": "fill:#ffedd5,stroke:#c2410c",
    "pending": "fill:#dbeafe,stroke:#1d4ed8",
}


def mermaid_graph(plan: Plan, status: dict[str, str] | None = None) -> list[str]:
    """`flowchart LR` of the family, upstream -> downstream, nodes classed by status."""
    labels = {e.repo: f"{e.repo} {e.current} → {e.new}" for e in plan.entries}
    classes = dict.fromkeys(plan.graph.repos, "outside")
    classes |= {s.repo: "skipped" for s in plan.skipped}
    classes |= {e.repo: "release" for e in plan.entries}
    classes |= status or {}
    lines = ["```mermaid", "flowchart LR"]
    for repo in plan.graph.order():
        label = mermaid_label(labels.get(repo, repo))
        lines.append(f'  {mermaid_id(repo)}["{label}"]')
    lines += [f"  {mermaid_id(up)} --> {mermaid_id(down)}" for up, down in plan.graph.edges()]
    for name in sorted(set(classes.values())):
        lines.append(f"  classDef {name} {MERMAID_CLASSES[name]}")
    for repo in plan.graph.repos:
        lines.append(f"  class {mermaid_id(repo)} {classes[repo]}")
    lines.append("```")
    return lines


def why(entry: PlanEntry, limit: int = 3) -> str:
    """The reason with the commits that drove the bump (at most `limit` of them)."""
    shown = "; ".join(entry.drivers[:limit])
    more = f" (+{len(entry.drivers) - limit} more)" if len(entry.drivers) > limit else ""
    return f"{entry.reason}: {shown}{more}" if shown else entry.reason


def plan_markdown(plan: Plan) -> str:
    header = "| Repo | Tier | Current | New | Bump | Commits | Why |"
    rows = [
        f"| {md_escape(e.repo)} | {e.tier} | {md_escape(e.current)} | {md_escape(e.new)} "
        f"| {e.bump} | {e.commits} | {md_escape(why(e))} |"
        for e in plan.entries
    ]
    skipped = [f"- {md_escape(s.repo)} ({md_escape(s.current)})" for s in plan.skipped]
    lines = [
        f"## Release plan `{plan.run_id}`",
        "",
        f"Plan hash: `{plan.plan_hash}`",
        "",
        header,
        "| --- | ---: | --- | --- | --- | ---: | --- |",
        *rows,
        "",
        f"**Total:** {_plural(len(plan.entries), 'repo')}, {_plural(plan.total_commits, 'commit')}",
        "",
        "### Skipped (no unreleased commits)",
        "",
        *(skipped or ["(none)"]),
        "",
        *problems_markdown(plan.problems),
        *detail_markdown(plan),
        "### Dependency graph",
        "",
        *mermaid_graph(plan),
    ]
    return "\n".join(lines) + "\n"


def problems_markdown(problems: Sequence[Problem]) -> list[str]:
    """A section with one table row per problem (and a blank line after), or nothing."""
    if not problems:
        return []
    rows = [
        f"| {p.severity} | {md_escape(', '.join(repos))} | {md_escape(p.code)} "
        f"| {md_escape(p.message)} | {md_escape(p.hint or '')} |"
        for p, repos in grouped(problems)
    ]
    verdict = (
        "`release` refuses to start until the errors are fixed."
        if any(p.severity is Severity.ERROR for p in problems)
        else "Warnings only: the release can start."
    )
    return [
        f"### Problems ({_problem_count(problems)})",
        "",
        verdict,
        "",
        "| Severity | Repo | Code | Problem | Hint |",
        "| --- | --- | --- | --- | --- |",
        *rows,
        "",
    ]


# The job summary must stay under GitHub's 1 MiB: long ranges are cut here, never in the JSON.
MAX_SHOWN_COMMITS = 50
MAX_SHOWN_CHANGELOG_LINES = 200
# Markdown decodes entities in a destination, so "&" is written as one.
_URL_SAFE = "-._~:/?#@!$&'*+,;=%"


def html_text(text: str) -> str:
    """Text safe inside an HTML block (a `<summary>`): one line, no tags, no mentions."""
    return html.escape(_terminal(text), quote=True).replace("@", "@\u200d")


def md_link(text: str, url: str) -> str:
    return f"[{md_escape(text)}]({quote(url, safe=_URL_SAFE).replace('&', '&amp;')})"


def _shown(items: list[str], limit: int, more: str) -> list[str]:
    return items[:limit] + ([more.format(len(items) - limit)] if len(items) > limit else [])


def _fenced(text: str, limit: int) -> list[str]:
    """`text` verbatim in a fence longer than any backtick run in it."""
    lines = text.splitlines()
    fence = "`" * max([3, *(len(run) + 1 for run in re.findall("`+", text))])
    cut = [f"… {len(lines) - limit} more lines: the JSON plan has them all"]
    return [fence + "markdown", *lines[:limit], fence, *(cut if len(lines) > limit else [])]


def _repo_detail_markdown(e: PlanEntry) -> list[str]:
    last = md_escape(_last_release(e))
    link = f" ({md_link('compare', e.compare_url)})" if e.compare_url else ""
    lines = [f"Last release: {last}{link}", ""]
    groups = commit_groups(e.log)
    for key, title in GROUPS:
        items = [f"- `{c.sha[:7]}` {md_escape(c.subject)}" for c in groups[key]]
        if items:
            more = "- … and {} more"
            lines += [f"**{title}**", "", *_shown(items, MAX_SHOWN_COMMITS, more), ""]
    if not any(groups.values()):
        lines += [f"No changes since the last release: {md_escape(e.reason)}", ""]
    if e.pins:
        pins = [f"- {md_escape(package + spec)}" for package, spec in e.pins]
        lines += ["**Pins written by PIN**", "", *pins, ""]
    if entry_text := changelog_entry(e):
        fenced = _fenced(entry_text, MAX_SHOWN_CHANGELOG_LINES)
        lines += ["**Changelog entry**", "", *fenced, ""]
    return lines


def detail_markdown(plan: Plan) -> list[str]:
    """One collapsed `<details>` per repo, so the job summary stays a table to read first."""
    if not plan.entries:
        return []
    lines = ["### What each repo releases", ""]
    for e in plan.entries:
        summary = f"{e.repo} {e.current} → {e.new} ({e.bump}, {_plural(e.commits, 'commit')})"
        # GFM: blank lines around the Markdown inside, or it is read as part of the HTML.
        lines += ["<details>", f"<summary>{html_text(summary)}</summary>", ""]
        lines += [*_repo_detail_markdown(e), "</details>", ""]
    return lines


def plan_data(plan: Plan) -> dict[str, Any]:
    return {
        "run_id": plan.run_id,
        "plan_hash": plan.plan_hash,
        "has_work": bool(plan.entries),
        "selected": list(plan.selected),
        "entries": [
            {
                **e.hash_fields(),
                "package": e.package,
                "reason": e.reason,
                "drivers": list(e.drivers),
                "cascade_from": list(e.cascade_from),
                "last_tag": e.last_tag,
                "head": e.head,
                "upstreams": list(e.upstreams),
                **detail_data(e),
            }
            for e in plan.entries
        ],
        "skipped": [
            {"repo": s.repo, "tier": s.tier, "current": s.current, "reason": s.reason}
            for s in plan.skipped
        ],
        "tiers": plan.graph.tiers(),
        "edges": [list(edge) for edge in plan.graph.edges()],
        "problems": [p.as_json() for p in plan.problems],
    }


def plan_json(plan: Plan) -> str:
    return json.dumps(plan_data(plan), indent=2, sort_keys=True) + "\n"
