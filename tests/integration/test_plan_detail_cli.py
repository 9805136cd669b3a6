"""`release-train plan` shows each repo's detail: with `--detail` in text, always in the rest."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.core.test_render import SPEC_PLAN_TABLE
from tests.integration.test_plan_cli import RUN_ID, git, plan_args, run_cli

# The entry links to the compare view of the tags even in workspace mode (GitHub's server).
HEADING = (
    "## [1.5.0](https://github.com/OmniNode-ai/omnibase_core/compare/"
    "omnibase_core/v1.4.0...omnibase_core/v1.5.0) ("
)


def test_detail_follows_the_specifications_table(
    sample_family: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, *plan_args(sample_family, "--run-id", RUN_ID, "--detail"))
    assert (code, err) == (0, "")
    assert out.startswith(SPEC_PLAN_TABLE + "\nDetails:\n\n  omnibase_spi 1.2.0 -> 1.2.1 (patch)\n")
    core = sample_family / "omnibase_core"
    newest = git(core, "log", "-1", "--format=%h %s", "--abbrev=7", "--grep=^feat").strip()
    block = out[out.index("  omnibase_core 1.4.0 -> 1.5.0 (minor)\n") :]
    block = block[: block.index("\n  omnibase_infra")]
    assert block.startswith(
        "  omnibase_core 1.4.0 -> 1.5.0 (minor)\n"
        "    Last release: omnibase_core/v1.4.0\n"  # --workspace: no compare link
        "    Features:\n"
        f"      {newest}\n"
    )
    assert "    Pins (written by PIN):\n      omnibase-spi==1.2.1\n" in block
    assert "    Changelog entry:\n      " + HEADING in block


def test_json_and_markdown_carry_the_detail_without_the_flag(
    sample_family: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run_cli(capsys, *plan_args(sample_family, "--format", "json"))
    core = json.loads(out)["entries"][1]
    assert core["repo"] == "omnibase_core" and core["compare_url"] is None
    assert core["pins"] == {"omnibase-spi": "==1.2.1"}
    assert core["commit_groups"]["features"][0]["subject"].startswith("feat(runtime):")
    assert core["changelog"].startswith(HEADING)
    _, md, _ = run_cli(capsys, *plan_args(sample_family, "--format", "markdown"))
    assert md.count("<details>") == 6 and md.count("</details>") == 6
    assert "```markdown\n" + core["changelog"] + "```\n" in md


def test_dry_run_shows_what_the_release_writes_for_each_repo(
    sample_family: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = plan_args(sample_family, "--dry-run", "--run-id", RUN_ID)
    code, out, err = run_cli(capsys, "release", *args[1:])
    assert (code, err) == (0, "")
    block = out[out.index("  omnibase_core 1.4.0 -> 1.5.0\n") : out.index("  omnibase_infra 2.0")]
    core = sample_family / "omnibase_core"
    shas = dict(
        line.split(" ", 1)[::-1] for line in git(core, "log", "--format=%H %s").splitlines()
    )
    url = "https://github.com/OmniNode-ai/omnibase_core"

    def link(subject: str) -> str:
        sha = shas[subject]
        return f"([{sha[:7]}]({url}/commit/{sha}))"

    day = datetime.now(UTC).date().isoformat()  # the date CHANGELOG would write today
    assert block == (
        "  omnibase_core 1.4.0 -> 1.5.0\n"
        "    Tag: omnibase_core/v1.5.0\n"
        "    Pins: omnibase-spi==1.2.1\n"  # the upstream's planned version
        "    Pull request: release: omnibase_core v1.5.0\n"
        "      ## Release: omnibase_core v1.5.0\n"
        "\n"
        f"      Coordinated release run: `{RUN_ID}`\n"
        "\n"
        "      ### Changes\n"
        "      - ci: cache uv downloads\n"
        "      - chore(deps): bump omnibase-spi floor\n"
        "      - fix: correct default timeout (#41)\n"
        "      - refactor: split runtime module\n"
        "      - test: cover shutdown ordering\n"
        "      - docs: describe lifecycle hooks\n"
        "      - fix(runtime): close handles on shutdown\n"
        "      - feat(runtime): add node lifecycle hooks\n"
        "\n"
        "      ### Release metadata\n"
        "      - Bump: minor\n"
        "      - Previous: v1.4.0\n"
        "      - Plan hash: sha256:43ce1a37ed8f\n"
        "    Changelog entry:\n"
        f"      {HEADING}{day})\n"
        "\n"
        "      ### Features\n"
        "\n"
        "      - **runtime:** add node lifecycle hooks "
        f"{link('feat(runtime): add node lifecycle hooks')}\n"
        "\n"
        "      ### Bug Fixes\n"
        "\n"
        "      - **runtime:** close handles on shutdown "
        f"{link('fix(runtime): close handles on shutdown')}\n"
        f"      - correct default timeout ([#41]({url}/issues/41)) "
        f"{link('fix: correct default timeout (#41)')}\n"
        "\n"
        "      ### Dependencies\n"
        "\n"
        "      - `omnibase-spi` pinned to ==1.2.1\n"
        "\n"
        "      ### Documentation\n"
        "\n"
        f"      - describe lifecycle hooks {link('docs: describe lifecycle hooks')}\n"
        "\n"
    )
