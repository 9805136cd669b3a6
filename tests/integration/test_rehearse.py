"""`release-train rehearse`: a workspace's clones released in a sandbox, the clones untouched."""

from __future__ import annotations

import json
import tempfile
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from release_train.adapters.git import git
from release_train.cli import main
from release_train.config import parse_config
from release_train.errors import ErrorCode, ReleaseError
from release_train.rehearsal import REPORT_DIR, rehearse, stage
from release_train.sandbox.family import SAMPLE_FAMILY, build_family, config_text

pytestmark = pytest.mark.slow

SPECS = SAMPLE_FAMILY[:2]  # omnibase_spi and omnibase_core, which depends on it


def refs_and_status(clone: Path) -> tuple[str, str, str]:
    """What a rehearsal must leave as it found: every ref, HEAD, the working tree."""
    refs = git(clone, "for-each-ref", "--format=%(refname) %(objectname)")
    head = git(clone, "symbolic-ref", "-q", "HEAD", check=False) + git(clone, "rev-parse", "HEAD")
    return refs, head, git(clone, "status", "--porcelain", "--untracked-files=all")


HOOKS_MANIFEST = """\
- id: no-forbidden
  name: no FORBIDDEN word
  entry: FORBIDDEN
  language: pygrep
"""


def commit_on(clone: Path, files: dict[str, str], branch: str = "main") -> str:
    """Commit `files` on `branch` of `clone` (a worktree aside: the checkout stays); its SHA."""
    aside = clone.parent / f"{clone.name}-aside"
    git(clone, "worktree", "add", "-q", str(aside), branch)
    for name, text in files.items():
        (aside / name).write_text(text)
    git(aside, "add", *files)
    git(
        aside,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.com",
        "commit",
        "-q",
        "-m",
        "ci: hooks",
    )
    sha = git(aside, "rev-parse", "HEAD").strip()
    git(clone, "worktree", "remove", str(aside))
    return sha


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """Clones of two sample repos, each with a feature branch checked out and a dirty file."""
    dest = tmp_path / "family"
    for clone in build_family(dest, SPECS):
        git(clone, "checkout", "-q", "-b", "feature/wip")
        (clone / "scratch.txt").write_text("not for release\n")
    return dest


def test_a_rehearsal_releases_the_clones_and_leaves_them_untouched(
    workspace: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = 'lint_skip = ["toml-parses"]\n' + config_text(SPECS)
    config = parse_config(tomllib.loads(text), "test")
    # omnibase_core's LINT runs a hook of omnibase_spi "on GitHub": only the sandbox has it.
    rev = commit_on(workspace / "omnibase_spi", {".pre-commit-hooks.yaml": HOOKS_MANIFEST})
    core_hooks = (workspace / "omnibase_core" / ".pre-commit-config.yaml").read_text()
    family_hook = f"  - repo: https://github.com/OmniNode-ai/omnibase_spi\n    rev: {rev}\n"
    family_hook += "    hooks:\n      - id: no-forbidden\n"
    commit_on(workspace / "omnibase_core", {".pre-commit-config.yaml": core_hooks + family_hook})
    before = {r: refs_and_status(workspace / r) for r in config.repos}
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()

    status, report = rehearse(workspace, config)  # in this process: gone when it returns

    assert status == 0, capsys.readouterr().out
    assert report.status == "success"
    assert [r.repo for r in report.repos] == ["omnibase_spi", "omnibase_core"]
    for repo in report.repos:
        assert repo.tag_sha == repo.merge_sha is not None
        assert f"release: {repo.repo} v{repo.new_version}" in repo.diff
        # The default (release-please) heading links the compare view of the two tags.
        compare = f"/compare/{repo.repo}/v{repo.old_version}...{repo.repo}/v{repo.new_version})"
        assert repo.changelog_entry.startswith(f"## [{repo.new_version}](")
        assert compare in repo.changelog_entry.splitlines()[0]
        assert sorted(f.rsplit(".", 1)[-1] for f in repo.uploads) == ["gz", "whl"]
        assert "LINT skipped hooks (lint_skip): toml-parses" in repo.warnings
        assert {phase for phase, _ in repo.steps} >= {"LOCKED", "LINT", "MERGED", "PUBLISHED"}
    core = report.repos[1]
    assert f"omnibase-spi=={report.repos[0].new_version}" in core.diff
    assert core.tag == f"{core.repo}/v{core.new_version}"
    assert "omnibase_spi: LINT skipped hooks (lint_skip): toml-parses" in report.warnings
    [root] = (tmp_path / "tmp").iterdir()
    assert [p.name for p in root.iterdir()] == [REPORT_DIR]
    written = root / REPORT_DIR
    assert (written / "report.md").read_text() == report.render("markdown")
    assert json.loads((written / "report.json").read_text())["status"] == "success"
    assert (written / "omnibase_core" / "release.diff").read_text() == core.diff
    # The workspace is as it was: same refs, same checked-out branch, same dirty file.
    assert {r: refs_and_status(workspace / r) for r in config.repos} == before


def test_staging_takes_the_release_branch_as_github_has_it(workspace: Path, tmp_path: Path) -> None:
    clone = workspace / "omnibase_spi"
    main = git(clone, "rev-parse", "main").strip()
    # A local main ahead of what was pushed: the rehearsal releases what GitHub has.
    git(clone, "update-ref", "refs/remotes/origin/main", f"{main}~1")
    config = parse_config({"owner": "o", "repos": {"omnibase_spi": {}}}, "test")
    before = refs_and_status(clone)

    staged = stage(workspace, config, tmp_path / "staging")

    bare = staged["omnibase_spi"]
    assert (
        git(bare, "rev-parse", "refs/heads/main").strip()
        == git(clone, "rev-parse", f"{main}~1").strip()
    )
    assert git(bare, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert git(bare, "tag").split() == git(clone, "tag").split()
    assert "refs/heads/feature/wip" in git(bare, "for-each-ref", "--format=%(refname)")
    assert refs_and_status(clone) == before


def test_a_rehearsal_refused_by_the_preflight_leaves_a_report(
    workspace: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "release-train.toml"
    config.write_text(config_text(SPECS).replace("{repo}/v{version}", "rel-{version}"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()

    status = main(
        ["rehearse", "--workspace", str(workspace), "--config", str(config), "--format", "json"]
    )

    assert status == ErrorCode.PREFLIGHT_FAILED.exit_status
    data = json.loads(capsys.readouterr().out)  # progress went to stderr
    assert (data["status"], data["repos"]) == ("refused", [])
    assert "PUBLISH_TRIGGER_MISMATCH" in data["error"]
    # The temporary world is gone, but for its report.
    [root] = (tmp_path / "tmp").iterdir()
    assert [p.name for p in root.iterdir()] == [REPORT_DIR]
    assert "## Refused" in (root / REPORT_DIR / "report.md").read_text()


def test_keep_leaves_the_world_up_until_sandbox_down(
    workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "release-train.toml"
    config.write_text(config_text(SPECS).replace("{repo}/v{version}", "rel-{version}"))
    world = tmp_path / "world"
    argv = [
        "rehearse",
        "--workspace",
        str(workspace),
        "--config",
        str(config),
        "--keep",
        str(world),
    ]

    try:
        status = main(argv)
        served = dict(line.split("=", 1) for line in (world / "env").read_text().splitlines())
        assert matching_tags(served, "OmniNode-ai", "omnibase_spi")  # it answers after the report
    finally:
        assert main(["sandbox", "down", "--dir", str(world)]) == 0

    assert status == ErrorCode.PREFLIGHT_FAILED.exit_status
    out = capsys.readouterr().out
    assert f"stop it with `release-train sandbox down --dir {world}`" in out
    with pytest.raises(urllib.error.URLError, match="Connection refused"):
        matching_tags(served, "OmniNode-ai", "omnibase_spi")
    assert (world / REPORT_DIR / "report.md").is_file()


def matching_tags(env: dict[str, str], owner: str, repo: str) -> list[str]:
    url = f"{env['GITHUB_API_URL']}/repos/{owner}/{repo}/git/matching-refs/tags/"
    auth = {"Authorization": f"token {env['GITHUB_TOKEN']}"}
    request = urllib.request.Request(url, headers=auth)  # noqa: S310 - the loopback API
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        return [t["ref"].removeprefix("refs/tags/") for t in json.load(answer)]


def test_staging_names_a_missing_clone_or_branch(workspace: Path, tmp_path: Path) -> None:
    missing = parse_config({"owner": "o", "repos": {"omnibase_gone": {}}}, "test")
    with pytest.raises(ReleaseError) as caught:
        stage(workspace, missing, tmp_path / "staging")
    assert (caught.value.code, caught.value.repo) == (ErrorCode.REPO_NOT_FOUND, "omnibase_gone")

    no_branch = parse_config({"owner": "o", "repos": {"omnibase_spi": {"branch": "dev"}}}, "test")
    with pytest.raises(ReleaseError) as caught:
        stage(workspace, no_branch, tmp_path / "staging")
    assert caught.value.message.endswith("has no branch dev (nor origin/dev) to release from")
