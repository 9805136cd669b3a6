"""The whole world: in-process `Sandbox`, and `sandbox up/status/down` as real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
from github import Auth, Github

from release_train.adapters.git import git
from release_train.config import load_config
from release_train.errors import ErrorCode, ReleaseError
from release_train.sandbox.control import LOCK_MESSAGE, Sandbox, read_state
from release_train.sandbox.detached import alive, down, session_members
from release_train.sandbox.family import Hook

from .conftest import project_files, tiny_family

ENV_KEYS = {
    "RELEASE_TRAIN_STATE_DIR",
    "RELEASE_TRAIN_WORK_DIR",
    "GITHUB_API_URL",
    "GITHUB_SERVER_URL",
    "GITHUB_TOKEN",
    "RELEASE_TRAIN_OWNER",
    "INDEX_URL",
    "INDEX_JSON_URL",
    "INDEX_UPLOAD_URL",
    "INDEX_ADMIN_URL",
    "SLACK_API_URL",
    "SLACK_BOT_TOKEN",
    "SLACK_CHANNEL_ID",
    "SANDBOX_ADMIN_URL",
    "SLACK_ADMIN_URL",
}


def our_pypiservers() -> list[int]:
    """pypiserver processes this test process started and has not reaped."""
    found = []
    for entry in sorted(Path("/proc").iterdir()):
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == os.getpid() and b"pypiserver" in cmdline and stat[0] != "Z":
            found.append(int(entry.name))
    return found


def git_as(token: str) -> dict[str, str]:
    """Git config that sends the token as a header: it never appears in a URL or a log."""
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.extraHeader",
        "GIT_CONFIG_VALUE_0": f"Authorization: Bearer {token}",
        "GIT_TERMINAL_PROMPT": "0",
    }


def wait_for(predicate: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not callable(predicate) or not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox.start(tmp_path / "world", family=tiny_family) as sandbox:
        yield sandbox
    assert our_pypiservers() == []


def test_env_names_every_service(world: Sandbox) -> None:
    env = world.env
    assert set(env) == ENV_KEYS
    assert env["GITHUB_API_URL"] == f"{env['GITHUB_SERVER_URL']}/api/v3"
    assert env["INDEX_URL"].endswith("/simple/") and env["SLACK_API_URL"].endswith("/api/")
    assert env["RELEASE_TRAIN_OWNER"] == "OmniNode-ai"
    assert all(v.startswith("http://127.0.0.1:") for k, v in env.items() if k.endswith("_URL"))
    gh = Github(base_url=env["GITHUB_API_URL"], auth=Auth.Token(env["GITHUB_TOKEN"]))
    repo = gh.get_repo("OmniNode-ai/beta_app")
    assert repo.default_branch == "main"
    assert repo.get_git_ref("tags/v0.1.0").ref == "refs/tags/v0.1.0"
    gh.close()


def test_seeding_locks_tags_and_publishes_each_release(world: Sandbox) -> None:
    assert world.repos == ["alpha_core", "beta_app"]
    assert [f.filename for f in world.index.all_files()] == [
        "alpha_core-1.0.0-py3-none-any.whl",
        "alpha_core-1.0.0.tar.gz",
        "beta_app-0.1.0-py3-none-any.whl",
        "beta_app-0.1.0.tar.gz",
        f"flit_core-{version('flit_core')}-py3-none-any.whl",
    ]
    app = world.root / "family" / "beta_app"
    assert git(app, "log", "-1", "--format=%s", "v0.1.0").strip() == LOCK_MESSAGE
    lock = git(app, "show", "v0.1.0:uv.lock")
    assert 'name = "alpha-core"' in lock and world.index.simple_url in lock
    hosted = git(
        app,
        "ls-remote",
        "--tags",
        f"{world.github.server_url}/OmniNode-ai/beta_app.git",
        env=git_as(world.github.token),
    )
    assert "refs/tags/v0.1.0" in hosted


def test_a_pushed_release_tag_is_built_and_uploaded(world: Sandbox, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    auth = git_as(world.github.token)
    url = f"{world.github.server_url}/OmniNode-ai/alpha_core.git"
    git(tmp_path, "clone", "-q", url, str(clone), env=auth)
    (clone / "pyproject.toml").write_text(project_files("alpha-core", "1.1.0")["pyproject.toml"])
    git(clone, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "feat: 1.1")
    git(clone, "tag", "alpha_core/v1.1.0")
    git(clone, "push", "-q", "origin", "main", "alpha_core/v1.1.0", env=auth)

    wait_for(lambda: len(world.index.list_files("alpha-core")) == 4)
    assert "alpha_core-1.1.0.tar.gz" in {f.filename for f in world.index.list_files("alpha-core")}
    admin = world.github.admin()
    wait_for(lambda: admin.snapshot()["workflow_runs"][-1]["status"] == "completed")
    run = admin.snapshot()["workflow_runs"][-1]
    assert (run["tag"], run["conclusion"]) == ("alpha_core/v1.1.0", "success")
    assert sorted(run["files"]) == ["alpha_core-1.1.0-py3-none-any.whl", "alpha_core-1.1.0.tar.gz"]


def test_a_failed_start_stops_what_already_ran(tmp_path: Path) -> None:
    def broken_family(
        dest: Path, *, before_tag: Hook | None = None, after_tag: Hook | None = None
    ) -> list[Path]:
        raise ReleaseError(ErrorCode.SANDBOX_ERROR, "no family today")

    with pytest.raises(ReleaseError, match="no family today"):
        Sandbox.start(tmp_path / "world", family=broken_family)
    assert our_pypiservers() == []


def cli(*args: str, timeout: float = 240.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "release_train.sandbox.cli", "sandbox", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def sandbox_dir(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "detached"
    yield root
    down(root)  # whatever a failed assertion left running


def test_up_status_down_as_real_processes(sandbox_dir: Path) -> None:
    started = cli("up", "--dir", str(sandbox_dir), "--no-seed")
    assert started.returncode == 0, started.stderr
    printed = dict(line.split("=", 1) for line in started.stdout.splitlines())
    assert set(printed) == ENV_KEYS
    env_file = sandbox_dir / "env"
    assert env_file.read_text() == "".join(f"{k}={printed[k]}\n" for k in sorted(printed))
    assert env_file.stat().st_mode & 0o077 == 0  # it holds tokens
    state = read_state(sandbox_dir)
    assert state is not None and state["env"] == printed
    assert alive(state["pid"]) and state["pid"] != os.getpid()
    members = session_members(state["sid"])
    assert state["pid"] in members and state["index_pid"] in members

    again = cli("up", "--dir", str(sandbox_dir), "--no-seed")
    assert again.returncode == 6
    assert "error[SANDBOX_ERROR]: a sandbox is already running" in again.stderr
    assert "hint: stop it first" in again.stderr

    status = cli("status", "--dir", str(sandbox_dir))
    assert status.returncode == 0, status.stderr
    assert status.stdout.splitlines()[0] == f"sandbox {sandbox_dir} (pid {state['pid']})"
    assert "uploads (1)" in status.stdout and "flit_core-" in status.stdout
    assert printed["GITHUB_TOKEN"] not in status.stdout

    stopped = cli("down", "--dir", str(sandbox_dir))
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert session_members(state["sid"]) == []
    assert not (sandbox_dir / "sandbox.json").exists() and not env_file.exists()
    assert "was not running" in cli("down", "--dir", str(sandbox_dir)).stdout
    missing = cli("status", "--dir", str(sandbox_dir))
    assert missing.returncode == 6 and "no sandbox is running" in missing.stderr


def test_down_kills_a_server_that_ignores_sigterm(sandbox_dir: Path) -> None:
    assert cli("up", "--dir", str(sandbox_dir), "--no-seed").returncode == 0
    state = read_state(sandbox_dir)
    assert state is not None
    os.kill(state["pid"], 19)  # SIGSTOP: it cannot act on SIGTERM any more
    assert down(sandbox_dir, timeout=0.5) is True
    assert session_members(state["sid"]) == []


def test_up_seeds_the_sample_family_usable_from_a_shell(sandbox_dir: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    result = cli("up", "--dir", str(sandbox_dir))
    took = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    env = dict(line.split("=", 1) for line in result.stdout.splitlines())
    state = read_state(sandbox_dir)
    assert state is not None and len(state["repos"]) == 6
    # The config of the family against this world, for `release-train release` run in it.
    config, _ = load_config(sandbox_dir / "release-train.toml")
    assert config.index_url == env["INDEX_URL"] and sorted(config.repos) == sorted(state["repos"])
    target = tmp_path / "site"
    pip = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--isolated",
            "--quiet",
            "--index-url",
            env["INDEX_URL"],
            "--target",
            str(target),
            "omnibase-core",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert pip.returncode == 0, pip.stderr
    assert (target / "omnibase_core").is_dir() and (target / "omnibase_spi").is_dir()
    clone = tmp_path / "clone"
    git(
        tmp_path,
        "clone",
        "-q",
        f"{env['GITHUB_SERVER_URL']}/OmniNode-ai/omniclaude.git",
        str(clone),
        env=git_as(env["GITHUB_TOKEN"]),
    )
    assert (clone / "uv.lock").is_file()
    assert json.loads((sandbox_dir / "sandbox.json").read_text())["repos"][0] == "omnibase_spi"
    assert took < 120
    assert down(sandbox_dir)


def test_up_reports_a_server_that_dies_while_starting(sandbox_dir: Path) -> None:
    sandbox_dir.mkdir()
    (sandbox_dir / "index").write_text("a file where the index directory should be\n")
    result = cli("up", "--dir", str(sandbox_dir), "--no-seed")
    assert result.returncode == 6
    assert "error[SANDBOX_ERROR]: the sandbox server exited while starting" in result.stderr
    assert "Error" in result.stderr  # the tail of the server's log says why
    assert not (sandbox_dir / "serve.pid").exists()
    assert read_state(sandbox_dir) is None
