"""The hook repositories LINT's pre-commit fetches: skipped hooks left out, the rest reached first.

pre-commit's own `SKIP` still clones every repository its config names, so a skipped
hook whose repository is unreachable (a private repo, no network) would fail the run all
the same: the config pre-commit reads is the repo's own minus the skipped hooks. Each
remaining repository is asked for with `git ls-remote` (bounded, no prompts) under the git
config pre-commit's git will have, so an unreachable one fails LINT naming it, instead of
in the middle of pre-commit's traceback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from release_train.adapters import command
from release_train.adapters.tools import (
    PRE_COMMIT_CONFIG,
    display_url,
    git_config_env,
    secret_free_environment,
    url_secrets,
)
from release_train.errors import ErrorCode, ReleaseError

REACH_TIMEOUT = 30.0  # a hook repository that does not answer within this is unreachable
_NOT_FETCHED = frozenset({"local", "meta"})  # repositories pre-commit never clones


@dataclass(frozen=True)
class HookConfig:
    """What pre-commit will run: the config file, the hooks left out, the repos it fetches."""

    path: Path
    skipped: tuple[str, ...]
    repos: tuple[str, ...]


def rewrite_pairs(rewrites: Mapping[str, str]) -> list[tuple[str, str]]:
    """URL prefix -> replacement as `url.<replacement>.insteadOf = <prefix>`, sorted."""
    return [(f"url.{new}.insteadOf", old) for old, new in sorted(rewrites.items())]


def _load(path: Path, repo: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ReleaseError(
            ErrorCode.LINT_FAILED,
            f"{PRE_COMMIT_CONFIG} cannot be read: {exc}",
            repo=repo,
            hint="fix the repo's pre-commit config and resume the run",
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("repos"), list):
        raise ReleaseError(
            ErrorCode.LINT_FAILED,
            f"{PRE_COMMIT_CONFIG} has no list of repos",
            repo=repo,
            hint="fix the repo's pre-commit config and resume the run",
        )
    return data


def _hook_ids(entry: dict[str, Any]) -> list[str]:
    hooks = entry.get("hooks")
    return [str(h["id"]) for h in hooks or [] if isinstance(h, dict) and "id" in h]


def prepare(worktree: Path, skip: Sequence[str], scratch: Path, *, repo: str) -> HookConfig:
    """The config pre-commit runs with: the repo's own, or (hooks to skip) a copy without them.

    The copy lives in `scratch`, outside the worktree, so the release commit never holds it.
    """
    own = worktree / PRE_COMMIT_CONFIG
    data = _load(own, repo)
    wanted = set(skip)
    skipped: set[str] = set()
    kept = []
    for entry in data["repos"]:
        if not isinstance(entry, dict):
            continue
        ids = _hook_ids(entry)
        skipped |= wanted.intersection(ids)
        hooks = [
            h
            for h in entry.get("hooks") or []
            if not (isinstance(h, dict) and h.get("id") in wanted)
        ]
        if hooks:
            kept.append({**entry, "hooks": hooks})
    repos = sorted({str(e["repo"]) for e in kept if str(e.get("repo")) not in _NOT_FETCHED})
    if not skipped:
        return HookConfig(own, (), tuple(repos))
    scratch.mkdir(parents=True, exist_ok=True)
    path = scratch / f"{repo}-{PRE_COMMIT_CONFIG.lstrip('.')}"
    path.write_text(yaml.safe_dump({**data, "repos": kept}, sort_keys=False), encoding="utf-8")
    return HookConfig(path, tuple(sorted(skipped)), tuple(repos))


def check_reachable(
    urls: Sequence[str],
    pairs: Sequence[tuple[str, str]],
    *,
    repo: str,
    timeout: float = REACH_TIMEOUT,
) -> None:
    """HOOK_UNREACHABLE naming the first hook repository `git ls-remote` cannot reach."""
    env = {
        **secret_free_environment(),
        **git_config_env(pairs),
        "GIT_TERMINAL_PROMPT": "0",  # a repository asking for a password is unreachable
        "GIT_ASKPASS": "",
        "SSH_ASKPASS": "",
    }
    secrets = [secret for _, value in pairs for secret in url_secrets(value)]
    for url in urls:
        why = _unreachable(url, env, secrets, timeout, repo)
        if why is not None:
            raise ReleaseError(
                ErrorCode.HOOK_UNREACHABLE,
                f"pre-commit hook repository {display_url(url)} cannot be reached: {why}",
                repo=repo,
                hint="make it reachable, or add its hooks to lint_skip in the config",
            )


def _unreachable(
    url: str, env: Mapping[str, str], secrets: Sequence[str], timeout: float, repo: str
) -> str | None:
    try:
        done = command.run(
            ["git", "ls-remote", "--quiet", url, "HEAD"],
            env=env,
            timeout=timeout,
            check=False,
            secrets=secrets,
            repo=repo,
        )
    except ReleaseError as exc:  # the timeout
        return exc.message
    if done.returncode == 0:
        return None
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    return command.mask(lines[-1], secrets) if lines else f"git exited {done.returncode}"
