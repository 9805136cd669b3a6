"""The unprivileged account repo code runs as when release-train itself runs as root.

In the Docker action release-train is root; a hook or build backend run as root could read
whatever the process holds. As another account it can read neither our /proc entries nor the
askpass directory, and it can write only what is handed to it: the worktree's files and its
caches, never the worktree's `.git` link or the clone's git directory.
"""

from __future__ import annotations

import os
import pwd
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from release_train.adapters.command import RunAs

ACCOUNT_VARIABLE = "RELEASE_TRAIN_RUN_AS"
DEFAULT_ACCOUNT = "release-train-runner"  # the Docker image creates it
# A worktree's top directory: root's, group-writable for the account, sticky so that the
# account cannot remove or replace the `.git` link it does not own; setgid keeps the group.
_TOP_MODE = 0o3775


def repo_code_account(environ: Mapping[str, str] | None = None) -> RunAs | None:
    """The account named by RELEASE_TRAIN_RUN_AS (default release-train-runner) when we
    are root and it exists; None otherwise (repo code then runs as we do)."""
    if os.geteuid() != 0:
        return None
    name = (os.environ if environ is None else environ).get(ACCOUNT_VARIABLE, DEFAULT_ACCOUNT)
    if not name:
        return None
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    home = Path(entry.pw_dir)
    if not home.is_dir() or home.stat().st_uid != entry.pw_uid:
        home = Path(tempfile.gettempdir()) / f"release-train-home-{entry.pw_uid}"
        home.mkdir(mode=0o700, exist_ok=True)
        os.chown(home, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
    return RunAs(entry.pw_uid, entry.pw_gid, home)


def for_repo_code(worktree: Path, writable: Iterable[Path]) -> RunAs | None:
    """The account repo code runs as (when we are root), with `worktree` handed to it."""
    account = repo_code_account()
    if account is not None:
        hand_over(account, worktree, writable)
    return account


def git_trust(account: RunAs | None) -> dict[str, str]:
    """Git config for repo code run as `account`: the worktree's top and git dir are ours,
    which git run by a hook would otherwise refuse as "dubious ownership"."""
    if account is None:
        return {}
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "safe.directory",
        "GIT_CONFIG_VALUE_0": "*",
    }


def hand_over(account: RunAs, worktree: Path, writable: Iterable[Path] = ()) -> None:
    """Let `account` write `worktree`'s files (not its `.git` link) and the `writable` dirs."""
    for directory in writable:
        directory.mkdir(parents=True, exist_ok=True)
        _chown_tree(directory, account)
    os.chown(worktree, os.geteuid(), account.gid, follow_symlinks=False)
    worktree.chmod(_TOP_MODE)
    for child in sorted(worktree.iterdir()):
        if child.name != ".git":
            _chown_tree(child, account)


def _chown_tree(root: Path, account: RunAs) -> None:
    # Never through a symlink: a link the repo planted must not hand over its target.
    os.chown(root, account.uid, account.gid, follow_symlinks=False)
    if root.is_symlink() or not root.is_dir():
        return
    for parent, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            os.chown(Path(parent) / name, account.uid, account.gid, follow_symlinks=False)
