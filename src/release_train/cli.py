"""Command-line entry point: parses arguments, builds the objects, calls the core, renders."""

from __future__ import annotations

import argparse
import sys
import tempfile
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from release_train import __version__
from release_train.config import Config, load_config
from release_train.core import render
from release_train.core.plan import Plan
from release_train.core.state import dry_run_result
from release_train.core.versions import Bump, Prerelease
from release_train.errors import ErrorCode, ExitStatus, ReleaseError
from release_train.planning import PlanRequest, plan_workspace
from release_train.preflight import load_state_document, validate_gate_token, validate_run_id
from release_train.sandbox import cli as sandbox_cli

Handler = Callable[[argparse.Namespace], int]

FORMATS: dict[str, Callable[[Plan], str]] = {
    "text": render.plan_text,
    "markdown": render.plan_markdown,
    "json": render.plan_json,
}


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="config file (default: ./release-train.toml)")
    parser.add_argument(
        "--workspace",
        type=Path,
        help="directory with one clone per repo, named as the repo; nothing there is changed",
    )


def _selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("repos", nargs="*", help="repos to release (default: all)")
    parser.add_argument("--all", action="store_true", help="all repos (same as naming none)")
    parser.add_argument("--bump", choices=[b.value for b in Bump], help="override inference")
    parser.add_argument(
        "--prerelease",
        choices=["none", *(p.value for p in Prerelease)],
        help="make pre-releases (a, b, rc); overrides the config",
    )
    parser.add_argument("--run-id", help="use this run id instead of the generated one")


def _plan(args: argparse.Namespace) -> tuple[Config, Plan]:
    if args.all and args.repos:
        raise ReleaseError(ErrorCode.USAGE, "give repos or --all, not both")
    if args.run_id:
        validate_run_id(args.run_id)
    config, _ = load_config(args.config)
    if args.prerelease is not None:
        prerelease = None if args.prerelease == "none" else Prerelease(args.prerelease)
        config = config.model_copy(update={"prerelease": prerelease})
    if args.workspace is None:
        raise ReleaseError(
            ErrorCode.USAGE,
            "--workspace is required: scanning remote repos arrives with the release engine",
            hint="clone the family into one directory and pass --workspace DIR",
        )
    request = PlanRequest(
        repos=args.repos,
        bump=Bump(args.bump) if args.bump else None,
        run_id=args.run_id,
    )
    return config, plan_workspace(config, args.workspace, request, datetime.now(UTC).date())


def cmd_plan(args: argparse.Namespace) -> int:
    _, plan = _plan(args)
    sys.stdout.write(FORMATS[args.format](plan))
    return ExitStatus.OK


def cmd_release(args: argparse.Namespace) -> int:
    # Step 0.1: the gate token is checked before anything is scanned.
    if args.gate_attestation:
        validate_gate_token(args.gate_attestation, args.run_id or args.resume)
    if args.resume:
        load_state_document(args.resume)
        raise ReleaseError(
            ErrorCode.USAGE,
            f"run {args.resume} has a state file, but resuming arrives with the release engine",
            hint="this version of release-train plans and dry-runs only",
        )
    if not args.dry_run:
        raise ReleaseError(
            ErrorCode.USAGE,
            "releasing arrives with the release engine; this version plans and dry-runs only",
            hint="run `release-train release --dry-run ...`",
        )
    config, plan = _plan(args)
    sys.stdout.write(render.plan_text(plan))
    result = dry_run_result(plan, {r: config.tag_template(r) for r in config.repos})
    if args.result_file:
        args.result_file.write_text(result.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return ExitStatus.OK


def cmd_sample_family(args: argparse.Namespace) -> int:
    # Imported here: the plan path stays free of the sandbox.
    from release_train.sandbox.family import build_sample_family, config_text  # noqa: PLC0415

    dest: Path = args.dir
    if dest.exists() and any(dest.iterdir()):
        raise ReleaseError(
            ErrorCode.USAGE, f"{dest} is not empty", hint="give a new or empty directory"
        )
    build_sample_family(dest)
    (dest / "release-train.toml").write_text(config_text(), encoding="utf-8")
    print(f"sample family written to {dest}")
    print(f"try: release-train plan --config {dest}/release-train.toml --workspace {dest}")
    return ExitStatus.OK


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
    plan.set_defaults(handler=cmd_plan)

    release = sub.add_parser("release", help="release the family (for now: --dry-run)")
    _common(release)
    _selection(release)
    release.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    release.add_argument("--resume", metavar="RUN_ID", help="continue a run from its state")
    release.add_argument("--result-file", type=Path, help="write the JSON result here")
    release.add_argument("--gate-attestation", metavar="TOKEN", help="<slack_ts>:<run_id>")
    release.add_argument("--skip-pypi-wait", action="store_true")
    release.add_argument("--pypi-timeout-minutes", type=int, default=10)
    release.set_defaults(handler=cmd_release)

    sandbox_cli.add_parser(sub)

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
        print(exc.render(), file=sys.stderr)
        return int(exc.code.exit_status)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception:  # a bug: keep the traceback out of the way, but keep it
        with tempfile.NamedTemporaryFile(
            "w", prefix="release-train-crash-", suffix=".log", delete=False
        ) as log:
            traceback.print_exc(file=log)
        print(
            f"error[{ErrorCode.INTERNAL}]: release-train failed unexpectedly; "
            f"the traceback is in {log.name}\nhint: please report it with that file",
            file=sys.stderr,
        )
        return int(ExitStatus.INTERNAL)
