"""The repo's own tools, run as repo-controlled code without credentials: uv lock, pre-commit.

Both run code the repo controls (build backends, hooks), so they get an environment in which
every credential release-train may hold is blank (DESIGN, "Tokens"), and uv sees the
configured index alone. LINT never autofixes (the spec's Sub-Step 6): a hook that rewrites
files fails the step, and the files it touched get back their pre-hook content.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from release_train.adapters import accounts, command, toolchain
from release_train.adapters.git import git
from release_train.errors import ErrorCode, ReleaseError

# Credentials release-train, uv, twine, GitHub Actions or Slack may put in the environment.
SECRET_VARIABLES: tuple[str, ...] = (
    # GitHub: the workflow token, the gh CLI's, an App's key, and our own clone token.
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "GH_ENTERPRISE_TOKEN",
    "GITHUB_ENTERPRISE_TOKEN",
    "GITHUB_APP_PRIVATE_KEY",
    "RELEASE_TRAIN_GIT_TOKEN",
    # Publishing: uv publish, twine, the usual secret names of a PyPI token.
    "UV_PUBLISH_TOKEN",
    "UV_PUBLISH_PASSWORD",
    "TWINE_PASSWORD",
    "PYPI_TOKEN",
    "PYPI_API_TOKEN",
    "HF_TOKEN",  # uv sends it to Hugging Face URLs
    # Actions runtime: cache/artifact access, and the pair that mints OIDC tokens, which is
    # all trusted publishing needs.
    "ACTIONS_RUNTIME_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    # Slack.
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_WEBHOOK_URL",
    # An ssh agent would let a hook push with the caller's key.
    "SSH_AUTH_SOCK",
)
# Names not listed above but secret all the same: a Docker action's inputs arrive as
# INPUT_<NAME> (INPUT_GITHUB-TOKEN), uv's index credentials as UV_INDEX_<NAME>_PASSWORD.
_SECRET_NAME = re.compile(r"TOKEN|PASSWORD|SECRET|PRIVATE_KEY|API_KEY|CREDENTIAL", re.IGNORECASE)
_NOT_SECRET = frozenset({"UV_NO_HF_TOKEN"})  # a flag that merely mentions a token

PRE_COMMIT_CONFIG = toolchain.PRE_COMMIT_CONFIG
LOCK_FILE = "uv.lock"
_DIFF_MARKER = "All changes made by hooks:"  # what --show-diff-on-failure prints first
# uv retries a failed request three times with backoff; the steps that run uv resume and
# the index probe polls, so one retry rides out a blip without hiding a wrong URL for long.
UV_HTTP_RETRIES = "1"
_PRE_COMMIT_RUN = ("run", "--all-files", "--show-diff-on-failure", "--color", "never")


def secret_free_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Blank values for every credential variable: what `command.run` lays over `environ`.

    uv treats an empty variable as unset, and so do git, gh and the Actions toolkit.
    """
    present = os.environ if environ is None else environ
    guessed = (name for name in present if _SECRET_NAME.search(name) and name not in _NOT_SECRET)
    return dict.fromkeys(sorted({*SECRET_VARIABLES, *guessed}), "")


def repo_code_environment(
    index_url: str,
    cache_dir: Path | None,
    *,
    python: str | None = sys.executable,
    python_downloads: str = "never",
) -> dict[str, str]:
    """What repo-controlled code (uv lock, build backends, hooks) runs with: no credentials,
    uv resolving from `index_url` alone (and caching in `cache_dir`, if given).

    Empty values override whatever index the caller's environment names. `python` None
    leaves the interpreter to uv's discovery, which honours the project's requires-python
    (LOCK); `python_downloads` is uv's UV_PYTHON_DOWNLOADS.
    """
    env = {
        **secret_free_environment(),
        "UV_DEFAULT_INDEX": index_url,
        "UV_INDEX_URL": "",
        "UV_INDEX": "",
        "UV_EXTRA_INDEX_URL": "",
        "UV_FIND_LINKS": "",
        "UV_NO_CONFIG": "1",
        "UV_PYTHON": python or "",  # empty: unset for uv, whatever the caller's says
        "UV_PYTHON_DOWNLOADS": python_downloads,
        "UV_NO_PROGRESS": "1",
        "UV_HTTP_RETRIES": UV_HTTP_RETRIES,
    }
    if cache_dir is not None:
        env["UV_CACHE_DIR"] = str(cache_dir)
    return env


def display_url(url: str) -> str:
    """`url` without its user:password part: what may appear in logs and hints."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def url_secrets(url: str) -> tuple[str, ...]:
    """The credential parts of `url`, for `command.run(secrets=...)` to mask."""
    parts = urlsplit(url)
    # A token may sit in the user part alone; a plain user name beside a password is no
    # secret, and masking a short one would mangle the whole output.
    secret = parts.password or parts.username
    return (secret, unquote(secret)) if secret else ()


def run_uv(
    argv: list[str],
    *,
    index_url: str,
    cache_dir: Path | None,
    code: ErrorCode,
    repo: str,
    timeout: float,
    cwd: Path | None = None,
    hint: str | None = None,
    user: command.RunAs | None = None,
    env: Mapping[str, str] | None = None,
) -> command.Completed:
    """uv against `index_url` alone, without tokens, its URL's secrets masked; not checked.

    `env` replaces the default `repo_code_environment(index_url, cache_dir)`.
    """
    return command.run(
        argv,
        cwd=cwd,
        env={
            **(env if env is not None else repo_code_environment(index_url, cache_dir)),
            **accounts.git_trust(user),
        },
        user=user,
        timeout=timeout,
        check=False,
        secrets=url_secrets(index_url),
        code=code,
        repo=repo,
        hint=hint,
    )


def uv_lock(
    worktree: Path,
    *,
    index_url: str,
    cache_dir: Path | None,
    repo: str,
    timeout: float = 600,
    python_downloads: str = "automatic",
) -> bool:
    """`uv lock` in `worktree` against `index_url` alone; False (nothing done) without uv.lock.

    uv picks the interpreter itself, one that satisfies the repo's requires-python (issue
    11, item 4): release-train's own Python is often older than the repos it releases.
    """
    if not (worktree / LOCK_FILE).is_file():
        return False
    shown = display_url(index_url)
    hint = (
        f"uv resolved against {shown} alone: check that every pinned version in "
        "pyproject.toml (a just-released upstream above all) is installable there, "
        "and that the pins can be satisfied together"
    )
    account = accounts.for_repo_code(worktree, [cache_dir] if cache_dir else [])
    try:
        done = run_uv(
            toolchain.argv(toolchain.UV, "lock", "--default-index", index_url),
            index_url=index_url,
            cache_dir=cache_dir,
            code=ErrorCode.LOCK_FAILED,
            repo=repo,
            timeout=timeout,
            cwd=worktree,
            hint=hint,
            user=account,
            env=repo_code_environment(
                index_url, cache_dir, python=None, python_downloads=python_downloads
            ),
        )
    except ReleaseError as exc:
        raise _as_step_error(exc, ErrorCode.LOCK_FAILED, "uv lock") from exc
    if done.returncode != 0:
        raise ReleaseError(
            ErrorCode.LOCK_FAILED,
            "uv lock failed",
            repo=repo,
            hint=hint,
            output=command.mask(command.tail(done.stderr + done.stdout), url_secrets(index_url)),
        )
    return True


def _as_step_error(exc: ReleaseError, code: ErrorCode, tool: str) -> ReleaseError:
    """A timeout of a step's tool is that step's failure, so resume and reports see one code."""
    if exc.code == code:
        return exc
    return ReleaseError(code, f"{tool}: {exc.message}", repo=exc.repo, hint=exc.hint)


def has_pre_commit(worktree: Path) -> bool:
    return (worktree / PRE_COMMIT_CONFIG).is_file()


def pre_commit_home() -> Path:
    """Where hook environments live between runs: under the XDG cache, so they are reused."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "release-train" / "pre-commit"


def pre_commit(
    worktree: Path, *, repo: str, home: Path | None = None, timeout: float = 900
) -> None:
    """`pre-commit run --all-files` over the release edits; LINT_FAILED on any failure.

    Files the release created are marked intent-to-add for the run, so hooks check them as
    the repo's CI will once they are committed; the index is as before afterwards. Every
    file a hook touched gets its pre-hook content back (never autofix).
    """
    before = snapshot(worktree)
    added = _intend_to_add(worktree, before)
    home = home or pre_commit_home()
    account = accounts.for_repo_code(worktree, [home])
    env = {**secret_free_environment(), "PRE_COMMIT_HOME": str(home), **accounts.git_trust(account)}
    try:
        done = command.run(
            toolchain.argv(toolchain.PRE_COMMIT, *_PRE_COMMIT_RUN),
            cwd=worktree,
            env=env,
            user=account,
            timeout=timeout,
            check=False,
            code=ErrorCode.LINT_FAILED,
            repo=repo,
        )
    except ReleaseError as exc:
        raise _as_step_error(exc, ErrorCode.LINT_FAILED, "pre-commit") from exc
    finally:
        _undo_intent_to_add(worktree, added)
        restored = restore(worktree, before)
    if done.returncode != 0:
        touched = f"; restored what hooks changed: {_some(restored)}" if restored else ""
        raise ReleaseError(
            ErrorCode.LINT_FAILED,
            f"pre-commit failed{touched}",
            repo=repo,
            hint="fix the repo (release-train never autofixes) and resume the run",
            output=_lint_output(done.stdout + done.stderr),
        )


def _lint_output(text: str, diff_lines: int = 20) -> str:
    """Which hooks failed and why, then the start of the diff they made.

    `--show-diff-on-failure` prints the diff last; a plain tail would keep only its end
    and drop the hook summaries that say what failed.
    """
    summary, marker, diff = text.partition(_DIFF_MARKER)
    if not marker:
        return command.tail(text)
    lines = diff.strip("\n").splitlines()
    more = (
        [f"... ({len(lines) - diff_lines} more lines of diff)"] if len(lines) > diff_lines else []
    )
    return "\n".join([command.tail(summary), marker.strip(), *lines[:diff_lines], *more])


def _some(paths: list[str], shown: int = 5) -> str:
    more = f" and {len(paths) - shown} more" if len(paths) > shown else ""
    return ", ".join(paths[:shown]) + more


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


def _intend_to_add(worktree: Path, before: Snapshot) -> list[str]:
    paths = sorted(before.untracked)
    if paths:
        _git_paths(worktree, ["add", "--intent-to-add"], paths)
    return paths


def _undo_intent_to_add(worktree: Path, paths: list[str]) -> None:
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
