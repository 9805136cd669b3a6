"""`release-train demo` as users run it: from a tool's own environment, and interrupted.

Real subprocesses of the entry point: a venv's `release-train` with PATH holding only its
directory and the system's (how pipx and `uv tool install` leave it, issue 13 item 1), and
SIGINT/SIGTERM at three moments of the start, after which nothing of the sandbox may
survive (item 2).
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

SYSTEM_PATH = "/usr/bin:/bin"
STARTING = re.compile(r"^Starting the sandbox in (\S+) ")


def venv_entry_point(tmp_path: Path) -> Path:
    """A venv (seeing this interpreter's packages) whose bin/ holds only `release-train`.

    The script is the one pip writes for a console_scripts entry; uv, pre-commit and
    pypiserver are importable in the venv but not on any PATH the demo gets.
    """
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
        check=True,
    )
    script = venv / "bin" / "release-train"
    script.write_text(
        f"#!{venv / 'bin' / 'python'}\nimport sys\nfrom release_train.cli import main\n"
        "if __name__ == '__main__':\n    sys.exit(main())\n"
    )
    script.chmod(0o755)
    return script


def demo_env(path: str, tmp: Path) -> dict[str, str]:
    """`PATH`, and a TMPDIR of the test's own, where the demo makes its directory."""
    return {**os.environ, "PATH": path, "TMPDIR": str(tmp)}


class Demo:
    """A running `release-train demo` whose merged output is read line by line."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        with self.proc.stdout:
            for line in self.proc.stdout:
                self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            self.seen.append(line)
            if found := pattern.search(line):
                return found
        raise AssertionError(f"no line matching {pattern.pattern!r} in:\n{''.join(self.seen)}")

    def finish(self, timeout: float) -> str:
        """Its exit status once it has exited, and the rest of its output."""
        self.proc.wait(timeout)
        while (line := self.lines.get(timeout=timeout)) is not None:
            self.seen.append(line)
        return "".join(self.seen)


def processes_mentioning(text: str) -> list[str]:
    """Command lines of live processes that name `text` (the servers name their directory)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(f"{entry.name}: {cmdline}")
    return sorted(found)


def poll(condition: Callable[[], object], timeout: float) -> bool:
    """True once `condition()` holds, False after `timeout` seconds (checked every 50 ms)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.slow
def test_the_demo_runs_from_a_venv_entry_point_with_only_system_tools_on_path(
    tmp_path: Path,
) -> None:
    script = venv_entry_point(tmp_path)
    path = f"{script.parent}:{SYSTEM_PATH}"
    for tool in ("uv", "pre-commit", "pypi-server"):
        assert shutil.which(tool, path=path) is None, f"{tool} would be found on PATH"
    done = subprocess.run(
        [str(script), "demo"],
        env=demo_env(path, tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Status: SUCCESS (6/6 repos released)" in done.stdout
    root = STARTING.search(done.stdout.splitlines()[0])
    assert root is not None
    assert Path(root[1]).parent == tmp_path
    assert not Path(root[1]).exists()


def test_a_missing_tool_is_named_before_anything_starts(tmp_path: Path) -> None:
    """PATH without git (a system tool, found on PATH alone): one coded error, no sandbox."""
    script = venv_entry_point(tmp_path)
    done = subprocess.run(
        [str(script), "demo"],
        env=demo_env(str(script.parent), tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines()[0] == (
        f"error[TOOL_MISSING]: git not found in release-train's environment "
        f"({tmp_path / 'venv'}) nor on PATH"
    )
    assert done.stderr.splitlines()[1].startswith("hint: install git with the system's")


def _interrupted_demo(tmp_path: Path, when: str, signum: int) -> None:
    env = demo_env(os.environ["PATH"], tmp_path)
    demo = Demo([sys.executable, "-m", "release_train", "demo"], env)
    try:
        root = demo.wait_for(STARTING, 120)[1]
        if when == "server":  # the server process exists, the world is not ready
            assert poll(lambda: processes_mentioning(root), 120), demo.seen
        elif when == "ready":
            demo.wait_for(re.compile(r"^  ready in "), 300)
        elif when == "twice":  # the run's own handler: the second signal exits at once
            demo.wait_for(re.compile(r"^  \S+ +WORKTREE "), 300)
            demo.proc.send_signal(signum)
            demo.wait_for(re.compile(r"stopping the train"), 60)
        demo.proc.send_signal(signum)
        output = demo.finish(120)
    finally:
        if demo.proc.poll() is None:
            demo.proc.kill()
    left = processes_mentioning(root)
    for found in left:  # a failing test leaves nothing running either
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(found.split(":", 1)[0]), signal.SIGKILL)
    assert demo.proc.returncode == 130, output
    assert left == []
    assert not Path(root).exists(), output


@pytest.mark.slow
@pytest.mark.parametrize(
    ("when", "signum"),
    [
        ("starting", signal.SIGINT),  # at the first line, before the server is launched
        ("server", signal.SIGINT),  # while the server seeds the family
        ("server", signal.SIGTERM),
        ("ready", signal.SIGTERM),  # the world runs: planning or releasing
        ("twice", signal.SIGINT),  # releasing: the second Ctrl-C skips every `finally`
    ],
)
def test_an_interrupted_demo_leaves_no_process_and_no_directory(
    tmp_path: Path, when: str, signum: int
) -> None:
    _interrupted_demo(tmp_path, when, signum)


@pytest.mark.slow
def test_a_killed_demo_leaves_it_to_the_server_to_stop_and_remove_its_directory(
    tmp_path: Path,
) -> None:
    """SIGKILL runs no cleanup in the demo: the server it owns sees it gone and cleans up."""
    env = demo_env(os.environ["PATH"], tmp_path)
    demo = Demo([sys.executable, "-m", "release_train", "demo"], env)
    try:
        root = demo.wait_for(STARTING, 120)[1]
        demo.wait_for(re.compile(r"^  ready in "), 300)
        demo.proc.kill()
        demo.finish(60)
        gone = poll(lambda: not processes_mentioning(root) and not Path(root).exists(), 60)
    finally:
        if demo.proc.poll() is None:
            demo.proc.kill()
    left = processes_mentioning(root)
    for found in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(found.split(":", 1)[0]), signal.SIGKILL)
    assert gone, left
