"""Crash safety tested from outside (issue 5, item 6): SIGKILL the CLI anywhere, resume, same world.

One uninterrupted `release-train release` in a sandbox gives the reference world. A second
sandbox releases the same plan while the harness kills the CLI (and everything it started)
with SIGKILL before any state exists, at every step boundary of every repo (the engine's
`RELEASE_TRAIN_PAUSE_AFTER` hook holds it there), and in the middle of a CI wait and an
index wait; then it resumes until the run succeeds. A third sandbox does the same under
about 10% injected transient GitHub faults, killing at every third boundary only, to keep
the time bounded. Both must leave exactly the reference world: one PR and one squash commit
per repo, one tag at its merge commit, one upload per version, the same changelogs, pins
and locks, and every repo `done`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from github import Auth, Github
from packaging.utils import canonicalize_name

from release_train.adapters.git import git
from release_train.adapters.store import local_store
from release_train.core.state import RepoState, RunState
from release_train.runs import load_run
from release_train.sandbox.control import Sandbox
from release_train.sandbox.index import dist_name_version

from .crash_harness import BOUNDARY_PHASES, Crasher, boundaries, cli_for

RUN_ID = "crash-train"
CI_WAIT_REPO = "omnibase_core"  # its CI takes long enough to be killed while waiting
INDEX_WAIT_REPO = "omnibase_infra"  # its publish is slow and the index front lags
FAULT_SEED = 20260105
MAX_FAILED_ATTEMPTS = 12
# About 10% of API requests fail: a third after the request took effect (answer lost).
FAULTS: tuple[dict[str, Any], ...] = (
    {"kind": "error", "rate": 0.03, "status": 502},
    {"kind": "error", "rate": 0.02, "status": 502, "phase": "after"},
    {"kind": "drop", "rate": 0.02},
    {"kind": "drop", "rate": 0.01, "phase": "after"},
    {"kind": "secondary_rate_limit", "rate": 0.02, "retry_after": 1},
)
# A run makes only ~100 API requests, so 10% may spare every write. These make sure each
# kind of write once takes effect while its answer is lost: (repo, method, path, fault).
LOST_ANSWERS: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("omnibase_spi", "POST", "pulls", {"kind": "drop"}),
    ("omnibase_core", "PUT", "pulls/1/merge", {"kind": "drop"}),
    ("omnibase_infra", "POST", "git/refs", {"kind": "error", "status": 502}),
    ("omniintelligence", "DELETE", "git/refs/heads/", {"kind": "drop"}),
    ("omniclaude", "POST", "pulls", {"kind": "secondary_rate_limit", "retry_after": 1}),
)


# -- the world a run leaves behind --------------------------------------------------------

_ADDRESS = re.compile(r"http://127\.0\.0\.1:\d+")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_COMMIT_LINK = re.compile(r"\[[0-9a-f]{7}\]\(([^()\s]*)/commit/[0-9a-f]{40}\)")  # sha differs


def _normal_lock(text: str | None) -> str | None:
    """uv.lock without what differs between sandboxes: ports, and digests of rebuilt files."""
    if text is None:
        return None
    text = _DIGEST.sub("sha256:<digest>", _ADDRESS.sub("<index>", text))
    return re.sub(r"(size|upload-time) = [^,}\n]+", r"\1 = <\1>", text)


def _normal_changelog(text: str | None, version: str) -> str | None:
    """The changelog with the date of the new entry blanked (a run may cross midnight) and
    the stand-in's address and the commits its links hold made the same for every sandbox."""
    if text is None:
        return None
    text = _COMMIT_LINK.sub(r"[<sha>](\1/commit/<sha>)", _ADDRESS.sub("<server>", text))
    lines = text.splitlines(keepends=True)
    headings = (f"## [{version}](", f"## {version} ")  # linked, or a first release
    return "".join(_DATE.sub("<date>", s) if s.startswith(headings) else s for s in lines)


def _show(bare: Path, rev: str, path: str) -> str | None:
    done = git(bare, "show", f"{rev}:{path}", check=False)
    return done if done else None


def _seed(world: Sandbox, repo: str) -> tuple[str, set[str]]:
    """(head of main, tag names) of the repo as the sandbox seeded it."""
    source = world.root / "family" / repo
    head = git(source, "rev-parse", "HEAD").strip()
    return head, set(git(source, "tag", "--list").split())


def _uploads(world: Sandbox, package: str, seeded: set[str]) -> list[str]:
    """Files pypiserver stores for `package` that the seed did not put there."""
    found = []
    for path in sorted(world.index.packages_dir.iterdir()):
        try:
            name, _version = dist_name_version(path.name)
        except ValueError:
            continue
        if name == package and path.name not in seeded:
            found.append(path.name)
    return found


def _pulls(gh: Github, owner: str, repo: str) -> list[dict[str, Any]]:
    found = gh.get_repo(f"{owner}/{repo}").get_pulls(state="all", sort="created")
    return [
        {
            "number": p.number,
            "title": p.title,
            "state": p.state,
            "merged": p.merged,
            "head": p.head.ref,
            "base": p.base.ref,
            "body": p.body,
            "merge_commit_sha": p.merge_commit_sha,
        }
        for p in sorted(found, key=lambda p: p.number)
    ]


def _main_commits(bare: Path, seed: str) -> list[dict[str, Any]]:
    log = git(bare, "log", "--format=%H%x00%P%x00%s", f"{seed}..refs/heads/main")
    commits = []
    for line in reversed(log.splitlines()):
        sha, parents, subject = line.split("\x00")
        commits.append({"sha": sha, "parents": parents.split(), "subject": subject})
    return commits


def _label(sha: str | None, names: dict[str, str]) -> str:
    """A SHA by every name it has in this world (SHAs differ between sandboxes)."""
    found = [name for name, known in names.items() if sha and known == sha]
    return " = ".join(found) if found else f"unknown {sha}"


@dataclass
class WorldReader:
    """Reads one sandbox's world back after `run_id`, repo by repo."""

    world: Sandbox
    gh: Github
    snapshot: dict[str, Any]
    state: RunState
    seeded: set[str]  # the index's files before the run

    def repo(self, repo: str) -> dict[str, Any]:
        """PRs, main, branches, tags, uploads, files at the tag and state of `repo`."""
        record = self.state.repos[repo]
        bare = self.world.github.root / "git" / self.world.owner / f"{repo}.git"
        seed_head, seed_tags = _seed(self.world, repo)
        hosted = self.snapshot["repos"][repo]
        pulls = _pulls(self.gh, self.world.owner, repo)
        commits = _main_commits(bare, seed_head)
        names = {"seed": seed_head, "main": hosted["branches"].get("main", "")}
        names.update({f"PR #{p['number']} merge": p["merge_commit_sha"] for p in pulls})
        names.update({f"commit {i + 1} on main": c["sha"] for i, c in enumerate(commits)})
        new_tags = {t: s for t, s in hosted["tags"].items() if t not in seed_tags}
        runs = [r for r in self.snapshot["workflow_runs"] if r["repo"] == repo]
        lock = _show(bare, record.tag, "uv.lock")
        return {
            "pulls": [
                {**p, "merge_commit_sha": _label(p["merge_commit_sha"], names)} for p in pulls
            ],
            "main": [
                {"subject": c["subject"], "parents": [_label(s, names) for s in c["parents"]]}
                for c in commits
            ],
            "branches": sorted(hosted["branches"]),
            "tags": {tag: _label(sha, names) for tag, sha in sorted(new_tags.items())},
            "uploads": _uploads(self.world, canonicalize_name(record.package), self.seeded),
            "publish_runs": sorted(
                (r["tag"], r["event"], r["conclusion"], tuple(r["files"])) for r in runs
            ),
            "changelog": _normal_changelog(
                _show(bare, record.tag, "CHANGELOG.md"), record.new_version
            ),
            "pyproject": _show(bare, record.tag, "pyproject.toml"),
            "uv.lock": _normal_lock(lock),
            "locked": _locked_versions(lock),
            "state": _repo_state(record, names),
        }


def _repo_state(record: RepoState, names: dict[str, str]) -> dict[str, Any]:
    return {
        "package": record.package,
        "version": record.new_version,
        "status": str(record.status),
        "phase": record.phase,
        "index_status": str(record.index_status),
        "pr_number": record.pr_number,
        "tag": record.tag,
        "pins": record.pins,
        "error": record.error.line() if record.error else None,
        "merge_sha": _label(record.merge_sha, names),
        "tag_sha": _label(record.tag_sha, names),
    }


def _locked_versions(text: str | None) -> list[str]:
    if text is None:
        return []
    packages = tomllib.loads(text).get("package", [])
    return sorted(f"{p['name']}=={p['version']}" for p in packages)


def seeded_files(world: Sandbox) -> set[str]:
    """The index's files before any release: call right after the sandbox started."""
    return {p.name for p in world.index.packages_dir.iterdir()}


def _release_commit(world: Sandbox, repo: str) -> str:
    state, _archived, _location = load_run(local_store(world.root / "state"), RUN_ID)
    commit = state.repos[repo].release_commit
    assert commit is not None, f"{repo} has no release commit yet"
    return commit


def capture_world(world: Sandbox, run_id: str, seeded: set[str]) -> dict[str, Any]:
    """What the run left: per repo PRs, main, tags, uploads, files at the tag, final state."""
    admin = world.github.admin()
    admin.clear_faults()  # reading the world back must not meet the run's injected faults
    snapshot = admin.snapshot()
    state, archived, _location = load_run(local_store(world.root / "state"), run_id)
    gh = Github(base_url=world.github.api_url, auth=Auth.Token(world.github.token))
    try:
        reader = WorldReader(world, gh, snapshot, state, seeded)
        repos = {repo: reader.repo(repo) for repo in state.repos}
    finally:
        gh.close()
    return {
        "run": {"status": str(state.status), "archived": archived, "order": list(state.repos)},
        "repos": repos,
    }


# -- the tests ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The world an uninterrupted run leaves behind (its sandbox stops once it is read)."""
    root = tmp_path_factory.mktemp("reference")
    with Sandbox.start(root / "world") as world, cli_for(world, RUN_ID) as cli:
        seeded = seeded_files(world)
        attempt = cli.start()
        status = attempt.finish()
        assert status == 0, attempt.transcript()
        return capture_world(world, RUN_ID, seeded)


def _dist(package: str, version: str) -> list[str]:
    stem = f"{package.replace('-', '_')}-{version}"
    return [f"{stem}-py3-none-any.whl", f"{stem}.tar.gz"]


def test_the_reference_run_leaves_one_of_everything(reference: dict[str, Any]) -> None:
    assert reference["run"] == {
        "status": "success",
        "archived": True,
        "order": [
            "omnibase_spi",
            "omnibase_core",
            "omnibase_infra",
            "omniintelligence",
            "omnimemory",
            "omniclaude",
        ],
    }
    merge = "main = PR #1 merge = commit 1 on main"
    for repo, found in reference["repos"].items():
        state = found["state"]
        version, tag = state["version"], state["tag"]
        assert [(p["number"], p["title"], p["state"], p["merged"]) for p in found["pulls"]] == [
            (1, f"release: {repo} v{version}", "closed", True)
        ]
        assert found["pulls"][0]["merge_commit_sha"] == merge
        assert found["main"] == [
            {"subject": f"release: {repo} v{version} (#1)", "parents": ["seed"]}
        ]
        assert found["tags"] == {tag: merge}
        assert found["branches"] == ["main"]
        assert found["uploads"] == _dist(state["package"], version)
        assert found["publish_runs"] == [
            (tag, "push", "success", tuple(_dist(state["package"], version)))
        ]
        heading = rf"^## (?:\[{re.escape(version)}\]\(\S+/compare/\S+\)|{re.escape(version)}) "
        assert re.search(heading + r"\(<date>\)$", found["changelog"], re.MULTILINE)
        assert f'version = "{version}"' in found["pyproject"]
        assert f"{state['package']}=={version}" in found["locked"]
        assert {k: v for k, v in state.items() if k != "pins"} == {
            "package": state["package"],
            "version": version,
            "status": "done",
            "phase": "DONE",
            "index_status": "available",
            "pr_number": 1,
            "tag": tag,
            "error": None,
            "merge_sha": merge,
            "tag_sha": merge,
        }
    assert reference["repos"]["omniclaude"]["state"]["pins"] == {
        "omnibase-core": "==1.5.0",
        "omnibase-infra": "==2.1.0",
        "omniintelligence": "==0.9.1",
    }


@pytest.mark.timeout(600)  # ~2.5 min here; each attempt has its own bound in the harness
def test_a_run_killed_at_every_boundary_resumes_to_the_same_world(
    reference: dict[str, Any], tmp_path: Path
) -> None:
    order: list[str] = reference["run"]["order"]
    infra = reference["repos"][INDEX_WAIT_REPO]["state"]
    index_wait = f"waiting for {infra['package']}=={infra['version']} to be installable"
    with Sandbox.start(tmp_path / "world") as world, cli_for(world, RUN_ID) as cli:
        seeded = seeded_files(world)
        admin = world.github.admin()
        admin.set_publish(INDEX_WAIT_REPO, delay=2.0)
        crasher = Crasher(cli)
        crasher.kill_before_state()  # the next attempt is a plain `release` again
        for boundary in boundaries(order):
            if boundary == (CI_WAIT_REPO, "MERGED"):
                # CI that cannot finish while the attempt is killed in its wait, however long
                # the earlier attempts took; then a quick re-run, which the resume waits for.
                release_commit = _release_commit(world, CI_WAIT_REPO)
                admin.set_ci(CI_WAIT_REPO, duration=600.0)
                admin.rerun_ci(CI_WAIT_REPO, release_commit)
                crasher.kill_on(boundary, "waiting for checks of PR")
                admin.set_ci(CI_WAIT_REPO, duration=3.0)
                admin.rerun_ci(CI_WAIT_REPO, release_commit)
                crasher.kill_at(boundary)
            elif boundary == (INDEX_WAIT_REPO, "PUBLISHED"):
                world.cdn.lag = 600.0  # listed but not served while the attempt is killed
                crasher.kill_on(boundary, index_wait)
                world.cdn.lag = 3.0  # served 3 s after the upload, through the resume
                crasher.kill_at(boundary)
                world.cdn.lag = 0.0
            else:
                crasher.kill_at(boundary)
        crasher.finish()
        crashed = capture_world(world, RUN_ID, seeded)
        commands = [attempt.command for attempt in cli.attempts]
    assert commands[:3] == ["release", "release", "resume"]  # killed before its state: again
    assert len(crasher.kills) == 1 + len(order) * len(BOUNDARY_PHASES) + 2
    assert crasher.failures == []
    assert crashed == reference
    assert crasher.missed_pauses == [], "the engine went on past these boundaries"


@pytest.mark.timeout(600)
def test_a_run_killed_under_transient_faults_resumes_to_the_same_world(
    reference: dict[str, Any], tmp_path: Path
) -> None:
    """Killed at every third boundary only (26 of 78), to keep the time bounded."""
    order: list[str] = reference["run"]["order"]
    with Sandbox.start(tmp_path / "world") as world, cli_for(world, RUN_ID) as cli:
        seeded = seeded_files(world)
        admin = world.github.admin()
        admin.seed_faults(FAULT_SEED)
        lost = [
            (method, f"/api/v3/repos/{world.owner}/{repo}/{path}")
            for repo, method, path, _ in LOST_ANSWERS
        ]
        # First: a request draws the rules in order and fails at most once.
        for (method, prefix), (*_, fault) in zip(lost, LOST_ANSWERS, strict=True):
            admin.add_fault(count=1, method=method, path_prefix=prefix, phase="after", **fault)
        for rule in FAULTS:
            admin.add_fault(path_prefix="/api/v3", **rule)
        crasher = Crasher(cli, allowed_failures=MAX_FAILED_ATTEMPTS)
        crasher.kill_before_state()
        for boundary in boundaries(order)[::3]:
            crasher.kill_at(boundary)
        crasher.finish()
        faulted = [(r["method"], r["path"]) for r in admin.requests() if r["fault"]]
        crashed = capture_world(world, RUN_ID, seeded)
    assert len(crasher.kills) == 1 + len(order) * len(BOUNDARY_PHASES) // 3
    for method, prefix in lost:
        assert any(m == method and p.startswith(prefix) for m, p in faulted), (prefix, faulted)
    assert len(faulted) > len(lost), faulted  # the random faults met the run too
    assert crashed == reference
    assert crasher.missed_pauses == [], "the engine went on past these boundaries"
