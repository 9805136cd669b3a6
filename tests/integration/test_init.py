"""`release-train init --workspace`: the sample family's config, exact, and the refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from release_train.adapters.git import git
from release_train.cli import main
from release_train.config import load_config
from tests.core.test_render import SPEC_PLAN_TABLE

RUN_ID = "release-20260225-a3f7b2"
FOUND = """\
Found 6 repos in the clones in {family}:
  Tier  Repo               Package            Branch  Tags
  ────  ─────────────────  ─────────────────  ──────  ─────────────────
  1     omnibase_spi       omnibase-spi       main    {{repo}}/v{{version}}
  2     omnibase_core      omnibase-core      main    {{repo}}/v{{version}}
  3     omnibase_infra     omnibase-infra     main    {{repo}}/v{{version}}
  3     omniintelligence   omniintelligence   main    {{repo}}/v{{version}}
  3     omnimemory         omnimemory         main    v{{version}}
  4     omniclaude         omniclaude         main    {{repo}}/v{{version}}
wrote {out}; check it, then: release-train plan --offline --config {out} --workspace {family}
"""
SAMPLE_CONFIG = """\
# release-train configuration written by `release-train init` from the clones in {family}.
# Check it, then: release-train plan --offline (see docs/configuration.md).
owner = "OmniNode-ai"
tag_format = "{{repo}}/v{{version}}"
legacy_tag_patterns = ["v{{version}}"]
branch = "main"

# Tiers derived from the pyprojects (upstreams first; `plan` derives them again):
#   tier 1: omnibase_spi
#   tier 2: omnibase_core
#   tier 3: omnibase_infra, omniintelligence, omnimemory
#   tier 4: omniclaude

# tier 1, no family upstreams
# tags: 1 {{repo}}/v{{version}}; release.yml runs for such a tag
[repos.omnibase_spi]
package = "omnibase-spi"

# tier 2, after omnibase_spi
# tags: 1 {{repo}}/v{{version}}; release.yml runs for such a tag
[repos.omnibase_core]
package = "omnibase-core"

# tier 3, after omnibase_core, omnibase_spi
# tags: 1 {{repo}}/v{{version}}; release.yml runs for such a tag
[repos.omnibase_infra]
package = "omnibase-infra"

# tier 3, after omnibase_core, omnibase_spi
# tags: 1 {{repo}}/v{{version}}; release.yml runs for such a tag
[repos.omniintelligence]
package = "omniintelligence"

# tier 3, after omnibase_core, omnibase_spi
# tags: 1 v{{version}}; release.yml runs for such a tag
[repos.omnimemory]
package = "omnimemory"
tag_format = "v{{version}}"

# tier 4, after omnibase_core, omnibase_infra, omniintelligence
# tags: 1 {{repo}}/v{{version}}; release.yml runs for such a tag
[repos.omniclaude]
package = "omniclaude"
"""


@pytest.fixture
def family(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """`release-train sample-family DIR`, as a new user makes it."""
    assert main(["sample-family", str(tmp_path / "family")]) == 0
    capsys.readouterr()
    return tmp_path / "family"


def test_init_writes_the_sample_familys_config_and_plan_works_on_it(
    family: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "release-train.toml"

    code = main(["init", "--workspace", str(family), "--owner", "OmniNode-ai", "--out", str(out)])

    printed, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert printed == FOUND.format(family=family, out=out)
    assert out.read_text(encoding="utf-8") == SAMPLE_CONFIG.format(family=family)
    config, _ = load_config(out)
    assert sorted(config.repos) == sorted(p.name for p in family.iterdir() if p.is_dir())
    args = ["plan", "--offline", "--config", str(out), "--workspace", str(family)]
    assert main([*args, "--run-id", RUN_ID]) == 0
    assert capsys.readouterr().out == SPEC_PLAN_TABLE


def test_init_refuses_to_overwrite_a_config(
    family: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "release-train.toml"
    out.write_text("# mine\n", encoding="utf-8")

    code = main(["init", "--workspace", str(family), "--owner", "OmniNode-ai", "--out", str(out)])

    assert code == 2
    assert capsys.readouterr().err == (
        f"error[CONFIG_EXISTS]: {out} already exists; init does not overwrite it\n"
        "hint: move it away, or write elsewhere with --out FILE (then pass --config FILE)\n"
    )
    assert out.read_text(encoding="utf-8") == "# mine\n"


def test_init_without_a_github_remote_asks_for_the_owner(
    family: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "release-train.toml"

    code = main(["init", "--workspace", str(family), "--out", str(out)])

    assert code == 2
    assert capsys.readouterr().err.startswith(
        f"error[USAGE]: cannot tell the GitHub owner from the clones' origin remotes in {family}\n"
        "hint: pass --owner ORG"
    )
    assert not out.exists()


def test_init_reads_the_owner_from_the_origin_remotes(
    family: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for clone in sorted(p for p in family.iterdir() if (p / ".git").exists()):
        url = f"git@github.com:Some-Org/{clone.name}.git"
        git(clone, "remote", "add", "origin", url)
    out = tmp_path / "release-train.toml"

    assert main(["init", "--workspace", str(family), "--out", str(out)]) == 0

    capsys.readouterr()
    assert load_config(out)[0].owner == "Some-Org"


def main_git(clone: Path, *args: str) -> int:
    from release_train.adapters.command import run

    return run(["git", "-C", str(clone), *args], check=False).returncode


def test_init_of_a_dir_without_clones_is_repo_not_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()

    code = main(["init", "--workspace", str(tmp_path / "empty"), "--owner", "o"])

    assert code == 2
    assert capsys.readouterr().err.startswith(
        f"error[REPO_NOT_FOUND]: no git clone with a pyproject.toml in {tmp_path / 'empty'}\n"
    )
