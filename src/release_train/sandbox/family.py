"""The sample family: six repos shaped like the specification's OmniNode family.

Their histories give the specification's example plan (Phase 1): a patch/minor mix of
3, 8, 12, 2, 1 and 15 unreleased commits. `release-train sample-family DIR` writes them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from release_train.sandbox.builder import Change, RepoBuilder

# Called with (repo working dir, tag name) right before / after a repo's release tag.
Hook = Callable[[Path, str], None]

OWNER = "OmniNode-ai"


@dataclass(frozen=True)
class RepoSpec:
    """A repo of a fixture family: what it depends on, what it released, what came after."""

    name: str
    released: str
    requires: Sequence[str] = ()  # PEP 508 strings for project.dependencies
    optional: dict[str, Sequence[str]] = field(default_factory=dict)
    history: Sequence[str] = ()  # commit messages up to the released version
    unreleased: Sequence[str] = ()  # commit messages since
    tag_format: str = "{repo}/v{version}"
    changelog: bool = True

    @property
    def package(self) -> str:
        return self.name.replace("_", "-")

    @property
    def tag(self) -> str:
        return self.tag_format.format(repo=self.name, version=self.released)


def pyproject_text(spec: RepoSpec) -> str:
    # JSON string escapes are valid TOML basic-string escapes.
    deps = "".join(f"    {json.dumps(req)},\n" for req in spec.requires)
    optional = "".join(
        f"{group} = [{', '.join(json.dumps(r) for r in reqs)}]\n"
        for group, reqs in sorted(spec.optional.items())
    )
    optional_table = f"\n[project.optional-dependencies]\n{optional}" if optional else ""
    return (
        "[build-system]\n"
        'requires = ["flit_core>=3.4"]\n'
        'build-backend = "flit_core.buildapi"\n\n'
        "[project]\n"
        f'name = "{spec.package}"\n'
        f'version = "{spec.released}"\n'
        f'description = "{spec.name}: part of the OmniNode sample family"\n'
        'requires-python = ">=3.11"\n'
        f"dependencies = [\n{deps}]\n"
        f"{optional_table}"
    )


PRE_COMMIT_CONFIG = """\
# Local hooks only, so pre-commit needs no network.
repos:
  - repo: local
    hooks:
      - id: no-tabs
        name: no tab characters in Python
        language: pygrep
        entry: "\\t"
        types: [python]
      - id: toml-parses
        name: TOML files parse
        language: system
        entry: python3 -c "import sys, tomllib; [tomllib.load(open(p, 'rb')) for p in sys.argv[1:]]"
        files: \\.toml$
"""


def release_workflow(tag_patterns: Sequence[str]) -> str:
    """A `release.yml` whose triggers are the ones the train needs: its tags and a dispatch.

    The stand-in publishes on such a tag itself; the file is there so the plan's preflight
    finds what a real repo has (a tag filter that matches the family's tags).
    """
    tags = ", ".join(f"'{pattern}'" for pattern in tag_patterns)
    return (
        "name: Release\n\n"
        "on:\n"
        "  push:\n"
        f"    tags: [{tags}]\n"
        "  workflow_dispatch:\n"
        "    inputs:\n"
        "      tag:\n"
        "        description: The release tag to publish\n"
        "        required: true\n\n"
        "permissions: {}\n\n"
        "jobs:\n"
        "  publish:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - run: echo the sandbox publishes this tag itself\n"
    )


def initial_files(spec: RepoSpec) -> dict[str, str]:
    module = spec.name
    changelog = (
        {"CHANGELOG.md": f"# Changelog\n\n## v{spec.released} (2026-01-01)\n\n- Initial release.\n"}
        if spec.changelog
        else {}
    )
    return {
        "pyproject.toml": pyproject_text(spec),
        "README.md": f"# {spec.name}\n\nA member of the sample family.\n",
        f"src/{module}/__init__.py": f'"""{spec.name}."""\n\nNAME = "{spec.name}"\n',
        f"tests/test_{module}.py": (
            f"from {module} import NAME\n\n\ndef test_name() -> None:\n"
            f'    assert NAME == "{spec.name}"\n'
        ),
        ".pre-commit-config.yaml": PRE_COMMIT_CONFIG,
        ".github/workflows/release.yml": release_workflow([f"{spec.name}/v[0-9]*", "v[0-9]*"]),
        **changelog,
    }


def build_repo(
    dest: Path,
    spec: RepoSpec,
    *,
    before_tag: Hook | None = None,
    after_tag: Hook | None = None,
) -> Path:
    """Write `spec` as a git repo in `dest/<name>`: history, release tag, unreleased commits."""
    builder = RepoBuilder(dest / spec.name).init()
    first, *rest = spec.history or ("chore: initial commit",)
    builder.commit([Change(first, initial_files(spec)), *rest])
    if before_tag:
        before_tag(builder.path, spec.tag)
        builder.commits += 1
    builder.tag(spec.tag)
    if after_tag:
        after_tag(builder.path, spec.tag)
    if spec.unreleased:
        builder.commit(spec.unreleased)
    return builder.path


SPI = ">=1.2.0"
CORE = ">=1.4.0"

SAMPLE_FAMILY: tuple[RepoSpec, ...] = (
    RepoSpec(
        "omnibase_spi",
        "1.2.0",
        history=("chore: initial commit", "feat: protocol definitions", "fix: typo in protocol"),
        unreleased=(
            "fix: handle empty protocol names",
            "docs: explain protocol versioning",
            "chore: tidy imports",
        ),
    ),
    RepoSpec(
        "omnibase_core",
        "1.4.0",
        requires=(f"omnibase-spi{SPI}",),
        history=("chore: initial commit", "feat: node runtime"),
        unreleased=(
            "feat(runtime): add node lifecycle hooks",
            "fix(runtime): close handles on shutdown",
            "docs: describe lifecycle hooks",
            "test: cover shutdown ordering",
            "refactor: split runtime module",
            "fix: correct default timeout (#41)",
            "chore(deps): bump omnibase-spi floor",
            "ci: cache uv downloads",
        ),
    ),
    RepoSpec(
        "omnibase_infra",
        "2.0.0",
        requires=(f"omnibase-core{CORE}", f"omnibase-spi{SPI}"),
        history=("chore: initial commit", "feat!: new deployment model"),
        unreleased=(
            "feat: kafka event bus adapter",
            "fix: retry transient broker errors",
            "docs: event bus guide",
            "test: event bus round trip",
            "refactor: extract connection pool",
            "fix(pool): release connections on error",
            "perf: batch publishes",
            "chore: update pre-commit hooks",
            "build: declare py.typed",
            "fix: log broker address without credentials",
            "style: format with ruff",
            "test: pool exhaustion",
        ),
    ),
    RepoSpec(
        "omniintelligence",
        "0.9.0",
        requires=(f"omnibase-core{CORE}", f"omnibase-spi{SPI}"),
        history=("chore: initial commit", "feat: intent classifier"),
        unreleased=("fix: guard against empty prompts", "docs: classifier limits"),
        changelog=False,
    ),
    RepoSpec(
        "omnimemory",
        "0.3.0",
        requires=(
            f"omnibase-core{CORE}",
            f'omnibase-spi{SPI} ; python_version >= "3.11"',
        ),
        history=("chore: initial commit", "feat: memory store"),
        unreleased=("fix: evict expired entries",),
        tag_format="v{version}",  # released before the family adopted "<repo>/v<version>"
    ),
    RepoSpec(
        "omniclaude",
        "0.3.0",
        requires=(f"omnibase-core{CORE}", "omnibase-infra>=2.0.0"),
        optional={"intelligence": ("omniintelligence>=0.9.0",)},
        history=("chore: initial commit", "feat: claude session bridge"),
        unreleased=(
            "feat: stream tool results",
            "fix: reconnect after idle timeout",
            "docs: session bridge usage",
            "test: reconnect path",
            "refactor: session state machine",
            "fix(stream): flush partial chunks",
            "chore: bump dev dependencies",
            "ci: run tests on 3.12",
            "fix: redact tokens in debug logs",
            "docs: troubleshooting",
            "test: partial chunk flush",
            "refactor: typed events",
            "style: sort imports",
            "perf: reuse http sessions",
            "build: include py.typed",
        ),
    ),
)


def build_family(
    dest: Path,
    specs: Sequence[RepoSpec],
    *,
    before_tag: Hook | None = None,
    after_tag: Hook | None = None,
) -> list[Path]:
    """Build every repo of `specs` (given in dependency order) under `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    return [build_repo(dest, s, before_tag=before_tag, after_tag=after_tag) for s in specs]


def build_sample_family(
    dest: Path, *, before_tag: Hook | None = None, after_tag: Hook | None = None
) -> list[Path]:
    """The six-repo sample family in `dest`, upstreams first."""
    return build_family(dest, SAMPLE_FAMILY, before_tag=before_tag, after_tag=after_tag)


def config_text(
    specs: Sequence[RepoSpec] = SAMPLE_FAMILY, *, owner: str = OWNER, index_url: str | None = None
) -> str:
    """A `release-train.toml` for a fixture family (against the index at `index_url`)."""
    lines = [
        "# release-train configuration for the sample family.",
        f'owner = "{owner}"',
        'tag_format = "{repo}/v{version}"',
        'legacy_tag_patterns = ["v{version}"]',
        *([f"index_url = {json.dumps(index_url)}"] if index_url else []),
        "",
    ]
    for spec in specs:
        lines += [f"[repos.{spec.name}]", f'package = "{spec.package}"', ""]
    return "\n".join(lines)
