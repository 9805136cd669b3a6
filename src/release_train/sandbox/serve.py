"""The sandbox server process that `sandbox up` starts: runs the world until SIGTERM.

`python -m release_train.sandbox.serve --dir D [--detach] [--no-seed]`. With `--detach`
it forks once and the parent exits at once, so the process that launched it has
nothing left to reap or wait for; the server stays in the launcher's new session,
which is how `sandbox down` finds everything it started.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from release_train.errors import ReleaseError
from release_train.sandbox.control import (
    PID_FILE,
    STATE_FILE,
    Sandbox,
    alive,
    write_json_atomically,
)
from release_train.sandbox.family import OWNER, build_sample_family


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m release_train.sandbox.serve")
    parser.add_argument("--dir", type=Path, required=True, help="the sandbox directory")
    parser.add_argument("--owner", default=OWNER, help="the GitHub owner of the repos")
    parser.add_argument("--detach", action="store_true", help="fork and let the parent exit")
    parser.add_argument("--no-seed", action="store_true", help="start without the family")
    parser.add_argument(
        "--owner-pid",
        type=int,
        help="the world and its directory belong to this process: once it has gone, stop "
        "and remove the directory (the demo's, should it be killed)",
    )
    return parser.parse_args(argv)


class _Stopper:
    """Turns SIGTERM/SIGINT into a clean stop: abort a start, or end the serving loop."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.serving = False

    def __call__(self, signum: int, _frame: FrameType | None) -> None:
        self.requested.set()
        if not self.serving:
            # Still starting: unwind now; Sandbox.start stops whatever already runs.
            raise SystemExit(128 + signum)

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self)
        signal.signal(signal.SIGINT, self)


def serve(root: Path, *, owner: str, seed: bool, owner_pid: int | None = None) -> int:
    """Start the world in `root`, announce it in `root/sandbox.json`, serve until told to stop."""
    (root / PID_FILE).write_text(f"{os.getpid()} {os.getsid(0)}\n")
    stopper = _Stopper()
    stopper.install()
    try:
        world = Sandbox.start(root, owner=owner, family=build_sample_family if seed else None)
    except ReleaseError as exc:
        print(exc.render(), file=sys.stderr, flush=True)
        return int(exc.code.exit_status)
    with world:
        stopper.serving = True
        write_json_atomically(root / STATE_FILE, world.describe())
        print(f"sandbox ready in {root}: {', '.join(sorted(world.repos))}", flush=True)
        while not stopper.requested.wait(0.5):
            if owner_pid is not None and not alive(owner_pid):
                break
        print("sandbox stopping", flush=True)
    (root / STATE_FILE).unlink(missing_ok=True)
    if owner_pid is not None and not alive(owner_pid):
        shutil.rmtree(root, ignore_errors=True)  # its owner cannot any more
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    root = args.dir.resolve()
    root.mkdir(parents=True, exist_ok=True)
    if args.detach and os.fork() > 0:
        os._exit(0)  # the launcher: done; the child carries on as the server
    status = serve(root, owner=args.owner, seed=not args.no_seed, owner_pid=args.owner_pid)
    if status == 0:
        # After a failed start the pid file stays: `up` sees its process gone and says so.
        (root / PID_FILE).unlink(missing_ok=True)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
