"""`release-train init` on the real family's clones: `v{version}` tags, dev and main, tiers."""

from __future__ import annotations

from pathlib import Path

import pytest

from release_train.cli import main
from release_train.config import load_config
from release_train.errors import ErrorCode


def test_init_infers_v_tags_branches_and_packages_of_the_real_family(
    realfam: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "release-train.toml"

    code = main(["init", "--workspace", str(realfam), "--owner", "OmniNode-ai", "--out", str(out)])

    assert code == 0, capsys.readouterr().err
    config, _ = load_config(out)
    assert (config.tag_format, config.legacy_tag_patterns) == ("v{version}", ("{repo}/v{version}",))
    assert config.branch == "main"
    assert {r: (c.package, c.branch, c.tag_format) for r, c in config.repos.items()} == {
        "omnibase_spi": ("omnibase_spi", "dev", None),
        "omnibase_core": ("omnibase_core", "dev", None),
        "omnibase_infra": ("omnibase_infra", "dev", None),
        "omniintelligence": ("omninode-intelligence", None, None),
        "omnimemory": ("omnimemory", None, None),  # no tags: the family's format
        "omniclaude": ("omninode-claude", None, None),
    }
    assert str(config.repos["omnimemory"].publish) == "none"  # it has no release workflow
    text = out.read_text(encoding="utf-8")
    assert (
        "#   tier 1: omnibase_core\n#   tier 2: omnibase_spi\n"
        "#   tier 3: omnibase_infra, omnimemory\n#   tier 4: omniintelligence\n"
        "#   tier 5: omniclaude\n"
    ) in text
    assert "# tags: 8 {repo}/v{version}, 86 v{version}; release.yml runs for such a tag\n" in text


def test_the_real_familys_config_plans_offline_once_git_sources_may_be_dropped(
    realfam: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "release-train.toml"
    assert (
        main(["init", "--workspace", str(realfam), "--owner", "OmniNode-ai", "--out", str(out)])
        == 0
    )
    plan = ["plan", "--offline", "--config", str(out), "--workspace", str(realfam)]
    capsys.readouterr()

    as_written = main(plan)
    first = capsys.readouterr()
    # The written config says why: git-sourced members stop a release until they may go.
    assert as_written == ErrorCode.PREFLIGHT_FAILED.exit_status, first.err
    assert "Release Plan (run: " in first.out
    assert {line.split(":")[0].strip("| ") for line in first.err.splitlines()[1:-1]} == {
        "omnibase_infra",
        "omniclaude",
        "omnimemory",
    }
    text = out.read_text(encoding="utf-8")
    assert '\n# family_sources = "drop"\n' in text
    out.write_text(text.replace('\n# family_sources = "drop"\n', '\nfamily_sources = "drop"\n'))

    assert main(plan) == 0, capsys.readouterr().err
