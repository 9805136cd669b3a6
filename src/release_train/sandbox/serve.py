"""The sandbox server process that `sandbox up` starts: runs the world until SIGTERM.

`python -m release_train.sandbox.serve --dir D [--detach] [--no-seed] [--upstream-index URL]
[--import NAME=CLONE ...] [--default-branch NAME=BRANCH ...] [--release-workflow NAME=FILE
...]` (a rehearsal's world, kept running). With `--detach`
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
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from release_train.errors import ReleaseError
from release_train.sandbox.control import (
    PID_FILE,
    STATE_FILE,
    Sandbox,
    write_json_atomically,
)
from release_train.sandbox.detached import alive
from release_train.sandbox.family import OWNER, build_sample_family


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m release_train.sandbox.serve")
    parser.add_argument("--dir", type=Path, required=True, help="the sandbox directory")
    parser.add_argument("--owner", default=OWNER, help="the GitHub owner of the repos")
    parser.add_argument("--detach", action="store_true", help="fork and let the parent exit")
    parser.add_argument("--no-seed", action="store_true", help="start without the family")
    parser.add_argument("--upstream-index", help="the index behind the front (Simple API URL)")
    for flag, dest, what in (
        ("--import", "import_", "a clone to host: NAME=PATH"),
        ("--default-branch", "default_branch", "an imported repo's default branch: NAME=BRANCH"),
        ("--release-workflow", "release_workflow", "its release workflow file: NAME=FILE"),
    ):
        parser.add_argument(flag, dest=dest, action="append", default=[], type=_pair, help=what)
    parser.add_argument(
        "--owner-pid",
        type=int,
        help="the world and its directory belong to this process: once it has gone, stop "
        "and remove the directory (the demo's, should it be killed)",
    )
    return parser.parse_args(argv)


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


@dataclass(frozen=True)
class Imports:
    """What a rehearsal's world hosts besides (or instead of) the sample family."""

    clones: dict[str, Path] = field(default_factory=dict)
    default_branches: dict[str, str] = field(default_factory=dict)
    release_workflows: dict[str, str] = field(default_factory=dict)
    upstream_index: str | None = None


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


def _start(root: Path, owner: str, seed: bool, extra: Imports) -> Sandbox:
    family = build_sample_family if seed else None
    world = Sandbox.start(root, owner=owner, family=family, upstream_index=extra.upstream_index)
    try:
        if extra.clones:
            world.import_repos(
                extra.clones,
                default_branches=extra.default_branches,
                release_workflows=extra.release_workflows,
            )
    except BaseException:
        world.stop()
        raise
    return world


def serve(
    root: Path,
    *,
    owner: str,
    seed: bool,
    extra: Imports | None = None,
    owner_pid: int | None = None,
) -> int:
    """Start the world in `root`, announce it in `root/sandbox.json`, serve until told to stop."""
    (root / PID_FILE).write_text(f"{os.getpid()} {os.getsid(0)}\n")
    stopper = _Stopper()
    stopper.install()
    try:
        world = _start(root, owner, seed, extra or Imports())
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
    extra = Imports(
        clones={name: Path(path).resolve() for name, path in args.import_},
        default_branches=dict(args.default_branch),
        release_workflows=dict(args.release_workflow),
        upstream_index=args.upstream_index,
    )
    status = serve(
        root, owner=args.owner, seed=not args.no_seed, extra=extra, owner_pid=args.owner_pid
    )
    if status == 0:
        # After a failed start the pid file stays: `up` sees its process gone and says so.
        (root / PID_FILE).unlink(missing_ok=True)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
