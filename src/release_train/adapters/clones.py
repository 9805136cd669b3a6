"""Run-owned git: fresh clones from the server, worktrees, and the token passed by askpass.

The token never appears in a URL, an argv, a config file or an environment: git asks
`GIT_ASKPASS` for it when the server challenges, and the askpass script reads it from a
file descriptor that exists only while that one git command runs: an unlinked file the
git process inherits (DESIGN defect 13: a person's working copy is never touched).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from release_train.adapters.backoff import Backoff, git_backoff, transient_git_failure
from release_train.adapters.git import git, is_repository
from release_train.errors import ErrorCode, ReleaseError

TOKEN_FD_VARIABLE = "RELEASE_TRAIN_GIT_TOKEN_FD"  # noqa: S105 (a variable's name, not a secret)
USERNAME = "x-access-token"
# The descriptor is opened anew through /proc, so every ask reads the token from its start:
# a blobless clone's lazy fetches ask again in child processes that share the offset.
# Without /proc (macOS), Python's pread does the same, slower.
ASKPASS = """#!/bin/sh
# release-train's askpass: git asks for the password (the username is configured); the
# token comes from the file descriptor git inherited, never from the environment.
case "$1" in
  Username*) echo {username}; exit 0 ;;
esac
fd="${variable}"
if [ -r "/proc/self/fd/$fd" ]; then
  IFS= read -r token < "/proc/self/fd/$fd"
else
  token=$("{python}" -I -c \\
    'import os, sys; print(os.pread(int(sys.argv[1]), 1 << 16, 0).decode())' "$fd")
fi
printf '%s\\n' "$token"
"""


@dataclass(frozen=True)
class GitAuth:
    """How git authenticates to the server: an askpass script, the token held in memory."""

    askpass: Path | None
    token: str | None = field(repr=False)  # never in a traceback's or a log's repr
    # How server-bound git commands retry a network failure (issue 12, item 6).
    retry: Backoff = field(default_factory=git_backoff, compare=False)

    @classmethod
    def for_token(cls, token: str | None, directory: Path) -> GitAuth:
        if not token:
            return cls(None, None)
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(0o700)  # repo code run as another account cannot swap the script
        script, text = directory / "askpass", _askpass_text()
        if not script.exists() or script.read_text() != text:
            tmp = directory / f".askpass.{os.getpid()}"
            tmp.write_text(text)
            tmp.chmod(0o700)
            tmp.replace(script)
        return cls(script, token)

    @property
    def env(self) -> dict[str, str]:
        """What every git call gets: no credential helper may store a token, no prompt hang."""
        return {
            "GIT_TERMINAL_PROMPT": "0",
            "GCM_INTERACTIVE": "never",
            "GIT_CONFIG_COUNT": "2",
            "GIT_CONFIG_KEY_0": "credential.helper",
            "GIT_CONFIG_VALUE_0": "",
            "GIT_CONFIG_KEY_1": "credential.username",
            "GIT_CONFIG_VALUE_1": USERNAME,
        }

    @contextlib.contextmanager
    def session(self) -> Iterator[tuple[dict[str, str], tuple[int, ...]]]:
        """(env, fds) for one git command that may talk to the server.

        The token lives in an unlinked file for as long as the command runs, so no process
        started later (a pre-commit hook) finds it in our environment, a file or our fds.
        """
        if self.askpass is None or self.token is None:
            yield self.env, ()
            return
        with tempfile.TemporaryFile() as secret:
            secret.write(self.token.encode())
            secret.flush()
            fd = secret.fileno()
            env = {**self.env, "GIT_ASKPASS": str(self.askpass), TOKEN_FD_VARIABLE: str(fd)}
            yield env, (fd,)


def _askpass_text() -> str:
    values = {"{python}": sys.executable, "{variable}": TOKEN_FD_VARIABLE, "{username}": USERNAME}
    text = ASKPASS
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text


def authed(auth: GitAuth, repo: Path, *args: str, timeout: float = 300.0) -> str:
    """`git -C repo args` that may talk to the server; tried again when the network failed.

    Only a transient failure (a 5xx, a dropped or refused connection) is retried: a rejected
    push fails at once, and a refused token is PERMISSION_DENIED with the remote's words.
    Every command here is safe to repeat: a fetch starts over, a push that landed before
    its answer was lost finds the ref already there (fresh_clone retries a clone whole).
    """
    return auth.retry.retrying(
        lambda: authed_once(auth, repo, *args, timeout=timeout), transient_git_failure
    )


def authed_once(auth: GitAuth, repo: Path, *args: str, timeout: float = 300.0) -> str:
    """One try of `authed`, for a caller that retries a larger unit itself (a clone)."""
    try:
        with auth.session() as (env, fds):
            return git(repo, *args, env=env, timeout=timeout, pass_fds=fds)
    except ReleaseError as exc:
        refused = denied(exc, args[0] if args else "git")
        if refused is None:
            raise
        raise refused from exc


# What git prints when the server refuses the credentials (401) or the access (403).
_DENIED = (
    "the requested url returned error: 401",
    "the requested url returned error: 403",
    "authentication failed",
    "invalid username or token",
    "write access to repository not granted",
    "permission to ",
    "could not read username",
)


def denied(exc: ReleaseError, doing: str) -> ReleaseError | None:
    """PERMISSION_DENIED for a git failure whose output says the token was refused, carrying
    the remote's own words (not only in the state JSON); None for any other failure."""
    output = exc.output or ""
    if exc.code is not ErrorCode.GIT_FAILED or not any(m in output.lower() for m in _DENIED):
        return None
    said = [
        line.split(":", 1)[1].strip()
        for line in output.splitlines()
        if line.startswith(("remote:", "fatal:", "error:")) and line.split(":", 1)[1].strip()
    ]
    return ReleaseError(
        ErrorCode.PERMISSION_DENIED,
        f"git {doing} was refused: " + ("; ".join(dict.fromkeys(said)) or "access denied"),
        repo=exc.repo,
        hint="the token must be valid and may push to the repo (contents: write); "
        "see docs/tokens.md",
        output=exc.output,
    )


def repo_url(server_url: str, owner: str, repo: str) -> str:
    return f"{server_url.rstrip('/')}/{owner}/{repo}.git"


@contextlib.contextmanager
def locked(clone: Path) -> Iterator[None]:
    """Hold `.<clone>.lock` while cloning or fetching: two runs on one machine share
    `work/clones/<owner>/<repo>`, and two clones into one `.partial` directory fail (or
    half-succeed). flock dies with its process, so a killed run leaves no lock behind."""
    clone.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(clone.with_name(f".{clone.name}.lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def fresh_clone(url: str, dest: Path, branch: str, auth: GitAuth) -> Path:
    """A blobless clone of `url` in `dest`, or the existing one there brought up to date."""
    with locked(dest):
        return _fresh_clone(url, dest, branch, auth)


def _fresh_clone(url: str, dest: Path, branch: str, auth: GitAuth) -> Path:
    if is_repository(dest):
        authed(auth, dest, "fetch", "--quiet", "--prune", "--tags", "--force", "origin")
        authed(auth, dest, "checkout", "--quiet", "--detach", f"origin/{branch}")
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.partial")

    def clone() -> None:
        if tmp.exists():
            shutil.rmtree(tmp)  # a clone killed or failed halfway (git may leave it)
        authed_once(
            auth,
            dest.parent,
            "clone",
            "--quiet",
            "--filter=blob:none",
            "--branch",
            branch,
            url,
            str(tmp),
        )
        authed_once(auth, tmp, "checkout", "--quiet", "--detach")

    auth.retry.retrying(clone, transient_git_failure)  # each try starts from nothing
    tmp.replace(dest)  # a clone killed halfway is never mistaken for a good one
    return dest


def clear_stale_index_lock(path: Path) -> Path | None:
    """Remove the `index.lock` a killed run left in the worktree at `path`, if no live
    process works in that worktree or holds the file open; the path removed, or None.

    The caller holds the run's lock, so no other release-train process of this run is
    alive; a git child it started may have outlived it, and that one's lock is not stale.
    """
    lock = Path(
        git(path, "rev-parse", "--path-format=absolute", "--git-path", "index.lock").strip()
    )
    if not lock.exists() or _in_use(path, lock):
        return None
    lock.unlink(missing_ok=True)
    return lock


def _in_use(worktree: Path, lock: Path) -> bool:
    """Whether a process (that we may look at) has its cwd in `worktree` or `lock` open."""
    root = worktree.resolve()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cwd = Path(os.readlink(proc / "cwd"))
            if cwd == root or root in cwd.parents:
                return True
            if any(os.readlink(fd) == str(lock) for fd in (proc / "fd").iterdir()):
                return True
        except OSError:
            continue  # gone, or not ours to look at
    return False


def worktree_branch(path: Path) -> str | None:
    if not is_repository(path):
        return None
    return git(path, "branch", "--show-current").strip() or None


def add_worktree(source: Path, path: Path, branch: str, base: str, auth: GitAuth) -> None:
    """A worktree of `source` at `path` on a new `branch` at `base` (reused when it exists)."""
    existing = worktree_branch(path)
    if existing == branch:
        return
    if existing is not None or (path.exists() and any(path.iterdir())):
        raise ReleaseError(
            ErrorCode.WORKTREE_CONFLICT,
            f"{path} exists but is not a worktree on {branch} (found {existing or 'no branch'})",
            hint=f"remove {path} (and `git -C {source} worktree prune`) and resume",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    authed(auth, source, "worktree", "prune")
    # -B: a branch left by a worktree that was removed is ours (its name has the run id).
    authed(auth, source, "worktree", "add", "--quiet", "-B", branch, str(path), base)


def remove_worktree(source: Path, path: Path) -> None:
    if path.exists():
        git(source, "worktree", "remove", "--force", str(path), check=False)
    git(source, "worktree", "prune", check=False)


def has_remote(repo: Path, name: str) -> bool:
    return name in git(repo, "remote").split()


def has_ref(repo: Path, ref: str) -> bool:
    return bool(git(repo, "for-each-ref", "--format=%(refname)", ref).strip())


def dirty(path: Path) -> list[str]:
    return git(path, "status", "--porcelain").splitlines()


def ls_remote(auth: GitAuth, repo: Path, ref: str) -> str | None:
    out = authed(auth, repo, "ls-remote", "origin", ref).split()
    return out[0] if out else None
