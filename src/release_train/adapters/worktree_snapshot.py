"""What LINT puts back when a hook rewrote files: a snapshot of the work tree as git sees
it (the paths that differ from HEAD, with their bytes and modes), and its restore.

LINT never autofixes (the spec's Sub-Step 6): the files a hook touched get back their
pre-hook content, and the step fails naming them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from release_train.adapters.git import git
from release_train.errors import ErrorCode, ReleaseError


@dataclass(frozen=True)
class FileState:
    """What restoring a path needs: its bytes and mode, or the target of a symlink."""

    data: bytes
    mode: int
    link: str | None = None


@dataclass(frozen=True)
class Snapshot:
    """The work tree as git sees it: the paths that differ from HEAD, with their content.

    Every other path is clean (work tree = index = HEAD), so git itself can restore it.
    """

    dirty: frozenset[str]
    untracked: frozenset[str]
    files: Mapping[str, FileState]


def _status(worktree: Path) -> list[tuple[str, str]]:
    """(XY code, path) of every path that differs from HEAD or is untracked (not ignored)."""
    out = git(worktree, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames")
    return [(entry[:2], entry[3:]) for entry in out.split("\0") if entry]


def _file_state(path: Path) -> FileState | None:
    if path.is_symlink():
        return FileState(b"", 0, os.readlink(path))
    if path.is_file():
        return FileState(path.read_bytes(), path.stat().st_mode & 0o7777)
    return None  # deleted, or a directory (a submodule): nothing of ours to restore


def snapshot(worktree: Path) -> Snapshot:
    status = _status(worktree)
    dirty = frozenset(path for _code, path in status)
    files = {p: s for p in sorted(dirty) if (s := _file_state(worktree / p)) is not None}
    untracked = frozenset(path for code, path in status if code == "??")
    return Snapshot(dirty, untracked, files)


def intend_to_add(worktree: Path, before: Snapshot) -> list[str]:
    paths = sorted(before.untracked)
    if paths:
        _git_paths(worktree, ["add", "--intent-to-add"], paths)
    return paths


def undo_intent_to_add(worktree: Path, paths: list[str]) -> None:
    if paths:
        _git_paths(worktree, ["reset", "-q"], paths)


def _git_paths(worktree: Path, args: list[str], paths: list[str]) -> None:
    """`git <args> -- <paths>`, the paths fed NUL-separated on stdin and taken literally."""
    git(
        worktree,
        "--literal-pathspecs",
        *args,
        "--pathspec-from-file=-",
        "--pathspec-file-nul",
        input_text="\0".join(paths) + "\0",
    )


def restore(worktree: Path, before: Snapshot) -> list[str]:
    """Put back every path that changed since `before`; return them, sorted."""
    # A path clean before is changed if git now lists it; a dirty one if its content moved.
    changed = {path for _code, path in _status(worktree) if path not in before.dirty}
    changed.update(
        path for path in before.dirty if _file_state(worktree / path) != before.files.get(path)
    )
    from_git = []
    for path in sorted(changed):
        if path in before.files:
            _write_back(worktree / path, before.files[path])
        elif path not in before.dirty and _tracked(worktree, path):
            from_git.append(path)  # clean before: the index holds its content
        else:
            _remove(worktree, path)  # created by the hooks
    if from_git:
        _git_paths(worktree, ["checkout"], from_git)
    return sorted(changed)


def _tracked(worktree: Path, path: str) -> bool:
    out = git(worktree, "--literal-pathspecs", "ls-files", "-z", "--", path)
    return bool(out.strip("\0"))


def _write_back(path: Path, state: FileState) -> None:
    if path.is_symlink() or path.exists():
        _unlink(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if state.link is not None:
        path.symlink_to(state.link)
        return
    path.write_bytes(state.data)
    path.chmod(state.mode)


def _remove(worktree: Path, path: str) -> None:
    target = worktree / path
    if target.is_symlink() or target.is_file():
        target.unlink()
    # Leave no empty directory behind that the hooks made for it.
    parent = target.parent
    while parent != worktree and parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent


def _unlink(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        raise ReleaseError(
            ErrorCode.LINT_FAILED,
            f"a hook replaced {path.name} by a directory; cannot restore it",
            hint="restore the work tree by hand, or start the repo's step again",
        )
    path.unlink()
