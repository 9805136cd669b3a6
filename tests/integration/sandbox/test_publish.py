"""The sandbox's release workflow: tagged trees really built with uv and uploaded, idempotently."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from packaging.version import Version

from release_train.adapters import command, interpreters
from release_train.adapters.git import git
from release_train.errors import ErrorCode, ReleaseError
from release_train.sandbox.index import IndexServer, sha256_of
from release_train.sandbox.publish import (
    build_python,
    make_publisher,
    release_tag_version,
    seed_build_backends,
    uv_environment,
)

from .conftest import TinyRepo, project_files


@pytest.fixture
def seeded_index(index_server: IndexServer, tmp_path: Path) -> IndexServer:
    seed_build_backends(index_server, tmp_path / "backends")
    return index_server


def bare_clone(repo: Path, dest: Path) -> Path:
    git(dest.parent, "clone", "-q", "--bare", str(repo), str(dest))
    return dest


def tag_sha(repo: Path, tag: str) -> str:
    return git(repo, "rev-parse", f"{tag}^{{commit}}").strip()


@pytest.mark.parametrize(
    ("tag", "version"),
    [
        ("v1.5.0", "1.5.0"),
        ("omnibase_core/v1.5.0", "1.5.0"),
        ("omnibase_core/v2.0.0rc1", "2.0.0rc1"),
        ("v1.2.3.post1", "1.2.3.post1"),
        ("omnibase_core/1.5.0", None),
        ("v-not-a-version", None),
        ("release-candidate", None),
    ],
)
def test_release_tags_end_in_v_and_a_pep440_version(tag: str, version: str | None) -> None:
    assert release_tag_version(tag) == (Version(version) if version else None)


def test_builds_see_only_the_sandbox_index_and_no_credentials(tmp_path: Path) -> None:
    env = uv_environment("http://127.0.0.1:1/simple/", tmp_path)
    assert env["UV_DEFAULT_INDEX"] == "http://127.0.0.1:1/simple/"
    assert env["UV_INDEX_URL"] == env["UV_EXTRA_INDEX_URL"] == env["UV_FIND_LINKS"] == ""
    assert env["GITHUB_TOKEN"] == env["SLACK_BOT_TOKEN"] == ""
    assert env["UV_CACHE_DIR"] == str(tmp_path)


def test_publish_builds_sdist_and_wheel_from_the_bare_repo(
    seeded_index: IndexServer, tiny_repo: TinyRepo, tmp_path: Path
) -> None:
    repo = tiny_repo("tiny-core", "1.0.0", "tiny_core/v1.0.0")
    bare = bare_clone(repo, tmp_path / "tiny_core.git")
    publish = make_publisher(seeded_index, cache_dir=tmp_path / "uv-cache")
    sha = tag_sha(repo, "tiny_core/v1.0.0")

    names = publish(repo="tiny_core", bare_repo=bare, tag="tiny_core/v1.0.0", sha=sha)

    assert names == ["tiny_core-1.0.0-py3-none-any.whl", "tiny_core-1.0.0.tar.gz"]
    assert [f.filename for f in seeded_index.list_files("tiny-core")] == names
    # Retried (or triggered twice): the rebuild is byte-identical, so it is simply done.
    assert publish(repo="tiny_core", bare_repo=bare, tag="tiny_core/v1.0.0", sha=sha) == names
    assert len(seeded_index.list_files("tiny-core")) == 2


def test_a_different_build_of_a_published_version_is_refused(
    seeded_index: IndexServer, tiny_repo: TinyRepo, tmp_path: Path
) -> None:
    repo = tiny_repo("tiny-core", "1.0.0", "v1.0.0")
    publish = make_publisher(seeded_index, cache_dir=tmp_path / "uv-cache")
    publish(repo="tiny_core", bare_repo=repo, tag="v1.0.0", sha=tag_sha(repo, "v1.0.0"))
    before = {f.filename: f.sha256 for f in seeded_index.list_files("tiny-core")}
    changed = project_files("tiny-core", "1.0.0")
    (repo / "src/tiny_core/__init__.py").write_text(changed["src/tiny_core/__init__.py"] + "X=1\n")
    git(repo, "commit", "-qam", "fix: change the released version")

    with pytest.raises(ReleaseError) as caught:
        publish(
            repo="tiny_core",
            bare_repo=repo,
            tag="v1.0.0",
            sha=git(repo, "rev-parse", "HEAD").strip(),
        )

    assert caught.value.code is ErrorCode.PUBLISH_FAILED
    assert "different digest" in caught.value.message
    assert {f.filename: f.sha256 for f in seeded_index.list_files("tiny-core")} == before


def test_a_tag_naming_another_version_is_refused(
    seeded_index: IndexServer, tiny_repo: TinyRepo, tmp_path: Path
) -> None:
    repo = tiny_repo("tiny-core", "1.0.0", "v1.0.0")
    publish = make_publisher(seeded_index, cache_dir=tmp_path / "uv-cache")
    with pytest.raises(ReleaseError) as caught:
        publish(repo="tiny_core", bare_repo=repo, tag="v1.1.0", sha=tag_sha(repo, "v1.0.0"))
    assert caught.value.code is ErrorCode.PUBLISH_FAILED
    assert caught.value.repo == "tiny_core"
    assert seeded_index.list_files("tiny-core") == []


def test_a_failing_build_is_publish_failed(
    seeded_index: IndexServer, tiny_repo: TinyRepo, tmp_path: Path
) -> None:
    repo = tiny_repo("tiny-core", "1.0.0", "v1.0.0")
    (repo / "pyproject.toml").write_text("[project\nbroken")
    git(repo, "commit", "-qam", "chore: break the build")
    git(repo, "tag", "-f", "v1.0.0")
    publish = make_publisher(seeded_index, cache_dir=tmp_path / "uv-cache")
    with pytest.raises(ReleaseError) as caught:
        publish(repo="tiny_core", bare_repo=repo, tag="v1.0.0", sha=tag_sha(repo, "v1.0.0"))
    assert caught.value.code is ErrorCode.PUBLISH_FAILED
    assert caught.value.output  # the build's own words, for the workflow run's log


def test_lock_build_and_install_need_nothing_but_the_sandbox_index(
    seeded_index: IndexServer, tiny_repo: TinyRepo, tmp_path: Path, offline_env: dict[str, str]
) -> None:
    core = tiny_repo("tiny-core", "1.0.0", "v1.0.0")
    make_publisher(seeded_index, cache_dir=tmp_path / "c1")(
        repo="tiny_core", bare_repo=core, tag="v1.0.0", sha=tag_sha(core, "v1.0.0")
    )
    app = tiny_repo("tiny-app", "0.1.0", "v0.1.0", ["tiny-core>=1.0"])
    env = {**uv_environment(seeded_index.simple_url, tmp_path / "c2"), **offline_env}

    command.run(["uv", "lock", "--default-index", seeded_index.simple_url], cwd=app, env=env)
    lock = (app / "uv.lock").read_text()
    assert 'name = "tiny-core"' in lock
    assert seeded_index.simple_url in lock

    target = tmp_path / "site"
    command.run(["uv", "pip", "install", "--target", str(target), "tiny-core==1.0.0"], env=env)
    assert (target / "tiny_core" / "__init__.py").is_file()
    installed = subprocess.run(
        ["python3", "-c", "import tiny_core; print(tiny_core.NAME)"],
        env={"PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert installed.stdout.strip() == "tiny-core"
    [wheel] = [f for f in seeded_index.list_files("tiny-core") if f.filename.endswith(".whl")]
    assert wheel.sha256 and wheel.sha256 != sha256_of(target / "tiny_core" / "__init__.py")


def test_the_build_takes_the_interpreter_lock_takes_for_requires_python(
    seeded_index: IndexServer, tmp_path: Path
) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "pyproject.toml").write_text(project_files("tiny-core", "1.0.0")["pyproject.toml"])
    url = seeded_index.simple_url

    chosen = build_python(tree, index_url=url, repo="tiny_core")

    assert chosen is not None
    assert chosen == interpreters.find(">=3.11", index_url=url, cwd=tree).path
    (tree / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\n')
    assert build_python(tree, index_url=url, repo="tiny_core") is None


def test_a_build_no_local_python_satisfies_is_publish_failed(
    seeded_index: IndexServer, tiny_repo: TinyRepo, tmp_path: Path
) -> None:
    repo = tiny_repo("tiny-core", "1.0.0", "v1.0.0")
    text = (repo / "pyproject.toml").read_text().replace('">=3.11"', '">=3.99"')
    (repo / "pyproject.toml").write_text(text)
    git(repo, "commit", "-qam", "chore: a Python from the future")
    git(repo, "tag", "-f", "v1.0.0")
    publish = make_publisher(seeded_index, cache_dir=tmp_path / "uv-cache")

    with pytest.raises(ReleaseError) as caught:
        publish(repo="tiny_core", bare_repo=repo, tag="v1.0.0", sha=tag_sha(repo, "v1.0.0"))

    assert caught.value.code is ErrorCode.PUBLISH_FAILED
    assert caught.value.message.startswith("no local Python satisfies requires-python '>=3.99'")
    assert seeded_index.list_files("tiny-core") == []
