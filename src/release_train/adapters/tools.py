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
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from release_train.adapters import accounts, command, toolchain
from release_train.adapters.worktree_snapshot import (
    intend_to_add,
    restore,
    snapshot,
    undo_intent_to_add,
)
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


def git_config_env(
    pairs: Sequence[tuple[str, str]], base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """`base`'s GIT_CONFIG_COUNT/KEY_n/VALUE_n entries with `pairs` appended (git's `-c`
    through the environment, which pre-commit passes on to the git it runs)."""
    env = dict(base or {})
    count = int(env.get("GIT_CONFIG_COUNT", "0"))
    for key, value in pairs:
        env[f"GIT_CONFIG_KEY_{count}"] = key
        env[f"GIT_CONFIG_VALUE_{count}"] = value
        count += 1
    if count:
        env["GIT_CONFIG_COUNT"] = str(count)
    return env


def has_pre_commit(worktree: Path) -> bool:
    return (worktree / PRE_COMMIT_CONFIG).is_file()


def pre_commit_home() -> Path:
    """Where hook environments live between runs: under the XDG cache, so they are reused."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "release-train" / "pre-commit"


def pre_commit(
    worktree: Path,
    *,
    repo: str,
    home: Path | None = None,
    timeout: float = 900,
    config_file: Path | None = None,
    skip: Sequence[str] = (),
    git_config: Sequence[tuple[str, str]] = (),
) -> None:
    """`pre-commit run --all-files` over the release edits; LINT_FAILED on any failure.

    Files the release created are marked intent-to-add for the run, so hooks check them as
    the repo's CI will once they are committed; the index is as before afterwards. Every
    file a hook touched gets its pre-hook content back (never autofix). `config_file`
    replaces the repo's config, `skip` is pre-commit's SKIP, and `git_config` (key, value)
    pairs reach the git that fetches hook repositories (a rehearsal's `insteadOf` rewrites).
    """
    before = snapshot(worktree)
    added = intend_to_add(worktree, before)
    home = home or pre_commit_home()
    account = accounts.for_repo_code(worktree, [home])
    env = {
        **secret_free_environment(),
        "PRE_COMMIT_HOME": str(home),
        **git_config_env(git_config, accounts.git_trust(account)),
        "SKIP": ",".join(skip),
    }
    argv = toolchain.argv(toolchain.PRE_COMMIT, *_PRE_COMMIT_RUN)
    if config_file is not None:
        argv += ["--config", str(config_file)]
    try:
        done = command.run(
            argv,
            cwd=worktree,
            env=env,
            user=account,
            timeout=timeout,
            check=False,
            secrets=[secret for _, value in git_config for secret in url_secrets(value)],
            code=ErrorCode.LINT_FAILED,
            repo=repo,
        )
    except ReleaseError as exc:
        raise _as_step_error(exc, ErrorCode.LINT_FAILED, "pre-commit") from exc
    finally:
        undo_intent_to_add(worktree, added)
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
