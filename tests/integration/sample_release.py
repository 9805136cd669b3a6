"""`release --all --yes` of a sandbox world's family from a CLI process, and its state."""

from __future__ import annotations

import sys
from pathlib import Path

from release_train.adapters import command
from release_train.adapters.store import local_store
from release_train.core.state import RunState
from release_train.runs import load_run
from release_train.sandbox.control import Sandbox

RELEASE = [sys.executable, "-m", "release_train", "release", "--all", "--yes"]


def release_all(world: Sandbox, run_id: str, *, timeout: float = 540) -> command.Completed:
    """Write the world's config to its root and release every repo as run `run_id`."""
    config = world.root / "release-train.toml"
    config.write_text(world.config_text(), encoding="utf-8")
    return command.run(
        [*RELEASE, "--run-id", run_id, "--config", str(config)],
        env=world.env,
        cwd=world.root,
        timeout=timeout,
        check=False,
    )


def run_state(world: Sandbox, run_id: str) -> RunState:
    state, _, _ = load_run(local_store(Path(world.env["RELEASE_TRAIN_STATE_DIR"])), run_id)
    return state
