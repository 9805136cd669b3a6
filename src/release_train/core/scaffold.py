"""What `release-train init` infers from a family's repos, and the config text it writes.

Pure: the facts of each repo (pyproject text, tag names, release workflow, branch) come
in, a `release-train.toml` comes out; reading clones or the API is `scaffold.py`'s part.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from release_train.core import triggers
from release_train.core.graph import Graph
from release_train.core.render import table
from release_train.core.versions import format_tag, version_from_tag

# The tag styles `init` recognises, the project's default first (chosen when nothing else
# tells): a repo's own prefix, or a bare `v`, as most single-repo tools tag.
TAG_FORMATS = ("{repo}/v{version}", "v{version}")
FOUND_COLUMNS = (("Tier", 4), ("Repo", 17), ("Package", 17), ("Branch", 6), ("Tags", 17))
SAMPLE_VERSION = "1.0.0"  # a version for asking a workflow's tag filter what it accepts
WORKFLOW_DIR = ".github/workflows"
RELEASE_WORKFLOW = "release.yml"


@dataclass(frozen=True)
class RepoFacts:
    """One repo as found: what `init` reads to describe it."""

    repo: str
    package: str
    branch: str
    tags: tuple[str, ...]
    workflow: str | None  # the text of .github/workflows/release.yml, if there is one


@dataclass(frozen=True)
class TagChoice:
    template: str | None  # None: nothing tells (no tags, no tag filter): the family's format
    counts: dict[str, int]  # template -> how many of the repo's tags it reads
    accepted: bool | None  # does the release workflow's tag filter take its tags? None: no filter

    def reason(self) -> str:
        read = [f"{n} {t}" for t, n in self.counts.items() if n]
        parts = [f"tags: {', '.join(read)}" if read else "no release tags yet"]
        if self.accepted is not None:
            runs = "runs" if self.accepted else "does not run"
            parts.append(f"{RELEASE_WORKFLOW} {runs} for such a tag")
        return "; ".join(parts)


def tag_choice(facts: RepoFacts) -> TagChoice:
    """The template most of the repo's tags follow, preferring one its workflow accepts."""
    counts = {
        t: sum(
            version_from_tag(t, facts.repo, tag, facts.package) is not None for tag in facts.tags
        )
        for t in TAG_FORMATS
    }
    accepts = {t: _accepted(facts, t) for t in TAG_FORMATS}
    if not any(counts.values()) and len(set(accepts.values())) == 1:
        return TagChoice(None, counts, None)
    best = max(
        TAG_FORMATS, key=lambda t: (accepts[t] is not False, counts[t], -TAG_FORMATS.index(t))
    )
    return TagChoice(best, counts, accepts[best])


def _accepted(facts: RepoFacts, template: str) -> bool | None:
    """Whether pushing a tag of `template` starts the release workflow (None: no tag filter)."""
    if facts.workflow is None:
        return None
    try:
        workflow = triggers.load_workflow(facts.workflow)
    except triggers.PatternError:
        return None
    tag = format_tag(template, facts.repo, SAMPLE_VERSION, facts.package)
    return triggers.push_problem(workflow, tag) is None


def publish_mode(facts: RepoFacts, template: str) -> tuple[str, str | None]:
    """(publish mode, why it is not the default `tag`): what the release workflow listens to."""
    if facts.workflow is None:
        return "none", f"no {WORKFLOW_DIR}/{RELEASE_WORKFLOW}: nothing publishes"
    try:
        workflow = triggers.load_workflow(facts.workflow)
    except triggers.PatternError as exc:
        return "none", f"{RELEASE_WORKFLOW} is {exc}"
    tag = format_tag(template, facts.repo, SAMPLE_VERSION, facts.package)
    pushed = triggers.push_problem(workflow, tag)
    if pushed is None:
        return "tag", None
    if not triggers.dispatch_problems(workflow, triggers.Dispatch({"tag": tag})):
        return "dispatch", f"a pushed tag would not start {RELEASE_WORKFLOW}: {pushed}"
    return "none", f"{RELEASE_WORKFLOW} would not run for a release: {pushed}"


def family_tag_format(choices: Iterable[TagChoice]) -> str:
    """The format most repos' tags follow (repos without evidence do not vote)."""
    return _most_common([c.template for c in choices if c.template], TAG_FORMATS[0])


def _most_common(values: Sequence[str], default: str) -> str:
    """The value most repos share; a tie goes to `default`, then to the first by name."""
    counted = Counter(values)
    return min(counted, key=lambda v: (-counted[v], v != default, v)) if counted else default


@dataclass(frozen=True)
class Family:
    owner: str
    repos: Sequence[RepoFacts]  # sorted by name
    graph: Graph
    source: str  # where it was read, for the header comment
    git_sourced: tuple[str, ...] = ()  # repos that take a family member from git or a path


def config_text(family: Family) -> str:
    """The `release-train.toml` for `family`: settings, then each repo with its tier."""
    choices = {f.repo: tag_choice(f) for f in family.repos}
    tag_format = family_tag_format(choices.values())
    legacy = sorted(
        {t for c in choices.values() for t, n in c.counts.items() if n and t != tag_format}
    )
    branch = _most_common([f.branch for f in family.repos], "main")
    tiers = family.graph.tiers()
    lines = [
        f"# release-train configuration written by `release-train init` from {family.source}.",
        "# Check it, then: release-train plan --offline (see docs/configuration.md).",
        f"owner = {json.dumps(family.owner)}",
        f"tag_format = {json.dumps(tag_format)}",
        *([f"legacy_tag_patterns = {json.dumps(legacy)}"] if legacy else []),
        f"branch = {json.dumps(branch)}",
        *_sources_lines(family.git_sourced),
        "",
        *_tier_comments(family.graph),
    ]
    order = sorted(family.repos, key=lambda f: (tiers[f.repo], f.repo))
    for facts in order:
        lines += ["", *_repo_lines(facts, choices[facts.repo], family.graph, tag_format, branch)]
    return "\n".join(lines) + "\n"


def _sources_lines(repos: Sequence[str]) -> list[str]:
    """A release needs family members from the index: say so where some come from git."""
    if not repos:
        return []
    return [
        f"# Family members come from git or path sources in {', '.join(repos)}: a release",
        "# cannot pin those (UNRELEASABLE_SOURCE). To let PIN remove the sources, uncomment:",
        '# family_sources = "drop"',
    ]


def _tier_comments(graph: Graph) -> list[str]:
    tiers = graph.tiers()
    lines = ["# Tiers derived from the pyprojects (upstreams first; `plan` derives them again):"]
    for tier in sorted(set(tiers.values())):
        lines.append(f"#   tier {tier}: {', '.join(r for r in graph.order() if tiers[r] == tier)}")
    for edge in graph.dropped:
        lines.append(
            f"# {edge.repo}'s optional {edge.group!r} dependency on {edge.upstream} orders "
            "nothing: it would close a cycle"
        )
    return lines


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _key(name: str) -> str:
    """A TOML key: bare when it may be, quoted otherwise (a repo name with a dot)."""
    return name if _BARE_KEY.fullmatch(name) else json.dumps(name)


def _repo_lines(
    facts: RepoFacts, choice: TagChoice, graph: Graph, tag_format: str, branch: str
) -> list[str]:
    ups = sorted(graph.upstreams[facts.repo])
    tier = graph.tiers()[facts.repo]
    lines = [
        f"# tier {tier}" + (f", after {', '.join(ups)}" if ups else ", no family upstreams"),
        f"# {choice.reason()}",
        f"[repos.{_key(facts.repo)}]",
        f"package = {json.dumps(facts.package)}",
    ]
    if choice.template is not None and choice.template != tag_format:
        lines.append(f"tag_format = {json.dumps(choice.template)}")
    if facts.branch != branch:
        lines.append(f"branch = {json.dumps(facts.branch)}")
    mode, why = publish_mode(facts, choice.template or tag_format)
    if mode != "tag":
        lines.append(f"publish = {json.dumps(mode)}  # {why}")
    return lines


def found_text(family: Family) -> str:
    """What `init` found, a repo a line in release order: tier, name, package, branch, tags."""
    tiers = family.graph.tiers()
    order = sorted(family.repos, key=lambda f: (tiers[f.repo], f.repo))
    choices = {f.repo: tag_choice(f) for f in order}
    family_format = family_tag_format(choices.values())
    rows = [
        [str(tiers[f.repo]), f.repo, f.package, f.branch, choices[f.repo].template or family_format]
        for f in order
    ]
    lines = [f"Found {len(family.repos)} repos in {family.source}:", *table(FOUND_COLUMNS, rows)]
    return "\n".join(lines) + "\n"
