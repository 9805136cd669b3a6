"""`release --gate slack` from a terminal: the HIGH_RISK message, a reply in its thread, the run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from release_train.adapters.store import local_store
from release_train.sandbox.control import Sandbox
from release_train.sandbox.slack import PEOPLE

from .sandbox.conftest import tiny_config, tiny_family

APPROVER, OUTSIDER = PEOPLE[0].id, PEOPLE[2].id


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Sandbox]:
    sandbox = Sandbox.start(tmp_path / "world", family=tiny_family)
    try:
        yield sandbox
    finally:
        sandbox.stop()


def config(world: Sandbox, path: Path) -> Path:
    slack = f'[slack]\nchannel = "{world.slack.channel_id}"\napprovers = ["{APPROVER}"]\n'
    path.write_text(tiny_config(world, slack), encoding="utf-8")
    return path


def start_release(world: Sandbox, cfg: Path, run_id: str) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "release_train", "release", "--all", "--gate", "slack"]
    argv += ["--config", str(cfg), "--run-id", run_id, "--skip-pypi-wait"]
    # A process of its own: the gate blocks until someone answers in Slack.
    return subprocess.Popen(
        argv,
        env={**os.environ, **world.env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def gate_message(world: Sandbox, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in world.slack.messages():
            if "[HIGH_RISK]" in str(message.get("text", "")):
                return message
        time.sleep(0.2)
    raise AssertionError("no HIGH_RISK message was posted")


def test_an_approver_replies_approve_and_the_run_records_it(world: Sandbox, tmp_path: Path) -> None:
    process = start_release(world, config(world, tmp_path / "release-train.toml"), "slack-ok")
    try:
        posted = gate_message(world)
        channel, ts = world.slack.channel_id, str(posted["ts"])
        world.slack.post_reply(channel, ts, OUTSIDER, "approve")  # not an approver: ignored
        world.slack.post_reply(channel, ts, APPROVER, "Approve!")
        out, _ = process.communicate(timeout=240)
    finally:
        process.kill()
    assert process.returncode == 0, out
    assert "Waiting for an approval in Slack" in out
    state = json.loads(
        local_store(Path(world.env["RELEASE_TRAIN_STATE_DIR"])).load("slack-ok").text
    )
    assert state["gate"]["kind"] == "slack"
    assert state["gate"]["approved_by"] == APPROVER
    assert state["gate_token"] == f"{ts}:slack-ok"


def test_a_reject_stops_before_anything_changes(world: Sandbox, tmp_path: Path) -> None:
    process = start_release(world, config(world, tmp_path / "release-train.toml"), "slack-no")
    try:
        posted = gate_message(world)
        world.slack.post_reply(world.slack.channel_id, str(posted["ts"]), APPROVER, "reject")
        out, _ = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 5, out  # the gate's exit status
    assert "error[GATE_REJECTED]" in out
    assert world.github.admin().snapshot()["pulls"] == []
    assert local_store(Path(world.env["RELEASE_TRAIN_STATE_DIR"])).runs() == []
