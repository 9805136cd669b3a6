"""The repo's tools for real: `uv lock` against a local pypiserver, pre-commit with local hooks."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from release_train.adapters import command
from release_train.adapters.git import git
from release_train.adapters.tools import (
    SECRET_VARIABLES,
    display_url,
    has_pre_commit,
    pre_commit,
    repo_code_environment,
    uv_lock,
)
from release_train.errors import ErrorCode, ReleaseError
from release_train.sandbox.builder import Change, RepoBuilder
from release_train.sandbox.index import IndexServer

from .sandbox.conftest import project_files, valid_wheel

# --- the environment of repo-controlled code ---------------------------------------------


def test_repo_code_gets_no_credentials_and_one_index(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_parent")
    monkeypatch.setenv("INPUT_GITHUB-TOKEN", "ghs_action_input")
    monkeypatch.setenv("UV_INDEX_PRIVATE_PASSWORD", "pw")
    monkeypatch.setenv("UV_INDEX_URL", "https://elsewhere.invalid/simple/")

    env = repo_code_environment("http://127.0.0.1:1/simple/", tmp_path)

    assert env["UV_DEFAULT_INDEX"] == "http://127.0.0.1:1/simple/"
    assert env["UV_INDEX_URL"] == env["UV_INDEX"] == env["UV_EXTRA_INDEX_URL"] == ""
    assert env["UV_CACHE_DIR"] == str(tmp_path)
    for name in [*SECRET_VARIABLES, "INPUT_GITHUB-TOKEN", "UV_INDEX_PRIVATE_PASSWORD"]:
        assert env[name] == "", name
    assert "UV_CACHE_DIR" not in repo_code_environment("http://127.0.0.1:1/simple/", None)


def test_urls_are_shown_without_credentials() -> None:
    assert display_url("https://bot:pw@pypi.example/simple/") == "https://pypi.example/simple/"
    assert display_url("http://127.0.0.1:8080/simple/") == "http://127.0.0.1:8080/simple/"


# --- uv lock ------------------------------------------------------------------------------


@pytest.fixture
def index(tmp_path: Path) -> Iterator[IndexServer]:
    with IndexServer(tmp_path / "index") as server:
        server.upload([valid_wheel(tmp_path / "dists", "tiny_dist", "1.0")])
        yield server


def app_repo(dest: Path, requirement: str) -> Path:
    builder = RepoBuilder(dest).init()
    builder.commit([Change("feat: first", project_files("beta-app", "0.1.0", [requirement]))])
    return builder.path


def pin(repo: Path, requirement: str) -> None:
    (repo / "pyproject.toml").write_text(
        project_files("beta-app", "0.2.0", [requirement])["pyproject.toml"]
    )


def test_uv_lock_does_nothing_without_a_lock_file(index: IndexServer, tmp_path: Path) -> None:
    repo = app_repo(tmp_path / "beta_app", "tiny-dist>=1.0")
    done = uv_lock(repo, index_url=index.simple_url, cache_dir=tmp_path / "uv", repo="beta_app")
    assert done is False
    assert not (repo / "uv.lock").exists()


def test_uv_lock_follows_the_pins_and_fails_on_a_missing_one(
    index: IndexServer, tmp_path: Path
) -> None:
    repo = app_repo(tmp_path / "beta_app", "tiny-dist>=1.0")
    cache = tmp_path / "uv"
    command.run(["uv", "lock"], cwd=repo, env=repo_code_environment(index.simple_url, cache))
    assert 'name = "tiny-dist"\nversion = "1.0"' in (repo / "uv.lock").read_text()

    # The upstream's release is on the index and the PIN step raised the floor: relock.
    index.upload([valid_wheel(tmp_path / "dists", "tiny_dist", "1.1")])
    pin(repo, "tiny-dist>=1.1")
    assert uv_lock(repo, index_url=index.simple_url, cache_dir=cache, repo="beta_app")
    locked = (repo / "uv.lock").read_text()
    assert 'name = "tiny-dist"\nversion = "1.1"' in locked

    pin(repo, "tiny-dist==2.0")
    with pytest.raises(ReleaseError) as caught:
        uv_lock(repo, index_url=index.simple_url, cache_dir=cache, repo="beta_app")
    error = caught.value
    assert (error.code, error.message, error.repo) == (
        ErrorCode.LOCK_FAILED,
        "uv lock failed",
        "beta_app",
    )
    assert "there is no version of tiny-dist==2.0" in (error.output or "")
    assert index.simple_url in (error.hint or "")
    assert "pin" in (error.hint or "")
    assert (repo / "uv.lock").read_text() == locked


# --- pre-commit ---------------------------------------------------------------------------

NO_TODO_HOOK = """\
  - id: no-todo
    name: no TODO left
    language: pygrep
    entry: TODO
    exclude: ^\\.pre-commit-config\\.yaml$
"""


def script_hook(hook_id: str, script: Path, *, pass_filenames: bool = True) -> str:
    return (
        f"  - id: {hook_id}\n    name: {hook_id}\n    language: system\n"
        f"    entry: {sys.executable} {script}\n"
        f"    pass_filenames: {'true' if pass_filenames else 'false'}\n"
    )


@pytest.fixture
def released(tmp_path: Path) -> Path:
    """A repo mid-release: committed files, an edited one, and a new CHANGELOG.md."""
    builder = RepoBuilder(tmp_path / "repo").init()
    builder.commit(
        [
            Change(
                "feat: first",
                {
                    "pkg/core.py": "VALUE = 1\n",
                    "README.md": "# repo\n",
                    "pyproject.toml": "[project]\nversion = '1.0.0'\n",
                },
            )
        ]
    )
    (builder.path / "pyproject.toml").write_text("[project]\nversion = '1.1.0'\n")
    (builder.path / "CHANGELOG.md").write_text("# Changelog\n\n## 1.1.0\n")
    return builder.path


def configure(repo: Path, *hooks: str) -> None:
    config = "repos:\n- repo: local\n  hooks:\n" + "".join(hooks)
    (repo / ".pre-commit-config.yaml").write_text(config)
    git(repo, "add", ".pre-commit-config.yaml")
    git(repo, "commit", "-q", "-m", "ci: hooks")


def tree(repo: Path) -> dict[str, bytes]:
    """Every file of the work tree but .git, with its bytes."""
    files = (p for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts)
    return {str(p.relative_to(repo)): p.read_bytes() for p in sorted(files)}


def status(repo: Path) -> str:
    return git(repo, "status", "--porcelain", "--untracked-files=all")


def test_passing_hooks_leave_the_release_untouched(released: Path, tmp_path: Path) -> None:
    assert not has_pre_commit(released)
    configure(released, NO_TODO_HOOK)
    assert has_pre_commit(released)
    before, before_status = tree(released), status(released)

    pre_commit(released, repo="repo", home=tmp_path / "pre-commit-home")

    assert tree(released) == before
    assert status(released) == before_status == " M pyproject.toml\n?? CHANGELOG.md\n"


def test_a_failing_hook_is_lint_failed_and_checks_the_new_files_too(
    released: Path, tmp_path: Path
) -> None:
    configure(released, NO_TODO_HOOK)
    (released / "CHANGELOG.md").write_text("# Changelog\n\n## 1.1.0\n\nTODO: write\n")
    before_status = status(released)

    with pytest.raises(ReleaseError) as caught:
        pre_commit(released, repo="repo", home=tmp_path / "pre-commit-home")

    error = caught.value
    assert (error.code, error.message, error.repo) == (
        ErrorCode.LINT_FAILED,
        "pre-commit failed",
        "repo",
    )
    assert "CHANGELOG.md:5:TODO: write" in (error.output or "")
    assert "no TODO left" in (error.output or "")
    # The intent-to-add that let the hook see CHANGELOG.md is gone again.
    assert status(released) == before_status


REWRITER = """\
import sys
from pathlib import Path

for name in sys.argv[1:]:
    with open(name, "a") as fh:
        fh.write("# reformatted\\n")
Path("generated/cache.txt").parent.mkdir(exist_ok=True)
Path("generated/cache.txt").write_text("made by a hook\\n")
"""


def test_a_hook_that_rewrites_files_fails_and_every_file_is_restored(
    released: Path, tmp_path: Path
) -> None:
    script = tmp_path / "rewrite.py"
    script.write_text(REWRITER)
    configure(released, script_hook("rewriter", script))
    (released / "pkg/core.py").chmod(0o755)  # a mode the restore must keep as well
    before, before_status = tree(released), status(released)

    with pytest.raises(ReleaseError) as caught:
        pre_commit(released, repo="repo", home=tmp_path / "pre-commit-home")

    error = caught.value
    assert error.code == ErrorCode.LINT_FAILED
    assert "files were modified by this hook" in (error.output or "")
    assert error.message.startswith("pre-commit failed; restored what hooks changed: ")
    assert "CHANGELOG.md" in error.message
    assert "generated/cache.txt" in error.message
    assert tree(released) == before  # release edits kept, hook edits and new files gone
    assert status(released) == before_status
    assert (released / "pkg/core.py").stat().st_mode & 0o777 == 0o755
    assert not (released / "generated").exists()


ENV_DUMPER = """\
import json
import os
import sys

with open(sys.argv[1], "w") as fh:
    json.dump(dict(os.environ), fh)
"""


def test_hooks_run_without_the_callers_tokens(
    released: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_from_the_parent")
    monkeypatch.setenv("UV_PUBLISH_TOKEN", "pypi-from-the-parent")
    monkeypatch.setenv("INPUT_SLACK-BOT-TOKEN", "xoxb-from-an-action-input")
    script, dump = tmp_path / "dump_env.py", tmp_path / "env.json"
    script.write_text(ENV_DUMPER)
    configure(
        released, script_hook("dump-env", tmp_path / f"dump_env.py {dump}", pass_filenames=False)
    )
    home = tmp_path / "pre-commit-home"

    pre_commit(released, repo="repo", home=home)

    seen: dict[str, str] = json.loads(dump.read_text())
    assert seen.get("GITHUB_TOKEN", "") == ""
    assert seen.get("UV_PUBLISH_TOKEN", "") == ""
    assert seen.get("INPUT_SLACK-BOT-TOKEN", "") == ""
    assert seen["PRE_COMMIT_HOME"] == str(home)
    assert "from-the-parent" not in dump.read_text()
