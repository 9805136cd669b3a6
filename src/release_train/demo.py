"""`release-train demo`: the sample family released end to end against a local sandbox."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from release_train.config import load_config
from release_train.console import ConsoleProgress
from release_train.rehearsal import run_train
from release_train.sandbox import control


def run_demo(keep: Path | None) -> int:
    """Start a sandbox, release all six repos through the twelve steps, report, stop it."""
    started = time.monotonic()
    root = keep.resolve() if keep else Path(tempfile.mkdtemp(prefix="release-train-demo-"))
    print(f"Starting the sandbox in {root} (GitHub, package index and Slack stand-ins) ...")
    env = control.up(root)
    print(f"  ready in {time.monotonic() - started:.1f}s\n")
    try:
        config, _ = load_config(root / control.CONFIG_FILE)
        train = run_train(config, env, approver="demo", progress=ConsoleProgress())
        status = train.outcome.exit_status
    finally:
        if keep is None:
            control.down(root)
            shutil.rmtree(root, ignore_errors=True)
    print(f"\nDemo finished in {time.monotonic() - started:.1f}s.")
    if keep is not None:
        print(
            f"The sandbox still runs in {root}: `cd {root} && set -a && . ./env && set +a`, then "
            f"`release-train status`; stop it with `release-train sandbox down --dir {root}`."
        )
    return status
