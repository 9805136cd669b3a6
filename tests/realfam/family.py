"""Builders for the real OmniNode family's clones and the config the issue names."""

from __future__ import annotations

import subprocess
from pathlib import Path

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
