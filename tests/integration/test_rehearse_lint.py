"""LINT for a rehearsal: family hooks served through `insteadOf`, lint_skip, unreachable repos."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from release_train.adapters import hooks
from release_train.adapters.git import git
from release_train.adapters.tools import git_config_env, pre_commit
from release_train.errors import ErrorCode, ReleaseError
from release_train.sandbox.builder import Change, RepoBuilder

FAMILY_HOOKS = "https://github.com/OmniNode-ai/family_hooks"
# A pygrep hook needs no environment: pre-commit only has to fetch its repository.
HOOKS_MANIFEST = """\
- id: no-forbidden
  name: no FORBIDDEN word
  entry: FORBIDDEN
  language: pygrep
"""


def hook_repo(dest: Path) -> tuple[Path, str]:
    builder = RepoBuilder(dest).init()
    builder.commit([Change("feat: hooks", {".pre-commit-hooks.yaml": HOOKS_MANIFEST})])
    return builder.path, git(builder.path, "rev-parse", "HEAD").strip()


def released_repo(dest: Path, config: str) -> Path:
    builder = RepoBuilder(dest).init()
    files = {"README.md": "# repo\n", ".pre-commit-config.yaml": config}
    builder.commit([Change("feat: first", files)])
    (builder.path / "CHANGELOG.md").write_text("# Changelog\n\n## 1.1.0\n")
    return builder.path


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once it is closed


def remote_entry(url: str, rev: str, hook: str = "no-forbidden") -> str:
    return f"- repo: {url}\n  rev: {rev}\n  hooks:\n  - id: {hook}\n"


LOCAL_FAILING = """\
- repo: local
  hooks:
  - id: needs-their-tools
    name: a hook this machine cannot run
    entry: their-private-tool
    language: fail
"""


def test_git_config_pairs_follow_the_ones_already_there() -> None:
    base = {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "safe.directory",
        "GIT_CONFIG_VALUE_0": "*",
    }
    pairs = hooks.rewrite_pairs({FAMILY_HOOKS: "http://127.0.0.1:9/OmniNode-ai/family_hooks"})

    assert git_config_env(pairs, base) == {
        **base,
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_1": "url.http://127.0.0.1:9/OmniNode-ai/family_hooks.insteadOf",
        "GIT_CONFIG_VALUE_1": FAMILY_HOOKS,
    }
    assert git_config_env([]) == {}


def test_a_family_hook_is_fetched_through_the_rewrite_and_runs(tmp_path: Path) -> None:
    served, rev = hook_repo(tmp_path / "served")
    repo = released_repo(tmp_path / "repo", "repos:\n" + remote_entry(FAMILY_HOOKS, rev))
    pairs = hooks.rewrite_pairs({FAMILY_HOOKS: str(served)})
    config = hooks.prepare(repo, (), tmp_path / "scratch", repo="repo")
    assert config == hooks.HookConfig(repo / ".pre-commit-config.yaml", (), (FAMILY_HOOKS,))

    hooks.check_reachable(config.repos, pairs, repo="repo")
    pre_commit(repo, repo="repo", home=tmp_path / "home", git_config=pairs)

    (repo / "CHANGELOG.md").write_text("# Changelog\n\n## 1.1.0\n\nFORBIDDEN\n")
    with pytest.raises(ReleaseError) as caught:
        pre_commit(repo, repo="repo", home=tmp_path / "home", git_config=pairs)
    assert caught.value.code is ErrorCode.LINT_FAILED
    assert "no FORBIDDEN word" in (caught.value.output or "")
    assert "CHANGELOG.md:5:FORBIDDEN" in (caught.value.output or "")


@pytest.mark.parametrize("kind", ["closed port", "missing path"])
def test_an_unreachable_hook_repository_is_named(tmp_path: Path, kind: str) -> None:
    url = (
        f"http://127.0.0.1:{closed_port()}/OmniNode-ai/gone"
        if kind == "closed port"
        else str(tmp_path / "no-such-repo")
    )
    repo = released_repo(tmp_path / "repo", "repos:\n" + remote_entry(url, "v1.0.0"))
    config = hooks.prepare(repo, (), tmp_path / "scratch", repo="repo")

    with pytest.raises(ReleaseError) as caught:
        hooks.check_reachable(config.repos, [], repo="repo", timeout=20)

    error = caught.value
    assert (error.code, error.repo) == (ErrorCode.HOOK_UNREACHABLE, "repo")
    assert error.message.startswith(f"pre-commit hook repository {url} cannot be reached: ")
    assert error.hint == "make it reachable, or add its hooks to lint_skip in the config"


def test_lint_skip_leaves_out_hooks_and_the_repositories_only_they_need(tmp_path: Path) -> None:
    served, rev = hook_repo(tmp_path / "served")
    unreachable = f"http://127.0.0.1:{closed_port()}/elsewhere/hooks"
    text = (
        "default_stages: [pre-commit]\nrepos:\n"
        + remote_entry(unreachable, "v1.0.0", "private-check")
        + remote_entry(FAMILY_HOOKS, rev)
        + LOCAL_FAILING
    )
    repo = released_repo(tmp_path / "repo", text)
    skip = ("private-check", "needs-their-tools", "not-in-this-repo")

    config = hooks.prepare(repo, skip, tmp_path / "scratch", repo="repo")

    assert config.skipped == ("needs-their-tools", "private-check")
    assert config.repos == (FAMILY_HOOKS,)
    assert config.path == tmp_path / "scratch" / "repo-pre-commit-config.yaml"
    assert config.path.read_text() == (
        "default_stages:\n- pre-commit\nrepos:\n"
        f"- repo: {FAMILY_HOOKS}\n  rev: {rev}\n  hooks:\n  - id: no-forbidden\n"
    )
    pairs = hooks.rewrite_pairs({FAMILY_HOOKS: str(served)})
    hooks.check_reachable(config.repos, pairs, repo="repo")
    before = (repo / ".pre-commit-config.yaml").read_text()
    pre_commit(
        repo,
        repo="repo",
        home=tmp_path / "home",
        config_file=config.path,
        skip=config.skipped,
        git_config=pairs,
    )
    assert (repo / ".pre-commit-config.yaml").read_text() == before  # the repo's own, as it was
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == "?? CHANGELOG.md\n"


def test_without_lint_skip_the_failing_hook_fails(tmp_path: Path) -> None:
    repo = released_repo(tmp_path / "repo", "repos:\n" + LOCAL_FAILING)
    config = hooks.prepare(repo, (), tmp_path / "scratch", repo="repo")
    assert config.repos == ()

    with pytest.raises(ReleaseError) as caught:
        pre_commit(repo, repo="repo", home=tmp_path / "home")
    assert "their-private-tool" in (caught.value.output or "")
