"""Repo code that a release runs (a pre-commit hook) cannot reach the token, now or later.

The Action runs as a new process against the sandbox, as its Docker entry point does; the
released repo's hook looks for the token in the environment of every process above it and
plants git hooks (and an fsmonitor) in the run's clone that would record the environment of
a later `git push` or `git status`.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from release_train.adapters import accounts, clones, command, git
from release_train.errors import ReleaseError
from release_train.sandbox.control import Sandbox

from .sandbox.conftest import central_world, tiny_config

RUN_ID = "release-20260101-hostile"
TIMEOUT = 240.0

# Run by pre-commit in the release's worktree: `report` is a directory outside of it.
HOSTILE_HOOK = """
import json, os, pathlib, subprocess, sys

report = pathlib.Path(sys.argv[1])
seen, pid = {}, os.getppid()
while pid > 1:
    try:
        seen[pid] = pathlib.Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
    except OSError as exc:
        seen[pid] = f"unreadable: {exc}"
    stat_line = pathlib.Path(f"/proc/{pid}/stat").read_text()
    pid = int(stat_line.rpartition(")")[2].split()[1])
(report / "ancestors.json").write_text(json.dumps(seen))
(report / "uid").write_text(str(os.getuid()))

planted = f"#!/bin/sh\\nenv > {report}/planted-$(basename $0)-$$.env\\n"
def git(*args):
    return subprocess.run(["git", *args], capture_output=True, text=True).stdout.strip()
dirs = {git("rev-parse", "--git-dir"), git("rev-parse", "--git-common-dir")}
hooks = [pathlib.Path(d) / "hooks" for d in dirs] + [report / "hooks-path"]
for where in hooks:
    try:
        where.mkdir(parents=True, exist_ok=True)
        for name in ("pre-push", "post-checkout", "reference-transaction", "post-commit"):
            (where / name).write_text(planted)
            (where / name).chmod(0o755)
    except OSError as exc:
        (report / "refused").write_text(str(exc))
subprocess.run(["git", "config", "core.hooksPath", str(report / "hooks-path")])
monitor = report / "hooks-path" / "fsmonitor"
monitor.write_text(planted)
monitor.chmod(0o755)
subprocess.run(["git", "config", "core.fsmonitor", str(monitor)])
"""


def pre_commit_config(report: Path) -> str:
    return (
        "repos:\n- repo: local\n  hooks:\n  - id: hostile\n    name: hostile\n"
        f"    entry: {sys.executable} hostile.py {report}\n    language: system\n"
        "    pass_filenames: false\n    always_run: true\n"
    )


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Sandbox]:
    yield from central_world(tmp_path)


@pytest.fixture
def shared() -> Iterator[Path]:
    """A directory every account can reach: the work dir and the hook's report live there."""
    with tempfile.TemporaryDirectory(prefix="release-train-repo-code-") as path:
        Path(path).chmod(0o755)
        yield Path(path)


def push_hostile_hook(world: Sandbox, where: Path, report: Path) -> None:
    auth = clones.GitAuth.for_token(world.github.token, where.parent / "push-auth")
    url = clones.repo_url(world.github.server_url, world.owner, "alpha_core")
    clones.authed(auth, where.parent, "clone", "--quiet", url, str(where))
    (where / "hostile.py").write_text(HOSTILE_HOOK, encoding="utf-8")
    (where / ".pre-commit-config.yaml").write_text(pre_commit_config(report), encoding="utf-8")
    git.git(where, "add", "hostile.py", ".pre-commit-config.yaml")
    identity = ("-c", "user.name=dev", "-c", "user.email=dev@example.com")
    git.git(where, *identity, "commit", "--quiet", "-m", "fix: lint with a local hook")
    clones.authed(auth, where, "push", "--quiet", "origin", "HEAD:refs/heads/main")


def action_env(world: Sandbox, work_dir: Path, files: Path) -> dict[str, str]:
    """A Docker action's environment: the token only as the `token` input."""
    env = {k: v for k, v in world.env.items() if k not in ("GITHUB_TOKEN", "SLACK_BOT_TOKEN")}
    return {
        **env,
        "RELEASE_TRAIN_STATE_DIR": str(files / "state"),
        "RELEASE_TRAIN_WORK_DIR": str(work_dir),
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": f"{world.owner}/central",
        "GITHUB_RUN_ID": "7100",
        "GITHUB_STEP_SUMMARY": str(files / "summary.md"),
        "GITHUB_OUTPUT": str(files / "output"),
        "INPUT_TOKEN": world.github.token,
        "INPUT_COMMAND": "release",
        "INPUT_REPOS": "alpha_core",
        "INPUT_RUN-ID": RUN_ID,
        "INPUT_GATE": "attestation",
        "INPUT_GATE-ATTESTATION": f"1767225600.000100:{RUN_ID}",
        "INPUT_SKIP-PYPI-WAIT": "true",
    }


def release_with_hostile_hook(
    world: Sandbox, tmp_path: Path, shared: Path, env: Mapping[str, str] | None = None
) -> Path:
    """Release `alpha_core` (which has the hostile hook) with the Action; the hook's report."""
    token = world.github.token
    assert token not in Path("/proc/self/environ").read_text(errors="replace")  # the test's own
    report = shared / "report"
    report.mkdir()
    report.chmod(stat.S_IRWXU | stat.S_IRWXG | stat.S_IRWXO)  # the hook may run as another user
    push_hostile_hook(world, tmp_path / "dev", report)
    world.github.admin().set_ci("alpha_core", duration=0.0)
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "release-train.toml").write_text(tiny_config(world), encoding="utf-8")

    done = command.run(
        [sys.executable, "-m", "release_train", "action"],
        env={**action_env(world, shared / "work", tmp_path), **(env or {})},
        cwd=workspace,
        timeout=TIMEOUT,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    ancestors = json.loads((report / "ancestors.json").read_text())
    assert ancestors, "the hook never ran"
    leaked = [pid for pid, environ in ancestors.items() if token in environ]
    assert leaked == [], f"the token is in the environment of processes {leaked}"
    assert ours_that_ran(report, token) == []
    # A later run of the same clones (a resume, the next release) runs no planted hook either.
    clone = shared / "work" / "clones" / world.owner / "alpha_core"
    git.git(clone, "update-ref", "refs/heads/later", "HEAD")
    git.git(clone, "status")
    assert ours_that_ran(report, token) == []
    return report


def ours_that_ran(report: Path, token: str) -> list[str]:
    """The planted hooks that ran in a git command of release-train's (or with the token).

    pre-commit's own git calls after the hook may run the planted fsmonitor: that is repo
    code run by repo code, in the tool's environment (PRE_COMMIT_HOME set, no token).
    """
    found = []
    for path in sorted(report.glob("planted-*")):
        env = path.read_text(errors="replace")
        if token in env or "PRE_COMMIT_HOME=" not in env:
            found.append(path.name)
    return found


def test_a_hook_finds_no_token_and_plants_no_hook_that_runs(
    world: Sandbox, tmp_path: Path, shared: Path
) -> None:
    release_with_hostile_hook(world, tmp_path, shared, {accounts.ACCOUNT_VARIABLE: ""})


def _usable_account(name: str) -> command.RunAs:
    """`name` as repo code's account, or skip: it must reach our python and pre-commit."""
    if os.geteuid() != 0:
        pytest.skip("repo code runs as another account only when release-train is root")
    account = accounts.repo_code_account({accounts.ACCOUNT_VARIABLE: name})
    assert account is not None, f"no account {name}"
    for tool in (sys.executable, shutil.which("pre-commit") or "pre-commit"):
        try:
            command.run([tool, "--version"], user=account, cwd="/")
        except ReleaseError as exc:
            pytest.skip(f"{name} cannot run {tool} here: {exc.message}")
    return account


def test_as_root_the_hook_runs_as_an_unprivileged_account(
    world: Sandbox, tmp_path: Path, shared: Path
) -> None:
    account = _usable_account("nobody")
    report = release_with_hostile_hook(
        world, tmp_path, shared, {accounts.ACCOUNT_VARIABLE: "nobody"}
    )
    assert int((report / "uid").read_text()) == account.uid != 0
    assert (report / "refused").exists()  # the clone's git directory is not the hook's to write


def test_run_as_starts_the_command_as_that_account(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("starting a command as another account needs root")
    account = accounts.repo_code_account({accounts.ACCOUNT_VARIABLE: "nobody"})
    assert account is not None
    done = command.run(["/bin/sh", "-c", "id -u; id -G; echo $HOME"], user=account, cwd="/")
    assert done.stdout.split() == [str(account.uid), str(account.gid), str(account.home)]


def test_hand_over_gives_the_files_but_not_the_git_link(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("handing files to another account needs root")
    account = accounts.repo_code_account({accounts.ACCOUNT_VARIABLE: "nobody"})
    assert account is not None
    worktree, cache, outside = tmp_path / "wt", tmp_path / "cache", tmp_path / "outside"
    (worktree / "src").mkdir(parents=True)
    (worktree / "src" / "mod.py").write_text("")
    (worktree / ".git").write_text("gitdir: /elsewhere\n")
    outside.write_text("not the repo's")
    (worktree / "link").symlink_to(outside)

    accounts.hand_over(account, worktree, [cache])

    owner = {p.name: p.lstat().st_uid for p in [*worktree.rglob("*"), cache, outside]}
    mine = os.geteuid()
    assert owner == {
        "src": account.uid,
        "mod.py": account.uid,
        "link": account.uid,
        ".git": mine,
        "cache": account.uid,
        "outside": mine,  # a symlink's target is never handed over
    }
    top = worktree.stat()
    assert (top.st_uid, top.st_gid, stat.S_IMODE(top.st_mode)) == (mine, account.gid, 0o3775)


def test_the_secrets_are_out_of_the_re_executed_environment(tmp_path: Path) -> None:
    """The entry point's own process: /proc/<pid>/environ holds no input token after exec."""
    probe = (
        "import os, sys\n"
        "from release_train.adapters import handoff\n"
        "env = handoff.sealed_environment()\n"
        "print(env['INPUT_TOKEN'], env['GITHUB_TOKEN'])\n"
        "print('ghs_secret' in open('/proc/self/environ', errors='replace').read())\n"
    )
    env = {"INPUT_TOKEN": "ghs_secret1", "GITHUB_TOKEN": "ghs_secret2", "PLAIN": "kept"}
    done = command.run([sys.executable, "-c", probe], env=env, cwd=tmp_path)
    assert done.stdout.splitlines() == ["ghs_secret1 ghs_secret2", "False"]


def test_the_account_writes_the_worktree_but_not_the_git_dirs(shared: Path) -> None:
    """What a hook run as the account can and cannot do to a handed-over worktree."""
    if os.geteuid() != 0:
        pytest.skip("handing files to another account needs root")
    account = accounts.repo_code_account({accounts.ACCOUNT_VARIABLE: "nobody"})
    assert account is not None
    clone, worktree = shared / "clone", shared / "worktree"
    clone.mkdir()
    git.git(clone, "init", "--quiet", "--initial-branch=main")
    (clone / "pyproject.toml").write_text("[project]\n")
    git.git(clone, "add", "pyproject.toml")
    git.git(clone, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "--quiet", "-m", "x")
    git.git(clone, "worktree", "add", "--quiet", "-b", "release", str(worktree))
    accounts.hand_over(account, worktree, [shared / "cache"])

    def as_account(script: str) -> int:
        argv = ["/bin/sh", "-c", script]
        env = {**accounts.git_trust(account), "GIT_CONFIG_NOSYSTEM": "1"}
        return command.run(argv, cwd=worktree, env=env, user=account, check=False).returncode

    assert as_account("git status --porcelain && echo '# ok' >> pyproject.toml") == 0
    assert as_account("touch uv.lock.tmp && mv uv.lock.tmp uv.lock && touch ../cache/x") == 0
    assert as_account(f"echo hook > {clone}/.git/hooks/pre-push") != 0
    assert as_account("git config core.hooksPath /tmp") != 0
    assert as_account("rm -f .git") != 0  # the sticky top directory keeps our link
    assert (worktree / ".git").is_file()
