"""Builders for the real OmniNode family's clones and the config the issue names."""

from __future__ import annotations

import subprocess
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

# ../shared/realfam beside the checkout; a worktree under /work/wt/<name> looks further up.
REALFAM = next(
    (
        p / "shared" / "realfam"
        for p in Path(__file__).resolve().parents[3:]
        if (p / "shared" / "realfam").is_dir()
    ),
    Path(__file__).resolve().parents[3] / "shared" / "realfam",
)
REPOS = (
    "omnibase_spi",
    "omnibase_core",
    "omnibase_infra",
    "omniintelligence",
    "omnimemory",
    "omniclaude",
)


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


def default_branch(clone: Path) -> str:
    """`dev` where the repo has one, else `main` (the realfam README's default branches)."""
    branches = _git("-C", str(clone), "for-each-ref", "--format=%(refname:short)", "refs/heads/")
    local = set(branches.split())
    remote = _git(
        "-C", str(clone), "for-each-ref", "--format=%(refname:lstrip=3)", "refs/remotes/origin/"
    ).split()
    return "dev" if "dev" in local | set(remote) else "main"


def clone_family(source: Path, workspace: Path, *, shared: bool = False) -> Path:
    """One clone per repo in `workspace`: from the bundles, or (`shared`) from another workspace.

    Every branch of the source becomes a local branch and every tag is kept, so a test can
    check out `main` or `dev` and see the family as its maintainers do.
    """
    workspace.mkdir(parents=True, exist_ok=True)
    for repo in REPOS:
        origin = source / (f"{repo}.bundle" if not shared else repo)
        dest = workspace / repo
        args = ["clone", "--quiet", "--no-checkout"]
        if shared:
            args.append("--shared")
        _git(*args, str(origin), str(dest))
        remote = _git(
            "-C", str(dest), "for-each-ref", "--format=%(refname:lstrip=3)", "refs/remotes/origin/"
        ).split()
        local = _git("-C", str(dest), "for-each-ref", "--format=%(refname:short)", "refs/heads/")
        for branch in remote:
            if branch != "HEAD" and branch not in local.split():
                _git("-C", str(dest), "branch", "--quiet", branch, f"origin/{branch}")
        _git("-C", str(dest), "checkout", "--quiet", default_branch(dest))
    return workspace


def realfam_config(
    tag_format: str = "v{version}",
    legacy: tuple[str, ...] = ("{repo}/v{version}",),
    extra: str = "",
) -> str:
    """The issue's config: the six repos, `v{version}` tags, `{repo}/v{version}` as legacy."""
    lines = [
        'owner = "OmniNode-ai"',
        f'tag_format = "{tag_format}"',
        "legacy_tag_patterns = [" + ", ".join(f'"{p}"' for p in legacy) + "]",
        extra,
        "",
    ]
    for repo in REPOS:
        lines.append(f"[repos.{repo}]")
    return "\n".join(lines) + "\n"


def package_of(clone: Path) -> str:
    """The clone's package name: `project.name`, or Poetry's `tool.poetry.name`."""
    pyproject = tomllib.loads((clone / "pyproject.toml").read_text())
    return str(pyproject.get("project", {}).get("name") or pyproject["tool"]["poetry"]["name"])


def git_sources(workspace: Path, repos: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """Repo -> {package: URL} of each `[tool.uv.sources]` git source outside the run."""
    names = {canonicalize_name(package_of(workspace / r)) for r in repos}
    found: dict[str, dict[str, str]] = {}
    for repo in repos:
        pyproject = tomllib.loads((workspace / repo / "pyproject.toml").read_text())
        sources = pyproject.get("tool", {}).get("uv", {}).get("sources", {})
        for name, source in sources.items():
            if (
                isinstance(source, dict)
                and "git" in source
                and canonicalize_name(name) not in names
            ):
                found.setdefault(repo, {})[name] = str(source["git"])
    return found


def _drop_lines(text: str, sources: set[NormalizedName], requirements: set[NormalizedName]) -> str:
    """`text` without the `[tool.uv.sources]` keys in `sources` and the `[dependency-groups]`
    lines that require a package of `requirements` (one entry a line, as in these repos)."""
    kept, table = [], ""
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith("["):
            table = stripped.split("#")[0].strip()
        key = canonicalize_name(stripped.partition("=")[0].strip().strip('"'))
        if table == "[tool.uv.sources]" and "=" in stripped and key in sources:
            continue
        named = stripped.split('"')[1] if stripped.startswith('"') else ""
        group_line = table == "[dependency-groups]" and named
        if group_line and canonicalize_name(Requirement(named).name) in requirements:
            continue
        kept.append(line)
    return "".join(kept)


@dataclass(frozen=True)
class Prepped:
    """The prep commits (repo -> commit) and the packages they left to the index."""

    commits: dict[str, str]
    from_index: set[str]


def without_unreachable_sources(
    workspace: Path,
    repos: tuple[str, ...],
    unreachable: Callable[[str], bool],
    on_index: Callable[[str], bool],
) -> Prepped:
    """One prep commit per clone whose LOCK needs a git source this machine cannot reach.

    It removes those `[tool.uv.sources]` entries (uv then takes the package from the index)
    and, for a package the index does not have either, the dependency-group lines that
    require it; nothing else. The commit goes on the release branch.
    """
    made: dict[str, str] = {}
    from_index: set[str] = set()
    for repo, sources in git_sources(workspace, repos).items():
        dropped = {canonicalize_name(n) for n, url in sources.items() if unreachable(url)}
        if not dropped:
            continue
        missing = {name for name in dropped if not on_index(name)}
        from_index |= dropped - missing
        clone = workspace / repo
        path = clone / "pyproject.toml"
        before = tomllib.loads(path.read_text())
        path.write_text(_drop_lines(path.read_text(), dropped, missing))
        after = tomllib.loads(path.read_text())
        groups = after.get("dependency-groups", {}).values()
        left = {
            canonicalize_name(Requirement(r).name) for g in groups for r in g if isinstance(r, str)
        }
        assert not missing & left and not dropped & set(after["tool"]["uv"]["sources"]), repo
        assert set(before) == set(after), repo  # no table went with the lines
        urls = ", ".join(sorted(u for n, u in sources.items() if canonicalize_name(n) in dropped))
        why = [f"uv lock would fetch {urls}, which this machine cannot reach."]
        if dropped - missing:
            why.append(
                f"Without the source uv takes {', '.join(sorted(dropped - missing))} "
                "from the index."
            )
        if missing:
            why.append(
                f"{', '.join(sorted(missing))} is on no index, so the dependency-group "
                "requirements that name it go too."
            )
        why.append("Nothing else changes: a prep commit of the rehearsal test, not a release.")
        message = "chore(rehearsal): drop git sources this machine cannot reach\n\n" + " ".join(why)
        _git("-C", str(clone), "commit", "--quiet", "-m", message, "--", "pyproject.toml")
        made[repo] = _git("-C", str(clone), "rev-parse", "HEAD").strip()
        # The rehearsal releases the branch as GitHub has it (origin/<branch>): as pushed.
        branch = default_branch(clone)
        _git("-C", str(clone), "update-ref", f"refs/remotes/origin/{branch}", made[repo])
    return Prepped(made, from_index)
