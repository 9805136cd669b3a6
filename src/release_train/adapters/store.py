"""Durable run-state stores: the protocol and atomic local files (see also branch_store)."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from release_train import preflight
from release_train.errors import ErrorCode, ReleaseError

RESUME_HINT = "pick another --run-id, or continue that run with `release-train resume {run_id}`"
# A PUT whose branch moved under it (another file, same branch) is retried this often.
PUT_ATTEMPTS = 3


@dataclass(frozen=True)
class Stored:
    text: str
    archived: bool  # True when found in the archive (a finished run)
    location: str  # path or "owner/repo@branch:runs/<id>.json", for messages


class StateStore(Protocol):
    """Moves one JSON document per run id; the engine (de)serialises and validates it."""

    def create(self, run_id: str, text: str) -> None: ...
    def load(self, run_id: str) -> Stored: ...
    def save(self, run_id: str, text: str) -> None: ...
    def archive(self, run_id: str) -> None: ...
    def runs(self) -> list[tuple[str, bool]]: ...
    def lock(self, run_id: str) -> contextlib.AbstractContextManager[None]: ...
    def describe(self) -> str: ...
    # The family lock's document, by compare-and-swap: `read_lock` gives (text, version);
    # `write_lock` with version None only creates, else only replaces that version (False:
    # someone else wrote first).
    def read_lock(self, name: str) -> tuple[str, str] | None: ...
    def write_lock(self, name: str, text: str, version: str | None) -> bool: ...


def run_exists(run_id: str, where: str) -> ReleaseError:
    # DESIGN defect 14: a second run with the same id must never overwrite the first's state.
    return ReleaseError(
        ErrorCode.RUN_EXISTS,
        f"run {run_id} already has a state at {where}",
        hint=RESUME_HINT.format(run_id=run_id),
    )


def not_text(where: str) -> ReleaseError:
    return ReleaseError(
        ErrorCode.STATE_CORRUPT,
        f"state {where} is not UTF-8 text",
        hint="restore it from the run's artifact or history; it was left untouched",
    )


def not_found(run_id: str, where: str) -> ReleaseError:
    hint = "check the run id (`release-train status` lists runs) and where states are kept"
    return ReleaseError(ErrorCode.STATE_NOT_FOUND, f"no state of {run_id} in {where}", hint=hint)


class LocalStore:
    """`<dir>/<run_id>.json`, finished runs in `<dir>/archive/`; writes survive a crash."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _active(self, run_id: str) -> Path:
        return self.directory / f"{preflight.validate_run_id(run_id)}.json"

    def _archived(self, run_id: str) -> Path:
        return self.directory / "archive" / self._active(run_id).name

    def describe(self) -> str:
        return f"local files in {self.directory}"

    def create(self, run_id: str, text: str) -> None:
        active, archived = self._active(run_id), self._archived(run_id)
        with usable(self.directory, "create the run's state"):
            for path in (active, archived):
                if path.exists():
                    raise run_exists(run_id, str(path))
            self.directory.mkdir(parents=True, exist_ok=True)
            if not _write_durably(active, text, exclusive=True):
                raise run_exists(run_id, str(active))

    def load(self, run_id: str) -> Stored:
        for path, archived in ((self._active(run_id), False), (self._archived(run_id), True)):
            try:
                with usable(self.directory, "read the run's state"):
                    return Stored(path.read_text(encoding="utf-8"), archived, str(path))
            except FileNotFoundError:
                continue
            except UnicodeDecodeError as exc:
                raise not_text(str(path)) from exc
        raise not_found(run_id, str(self.directory))

    def save(self, run_id: str, text: str) -> None:
        path = self._active(run_id)
        with usable(self.directory, "save the run's state"):
            self.directory.mkdir(parents=True, exist_ok=True)
            _write_durably(path, text, exclusive=False)

    def archive(self, run_id: str) -> None:
        """Spec Step 4.2: move the finished run's state into `archive/` (again: a no-op)."""
        active, archived = self._active(run_id), self._archived(run_id)
        if not active.exists():
            if archived.exists():
                return
            raise not_found(run_id, str(self.directory))
        with usable(self.directory, "archive the run's state"):
            archived.parent.mkdir(parents=True, exist_ok=True)
            os.replace(active, archived)
            _fsync_dir(archived.parent)
            _fsync_dir(self.directory)

    def runs(self) -> list[tuple[str, bool]]:
        with usable(self.directory, "list the runs"):
            active, finished = _run_ids(self.directory), _run_ids(self.directory / "archive")
        return sorted((run_id, run_id not in active) for run_id in active | finished)

    @contextlib.contextmanager
    def lock(self, run_id: str) -> Iterator[None]:
        """Hold `<dir>/<run_id>.lock` exclusively: `RUN_IN_PROGRESS` for any second holder.

        flock belongs to the open file, so it dies with a killed process (no stale lock),
        and a second open in this same process conflicts too. The file itself is never
        deleted: unlinking it would let two holders lock two different inodes.
        """
        path = self.directory / f"{preflight.validate_run_id(run_id)}.lock"
        with usable(self.directory, "lock the run"):
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise ReleaseError(
                    ErrorCode.RUN_IN_PROGRESS,
                    f"run {run_id} is in progress ({_holder(fd)} holds {path})",
                    hint="wait for that run to end; its lock goes when its process exits",
                ) from exc
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            yield
        finally:
            os.close(fd)  # closing releases the flock

    def _lock_file(self, name: str) -> Path:
        return self.directory / "locks" / f"{preflight.validate_run_id(name)}.json"

    def read_lock(self, name: str) -> tuple[str, str] | None:
        try:
            with usable(self.directory, "read the family lock"):
                data = self._lock_file(name).read_bytes()
        except FileNotFoundError:
            return None
        try:
            return data.decode("utf-8"), hashlib.sha256(data).hexdigest()
        except UnicodeDecodeError as exc:
            raise not_text(str(self._lock_file(name))) from exc

    def write_lock(self, name: str, text: str, version: str | None) -> bool:
        path = self._lock_file(name)
        with usable(self.directory, "write the family lock"):
            path.parent.mkdir(parents=True, exist_ok=True)
            if version is None:  # create-if-absent: `link` refuses an existing file atomically
                return _write_durably(path, text, exclusive=True)
            # Compare and replace under a short flock, so two replacers cannot both win.
            fd = os.open(path.with_suffix(".guard"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            current = self.read_lock(name)
            if current is None or current[1] != version:
                return False
            return _write_durably(path, text, exclusive=False)
        finally:
            os.close(fd)


@contextlib.contextmanager
def usable(directory: Path, doing: str) -> Iterator[None]:
    """`STATE_UNUSABLE` for a state dir that cannot be written (read-only, under a file, full):
    an expected failure with its cause, not a crash; nothing in it has been changed."""
    try:
        yield
    except FileNotFoundError:
        raise  # a missing state is the caller's to judge (STATE_NOT_FOUND)
    except OSError as exc:
        raise ReleaseError(
            ErrorCode.STATE_UNUSABLE,
            f"cannot {doing} in {directory}: {exc.strerror or exc}",
            hint="point RELEASE_TRAIN_STATE_DIR at a writable directory (the state dir is "
            "created if missing)",
        ) from exc


def _holder(fd: int) -> str:
    try:
        return f"pid {int(os.pread(fd, 32, 0).decode().strip())}"
    except (OSError, UnicodeDecodeError, ValueError):
        return "another process"  # it may be between truncating and writing its pid


def _run_ids(directory: Path) -> set[str]:
    try:
        entries = list(directory.iterdir())
    except FileNotFoundError:
        return set()
    return {
        p.stem
        for p in entries
        if p.suffix == ".json" and preflight.RUN_ID.match(p.stem) and p.is_file()
    }


def _write_durably(target: Path, text: str, *, exclusive: bool) -> bool:
    """Write so a crash leaves the old or the new file, never half of one; with `exclusive`,
    never replace an existing file (`link` fails where `replace` overwrites): False then."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if exclusive:
            try:
                os.link(tmp, target)
            except FileExistsError:
                return False
        else:
            os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    _fsync_dir(target.parent)
    return True


def _fsync_dir(directory: Path) -> None:
    """Make a rename or link durable: the entry lives in the directory, not in the file."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as exc:  # some filesystems cannot fsync a directory; the data is synced
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP):
            raise
    finally:
        os.close(fd)


def local_store(directory: Path | None = None) -> LocalStore:
    return LocalStore(directory if directory is not None else preflight.state_dir())
