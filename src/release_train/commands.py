"""What each command does: the handlers `cli.py`'s parser dispatches to.

Each handler takes the parsed arguments, builds the objects it needs, calls the core and
renders; errors are raised as `ReleaseError`, which `cli.main` prints and maps to exit codes.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from release_train import runs
from release_train.adapters import toolchain
from release_train.config import CONFIG_FILE, Config, FailurePolicy, load_config
from release_train.console import ConsoleProgress
from release_train.core import render
from release_train.core.problems import errors, preflight_failed
from release_train.core.spelling import did_you_mean
from release_train.core.versions import Bump, Prerelease
from release_train.errors import ErrorCode, ExitStatus, ReleaseError
from release_train.preflight import validate_gate_token, validate_run_id
from release_train.preflight_access import has_token, with_access_problems

if TYPE_CHECKING:
    from release_train.adapters.slack import Slack
    from release_train.core.plan import Plan
    from release_train.core.state import Gate

# `plan` and `--help` import neither the state models nor the engine (see runs.py): the
# commands that need them import them below.

BUMPS = tuple(b.value for b in Bump)

FORMATS: dict[str, Callable[[Plan], str]] = {
    "text": render.plan_text,
    "markdown": render.plan_markdown,
    "json": render.plan_json,
}


def print_error(text: str) -> None:
    """`text` on stderr, after what stdout holds: piped together, the two keep their order."""
    sys.stdout.flush()
    print(text, file=sys.stderr, flush=True)


def _config(args: argparse.Namespace) -> Config:
    config, _ = load_config(args.config)
    if getattr(args, "prerelease", None) is not None:
        prerelease = None if args.prerelease == "none" else Prerelease(args.prerelease)
        config = config.model_copy(update={"prerelease": prerelease})
    return config


def options_of(args: argparse.Namespace) -> runs.Options:
    if getattr(args, "all", False) and args.repos:
        raise ReleaseError(
            ErrorCode.USAGE,
            "give repos or --all, not both",
            hint="name the repos to release, or --all (the same as naming none)",
        )
    if getattr(args, "run_id", None):
        validate_run_id(args.run_id)
    bump = _bump(getattr(args, "bump", None))
    policy = getattr(args, "failure_policy", None)
    return runs.Options(
        repos=getattr(args, "repos", ()),
        bump=bump,
        run_id=getattr(args, "run_id", None),
        workspace=args.workspace,
        skip_index_wait=getattr(args, "skip_pypi_wait", False),
        index_minutes=getattr(args, "pypi_timeout_minutes", None),
        max_parallel=getattr(args, "max_parallel", None),
        failure_policy=FailurePolicy(policy) if policy else None,
        result_file=getattr(args, "result_file", None),
        releasing=args.command in ("release", "resume"),
        dry_run=getattr(args, "dry_run", False),
        config_path=getattr(args, "config", None),
        offline=getattr(args, "offline", False),
    )


def _bump(value: str | None) -> Bump | None:
    if value is None or value in BUMPS:
        return Bump(value) if value else None
    raise ReleaseError(
        ErrorCode.USAGE,
        f"--bump {value!r} is not a bump{did_you_mean(value, BUMPS)}",
        hint=f"give one of {', '.join(BUMPS)}, or leave --bump out to infer it from the commits",
    )


def _plan(args: argparse.Namespace) -> tuple[Config, runs.Options, Plan, dict[str, Path]]:
    options = options_of(args)
    config = _config(args)
    plan, sources = runs.plan_release(config, options)
    return config, options, plan, sources


def cmd_plan(args: argparse.Namespace) -> int:
    config, options, plan, _ = _plan(args)
    if options.workspace is None and has_token(options.env):  # planned from GitHub: API mode
        plan = with_access_problems(config, plan, options.env)
    if args.format == "text" and args.detail:
        sys.stdout.write(render.plan_text(plan, detail=True))
    else:
        sys.stdout.write(FORMATS[args.format](plan))
    if errors(plan.problems):  # the plan is printed, and the exit status says it cannot start
        print_error(preflight_failed(plan.problems).render())
        return int(ErrorCode.PREFLIGHT_FAILED.exit_status)
    return ExitStatus.OK


def _check_approval(args: argparse.Namespace) -> None:
    """Before any clone or scan: refuse a release no approval can come for; check Slack."""
    if args.gate == "slack":
        _slack(_config(args), dict(os.environ))
    elif not (args.gate_attestation or args.yes):
        raise ReleaseError(
            ErrorCode.USAGE,
            "a release needs an approval: --gate slack, --gate-attestation <slack_ts>:<run_id> "
            "or --yes",
            hint="review the plan (`release-train plan`), then approve it with --yes",
        )


def _gate(args: argparse.Namespace, plan: Plan) -> Gate:
    from release_train.core.state import Gate  # noqa: PLC0415 - a run's model

    """The approval of `plan`, once `_check_approval` has said one can come."""
    if args.gate == "slack":
        return _slack_gate(args, plan)
    if args.gate_attestation:
        validate_gate_token(args.gate_attestation, plan.run_id)
        return Gate(kind="attestation", token=args.gate_attestation)
    user = os.environ.get("GITHUB_ACTOR") or _login()
    return Gate(kind="yes", token=f"yes:{plan.run_id}", approved_by=user)


def _slack(config: Config, env: dict[str, str]) -> tuple[Slack, str]:
    """The Slack client and channel of the Slack gate, or a USAGE error saying what is missing."""
    from release_train.adapters.slack import Slack  # noqa: PLC0415 - only for the Slack gate

    slack, channel = Slack.from_env(env), config.slack.channel or env.get("SLACK_CHANNEL_ID")
    if slack is None or channel is None:
        raise ReleaseError(
            ErrorCode.USAGE,
            "the Slack gate needs SLACK_BOT_TOKEN and a channel",
            hint="set SLACK_BOT_TOKEN, and [slack] channel in the config (docs/slack.md)",
        )
    return slack, channel


def _slack_gate(args: argparse.Namespace, plan: Plan) -> Gate:
    from release_train.gates import slack_gate  # noqa: PLC0415 - only for the Slack gate

    config = _config(args)
    slack, channel = _slack(config, dict(os.environ))
    print(f"Waiting for an approval in Slack ({channel}); reply `approve` or `reject`.")
    return slack_gate(
        slack,
        channel=channel,
        approvers=config.slack.approvers,
        plan=plan,
        run_id=plan.run_id,
        timeout_seconds=config.slack.gate_timeout_minutes * 60.0,
    )


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment nor in the password database
        return "unknown"


def cmd_release(args: argparse.Namespace) -> int:
    # Step 0.1: the gate token is checked before anything is scanned.
    if args.gate_attestation:
        validate_gate_token(args.gate_attestation, args.run_id or args.resume)
    if args.resume:
        return cmd_resume(argparse.Namespace(**{**vars(args), "run_id": args.resume}))
    if not args.dry_run:
        _check_approval(args)
    config, options, plan, sources = _plan(args)
    if not args.dry_run:  # API mode: the token and branch rules, before the gate
        plan = with_access_problems(config, plan, options.env)
    sys.stdout.write(render.plan_text(plan))
    if errors(plan.problems):
        raise preflight_failed(plan.problems)  # before any state exists
    if args.dry_run:
        from release_train.core.state import dry_run_result  # noqa: PLC0415 - a run's model

        sys.stdout.write(render.writes_text(plan))

        result = dry_run_result(plan, {r: config.tag_template(r) for r in config.repos})
        if args.result_file:
            args.result_file.write_text(result.model_dump_json(indent=2) + "\n", encoding="utf-8")
        return ExitStatus.OK
    toolchain.require(toolchain.release_tools(sources.values()))  # all missing ones named
    if plan.entries:
        runs.check_train(config, options, plan.run_id)  # before anyone is asked to approve
    gate = _gate(args, plan)
    world = runs.connect(config, options, ConsoleProgress())
    return runs.start(world, options, plan, sources, gate).exit_status


def cmd_resume(args: argparse.Namespace) -> int:
    run_id = validate_run_id(args.run_id)
    if getattr(args, "gate_attestation", None):
        validate_gate_token(args.gate_attestation, run_id)
    config = _config(args)
    options = options_of(argparse.Namespace(**{**vars(args), "run_id": None, "repos": ()}))
    toolchain.require([toolchain.GIT, toolchain.UV])
    world = runs.connect(config, options, ConsoleProgress())
    return runs.resume(world, options, run_id).exit_status


def cmd_status(args: argparse.Namespace) -> int:
    from release_train.core import history, summary  # noqa: PLC0415 - a run's state
    from release_train.core.state import run_result  # noqa: PLC0415

    config = _config(args)
    options = runs.Options(config_path=args.config)
    store = runs.store_for(config, options.env)
    if args.run_id is None:
        if args.format == "markdown":
            raise ReleaseError(
                ErrorCode.USAGE,
                "the run list has text and JSON formats",
                hint="use --format text or json, or give a RUN_ID for its Markdown summary",
            )
        listing = runs.list_runs(store)
        json_text = listing.model_dump_json(indent=2) + "\n"
        sys.stdout.write(json_text if args.format == "json" else history.runs_text(listing))
        return ExitStatus.OK
    run_id = validate_run_id(args.run_id)
    state, archived, location = runs.load_run(store, run_id)
    if args.format == "json":
        sys.stdout.write(run_result(state).model_dump_json(indent=2) + "\n")
    elif args.format == "markdown":
        sys.stdout.write(summary.summary_markdown(state))
    else:
        resume = options.resume_command(run_id)
        sys.stdout.write(
            history.run_text(state, archived=archived, location=location, resume=resume)
        )
    return ExitStatus.OK


def cmd_unlock(args: argparse.Namespace) -> int:
    """Break the family lock a stopped run holds: an explicit decision to abandon that run."""
    from release_train.family_lock import Trains  # noqa: PLC0415

    run_id = validate_run_id(args.run_id)
    config = _config(args)
    env = dict(os.environ)
    store = runs.store_for(config, env)
    with store.lock(run_id):  # a run still going here is RUN_IN_PROGRESS
        held = Trains(store, config.owner, env).unlock(run_id)
    print(
        f"family {config.owner} unlocked: run {run_id} ({held.owner}) no longer holds it; "
        f"its state stays, and `release-train resume {run_id}` would take the lock again"
    )
    return ExitStatus.OK


def cmd_demo(args: argparse.Namespace) -> int:
    from release_train.demo import run_demo  # noqa: PLC0415 - the sandbox only when asked

    return run_demo(args.keep)


def cmd_rehearse(args: argparse.Namespace) -> int:
    from release_train.rehearsal import rehearse  # noqa: PLC0415 - the sandbox only when asked

    status, _ = rehearse(
        args.workspace,
        _config(args),
        keep=args.keep,
        fmt=args.format,
        upstream_index=args.upstream_index,
    )
    return status


def cmd_action(_args: argparse.Namespace) -> int:
    from release_train.action import run_action  # noqa: PLC0415 - the Action's runtime only there

    return run_action()


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


def cmd_init(args: argparse.Namespace) -> int:
    from release_train import scaffold  # noqa: PLC0415 - init only

    request = scaffold.InitRequest(
        args.out or Path(CONFIG_FILE), args.workspace, args.owner, args.repos
    )
    sys.stdout.write(scaffold.init(request, dict(os.environ)))
    return ExitStatus.OK
