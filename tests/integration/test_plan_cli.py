"""`release-train plan` and `release --dry-run` over real git workspaces."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from release_train.cli import main
from release_train.sandbox.builder import Change, RepoBuilder
from release_train.sandbox.family import config_text
from tests.core.test_render import SPEC_PLAN_TABLE

RUN_ID = "release-20260225-a3f7b2"


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def plan_args(family: Path, *extra: str) -> list[str]:
    return [
        "plan",
        "--config",
        str(family / "release-train.toml"),
        "--workspace",
        str(family),
        "--offline",  # tests ask no index but their own (ISSUE 11: the plan asks it by default)
        *extra,
    ]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


def test_sample_family_gives_the_specifications_plan(
    sample_family: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, *plan_args(sample_family, "--run-id", RUN_ID))
    assert (code, err) == (0, "")
    assert out == SPEC_PLAN_TABLE


def test_json_and_markdown_formats(sample_family: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        capsys, *plan_args(sample_family, "--format", "json", "--run-id", RUN_ID)
    )
    data = json.loads(out)
    assert code == 0 and data["run_id"] == RUN_ID and data["has_work"] is True
    assert [e["repo"] for e in data["entries"]][:2] == ["omnibase_spi", "omnibase_core"]
    assert data["tiers"]["omniclaude"] == 4
    core = data["entries"][1]
    assert core["drivers"][0].endswith("feat(runtime): add node lifecycle hooks")
    assert core["last_tag"] == "omnibase_core/v1.4.0"
    code, md, _ = run_cli(
        capsys, *plan_args(sample_family, "--format", "markdown", "--run-id", RUN_ID)
    )
    assert code == 0 and f"Plan hash: `{data['plan_hash']}`" in md and "```mermaid" in md


def test_output_is_deterministic(sample_family: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = {run_cli(capsys, *plan_args(sample_family, "--format", "json"))[1] for _ in range(3)}
    assert len(outputs) == 1


def snapshot(workspace: Path) -> dict[str, object]:
    files = {
        str(p.relative_to(workspace)): (p.stat().st_mtime_ns, p.stat().st_size)
        for p in sorted(workspace.rglob("*"))
        if p.is_file()
    }
    repos = {
        d.name: (git(d, "for-each-ref"), git(d, "--no-optional-locks", "status", "--porcelain"))
        for d in sorted(workspace.iterdir())
        if d.is_dir()
    }
    return {"files": files, "repos": repos}


def test_dry_run_writes_only_the_result(
    sample_family: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("RELEASE_TRAIN_STATE_DIR", str(state))
    before = snapshot(sample_family)
    result_file = tmp_path / "out.json"
    args = plan_args(
        sample_family, "--dry-run", "--run-id", RUN_ID, "--result-file", str(result_file)
    )
    args[0] = "release"
    code, out, _ = run_cli(capsys, *args)
    assert code == 0 and out.startswith(SPEC_PLAN_TABLE + "\nWhat the release will write:\n")
    result = json.loads(result_file.read_text())
    assert result["status"] == "DRY_RUN" and result["skill"] == "release"
    assert result["run_id"] == RUN_ID and result["plan_hash"].startswith("sha256:")
    assert (result["repos_attempted"], result["repos_succeeded"], result["repos_failed"]) == (
        0,
        0,
        0,
    )
    assert [(d["repo"], d["new_version"], d["tag"], d["phase"]) for d in result["details"]][-1] == (
        "omniclaude",
        "0.4.0",
        "omniclaude/v0.4.0",
        "PLANNED",
    )
    assert snapshot(sample_family) == before
    assert not state.exists()


def release_spi(family: Path) -> None:
    """What a finished run leaves behind: a release commit and a `<repo>/v<version>` tag."""
    spi = RepoBuilder(family / "omnibase_spi", commits=1, clock=1800000000)
    spi.commit(["release: omnibase_spi v1.2.1"])
    spi.tag("omnibase_spi/v1.2.1")


def original_scan_last_tag(repo: Path) -> str:
    """The specification's Step 0.2 tag lookup, verbatim in argv form."""
    described = subprocess.run(
        ["git", "-C", str(repo), "describe", "--tags", "--abbrev=0", "--match", "v*"],
        capture_output=True,
        text=True,
        check=False,
    )
    if described.returncode == 0:
        return described.stdout.strip()
    return git(repo, "tag", "-l", "v*", "--sort=-v:refname").split("\n")[0]


def test_defect1_next_run_finds_its_own_tags(
    sample_family: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    release_spi(sample_family)
    # The original looks for v* tags only and never sees "omnibase_spi/v1.2.1".
    assert original_scan_last_tag(sample_family / "omnibase_spi") == ""
    _, out, _ = run_cli(capsys, *plan_args(sample_family, "--format", "json"))
    data = json.loads(out)
    assert {
        "repo": "omnibase_spi",
        "tier": 1,
        "current": "1.2.1",
        "reason": "NOTHING_TO_RELEASE",
    } in data["skipped"]


def test_the_highest_tag_of_the_format_or_a_legacy_pattern_is_the_last_release(
    sample_family: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    memory = sample_family / "omnimemory"
    _, out, _ = run_cli(capsys, *plan_args(sample_family, "omnimemory", "--format", "json"))
    assert json.loads(out)["entries"][0]["last_tag"] == "v0.3.0"
    RepoBuilder(memory, commits=5, clock=1800000000).commit(["release: omnimemory v0.3.1"])
    RepoBuilder(memory).tag("omnimemory/v0.3.1")
    RepoBuilder(memory, commits=6, clock=1800001000).commit(["feat: recall"])
    _, out, _ = run_cli(capsys, *plan_args(sample_family, "omnimemory", "--format", "json"))
    entry = json.loads(out)["entries"][0]
    assert (entry["last_tag"], entry["current"], entry["new"], entry["commits"]) == (
        "omnimemory/v0.3.1",
        "0.3.1",
        "0.4.0",
        1,
    )
    # ISSUE 11: a newer legacy tag is a newer release, even beside a reachable format tag.
    git(memory, "tag", "v9.9.9", "HEAD~1")
    _, out, _ = run_cli(capsys, *plan_args(sample_family, "omnimemory", "--format", "json"))
    entry = json.loads(out)["entries"][0]
    assert (entry["last_tag"], entry["current"], entry["new"], entry["commits"]) == (
        "v9.9.9",
        "9.9.9",
        "9.10.0",
        1,
    )


def test_repo_without_tags_starts_at_root_and_its_pyproject_version(
    sample_family: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(sample_family / "omnibase_spi", "tag", "-d", "omnibase_spi/v1.2.0")
    _, out, _ = run_cli(capsys, *plan_args(sample_family, "omnibase_spi", "--format", "json"))
    entry = json.loads(out)["entries"][0]
    # ISSUE 11: not 0.0.0 -> 0.1.0, below the 1.2.0 the pyproject says was released.
    assert (entry["current"], entry["new"], entry["commits"], entry["last_tag"]) == (
        "1.2.0",
        "1.3.0",
        6,
        None,
    )


def test_positional_repos_and_bump_override(
    sample_family: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(
        capsys,
        *plan_args(
            sample_family, "omnibase_core", "omniclaude", "--bump", "minor", "--run-id", RUN_ID
        ),
    )
    assert code == 0
    rows = out.splitlines()[4:6]
    assert rows == [
        "  omnibase_core      2     1.4.0    1.5.0    minor  8",
        "  omniclaude         4     0.3.0    0.4.0    minor  15",
    ]


def test_prerelease_flag(sample_family: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run_cli(
        capsys, *plan_args(sample_family, "omnibase_core", "--prerelease", "rc", "--format", "json")
    )
    assert json.loads(out)["entries"][0]["new"] == "1.5.0rc1"


def test_unconfigured_dependent_in_workspace_is_drift(
    sample_family: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stray = sample_family / "omnidash_py"
    stray.mkdir()
    (stray / "pyproject.toml").write_text(
        '[project]\nname = "dash"\ndependencies = ["Omnibase_Core>=1"]\n'
    )
    unrelated = sample_family / "website"
    unrelated.mkdir()
    (unrelated / "pyproject.toml").write_text('[project]\nname = "web"\ndependencies = ["flask"]\n')
    code, _, err = run_cli(capsys, *plan_args(sample_family))
    assert code == 4
    assert err.startswith("error[GRAPH_DRIFT] (omnidash_py): ")
    assert "depends on family member omnibase-core but is not configured" in err


def test_cycle_in_pyprojects_is_reported(
    sample_family: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spi = sample_family / "omnibase_spi"
    text = (
        (spi / "pyproject.toml")
        .read_text()
        .replace("dependencies = [\n", 'dependencies = [\n    "omniclaude",\n')
    )
    RepoBuilder(spi, commits=9, clock=1800000000).commit([_change("fix: oops", text)])
    code, _, err = run_cli(capsys, *plan_args(sample_family))
    assert code == 4 and err.startswith("error[GRAPH_CYCLE]")
    assert "omnibase_spi -> omniclaude" in err


def _change(message: str, pyproject: str) -> Change:
    return Change(message, {"pyproject.toml": pyproject})


def test_configured_edge_drift(sample_family: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = sample_family / "release-train.toml"
    config.write_text(config.read_text() + '\n[repos.extra]\ndepends_on = ["omnibase_spi"]\n')
    RepoBuilder(sample_family / "extra").init().commit(
        [_change("chore: init", '[project]\nname = "extra"\nversion = "1.0.0"\n')]
    )
    code, _, err = run_cli(capsys, *plan_args(sample_family))
    assert code == 4
    assert (
        "repos.extra.depends_on lists omnibase_spi, but extra's pyproject does not depend on it"
        in err
    )


def test_gate_token_is_checked_before_any_scan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(
        capsys,
        "release",
        "--gate-attestation",
        "not-a-token",
        "--workspace",
        str(tmp_path / "nope"),
    )
    assert code == 2 and err.startswith("error[INVALID_GATE_TOKEN]: ")
    code, _, err = run_cli(
        capsys,
        "release",
        "--gate-attestation",
        f"1767225600.000100:{RUN_ID}",
        "--run-id",
        "release-20260101-000000",
    )
    assert code == 2 and "is for run release-20260225-a3f7b2" in err


@pytest.mark.parametrize(
    ("content", "code_name"),
    [
        (None, "STATE_NOT_FOUND"),
        ("{not json", "STATE_CORRUPT"),
        ('{"run_id": "other"}', "STATE_CORRUPT"),
    ],
)
def test_resume_preflight(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    content: str | None,
    code_name: str,
) -> None:
    monkeypatch.setenv("RELEASE_TRAIN_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("GITHUB_TOKEN", "not-used-before-the-state-is-read")
    config = tmp_path / "release-train.toml"
    config.write_text(config_text())
    state = tmp_path / f"{RUN_ID}.json"
    if content is not None:
        state.write_text(content)
    code, _, err = run_cli(capsys, "release", "--resume", RUN_ID, "--config", str(config))
    assert code == 3 and err.startswith(f"error[{code_name}]: ")
    assert "hint: " in err
    if content is not None:
        assert state.read_text() == content  # bad input loses nothing


def test_unknown_repo(sample_family: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, *plan_args(sample_family, "omnidash"))
    assert code == 2
    assert err.splitlines() == [
        "error[UNKNOWN_REPO]: not in the configured family: omnidash",
        "hint: known repos: omnibase_core, omnibase_infra, omnibase_spi, omniclaude, "
        "omniintelligence, omnimemory",
    ]


def test_blobless_partial_clones_plan_without_fetching(
    sample_family: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clones = tmp_path / "clones"
    clones.mkdir()
    for repo in sorted(p for p in sample_family.iterdir() if p.is_dir()):
        git(repo, "config", "uploadpack.allowFilter", "true")
        subprocess.run(
            ["git", "clone", "-q", "--filter=blob:none", f"file://{repo}", str(clones / repo.name)],
            check=True,
        )
        git(clones / repo.name, "remote", "set-url", "origin", str(tmp_path / "gone"))
    (clones / "release-train.toml").write_text((sample_family / "release-train.toml").read_text())
    code, out, err = run_cli(capsys, *plan_args(clones, "--run-id", RUN_ID))
    assert (code, err) == (0, "")
    assert out == SPEC_PLAN_TABLE


def test_console_script_reports_errors_without_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            "release-train",
            "plan",
            "--config",
            str(tmp_path / "missing.toml"),
            "--workspace",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env={**os.environ},
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error[CONFIG_NOT_FOUND]: ")
    assert "Traceback" not in done.stderr


def test_a_tag_off_the_branch_is_a_release_but_does_not_bound_the_range(
    sample_family: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spi = sample_family / "omnibase_spi"
    git(spi, "checkout", "-q", "-b", "hotfix", "omnibase_spi/v1.2.0")
    RepoBuilder(spi, branch="hotfix", commits=9, clock=1800000000).commit(["fix: hotfix only"])
    git(spi, "tag", "omnibase_spi/v9.0.0")
    git(spi, "tag", "omnibase_spi/v8.0.0", "main")  # ahead of nothing: it *is* HEAD of main
    git(spi, "checkout", "-q", "main")
    _, out, _ = run_cli(capsys, *plan_args(sample_family, "omnibase_spi", "--format", "json"))
    # ISSUE 11: the highest release is the last one, reachable or not (v9.0.0 is taken).
    assert json.loads(out)["skipped"] == [
        {"repo": "omnibase_spi", "tier": 1, "current": "9.0.0", "reason": "NOTHING_TO_RELEASE"}
    ]
    git(spi, "tag", "-d", "omnibase_spi/v8.0.0")
    _, out, _ = run_cli(capsys, *plan_args(sample_family, "omnibase_spi", "--format", "json"))
    entry = json.loads(out)["entries"][0]
    # main's 3 commits since v1.2.0 are in no release tag's history; the hotfix is not on main.
    assert (entry["last_tag"], entry["current"], entry["new"], entry["commits"]) == (
        "omnibase_spi/v9.0.0",
        "9.0.0",
        "9.0.1",
        3,
    )


def test_dynamic_version_in_a_subdirectory_is_read_from_the_tag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = tmp_path / "ws"
    pyproject = '[project]\nname = "Tool.Kit"\ndynamic = ["version"]\ndependencies = []\n'
    builder = RepoBuilder(workspace / "toolkit").init()
    builder.commit([Change("chore: init", {"python/pyproject.toml": pyproject})])
    builder.tag("toolkit/v2.0")  # versions like "2.0" are PEP 440 too (DESIGN defect 4)
    builder.commit(["feat: new api\n\nBREAKING CHANGE: drops the old one"])
    config = tmp_path / "release-train.toml"
    # publish = "none": this repo has no release workflow for the preflight to check.
    config.write_text(
        'owner = "o"\n[repos.toolkit]\npyproject = "python/pyproject.toml"\npublish = "none"\n'
    )
    code, out, err = run_cli(
        capsys,
        "plan",
        "--config",
        str(config),
        "--workspace",
        str(workspace),
        "--format",
        "json",
        "--offline",
    )
    assert (code, err) == (0, "")
    entry = json.loads(out)["entries"][0]
    assert (entry["package"], entry["current"], entry["new"], entry["bump"]) == (
        "Tool.Kit",
        "2.0",
        "3.0.0",
        "major",
    )


def test_missing_pyproject_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    RepoBuilder(tmp_path / "ws" / "bare").init().commit(["chore: nothing"])
    config = tmp_path / "release-train.toml"
    config.write_text('owner = "o"\n[repos.bare]\n')
    code, _, err = run_cli(
        capsys, "plan", "--config", str(config), "--workspace", str(tmp_path / "ws")
    )
    assert code == 2
    assert err.startswith("error[PYPROJECT_INVALID] (bare): bare has no pyproject.toml at HEAD")


def test_missing_clone_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "ws").mkdir()
    config = tmp_path / "release-train.toml"
    config.write_text('owner = "o"\n[repos.absent]\n')
    code, _, err = run_cli(
        capsys, "plan", "--config", str(config), "--workspace", str(tmp_path / "ws")
    )
    assert code == 2 and err.startswith("error[REPO_NOT_FOUND] (absent): ")
    assert "hint: clone absent into" in err


def test_package_placeholder_in_tag_templates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = tmp_path / "ws"
    pyproject = '[project]\nname = "acme-core"\nversion = "1.0.0"\n'
    builder = RepoBuilder(workspace / "core").init()
    builder.commit([Change("chore: init", {"pyproject.toml": pyproject})])
    builder.tag("acme-core-1.0.0")
    builder.commit(["fix: x"])
    config = tmp_path / "release-train.toml"
    config.write_text(
        'owner = "o"\ntag_format = "{package}-{version}"\n[repos.core]\npublish = "none"\n'
    )
    result = tmp_path / "out.json"
    code, _, err = run_cli(
        capsys,
        "release",
        "--dry-run",
        "--config",
        str(config),
        "--workspace",
        str(workspace),
        "--result-file",
        str(result),
        "--offline",
    )
    assert (code, err) == (0, "")
    detail = json.loads(result.read_text())["details"][0]
    assert (detail["old_version"], detail["tag"]) == ("1.0.0", "acme-core-1.0.1")


def test_the_plan_path_does_not_import_pygithub_or_slack(sample_family: Path) -> None:
    probe = (
        "import sys\n"
        "from release_train.cli import main\n"
        f"code = main(['plan', '--config', {str(sample_family / 'release-train.toml')!r},"
        f" '--workspace', {str(sample_family)!r}, '--offline'])\n"
        "heavy = sorted(m for m in ('github', 'slack_sdk') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
        "raise SystemExit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "HEAVY []"
