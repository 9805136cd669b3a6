"""`release-train init` in API mode: the config of an owner's repos, read from the stand-in."""

from __future__ import annotations

from release_train.config import load_config

from .conftest import Rig


def test_init_reads_the_repos_over_the_api_and_writes_a_config_that_plans(rig: Rig) -> None:
    out = rig.root / "init.toml"

    done = rig.main(
        "init", "--owner", rig.world.owner, "--repos", "cli_app,cli_core", "--out", str(out)
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        f"Found 2 repos in the GitHub repos of {rig.world.owner}:\n"
        "  Tier  Repo               Package            Branch  Tags\n"
        "  ────  ─────────────────  ─────────────────  ──────  ─────────────────\n"
        "  1     cli_core           cli-core           main    {repo}/v{version}\n"
        "  2     cli_app            cli-app            main    {repo}/v{version}\n"
        f"wrote {out}; check it, then: release-train plan --offline --config {out}\n"
    )
    config, _ = load_config(out)
    assert (config.owner, config.tag_format, config.branch) == (
        rig.world.owner,
        "{repo}/v{version}",
        "main",
    )
    assert {r: c.package for r, c in config.repos.items()} == {
        "cli_core": "cli-core",
        "cli_app": "cli-app",
    }
    text = out.read_text(encoding="utf-8")
    assert "#   tier 1: cli_core\n#   tier 2: cli_app\n" in text
    assert "# tier 2, after cli_core\n# tags: 1 {repo}/v{version}" in text
    planned = rig.main("plan", "--offline", config=out)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert "Release Plan (run: " in planned.stdout


def test_init_of_a_repo_that_does_not_exist_is_repo_not_found(rig: Rig) -> None:
    out = rig.root / "init.toml"

    done = rig.main(
        "init", "--owner", rig.world.owner, "--repos", "no_such_repo", "--out", str(out)
    )

    assert done.returncode == 2, done.stdout
    assert done.stderr.startswith(
        f"error[REPO_NOT_FOUND] (no_such_repo): {rig.world.owner}/no_such_repo does not exist"
    )
    assert not out.exists()
