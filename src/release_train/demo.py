"""`release-train demo`: the sample family released end to end against a local sandbox."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from release_train import interrupts
from release_train.adapters import toolchain
from release_train.config import load_config
from release_train.console import ConsoleProgress
from release_train.rehearsal import run_train
from release_train.sandbox import control, detached


def run_demo(keep: Path | None) -> int:
    """Start a sandbox, release all six repos through the twelve steps, report, stop it.

    Every exit stops the sandbox and removes its directory (unless `keep`): an error, Ctrl-C
    or SIGTERM at any moment, even a second signal that cuts the run short (issue 13, item 2).
    """
    toolchain.require(toolchain.DEMO_TOOLS)  # before anything starts, every missing one named
    started = time.monotonic()
    with interrupts.unwinding():
        root = keep.resolve() if keep else Path(tempfile.mkdtemp(prefix="release-train-demo-"))
        if keep is not None:  # `up` itself stops whatever it started if it is interrupted
            status = _release(root, started, owned=False)
        else:
            with interrupts.at_exit_now(lambda: _remove(root)):
                try:
                    # Owned: even a SIGKILL of this process lets the server clean up.
                    status = _release(root, started, owned=True)
                finally:
                    with interrupts.deferred():  # a further Ctrl-C does not cut the cleanup short
                        _remove(root)
    print(f"\nDemo finished in {time.monotonic() - started:.1f}s.")
    if keep is not None:
        print(
            f"The sandbox still runs in {root}: `cd {root} && set -a && . ./env && set +a`, then "
            f"`release-train status`; stop it with `release-train sandbox down --dir {root}`."
        )
    return status


def _release(root: Path, started: float, *, owned: bool) -> int:
    # Flushed: whoever reads a pipe (a test, `| tee`) learns the directory at once.
    print(
        f"Starting the sandbox in {root} (GitHub, package index and Slack stand-ins) ...",
        flush=True,
    )
    env = detached.up(root, owned=owned)
    print(f"  ready in {time.monotonic() - started:.1f}s\n", flush=True)
    config, _ = load_config(root / control.CONFIG_FILE)
    train = run_train(config, env, approver="demo", progress=ConsoleProgress())
    return train.outcome.exit_status


def _remove(root: Path) -> None:
    detached.down(root)
    shutil.rmtree(root, ignore_errors=True)
