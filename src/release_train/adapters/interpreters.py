"""Preflight NO_INTERPRETER: can uv find a Python for each repo's `requires-python`, as LOCK will?

LOCK lets uv discover the interpreter (issue 11, item 4), so the check asks uv the same
question with the same environment: `uv python find '<requires-python>'`. A repo without
`uv.lock` is never locked and a repo without `requires-python` takes any Python: neither
is asked about.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from release_train.adapters import command, git, toolchain
from release_train.adapters.tools import LOCK_FILE, repo_code_environment
from release_train.adapters.workspace import Manifest
from release_train.config import Config, PythonDownloads
from release_train.core.problems import Problem, Severity
from release_train.errors import ErrorCode, ReleaseError

FIND_TIMEOUT = 60.0  # uv queries every candidate on PATH; a slow shim costs a second, not more


@dataclass(frozen=True)
class Found:
    """uv's answer for one `requires-python`: the interpreter's path, or why there is none."""

    spec: str
    path: str | None
    reason: str = ""


def requires_python(text: str) -> str | None:
    """`project.requires-python` of a pyproject's text; None when absent or unreadable.

    An unreadable pyproject is the plan's own error (PYPROJECT_INVALID), not this check's.
    """
    try:
        project = tomllib.loads(text).get("project")
    except tomllib.TOMLDecodeError:
        return None
    spec = project.get("requires-python") if isinstance(project, dict) else None
    return spec.strip() or None if isinstance(spec, str) else None


def find(spec: str, *, index_url: str, cwd: Path | None = None) -> Found:
    """`uv python find <spec>` in the environment LOCK runs uv with (downloads play no part)."""
    done = command.run(
        toolchain.argv(toolchain.UV, "python", "find", spec),
        cwd=cwd,
        env=repo_code_environment(index_url, None, python=None),
        timeout=FIND_TIMEOUT,
        check=False,
        code=ErrorCode.NO_INTERPRETER,
    )
    if done.returncode == 0 and done.stdout.strip():
        return Found(spec, done.stdout.strip().splitlines()[-1])
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    return Found(spec, None, errors[0].removeprefix("error:").strip() if errors else "")


def lock_specs(
    config: Config, manifests: Mapping[str, Manifest], selected: Sequence[str]
) -> dict[str, str]:
    """repo -> `requires-python`, for each selected repo that LOCK will lock at its rev."""
    specs = {}
    for repo in selected:
        manifest = manifests[repo]
        if not _tracked(manifest.path, manifest.rev, LOCK_FILE):
            continue
        text = git.show_file(manifest.path, manifest.rev, config.repos[repo].pyproject)
        spec = requires_python(text) if text is not None else None
        if spec is not None:
            specs[repo] = spec
    return specs


def _tracked(path: Path, rev: str, name: str) -> bool:
    # ls-tree, not show: a real uv.lock runs to megabytes that the check never reads.
    return bool(git.git(path, "ls-tree", "--name-only", rev, "--", name).strip())


def check(
    config: Config, manifests: Mapping[str, Manifest], selected: Sequence[str]
) -> list[Problem]:
    """NO_INTERPRETER findings: an error, or a warning where uv may download the Python."""
    specs = lock_specs(config, manifests, selected)
    distinct = sorted(set(specs.values()))  # six repos usually share one or two specs
    try:
        # Each find may query every Python on PATH (a pyenv shim costs ~0.1 s): in parallel.
        with ThreadPoolExecutor(max_workers=max(1, len(distinct))) as pool:
            answers = pool.map(lambda spec: find(spec, index_url=config.index_url), distinct)
            found = {answer.spec: answer for answer in answers}
    except ReleaseError as exc:  # uv missing or hanging: LOCK could not run either
        return [Problem.from_error(exc, repo) for repo in sorted(specs)]
    return [
        _problem(repo, found[spec], config.python_downloads)
        for repo, spec in sorted(specs.items())
        if found[spec].path is None
    ]


def start(
    config: Config, manifests: Mapping[str, Manifest], selected: Sequence[str]
) -> Future[list[Problem]]:
    """`check` on a thread of its own: uv's discovery then overlaps the plan's git scan."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="interpreters")
    future = pool.submit(check, config, manifests, selected)
    pool.shutdown(wait=False)  # the thread ends with its one task
    return future


def _problem(repo: str, found: Found, downloads: PythonDownloads) -> Problem:
    why = f" (uv: {found.reason})" if found.reason else ""
    missing = f"no local Python satisfies requires-python {found.spec!r}{why}"
    if downloads is PythonDownloads.AUTOMATIC:
        return Problem(
            repo,
            ErrorCode.NO_INTERPRETER,
            Severity.WARNING,
            f"{missing}; uv will download one at LOCK",
            hint="LOCK then needs to reach uv's Python downloads; install a matching "
            'Python on the runner, or set python_downloads = "never" to refuse instead',
        )
    return Problem(
        repo,
        ErrorCode.NO_INTERPRETER,
        Severity.ERROR,
        f"{missing}, and python_downloads = {str(downloads)!r} forbids uv to download one",
        hint="install a matching Python on the runner (actions/setup-python, or "
        '`uv python install`), or set python_downloads = "automatic"',
    )
