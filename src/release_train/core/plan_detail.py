"""What a reviewer reads per repo before approving: commits by kind, pins, the changelog entry."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote

from release_train.core import changelog, release_text
from release_train.core.commits import Commit
from release_train.core.plan import Plan, PlanEntry
from release_train.core.pyproject import PinPolicy, pin_specifiers
from release_train.core.versions import format_tag

# Breaking first: a reviewer looks for what breaks dependents before anything else.
GROUPS = (
    ("breaking", "Breaking changes"),
    ("features", "Features"),
    ("fixes", "Fixes"),
    ("other", "Other changes"),
)


@dataclass(frozen=True)
class DetailInputs:
    """What the plan's detail needs beyond the scans: the inputs PIN and CHANGELOG use."""

    pin_policy: PinPolicy
    day: date  # the changelog entry's date
    compare_base: str | None = None  # "{server}/{owner}" in API mode; None: no compare links
    # repo -> how CHANGELOG writes its entry, and the template of its tags (config.py's).
    formats: Mapping[str, changelog.Format] = field(default_factory=dict)
    tag_templates: Mapping[str, str] = field(default_factory=dict)


def group(commit: Commit) -> str:
    """The group a change is listed in; a breaking feature is listed once, as breaking."""
    if commit.breaking:
        return "breaking"
    if commit.type == "feat":
        return "features"
    return "fixes" if commit.type == "fix" else "other"


def commit_groups(log: Sequence[Commit]) -> dict[str, list[Commit]]:
    """The changes of a range (merges and our release commits left out), newest first."""
    groups: dict[str, list[Commit]] = {key: [] for key, _ in GROUPS}
    for commit in reversed(log):
        if commit.is_change:
            groups[group(commit)].append(commit)
    return groups


def planned_pins(plan: Plan, entry: PlanEntry, policy: PinPolicy) -> dict[str, str]:
    """package -> specifier PIN writes: each same-run upstream at its planned version."""
    versions = {up.package: up.new for name in entry.upstreams if (up := plan.entry(name))}
    return pin_specifiers(versions, policy)


def compare_url(base: str | None, entry: PlanEntry) -> str | None:
    """GitHub's compare page from the last release tag to the head the release is cut from."""
    if base is None or entry.last_tag is None:
        return None
    tag = quote(entry.last_tag, safe="/")
    return f"{base.rstrip('/')}/{quote(entry.repo)}/compare/{tag}...{entry.head}"


def with_details(plan: Plan, inputs: DetailInputs) -> Plan:
    """`plan` with each entry's pins, compare link and changelog date filled in."""
    entries = []
    for entry in plan.entries:
        pins = tuple(planned_pins(plan, entry, inputs.pin_policy).items())
        url = compare_url(inputs.compare_base, entry)
        template = inputs.tag_templates.get(entry.repo)
        tag = (
            None if template is None else format_tag(template, entry.repo, entry.new, entry.package)
        )
        detail = dataclasses.replace(
            entry,
            pins=pins,
            compare_url=url,
            changelog_day=inputs.day,
            tag=tag,
            changelog_format=inputs.formats.get(entry.repo, changelog.SPEC_FORMAT),
        )
        entries.append(detail)
    return dataclasses.replace(plan, entries=tuple(entries))


def changelog_entry(entry: PlanEntry) -> str:
    """The entry CHANGELOG will write ("" for a plan made without details).

    The same call, with the same inputs, as the CHANGELOG step makes. Rendered only when
    shown: on a range of thousands of commits it costs more than the rest of the plan.
    """
    if entry.changelog_day is None:
        return ""
    return changelog.render_entry(
        entry.new,
        entry.changelog_day,
        entry.log,
        entry.pins,
        fmt=entry.changelog_format or changelog.SPEC_FORMAT,
        tag=entry.tag,
        previous_tag=entry.last_tag,
    )


def pull_request(plan: Plan, entry: PlanEntry) -> tuple[str, str]:
    """The title and body PR opens the repo's release PR with: the same calls as the PR
    step makes, with the plan's facts (a resumed run's id may differ from the plan's)."""
    text = release_text.PullText(
        repo=entry.repo,
        version=entry.new,
        previous=entry.current,
        bump=str(entry.bump),
        run_id=plan.run_id,
        plan_hash=plan.plan_hash,
        subjects=[commit.subject for commit in reversed(entry.log)],
    )
    return release_text.release_subject(entry.repo, entry.new), release_text.pr_body(text)


def detail_data(entry: PlanEntry) -> dict[str, Any]:
    """The JSON form of one entry's detail: everything, nothing cut."""
    groups = commit_groups(entry.log)
    return {
        "commit_groups": {
            key: [{"sha": c.sha, "subject": c.subject} for c in groups[key]] for key, _ in GROUPS
        },
        "compare_url": entry.compare_url,
        "pins": dict(entry.pins),
        "changelog": changelog_entry(entry),
    }
