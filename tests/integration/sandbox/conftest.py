"""Shared fixtures of the sandbox tests: the index, the Slack stand-in and tiny real repos."""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from slack_sdk import WebClient

from release_train.adapters import clones, git
from release_train.sandbox.builder import Change, RepoBuilder
from release_train.sandbox.cdn import IndexCdn
from release_train.sandbox.control import Sandbox
from release_train.sandbox.family import Hook, release_workflow
from release_train.sandbox.index import IndexServer, free_port
from release_train.sandbox.slack import SlackStandIn

# Any real deployment pins the backend; the tiny repos accept whatever flit_core is installed.
BACKEND = '[build-system]\nrequires = ["flit_core>=3.4"]\nbuild-backend = "flit_core.buildapi"\n'


def pyproject(name: str, version: str, requires: Sequence[str] = ()) -> str:
    deps = ", ".join(f'"{r}"' for r in requires)
    return (
        f'{BACKEND}\n[project]\nname = "{name}"\nversion = "{version}"\n'
        f'description = "{name}, a tiny test package"\nrequires-python = ">=3.11"\n'
        f"dependencies = [{deps}]\n"
    )


def project_files(name: str, version: str, requires: Sequence[str] = ()) -> dict[str, str]:
    module = name.replace("-", "_")
    return {
        "pyproject.toml": pyproject(name, version, requires),
        f"src/{module}/__init__.py": f'"""{name}."""\n\nNAME = "{name}"\n',
        # Tags of `{repo}/v{version}` and `v{version}` start it: the preflight checks that.
        ".github/workflows/release.yml": release_workflow(["*/v[0-9]*", "v[0-9]*"]),
    }


def build_tiny_repo(
    dest: Path,
    name: str,
    version: str,
    tag: str,
    requires: Sequence[str] = (),
    *,
    before_tag: Hook | None = None,
    after_tag: Hook | None = None,
) -> Path:
    """A repo like the sample family's, in miniature: a released tag and one commit after it."""
    module = name.replace("-", "_")
    builder = RepoBuilder(dest / module).init()
    builder.commit([Change("feat: first release", project_files(name, version, requires))])
    if before_tag:
        before_tag(builder.path, tag)
        builder.commits += 1
    builder.tag(tag)
    if after_tag:
        after_tag(builder.path, tag)
    builder.commit(["fix: something after the release"])
    return builder.path


def tiny_family(
    dest: Path, *, before_tag: Hook | None = None, after_tag: Hook | None = None
) -> list[Path]:
    """Two repos, upstream first: `alpha_core` and `beta_app` that depends on it."""
    dest.mkdir(parents=True, exist_ok=True)
    return [
        build_tiny_repo(
            dest,
            "alpha-core",
            "1.0.0",
            "alpha_core/v1.0.0",
            before_tag=before_tag,
            after_tag=after_tag,
        ),
        build_tiny_repo(
            dest,
            "beta-app",
            "0.1.0",
            "v0.1.0",
            ["alpha-core>=1.0"],
            before_tag=before_tag,
            after_tag=after_tag,
        ),
    ]


CENTRAL = "release-central"  # the central repo that holds a run's state branch


def tiny_config(world: Sandbox, tables: str = "") -> str:
    """`release-train.toml` for `tiny_family` in `world`; `tables` (TOML) go before the repos."""
    return (
        f'owner = "{world.owner}"\n'
        f'index_url = "{world.cdn.simple_url}"\n'
        'legacy_tag_patterns = ["v{version}"]\n'
        f"{tables}"
        "[repos.alpha_core]\n"
        "[repos.beta_app]\n"
    )


def add_central_repo(world: Sandbox, seed: Path) -> None:
    """A central repo `CENTRAL` in `world` (built in `seed`), for the state branch."""
    central = RepoBuilder(seed).init()
    central.commit([Change("chore: central repo", {"README.md": "# releases\n"})])
    world.github.add_repo(CENTRAL, central.path)


def push_commit(world: Sandbox, where: Path, repo: str, message: str) -> None:
    """Someone's commit with `message` on the server's main of `repo` (cloned to `where`)."""
    auth = clones.GitAuth.for_token(world.github.token, where.parent / f"{where.name}-auth")
    url = clones.repo_url(world.github.server_url, world.owner, repo)
    where.parent.mkdir(parents=True, exist_ok=True)
    clones.authed(auth, where.parent, "clone", "--quiet", url, str(where))
    (where / "CHANGE.md").write_text(message + "\n", encoding="utf-8")
    git.git(where, "add", "CHANGE.md")
    identity = ("-c", "user.name=dev", "-c", "user.email=dev@example.com")
    git.git(where, *identity, "commit", "--quiet", "-m", message)
    clones.authed(auth, where, "push", "--quiet", "origin", "HEAD:refs/heads/main")


def central_world(root: Path) -> Iterator[Sandbox]:
    """`tiny_family` in a sandbox under `root`, with the central repo; stopped afterwards."""
    sandbox = Sandbox.start(root / "world", family=tiny_family)
    try:
        add_central_repo(sandbox, root / "central-seed")
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def index_server(tmp_path: Path) -> Iterator[IndexServer]:
    with IndexServer(tmp_path / "index") as server:
        yield server


@pytest.fixture
def cdn(index_server: IndexServer) -> Iterator[IndexCdn]:
    with IndexCdn(index_server) as front:
        yield front


def valid_wheel(
    dest: Path, name: str = "tiny_dist", version: str = "1.0", requires: Sequence[str] = ()
) -> Path:
    """A minimal pure wheel that pip and uv install: METADATA, WHEEL and RECORD."""
    info = f"{name}-{version}.dist-info"
    depends = "".join(f"Requires-Dist: {r}\n" for r in requires)
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / f"{name}-{version}-py3-none-any.whl"
    files = {
        f"{name}/__init__.py": f'VERSION = "{version}"\n',
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{depends}",
        f"{info}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    with zipfile.ZipFile(path, "w") as wheel:
        for arcname, text in files.items():
            wheel.writestr(arcname, text)
        wheel.writestr(f"{info}/RECORD", "".join(f"{a},,\n" for a in files) + f"{info}/RECORD,,\n")
    return path


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as stand_in:
        yield stand_in


@pytest.fixture
def slack_client(slack: SlackStandIn) -> WebClient:
    return WebClient(token=slack.bot_token, base_url=slack.api_url)


@pytest.fixture
def offline_env() -> dict[str, str]:
    """Proxy variables that make every non-loopback request fail: proof of offline work."""
    dead = f"http://127.0.0.1:{free_port()}"
    return {
        "HTTP_PROXY": dead,
        "HTTPS_PROXY": dead,
        "ALL_PROXY": dead,
        "http_proxy": dead,
        "https_proxy": dead,
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


TinyRepo = Callable[..., Path]


@pytest.fixture
def tiny_repo(tmp_path: Path) -> TinyRepo:
    """Build a tiny released repo under tmp_path/repos: `tiny_repo(name, version, tag)`."""

    def make(name: str, version: str, tag: str, requires: Sequence[str] = ()) -> Path:
        return build_tiny_repo(tmp_path / "repos", name, version, tag, requires)

    return make
