"""Git through subprocess argv lists: scanning for the plan, and what the builders write."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from release_train.adapters import command
from release_train.errors import ErrorCode, ReleaseError

# Unit and record separators cannot appear in commit messages git accepts from
# `commit -m`/fast-import in practice, unlike NUL-free printable text.
_FIELD = "\x1f"
_RECORD = "\x1e"


@dataclass(frozen=True)
class TagRef:
    name: str
    commit: str  # the commit the tag points at (peeled for annotated tags)


# Options every git call runs with. The run's clones and worktrees hold files that repo code
# (pre-commit hooks, build backends) can write, .git/hooks and .git/config among them: no
# hook (a planted pre-push would run with the push's credentials) and no fsmonitor command
# may run. Command-line config outranks every config file, and `/dev/null` as hooks
# directory holds no hook at all, so there is no directory to keep empty.
SAFE_OPTIONS = ("-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false")


class LoggedCommit(NamedTuple):  # a NamedTuple: cheap to build by the ten thousand
    sha: str
    message: str


def git_argv(repo: Path, *args: str) -> list[str]:
    """`git -C repo args...` with hooks and fsmonitor off: the argv of every git call."""
    return ["git", *SAFE_OPTIONS, "-C", str(repo), *args]


def git(
    repo: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    input_text: str | None = None,
    timeout: float = 300.0,
    pass_fds: Sequence[int] = (),
) -> str:
    """Run `git -C repo args...` and return stdout; failures are `GIT_FAILED`."""
    done = command.run(
        git_argv(repo, *args),
        env=env,
        check=check,
        code=ErrorCode.GIT_FAILED,
        repo=repo.name,
        input_text=input_text,
        timeout=timeout,
        pass_fds=pass_fds,
    )
    return done.stdout


def rev_parse(repo: Path, rev: str) -> str:
    return git(repo, "rev-parse", "--verify", f"{rev}^{{commit}}").strip()


def head(repo: Path) -> str:
    return rev_parse(repo, "HEAD")


def tags(repo: Path, globs: Sequence[str]) -> list[TagRef]:
    """Tags matching any of `globs`, sorted by name, whether reachable from a branch or not.

    One `for-each-ref` lists them all with their peeled commits; nothing here walks history.
    """
    if not globs:
        return []
    out = git(
        repo,
        "for-each-ref",
        f"--format=%(refname:strip=2){_FIELD}%(objectname){_FIELD}%(*objectname)",
        *(f"refs/tags/{glob}" for glob in globs),
    )
    found = []
    for line in out.splitlines():
        name, obj, peeled = line.split(_FIELD)
        found.append(TagRef(name, peeled or obj))
    return sorted(found, key=lambda t: t.name)


def log_excluding(repo: Path, until: str, exclude: Sequence[str]) -> list[LoggedCommit]:
    """Every commit reachable from `until` and from none of `exclude`, oldest first, in one call.

    The revisions go through stdin (`^<sha>` lines): a repo with hundreds of release tags
    would otherwise overflow the argv limit, and one git process stays one process.
    """
    revs = "".join(f"^{sha}\n" for sha in exclude)
    out = git(
        repo,
        "log",
        "--reverse",
        f"--format={_RECORD}%H{_FIELD}%B",
        "--stdin",
        "--",
        input_text=f"{until}\n{revs}",
    )
    return [
        LoggedCommit(record[:40], record[41:].rstrip("\n")) for record in out.split(_RECORD)[1:]
    ]


def show_file(repo: Path, rev: str, path: str) -> str | None:
    """The text of `path` at `rev`, or None when it does not exist there."""
    done = command.run(
        git_argv(repo, "show", f"{rev}:{path}"),
        check=False,
        code=ErrorCode.GIT_FAILED,
        repo=repo.name,
    )
    if done.returncode != 0:
        if "does not exist" in done.stderr or "exists on disk, but not in" in done.stderr:
            return None
        raise ReleaseError(
            ErrorCode.GIT_FAILED,
            f"cannot read {path} at {rev}: {done.stderr.strip()}",
            repo=repo.name,
            hint=f"check that {rev} exists in the clone (`git -C {repo} fetch`)",
        )
    return done.stdout


def is_repository(path: Path) -> bool:
    done = command.run(
        git_argv(path, "rev-parse", "--is-inside-work-tree"),
        check=False,
        code=ErrorCode.GIT_FAILED,
    )
    return done.returncode == 0 and done.stdout.strip() == "true"
