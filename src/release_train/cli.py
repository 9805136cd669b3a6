"""Command-line entry point: the arguments of each command, and `main`, which runs one.

The handlers are `commands.py`'s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from release_train import __version__
from release_train.commands import (
    BUMPS,
    FORMATS,
    cmd_action,
    cmd_demo,
    cmd_init,
    cmd_plan,
    cmd_rehearse,
    cmd_release,
    cmd_resume,
    cmd_sample_family,
    cmd_status,
    cmd_unlock,
    print_error,
)
from release_train.completion import SHELLS
from release_train.completion import script as completion_script
from release_train.config import CONFIG_FILE, FailurePolicy
from release_train.core.versions import Prerelease
from release_train.errors import ErrorCode, ExitStatus, ReleaseError
from release_train.sandbox import cli as sandbox_cli

# `plan` and `--help` import neither the state models nor the engine (see runs.py): the
# commands that need them import them below.

Handler = Callable[[argparse.Namespace], int]


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="config file (default: ./release-train.toml)")
    parser.add_argument(
        "--workspace",
        type=Path,
        help="directory with one clone per repo, named as the repo; `plan` only reads them, "
        "`release` adds a worktree and a `release/<run>/<repo>` branch to each clone it "
        "releases (their checkouts stay as they are)",
    )


def _selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("repos", nargs="*", help="repos to release (default: all)")
    parser.add_argument("--all", action="store_true", help="all repos (same as naming none)")
    # No `choices`: a bad value gets the tool's error[USAGE] and hint, not argparse's usage.
    parser.add_argument("--bump", metavar="{" + ",".join(BUMPS) + "}", help="override inference")
    parser.add_argument(
        "--prerelease",
        choices=["none", *(p.value for p in Prerelease)],
        help="make pre-releases (a, b, rc); overrides the config",
    )
    parser.add_argument("--run-id", help="use this run id instead of the generated one")
    parser.add_argument(
        "--offline", action="store_true", help="do not ask the index which versions exist"
    )


def _init_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    init = sub.add_parser("init", help="write a release-train.toml for a workspace or GitHub repos")
    init.add_argument(
        "--workspace", type=Path, help="directory with one clone per repo (read only)"
    )
    init.add_argument(
        "--owner", help="GitHub organisation or user (default: from the clones' origin)"
    )
    init.add_argument("--repos", metavar="A,B,C", help="API mode: the repos of --owner to read")
    init.add_argument(
        "--out", type=Path, metavar="FILE", help=f"where to write (default: ./{CONFIG_FILE})"
    )
    init.set_defaults(handler=cmd_init)


def cmd_completion(args: argparse.Namespace) -> int:
    sys.stdout.write(completion_script(args.shell, build_parser()))
    return ExitStatus.OK


def _run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--result-file", type=Path, help="write the JSON result here")
    parser.add_argument("--gate-attestation", metavar="TOKEN", help="<slack_ts>:<run_id>")
    parser.add_argument("--yes", action="store_true", help="approve the plan shown (no gate)")
    parser.add_argument(
        "--gate",
        choices=["slack"],
        help="ask for approval in Slack: the HIGH_RISK message, answered in its thread",
    )
    parser.add_argument("--skip-pypi-wait", action="store_true", help="do not wait for the index")
    parser.add_argument(
        "--pypi-timeout-minutes", type=int, help="index wait per repo (default: config, 10)"
    )
    parser.add_argument("--max-parallel", type=int, help="repos at once (default: config, 1)")
    parser.add_argument(
        "--failure-policy", choices=[p.value for p in FailurePolicy], help="default: config"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="release-train",
        description="Release a family of interdependent Python packages in dependency order.",
    )
    parser.add_argument("--version", action="version", version=f"release-train {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    plan = sub.add_parser("plan", help="scan the repos and print the release plan")
    _common(plan)
    _selection(plan)
    plan.add_argument("--format", choices=sorted(FORMATS), default="text")
    plan.add_argument(
        "--detail",
        action="store_true",
        help="text format: after the table, each repo's commits, pins and changelog entry "
        "(Markdown and JSON always have them)",
    )
    plan.set_defaults(handler=cmd_plan)

    release = sub.add_parser("release", help="release the family in dependency order")
    _common(release)
    _selection(release)
    release.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    release.add_argument("--resume", metavar="RUN_ID", help="continue a run from its state")
    _run_options(release)
    release.set_defaults(handler=cmd_release)

    resume = sub.add_parser("resume", help="continue a run (same as release --resume RUN_ID)")
    _common(resume)
    resume.add_argument("run_id", metavar="RUN_ID")
    _run_options(resume)
    resume.set_defaults(handler=cmd_resume)

    status = sub.add_parser("status", help="show a run's state (no RUN_ID: list runs)")
    status.add_argument("--config", type=Path, help="config file (default: ./release-train.toml)")
    status.add_argument("run_id", metavar="RUN_ID", nargs="?")
    status.add_argument("--format", choices=["text", "markdown", "json"], default="text")
    status.set_defaults(handler=cmd_status)

    unlock = sub.add_parser(
        "unlock", help="break the family lock a stopped run holds (abandon that run)"
    )
    unlock.add_argument("--config", type=Path, help="config file (default: ./release-train.toml)")
    unlock.add_argument("run_id", metavar="RUN_ID", help="the run that holds the lock")
    unlock.set_defaults(handler=cmd_unlock)

    demo = sub.add_parser("demo", help="release the sample family against a local sandbox")
    demo.add_argument(
        "--keep", type=Path, metavar="DIR", help="leave the sandbox running in DIR afterwards"
    )
    demo.set_defaults(handler=cmd_demo)

    rehearse = sub.add_parser(
        "rehearse", help="release the workspace's clones end to end inside a local sandbox"
    )
    rehearse.add_argument("--config", type=Path, help="config file (default: ./release-train.toml)")
    rehearse.add_argument("--workspace", type=Path, required=True, help="one clone per repo")
    rehearse.add_argument(
        "--keep", type=Path, metavar="DIR", help="leave the sandbox running in DIR afterwards"
    )
    rehearse.add_argument("--format", choices=sorted(FORMATS), default="text")
    rehearse.add_argument(
        "--upstream-index",
        metavar="URL",
        help="where third-party packages come from "
        "(default: the index uv and pip are configured with)",
    )
    rehearse.set_defaults(handler=cmd_rehearse)

    sandbox_cli.add_parser(sub)

    action = sub.add_parser(
        "action", help="the GitHub Action's entry point (reads the INPUT_* variables)"
    )
    action.set_defaults(handler=cmd_action)

    _init_parser(sub)
    completion = sub.add_parser(
        "completion",
        help='print a shell completion script: eval "$(release-train completion bash)"',
    )
    completion.add_argument("shell", choices=SHELLS)
    completion.set_defaults(handler=cmd_completion)

    family = sub.add_parser("sample-family", help="write the six-repo sample family to DIR")
    family.add_argument("dir", type=Path)
    family.set_defaults(handler=cmd_sample_family)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except ReleaseError as exc:
        print_error(exc.render())
        return int(exc.code.exit_status)
    except KeyboardInterrupt:
        print_error("interrupted")
        return 130
    except Exception:  # a bug: keep the traceback out of the way, but keep it
        with tempfile.NamedTemporaryFile(
            "w", prefix="release-train-crash-", suffix=".log", delete=False
        ) as log:
            traceback.print_exc(file=log)
        print_error(
            f"error[{ErrorCode.INTERNAL}]: release-train failed unexpectedly; "
            f"the traceback is in {log.name}\nhint: please report it with that file"
        )
        return int(ExitStatus.INTERNAL)
