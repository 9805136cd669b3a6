"""The `release-train sandbox {up,status,down}` commands: argument parsing and printing only."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release_train.errors import ErrorCode, ReleaseError

if TYPE_CHECKING:
    from release_train.sandbox.index import IndexFile


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `sandbox {up,status,down}`; each sets `handler` to `run`."""
    sandbox = subparsers.add_parser(
        "sandbox", help="a local GitHub, package index and Slack to release into"
    )
    verbs = sandbox.add_subparsers(dest="sandbox_command", required=True, metavar="COMMAND")
    up = verbs.add_parser("up", help="start the sandbox detached and seed the sample family")
    up.add_argument("--no-seed", action="store_true", help="start without the sample family")
    up.add_argument("--timeout", type=float, default=300.0, help="seconds to wait until ready")
    verbs.add_parser("status", help="PRs, refs, tags, checks, workflow runs and uploads")
    verbs.add_parser("down", help="stop the sandbox and every process it started")
    for verb in verbs.choices.values():
        verb.add_argument("--dir", type=Path, required=True, help="the sandbox directory")
        verb.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Carry out one `sandbox` command; expected failures raise ReleaseError."""
    # Imported here so that `release-train plan` does not pay for the sandbox's imports.
    from release_train.sandbox import control, detached  # noqa: PLC0415

    root: Path = args.dir.resolve()
    if args.sandbox_command == "up":
        from release_train.adapters import toolchain  # noqa: PLC0415

        # The server seeds the family with uv and serves pypiserver: say what is missing
        # here, not in its log.
        toolchain.require([toolchain.UV, toolchain.PYPISERVER, toolchain.GIT])
        started = time.monotonic()
        env = detached.up(root, seed=not args.no_seed, timeout=args.timeout)
        for key in sorted(env):
            print(f"{key}={env[key]}")
        took = time.monotonic() - started
        print(f"# sandbox up in {took:.1f}s; wrote {root / control.ENV_FILE}", file=sys.stderr)
        return 0
    if args.sandbox_command == "down":
        stopped = detached.down(root)
        print(f"sandbox in {root} {'stopped' if stopped else 'was not running'}")
        return 0
    print(status_text(root))
    return 0


def status_text(root: Path) -> str:
    """The world as `sandbox status` shows it: GitHub's snapshot and the index's files."""
    from release_train.sandbox import control, detached  # noqa: PLC0415
    from release_train.sandbox.index import IndexClient  # noqa: PLC0415

    state = control.read_state(root)
    if state is None or detached.running_pid(root) is None:
        raise ReleaseError(
            ErrorCode.SANDBOX_ERROR,
            f"no sandbox is running in {root}",
            hint=f"start one with `release-train sandbox up --dir {root}`",
        )
    env: dict[str, str] = state["env"]
    snapshot = _get_json(f"{env['SANDBOX_ADMIN_URL']}/snapshot")
    files = IndexClient(env["INDEX_URL"].removesuffix("/simple/")).all_files()
    return render_status(state, snapshot, files)


def _get_json(url: str) -> dict[str, Any]:
    import urllib.request  # noqa: PLC0415 - http.client only for this command

    try:
        with urllib.request.urlopen(url, timeout=30) as resp:  # noqa: S310 (loopback URL)
            data: dict[str, Any] = json.loads(resp.read())
            return data
    except (OSError, ValueError) as exc:
        raise ReleaseError(
            ErrorCode.SANDBOX_ERROR,
            f"GET {url} failed: {exc}",
            hint="is the sandbox still running? see `release-train sandbox status`",
        ) from exc


def render_status(state: dict[str, Any], snapshot: dict[str, Any], files: list[IndexFile]) -> str:
    """Plain text, one block per repo, then the uploads; short SHAs, everything sorted."""
    env = state["env"]
    lines = [
        f"sandbox {state['root']} (pid {state['pid']})",
        f"  github  {env['GITHUB_API_URL']}",
        f"  index   {env['INDEX_URL']}",
        f"  slack   {env['SLACK_API_URL']}",
    ]
    for name, repo in sorted(snapshot.get("repos", {}).items()):
        lines.append(f"{snapshot.get('owner', '')}/{name}")
        lines.extend(_refs("branches", repo.get("branches", {})))
        lines.extend(_refs("tags", repo.get("tags", {})))
        lines.extend(_rows(snapshot, name, "pulls", _PULL))
        lines.extend(_rows(snapshot, name, "check_runs", _CHECK))
        lines.extend(_rows(snapshot, name, "workflow_runs", _RUN))
    lines.append(f"uploads ({len(files)})")
    lines.extend(f"  {f.filename}  sha256:{f.sha256[:12]}" for f in files)
    return "\n".join(lines)


def _short(value: Any) -> str:
    return str(value)[:7] if value else "-"


def _pull(p: dict[str, Any]) -> str:
    merged = f" merged as {_short(p.get('merge_commit_sha'))}" if p.get("merged") else ""
    return (
        f"#{p['number']} {p['state']}{merged} {p['head_ref']} -> {p['base_ref']} "
        f"head {_short(p['head_sha'])}: {p['title']}"
    )


def _check(c: dict[str, Any]) -> str:
    return f"{c['name']} {_short(c['sha'])} {c['status']} {c.get('conclusion') or ''}".rstrip()


def _run(r: dict[str, Any]) -> str:
    files = f" uploaded {', '.join(r['files'])}" if r.get("files") else ""
    outcome = r.get("conclusion") or ""
    return f"run {r['id']} {r['event']} {r.get('tag') or ''} {r['status']} {outcome}{files}"


_PULL = ("pull requests", _pull)
_CHECK = ("check runs", _check)
_RUN = ("workflow runs", _run)


def _refs(title: str, refs: dict[str, str]) -> list[str]:
    if not refs:
        return []
    return [f"  {title}", *(f"    {ref}  {_short(refs[ref])}" for ref in sorted(refs))]


def _rows(
    snapshot: dict[str, Any],
    repo: str,
    key: str,
    how: tuple[str, Callable[[dict[str, Any]], str]],
) -> list[str]:
    title, line = how
    rows = [row for row in snapshot.get(key, []) if row.get("repo") == repo]
    if not rows:
        return []
    return [f"  {title}", *(f"    {line(row)}" for row in rows)]


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m release_train.sandbox.cli sandbox ...`, until the main CLI wires it in."""
    parser = argparse.ArgumentParser(prog="release-train")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except ReleaseError as exc:
        print(exc.render(), file=sys.stderr)
        return int(exc.code.exit_status)


if __name__ == "__main__":
    raise SystemExit(main())
