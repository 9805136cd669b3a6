"""GitHub's published descriptions come as npm packages: fetch one pinned tarball and cache
the files the contract tests read from it."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path

from release_train.adapters.command import run
from release_train.errors import ErrorCode, ReleaseError


def cache_root() -> Path:
    """`$RELEASE_TRAIN_CACHE`, by default `~/.cache/release-train`."""
    return Path(os.environ.get("RELEASE_TRAIN_CACHE") or Path.home() / ".cache" / "release-train")


def fetch_members(
    package: str, version: str, integrity: str | None, members: Mapping[str, Path]
) -> None:
    """Download `package@version` with `npm pack` and put each archive member at its path.

    `integrity` (npm's `sha512-...`), when given, must match the tarball. The scratch dir
    is beside the cache, so the final moves are same-filesystem renames and two sessions
    fetching at once never see a half-written file.
    """
    target = next(iter(members.values())).parent
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target, prefix=".fetch-") as scratch:
        run(
            ["npm", "pack", f"{package}@{version}", "--silent", "--ignore-scripts"],
            cwd=scratch,
            timeout=300,
            code=ErrorCode.COMMAND_FAILED,
            hint="the contract tests need npm and the npm registry once; later runs use the cache",
        )
        tarballs = sorted(Path(scratch).glob("*.tgz"))
        if len(tarballs) != 1:
            raise ReleaseError(
                ErrorCode.COMMAND_FAILED,
                f"npm pack left {len(tarballs)} tarballs",
                hint="run `npm pack` by hand in an empty directory to see why",
            )
        if integrity is not None:
            check_integrity(tarballs[0], integrity)
        with tarfile.open(tarballs[0]) as archive:
            for name, path in members.items():
                try:
                    member = archive.extractfile(name)
                except KeyError:
                    member = None
                if member is None:
                    raise ReleaseError(
                        ErrorCode.COMMAND_FAILED,
                        f"{package} has no {name}",
                        hint="the pinned version's layout changed; pin the one the tests know",
                    )
                partial = Path(scratch) / path.name
                with member, partial.open("wb") as out:
                    shutil.copyfileobj(member, out)
                os.replace(partial, path)


def check_integrity(tarball: Path, integrity: str) -> None:
    algorithm, _, expected = integrity.partition("-")
    digest = hashlib.new(algorithm, tarball.read_bytes()).digest()
    if base64.b64encode(digest).decode() != expected:
        raise ReleaseError(
            ErrorCode.COMMAND_FAILED,
            f"{tarball.name} does not match the pinned {algorithm} digest",
            hint="the registry served different bytes for a pinned version; do not trust them",
        )
