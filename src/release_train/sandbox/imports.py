"""A workspace's own clones in the stand-in: what each imports as, and URLs that find them.

An import copies, never moves: the stand-in clones each source bare (`--no-local`), so
the workspace's clones, their refs and their working trees stay as they were.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from release_train.adapters.git import git
from release_train.errors import ErrorCode, ReleaseError

GITHUB_PREFIXES = ("https://github.com/", "git@github.com:", "ssh://git@github.com/")


def head_branch(clone: Path) -> str:
    """The branch `clone` has checked out: the default branch its import gets."""
    name = git(clone, "symbolic-ref", "--quiet", "--short", "HEAD", check=False).strip()
    if not name:
        raise ReleaseError(
            ErrorCode.SANDBOX_ERROR,
            f"{clone} has no branch checked out (a detached HEAD): its default branch is unknown",
            repo=clone.name,
            hint="check out the release branch, or pass default_branches for this repo",
        )
    return name


def default_branches(clones: Mapping[str, Path], given: Mapping[str, str] | None) -> dict[str, str]:
    """repo -> default branch: `given`'s where it names one, else the clone's HEAD branch."""
    chosen = dict(given or {})
    return {name: chosen.get(name) or head_branch(path) for name, path in sorted(clones.items())}


def github_rewrites(owner: str, repos: list[str], base_url: str) -> dict[str, str]:
    """GitHub URL prefix of each repo -> its stand-in URL, for `url.<value>.insteadOf <key>`.

    One prefix per repo and spelling (https, scp-like ssh, ssh://), without `.git`, so
    that `…/repo` and `…/repo.git` both map (git keeps the rest of the URL). git picks
    the longest matching prefix, so `omnibase_core` never captures `omnibase_core_x`'s
    URL when both are imported; one that is not imported would still reach the stand-in
    and get its 404, which is what a rehearsal wants (nothing reaches the real GitHub).
    """
    base = base_url.rstrip("/")
    return {
        f"{prefix}{owner}/{repo}": f"{base}/{owner}/{repo}"
        for repo in sorted(repos)
        for prefix in GITHUB_PREFIXES
    }
