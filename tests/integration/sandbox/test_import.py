"""A real family's clones imported into the sandbox: every ref, its own release workflow, URLs."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
from collections.abc import Iterator
from pathlib import Path

import pytest

from release_train.adapters import interpreters
from release_train.adapters.git import git
from release_train.errors import ErrorCode, ReleaseError
from release_train.sandbox import upstream
from release_train.sandbox.builder import Change, RepoBuilder
from release_train.sandbox.control import Sandbox, read_state
from release_train.sandbox.detached import down, up
from release_train.sandbox.github.client import SandboxAdmin
from release_train.sandbox.index import free_port
from tests.integration.sandbox.test_github_fixtures import auth_env, wait_for
from tests.realfam.family import REALFAM

OWNER = "OmniNode-ai"
SPI = "omnibase_spi"


def _refs(where: str, cwd: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """ref -> object of `git ls-remote where` (peeled `^{}` lines left out)."""
    out = git(cwd, "ls-remote", where, env=env)
    pairs = (line.split("\t") for line in out.splitlines() if line)
    return {ref: sha for sha, ref in pairs if not ref.endswith("^{}") and ref != "HEAD"}


@pytest.fixture
def spi_clone(tmp_path: Path) -> Path:
    """A workspace clone of omnibase_spi as a user has it: `dev` checked out, `main` tracked."""
    bundle = REALFAM / f"{SPI}.bundle"
    if not bundle.is_file():
        pytest.skip(f"the real family's bundles are not at {REALFAM}")
    dest = tmp_path / "workspace" / SPI
    subprocess.run(["git", "clone", "-q", str(bundle), str(dest)], check=True)
    return dest


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Sandbox]:
    # A long publish delay keeps runs queued: these tests look at which runs start, not
    # at builds (the real repos need Python 3.12 and hatchling from the public index).
    with Sandbox.start(tmp_path / "world", owner=OWNER, family=None, publish_delay=600) as sandbox:
        yield sandbox


def _push_tag(world: Sandbox, clone: Path, tag: str) -> None:
    git(clone, "tag", tag, "HEAD")
    url = world.github.clone_url(SPI)
    git(clone, "push", "-q", url, f"refs/tags/{tag}", env=auth_env(world.github.token))


def test_an_import_hosts_every_branch_and_tag_and_leaves_the_clone_alone(
    world: Sandbox, spi_clone: Path
) -> None:
    before = _refs(str(spi_clone), spi_clone)
    status_before = git(spi_clone, "status", "--porcelain=v2", "--branch")

    world.import_repos({SPI: spi_clone})

    hosted = _refs(world.github.clone_url(SPI), spi_clone, auth_env(world.github.token))
    bundle = _refs(str(REALFAM / f"{SPI}.bundle"), spi_clone)
    assert {r: s for r, s in hosted.items() if r.startswith("refs/heads/")} == {
        "refs/heads/dev": bundle["refs/heads/dev"],
        "refs/heads/main": bundle["refs/heads/main"],
    }
    tags = {r: s for r, s in bundle.items() if r.startswith("refs/tags/")}
    assert len(tags) == 46
    assert {r: s for r, s in hosted.items() if r.startswith("refs/tags/")} == tags
    assert world.repos == [SPI]
    assert SandboxAdmin(world.github.admin_url).snapshot()["repos"][SPI]["default_branch"] == "dev"
    assert _refs(str(spi_clone), spi_clone) == before
    assert git(spi_clone, "status", "--porcelain=v2", "--branch") == status_before


def test_default_branches_override_the_checked_out_branch(world: Sandbox, spi_clone: Path) -> None:
    world.import_repos({SPI: spi_clone}, default_branches={SPI: "main"})

    snapshot = SandboxAdmin(world.github.admin_url).snapshot()
    assert snapshot["repos"][SPI]["default_branch"] == "main"


def test_local_branches_win_over_the_tracked_ones_and_a_detached_head_is_refused(
    world: Sandbox, tmp_path: Path
) -> None:
    upstream_repo = RepoBuilder(tmp_path / "upstream" / "lib").init()
    upstream_repo.commit([Change("feat: first", {"README.md": "# lib\n"})])
    git(upstream_repo.path, "branch", "feature")
    clone = tmp_path / "workspace" / "lib"
    git(tmp_path, "clone", "-q", str(upstream_repo.path), str(clone))
    identity = ("-c", "user.name=dev", "-c", "user.email=dev@example.invalid")
    git(clone, *identity, "commit", "-q", "--allow-empty", "-m", "fix: local work, unpushed")
    local_main = git(clone, "rev-parse", "HEAD").strip()

    world.import_repos({"lib": clone})

    branches = SandboxAdmin(world.github.admin_url).snapshot()["repos"]["lib"]["branches"]
    feature = git(upstream_repo.path, "rev-parse", "feature").strip()
    assert branches == {"feature": feature, "main": local_main}
    git(clone, "checkout", "-q", "--detach")
    with pytest.raises(ReleaseError) as raised:
        world.import_repos({"lib2": clone})
    assert raised.value.code is ErrorCode.SANDBOX_ERROR
    assert "detached HEAD" in raised.value.message


def test_a_v_tag_starts_the_repos_release_workflow_and_a_repo_tag_does_not(
    world: Sandbox, spi_clone: Path
) -> None:
    world.import_repos({SPI: spi_clone})
    admin = SandboxAdmin(world.github.admin_url)

    # release.yml listens to `v[0-9]*.[0-9]*.[0-9]*` only.
    _push_tag(world, spi_clone, "omnibase_spi/v1.0.0")
    _push_tag(world, spi_clone, "v1.0.0")

    wait_for(lambda: len(admin.snapshot()["workflow_runs"]) >= 1)
    runs = admin.snapshot()["workflow_runs"]
    assert [(r["repo"], r["event"], r["tag"], r["status"]) for r in runs] == [
        (SPI, "push", "v1.0.0", "queued")
    ]


def test_github_urls_of_imported_repos_fetch_from_the_stand_in(
    world: Sandbox, spi_clone: Path, tmp_path: Path, offline_env: dict[str, str]
) -> None:
    world.import_repos({SPI: spi_clone})
    rewrites = world.github_rewrites()
    env = {**offline_env, "GIT_CONFIG_COUNT": str(len(rewrites)), "GIT_TERMINAL_PROMPT": "0"}
    for i, (original, replacement) in enumerate(sorted(rewrites.items())):
        env[f"GIT_CONFIG_KEY_{i}"] = f"url.{replacement}.insteadOf"
        env[f"GIT_CONFIG_VALUE_{i}"] = original

    expected = _refs(world.github.clone_url(SPI), tmp_path, auth_env(world.github.token))
    for url in (
        f"https://github.com/{OWNER}/{SPI}",
        f"https://github.com/{OWNER}/{SPI}.git",
        f"git@github.com:{OWNER}/{SPI}.git",
        f"ssh://git@github.com/{OWNER}/{SPI}",
    ):
        assert _refs(url, tmp_path, env) == expected, url
    assert sorted(rewrites) == [
        f"git@github.com:{OWNER}/{SPI}",
        f"https://github.com/{OWNER}/{SPI}",
        f"ssh://git@github.com/{OWNER}/{SPI}",
    ]


def _python_for_the_family() -> str:
    found = interpreters.find(">=3.12", index_url=upstream.PUBLIC_INDEX)
    if found.path is None:
        pytest.skip(f"no Python >=3.12 that uv finds here ({found.reason or 'none'})")
    return found.path


def _reachable(index: str) -> None:
    try:
        upstream.fetch_page(upstream.project_url(index, "hatchling"))
    except (OSError, urllib.error.URLError) as exc:
        pytest.skip(f"the configured index {index} is not reachable: {exc}")


@pytest.mark.slow
@pytest.mark.timeout(900)  # a real build and install from the public index: minutes
def test_a_release_tag_of_the_real_repo_builds_it_and_it_installs_with_its_upstreams(
    spi_clone: Path, tmp_path: Path
) -> None:
    """omnibase_spi 0.24.0: built by its release.yml run with Python 3.12 and hatchling from
    the upstream, uploaded to the sandbox, then installed through the front together with
    omnibase-core and pydantic from the upstream."""
    python = _python_for_the_family()
    configured = upstream.configured_index()
    _reachable(configured)
    pyproject = spi_clone / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "0.23.0"', 'version = "0.24.0"'))
    identity = ("-c", "user.name=dev", "-c", "user.email=dev@example.invalid")
    git(spi_clone, *identity, "commit", "-qam", "release: omnibase_spi v0.24.0")

    root = tmp_path / "world"
    with Sandbox.start(root, owner=OWNER, family=None, upstream_index=configured) as world:
        world.import_repos({SPI: spi_clone})
        admin = SandboxAdmin(world.github.admin_url)
        _push_tag(world, spi_clone, "v0.24.0")
        wait_for(lambda: admin.snapshot()["workflow_runs"][0]["status"] == "completed", 280)
        run = admin.snapshot()["workflow_runs"][0]
        assert (run["conclusion"], run["error"]) == ("success", None)
        assert run["files"] == [
            "omnibase_spi-0.24.0-py3-none-any.whl",
            "omnibase_spi-0.24.0.tar.gz",
        ]
        venv = tmp_path / "venv"
        env = {**os.environ, "UV_CACHE_DIR": str(root / "uv-cache"), "UV_NO_CONFIG": "1"}
        for name in ("UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "PIP_INDEX_URL", "UV_FIND_LINKS"):
            env.pop(name, None)
        subprocess.run(["uv", "venv", "-q", "--python", python, str(venv)], check=True, env=env)
        install = ["uv", "pip", "install", "-q", "--python", str(venv)]
        subprocess.run(
            [*install, "--default-index", world.cdn.simple_url, "omnibase-spi==0.24.0"],
            check=True,
            env=env,
            timeout=280,
        )
        listed = subprocess.run(
            ["uv", "pip", "list", "--python", str(venv), "--format", "json"],
            check=True,
            env=env,
            capture_output=True,
            text=True,
        )
    versions = {p["name"]: p["version"] for p in json.loads(listed.stdout)}
    assert versions["omnibase-spi"] == "0.24.0"
    assert versions["omnibase-core"].startswith("0.46.")


def test_up_keeps_an_imported_world_running_with_its_rewrites(
    spi_clone: Path, tmp_path: Path
) -> None:
    root = tmp_path / "kept"
    dead_upstream = f"http://127.0.0.1:{free_port()}/simple/"
    try:
        env = up(
            root,
            seed=False,
            upstream_index=dead_upstream,
            clones={SPI: spi_clone},
            default_branches={SPI: "main"},
        )
        state = read_state(root)
        assert state is not None
        assert (state["repos"], state["upstream_index"]) == ([SPI], dead_upstream)
        rewrites = state["github_rewrites"]
        stand_in = rewrites[f"https://github.com/{OWNER}/{SPI}"]
        heads = _refs(stand_in, tmp_path)
        assert sorted(r for r in heads if r.startswith("refs/heads/")) == [
            "refs/heads/dev",
            "refs/heads/main",
        ]
        snapshot = SandboxAdmin(env["SANDBOX_ADMIN_URL"]).snapshot()
        assert snapshot["repos"][SPI]["default_branch"] == "main"
    finally:
        down(root)
