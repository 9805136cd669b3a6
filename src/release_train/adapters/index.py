"""The package index: which versions it lists, and whether a resolver can install one.

Listing is one read-only Simple API query. For availability, a page that lists a file is
not enough (DESIGN, "Package index lag"): CDN-fronted indexes name a just-uploaded file
before its download URL answers. So that probe is a real `uv pip install --no-deps` into a
throwaway directory, which downloads the file.
"""

from __future__ import annotations

import base64
import json
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from release_train.adapters import command, toolchain
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


_SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
_HREF = re.compile(r"""<a\s[^>]*?href\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


def released_versions(package: str, *, index_url: str, timeout: float = 15.0) -> tuple[str, ...]:
    """Every version of `package` on the index, lowest first; () when it has no such project.

    One GET of the project page asking for PEP 691 JSON; an index that answers with the
    HTML page instead (pypiserver does) is read as PEP 503. Versions come from PEP 700's
    `versions` list when present, else from the file names. Any failure is INDEX_ERROR.
    """
    # Imported here: only a plan that asks the index pays for http.client and ssl.
    import urllib.error  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415

    url = index_url.rstrip("/") + f"/{canonicalize_name(package)}/"
    parts = urlsplit(url)
    headers = {"Accept": f"{_SIMPLE_JSON}, text/html;q=0.1"}
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        url = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (the configured index)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310
            body = reply.read().decode("utf-8", errors="replace")
            content_type = reply.headers.get_content_type()
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 404:
            return ()
        raise _listing_error(package, index_url, f"HTTP {exc.code}") from None
    except (OSError, ValueError) as exc:  # URLError, timeouts, refused connections, bad URLs
        raise _listing_error(package, index_url, str(getattr(exc, "reason", exc))) from None
    try:
        found = _json_versions(body) if content_type == _SIMPLE_JSON else _html_versions(body)
    except (ValueError, TypeError, KeyError) as exc:
        raise _listing_error(package, index_url, f"unreadable project page ({exc})") from None
    return tuple(str(v) for v in sorted(found))


def _json_versions(body: str) -> set[Version]:
    data = json.loads(body)
    if isinstance(data.get("versions"), list):  # PEP 700 (API 1.1)
        return {v for v in map(_version, data["versions"]) if v is not None}
    return {v for v in (_file_version(f["filename"]) for f in data["files"]) if v is not None}


def _html_versions(body: str) -> set[Version]:
    names = (unquote(href.split("#", 1)[0].rsplit("/", 1)[-1]) for href in _HREF.findall(body))
    return {v for v in map(_file_version, names) if v is not None}


def _file_version(filename: str) -> Version | None:
    """The version of a wheel or sdist file name; None for anything else (eggs, .exe, ...)."""
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[1]
        return parse_sdist_filename(filename)[1]
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None


def _version(text: object) -> Version | None:
    try:
        return Version(str(text))
    except ValueError:
        return None


def _listing_error(package: str, index_url: str, cause: str) -> ReleaseError:
    shown = display_url(index_url)
    return ReleaseError(
        ErrorCode.INDEX_ERROR,
        f"cannot list the versions of {package} on {shown}: {cause}",
        repo=package,
        hint=f"check that {shown} is the index's Simple API URL and that it answers",
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
            *toolchain.argv(toolchain.UV, "pip"),
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
