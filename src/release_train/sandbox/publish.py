"""The sandbox's release workflow: build a tagged tree with `uv build` and upload it to the index.

Builds see only the sandbox index (no config files, no inherited index variables, an
isolated uv cache), so they work offline and prove that the index holds everything a
release needs; a rehearsal's sandbox reads through its index front, whose upstream has
the real repos' build backends. `SOURCE_DATE_EPOCH` is the commit time, which makes a
rebuild of the same commit byte-identical: a publish that is retried, or raced by a
second trigger for the same tag, finds its own files on the index by digest and is done.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import re
import tarfile
import tempfile
import threading
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from packaging.version import InvalidVersion, Version

from release_train.adapters import command, interpreters, toolchain
from release_train.adapters.git import git
from release_train.adapters.tools import repo_code_environment
from release_train.errors import ErrorCode, ReleaseError
from release_train.sandbox.index import IndexClient, IndexServer, dist_name_version, sha256_of

# The sample family's `[build-system] requires`: seeded into the index from this environment.
BUILD_BACKENDS: tuple[str, ...] = ("flit_core",)
BUILD_TIMEOUT = 300.0
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip can hold: reproducible wheels
_NOT_IN_WHEEL = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})


class ReadIndex(Protocol):
    """Where builds resolve their backends: anything with a Simple API URL (read when used)."""

    @property
    def simple_url(self) -> str: ...


class Publisher(Protocol):
    """What the GitHub stand-in calls when a release tag appears (or on dispatch)."""

    def __call__(self, *, repo: str, bare_repo: Path, tag: str, sha: str) -> list[str]: ...


def release_tag_version(tag: str) -> Version | None:
    """The version of a release tag (`v1.5.0`, `omnibase_core/v1.5.0`); None for other tags."""
    match = re.search(r"v(\d[^/]*)$", tag)
    if match is None:
        return None
    try:
        return Version(match.group(1))
    except InvalidVersion:
        return None


def uv_environment(index_url: str, cache_dir: Path) -> dict[str, str]:
    """Variables that make uv resolve from `index_url` alone, with its own cache.

    Builds run the repo's own code (its build backend), so they get no credentials either:
    this is `repo_code_environment`, which the release steps use too.
    """
    return repo_code_environment(index_url, cache_dir)


def export_tree(git_dir: Path, rev: str, dest: Path) -> int:
    """Write the tree of `rev` (bare or not) into `dest`; return the commit's Unix time."""
    dest.mkdir(parents=True, exist_ok=True)
    archive = dest.parent / f"{dest.name}.tar"
    git(git_dir, "archive", "--format=tar", f"--output={archive}", f"{rev}^{{commit}}")
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    archive.unlink()
    return int(git(git_dir, "log", "-1", "--format=%ct", f"{rev}^{{commit}}").strip())


def build_dists(
    git_dir: Path, rev: str, out_dir: Path, *, index_url: str, cache_dir: Path, repo: str
) -> list[Path]:
    """`uv build` (sdist, then the wheel from it) of the tree at `rev` into `out_dir`."""
    with tempfile.TemporaryDirectory(prefix="release-train-build-") as tmp:
        source = Path(tmp) / "src"
        epoch = export_tree(git_dir, rev, source)
        env = {**uv_environment(index_url, cache_dir), "SOURCE_DATE_EPOCH": str(epoch)}
        argv = toolchain.argv(toolchain.UV, "build", "--no-config", "--default-index", index_url)
        python = build_python(source, index_url=index_url, repo=repo)
        if python is not None:
            argv += ["--python", python]
        command.run(
            [*argv, "--out-dir", str(out_dir), str(source)],
            env=env,
            timeout=BUILD_TIMEOUT,
            code=ErrorCode.PUBLISH_FAILED,
            repo=repo,
            hint="the release workflow's build failed; see the output above",
        )
    return sorted(p for p in out_dir.iterdir() if p.name.endswith((".whl", ".tar.gz")))


def build_python(tree: Path, *, index_url: str, repo: str) -> str | None:
    """The interpreter for the build of `tree`: the one LOCK's discovery picks for its
    `requires-python` (adapters/interpreters.py); None (this Python) when it names none."""
    pyproject = tree / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8") if pyproject.is_file() else ""
    spec = interpreters.requires_python(text)
    if spec is None:
        return None
    found = interpreters.find(spec, index_url=index_url, cwd=tree)
    if found.path is None:
        why = f" (uv: {found.reason})" if found.reason else ""
        raise ReleaseError(
            ErrorCode.PUBLISH_FAILED,
            f"no local Python satisfies requires-python {spec!r}{why}",
            repo=repo,
            hint="install a matching Python (`uv python install`), as the runner of the "
            "release workflow would have one",
        )
    return found.path


def check_versions(files: Sequence[Path], tag: str, *, repo: str) -> None:
    """Refuse to publish a tree whose built version is not the one its tag names."""
    wanted = release_tag_version(tag)
    for path in files:
        _name, built = dist_name_version(path.name)
        if wanted is None or Version(built) != wanted:
            raise ReleaseError(
                ErrorCode.PUBLISH_FAILED,
                f"tag {tag} builds {path.name}, not version {wanted}",
                repo=repo,
                hint="tag the commit whose pyproject.toml carries the released version",
            )


def publish_files(index: IndexClient, files: Iterable[Path], *, repo: str) -> list[str]:
    """Upload what the index lacks; a file already there must have the same digest."""
    names = []
    for path in files:
        if not _already_there(index, path, repo=repo):
            try:
                index.upload([path])
            except ReleaseError:
                # Another trigger for the same tag may have uploaded it meanwhile.
                if not _already_there(index, path, repo=repo):
                    raise
        names.append(path.name)
    return names


def _already_there(index: IndexClient, path: Path, *, repo: str) -> bool:
    existing = index.find(path.name)
    if existing is None:
        return False
    if existing.sha256 != sha256_of(path):
        raise ReleaseError(
            ErrorCode.PUBLISH_FAILED,
            f"{path.name} is already on the index with a different digest",
            repo=repo,
            hint="a published file is never replaced: release a new version instead",
        )
    return True


class IndexPublisher:
    """The `Publisher` of the sandbox: build the tagged commit, upload it to `index`."""

    def __init__(
        self, index: IndexServer, *, cache_dir: Path | None = None, reads: ReadIndex | None = None
    ) -> None:
        self.index = index
        self.reads: ReadIndex = reads or index
        self.cache_dir = cache_dir or index.root / "uv-cache"
        self._upload_lock = threading.Lock()  # two triggers for one tag: one uploads

    def __call__(self, *, repo: str, bare_repo: Path, tag: str, sha: str) -> list[str]:
        with tempfile.TemporaryDirectory(prefix="release-train-publish-") as tmp:
            files = build_dists(
                bare_repo,
                sha,
                Path(tmp),
                index_url=self.reads.simple_url,
                cache_dir=self.cache_dir,
                repo=repo,
            )
            check_versions(files, tag, repo=repo)
            with self._upload_lock:
                return publish_files(self.index, files, repo=repo)


def make_publisher(
    index: IndexServer, *, cache_dir: Path | None = None, reads: ReadIndex | None = None
) -> Publisher:
    """Build and upload to `index`; the build resolves from `reads` (an index front with an
    upstream, for backends the sandbox does not hold) or from `index` itself."""
    return IndexPublisher(index, cache_dir=cache_dir, reads=reads)


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={digest.decode()}"


def _wheel_tag(wheel_metadata: str) -> str:
    """The compressed tag set (`py2.py3-none-any`) of a dist-info `WHEEL` file."""
    tags = [line.split(":", 1)[1].strip() for line in wheel_metadata.splitlines()]
    triples = [t.split("-") for t in tags if t.count("-") == 2]
    if not triples:
        raise ReleaseError(
            ErrorCode.SANDBOX_ERROR,
            "WHEEL metadata names no tag",
            hint="rebuild the wheel: its dist-info/WHEEL lacks a Tag line",
        )
    return "-".join(".".join(sorted({t[i] for t in triples})) for i in range(3))


def wheel_from_installed(dist_name: str, dest_dir: Path) -> Path:
    """Rebuild the wheel of an installed pure-Python distribution from its installed files.

    This is what makes the sandbox work offline: the build backend comes from the
    environment that runs the sandbox, not from a download or a cache that may be empty.
    Bytecode and installer records are left out, and RECORD is written anew.
    """
    dist = importlib.metadata.distribution(dist_name)
    wheel_meta = dist.read_text("WHEEL") or ""
    if "Root-Is-Purelib: true" not in wheel_meta:
        raise ReleaseError(
            ErrorCode.SANDBOX_ERROR,
            f"{dist_name} is not a pure-Python wheel: cannot seed it",
            hint="seed the sandbox index with pure-Python build backends only",
        )
    files = sorted(str(f) for f in dist.files or [])
    # Top level only: a backend may vendor other distributions' dist-info (flit_core does).
    meta_dir = next(f.split("/")[0] for f in files if re.fullmatch(r"[^/]+\.dist-info/METADATA", f))
    kept = [f for f in files if _belongs_in_wheel(f, meta_dir)]
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / f"{meta_dir.removesuffix('.dist-info')}-{_wheel_tag(wheel_meta)}.whl"
    record = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as wheel:
        # dist-info last, as the wheel spec recommends, and RECORD last of all.
        for name in sorted(kept, key=lambda f: (f.startswith(meta_dir), f)):
            data = Path(str(dist.locate_file(name))).read_bytes()
            _write_entry(wheel, name, data)
            record.append(f"{name},{_record_hash(data)},{len(data)}")
        record.append(f"{meta_dir}/RECORD,,")
        _write_entry(wheel, f"{meta_dir}/RECORD", ("\n".join(record) + "\n").encode())
    return target


def _belongs_in_wheel(name: str, meta_dir: str) -> bool:
    parts = name.split("/")
    if parts[0] == ".." or "__pycache__" in parts or name.endswith(".pyc"):
        return False
    return not (parts[0] == meta_dir and len(parts) == 2 and parts[1] in _NOT_IN_WHEEL)


def _write_entry(wheel: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    wheel.writestr(info, data)


def seed_build_backends(
    index: IndexClient, work_dir: Path, names: Sequence[str] = BUILD_BACKENDS
) -> list[str]:
    """Put the wheels of the build backends `names` on the index, from this environment."""
    wheels = [wheel_from_installed(name, work_dir) for name in names]
    return publish_files(index, wheels, repo="sandbox")
