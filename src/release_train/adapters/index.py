"""Package-index availability: can a resolver really install `name==version` from the index?

A page that lists a file is not enough (DESIGN, "Package index lag"): CDN-fronted indexes
name a just-uploaded file before its download URL answers. So the probe is a real
`uv pip install --no-deps` into a throwaway directory, which downloads the file.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from release_train.adapters import command
from release_train.adapters.tools import display_url, run_uv, url_secrets
from release_train.errors import ErrorCode, ReleaseError

# What uv says when the index does not (yet) serve name==version: the project or the
# version is missing from the Simple page, or the page lists a file the CDN still 404s.
_NOT_YET = (
    "not found in the package registry",
    "there is no version of",
    "no solution found when resolving dependencies",
    "(404 not found)",
)


def installable(
    package: str,
    version: str,
    *,
    index_url: str,
    cache_dir: Path | None = None,
    timeout: float = 120,
) -> bool:
    """True when `package==version` installs from `index_url` alone; False when not yet.

    Without `cache_dir` uv runs cache-less; with one, the package's own pages and files are
    refreshed, so only unrelated data (build backends of an sdist) comes from the cache and
    nothing cached can fake availability. Any other failure is INDEX_ERROR.
    """
    requirement = f"{package}=={version}"
    with tempfile.TemporaryDirectory(prefix="release-train-installable-") as target:
        argv = [
            "uv",
            "pip",
            "install",
            "--no-deps",
            "--target",
            target,
            "--python",
            sys.executable,
            "--link-mode",
            "copy",  # a throwaway target: hard links to the cache would only warn
            "--default-index",
            index_url,
            *(["--refresh-package", package] if cache_dir else ["--no-cache"]),
            requirement,
        ]
        try:
            done = run_uv(
                argv,
                index_url=index_url,
                cache_dir=cache_dir,
                code=ErrorCode.INDEX_ERROR,
                repo=package,
                timeout=timeout,
            )
        except ReleaseError as exc:
            raise _index_error(exc.message, requirement, index_url) from exc
    if done.returncode == 0:
        return True
    output = command.mask(command.tail(done.stderr + done.stdout), url_secrets(index_url))
    if any(marker in output.lower() for marker in _NOT_YET):
        return False
    raise _index_error("uv could not install it", requirement, index_url, output)


def _index_error(
    cause: str, requirement: str, index_url: str, output: str | None = None
) -> ReleaseError:
    shown = display_url(index_url)
    return ReleaseError(
        ErrorCode.INDEX_ERROR,
        f"cannot tell whether {requirement} is on {shown}: {cause}",
        repo=requirement.partition("==")[0],
        hint=f"check that {shown} is the index's Simple API URL and that it answers",
        output=output,
    )


def wait_installable(
    package: str,
    version: str,
    *,
    index_url: str,
    timeout: float,
    first_wait: float = 1.0,
    max_wait: float = 30.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    on_wait: Callable[[float], None] | None = None,
) -> bool:
    """Poll `installable` with exponential backoff until it is True or `timeout` passes.

    Never sleeps past the deadline. An index error is tried again while time remains (an
    index blips); if the last attempt before the deadline still failed, it is raised, so a
    wrong URL is not reported as a mere timeout.
    """
    deadline = clock() + timeout
    wait = first_wait
    while True:
        error: ReleaseError | None = None
        try:
            if installable(package, version, index_url=index_url):
                return True
        except ReleaseError as exc:
            if exc.code != ErrorCode.INDEX_ERROR:
                raise
            error = exc
        remaining = deadline - clock()
        if remaining <= 0:
            if error is not None:
                raise error
            return False
        pause = min(wait, max_wait, remaining)
        if on_wait is not None:
            on_wait(pause)
        sleep(pause)
        wait = min(wait * 2, max_wait)
