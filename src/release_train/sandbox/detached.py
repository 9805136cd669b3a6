"""A sandbox in the background: `up` starts its server detached and waits until it is
ready, `down` stops its whole session; `running_pid` and `alive` tell what still runs."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from release_train import interrupts
from release_train.errors import ErrorCode, ReleaseError
from release_train.sandbox.control import (
    CONFIG_FILE,
    ENV_FILE,
    PID_FILE,
    STATE_FILE,
    read_state,
    write_env,
)
from release_train.sandbox.family import config_text


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state letter, session id) of `pid` from /proc; None when there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the command name, which is in parentheses and may hold spaces.
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[3])


def alive(pid: int) -> bool:
    stat = _proc_stat(pid)
    return stat is not None and stat[0] != "Z"  # a zombie has exited, only unreaped


def session_members(sid: int) -> list[int]:
    """Live processes of session `sid`, sorted."""
    pids = (int(name) for name in os.listdir("/proc") if name.isdigit())
    members = []
    for pid in pids:
        stat = _proc_stat(pid)
        if stat is not None and stat[1] == sid and stat[0] != "Z":
            members.append(pid)
    return sorted(members)


def _read_pid(root: Path) -> tuple[int, int] | None:
    """(pid, session id) the server wrote as it started."""
    try:
        pid, sid = (int(x) for x in (root / PID_FILE).read_text().split())
    except (OSError, ValueError):
        return None
    return pid, sid


def running_pid(root: Path) -> int | None:
    """The pid of the sandbox server of `root`, if it runs (and is not a reused pid)."""
    found = _read_pid(root)
    if found is None or not alive(found[0]):
        return None
    try:
        cmdline = Path(f"/proc/{found[0]}/cmdline").read_bytes()
    except OSError:
        return None
    return found[0] if b"release_train.sandbox.serve" in cmdline else None


def up(
    root: Path,
    *,
    seed: bool = True,
    timeout: float = 300.0,
    upstream_index: str | None = None,
    clones: Mapping[str, Path] | None = None,
    default_branches: Mapping[str, str] | None = None,
    release_workflows: Mapping[str, str] | None = None,
    owned: bool = False,
    owner: str | None = None,
) -> dict[str, str]:
    """Start the world detached from this process; return its environment once ready.

    `clones` etc. are `Sandbox.import_repos`'s: a rehearsal's world that stays up (its
    `sandbox.json` holds `github_rewrites` too).

    `owned`: the world and `root` belong to this process; should it vanish without
    stopping them (SIGKILL), the server stops and removes `root` itself.
    """
    root = root.resolve()
    pid = running_pid(root)
    if pid is not None:
        raise ReleaseError(
            ErrorCode.SANDBOX_ERROR,
            f"a sandbox is already running in {root} (pid {pid})",
            hint=f"stop it first with `release-train sandbox down --dir {root}`",
        )
    _forget(root)
    log_path = root / "logs" / "serve.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "release_train.sandbox.serve", "--dir", str(root), "--detach"]
    argv += ["--owner-pid", str(os.getpid())] if owned else []
    argv += ["--upstream-index", upstream_index] if upstream_index else []
    argv += ["--owner", owner] if owner else []
    for flag, pairs in (
        ("--import", {name: str(path) for name, path in (clones or {}).items()}),
        ("--default-branch", default_branches or {}),
        ("--release-workflow", release_workflows or {}),
    ):
        argv += [arg for name in sorted(pairs) for arg in (flag, f"{name}={pairs[name]}")]
    with contextlib.ExitStack() as undo:
        # Until the world is ready, any exit (a failure, Ctrl-C, SIGTERM made an exception)
        # stops its session: nothing started here outlives a failed `up` (issue 13, item 2).
        with interrupts.deferred(), log_path.open("ab") as log:
            # The sanctioned direct Popen: a server that outlives this command, in its own
            # session so that `down` can find and stop all of it. It forks and exits at once.
            launcher = subprocess.Popen(
                [*argv, *([] if seed else ["--no-seed"])],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            # The launcher leads the new session, and the server it forks stays in it.
            undo.callback(_stop_session, launcher.pid, None, 20.0)
        if launcher.wait(timeout=60) != 0:
            raise _start_failed(root, log_path, "the sandbox server could not be launched")
        state = _wait_ready(root, log_path, timeout)
        undo.pop_all()
    env: dict[str, str] = state["env"]
    write_env(root / ENV_FILE, env)
    if seed:
        text = config_text(owner=state["owner"], index_url=env["INDEX_URL"])
        (root / CONFIG_FILE).write_text(text, encoding="utf-8")
    return env


def _wait_ready(root: Path, log_path: Path, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = read_state(root)
        if state is not None:
            return state
        found = _read_pid(root)
        if found is not None and not alive(found[0]):
            raise _start_failed(root, log_path, "the sandbox server exited while starting")
        time.sleep(0.1)
    down(root)
    raise _start_failed(root, log_path, f"the sandbox was not ready within {timeout:g}s")


def _start_failed(root: Path, log_path: Path, message: str) -> ReleaseError:
    _forget(root)
    lines = log_path.read_text(errors="replace").splitlines() if log_path.exists() else []
    return ReleaseError(
        ErrorCode.SANDBOX_ERROR, message, hint=f"see {log_path}", output="\n".join(lines[-20:])
    )


def down(root: Path, *, timeout: float = 20.0) -> bool:
    """Stop the detached world of `root` and every process of its session; False if none ran."""
    root = root.resolve()
    found = _read_pid(root)
    if found is None or not session_members(found[1]):
        _forget(root)
        return False
    _stop_session(found[1], found[0], timeout)
    _forget(root)
    return True


def _stop_session(sid: int, pid: int | None, timeout: float) -> None:
    """SIGTERM to the server `pid` (or, without one, to all of session `sid`), then harder."""
    for member in [pid] if pid is not None else session_members(sid):
        _signal(member, signal.SIGTERM)  # the server stops its parts and exits
    if not _wait_gone(sid, timeout):
        for member in session_members(sid):
            _signal(member, signal.SIGTERM)
        if not _wait_gone(sid, min(timeout, 5.0)):
            for member in session_members(sid):
                _signal(member, signal.SIGKILL)
            _wait_gone(sid, 5.0)


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it may have gone by itself meanwhile
        os.kill(pid, signum)


def _wait_gone(sid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while session_members(sid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _forget(root: Path) -> None:
    for name in (STATE_FILE, PID_FILE, ENV_FILE):
        (root / name).unlink(missing_ok=True)
