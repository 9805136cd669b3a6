"""Bad input that used to crash or lie: each is read safely or refused with a coded error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from release_train.cli import main

from .test_plan_cli import plan_args, run_cli


def _commit_raw(repo: Path, message: bytes, *, encoding: str) -> None:
    """A commit whose message is `message` as bytes, with git's `encoding` header set."""
    (repo / "raw.txt").write_bytes(message)
    subprocess.run(["git", "-C", str(repo), "add", "raw.txt"], check=True)
    (repo.parent / "message.bin").write_bytes(message)
    argv = ["git", "-C", str(repo), "-c", f"i18n.commitEncoding={encoding}"]
    argv += ["-c", "user.name=a", "-c", "user.email=a@example.invalid"]
    subprocess.run(
        [*argv, "commit", "--quiet", "-F", str(repo.parent / "message.bin")],
        check=True,
        capture_output=True,
    )


@pytest.mark.parametrize("encoding", ["x-bogus", "UTF-8"])
def test_a_commit_message_that_is_not_utf8_is_planned_not_a_crash(
    sample_family: Path, capsys: pytest.CaptureFixture[str], encoding: str
) -> None:
    """A latin-1 message under a bogus encoding header reached Python as raw bytes and the
    plan crashed with INTERNAL. Now undecodable bytes read as U+FFFD and the plan is made."""
    _commit_raw(
        sample_family / "omnibase_spi", b"fix: caf\xe9 au lait\n\n\xff\n", encoding=encoding
    )
    code, out, err = run_cli(capsys, *plan_args(sample_family, "--format", "json"))
    assert code == 0, err
    drivers = next(e for e in json.loads(out)["entries"] if e["repo"] == "omnibase_spi")["drivers"]
    assert any(d.endswith(("fix: caf\ufffd au lait", "fix: café au lait")) for d in drivers), (
        drivers
    )
    assert main(plan_args(sample_family, "--format", "markdown")) == 0


def test_a_bad_bump_gets_the_tools_error_format_not_argparses_usage(
    sample_family: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, *plan_args(sample_family, "--bump", "majr"))
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "error[USAGE]: --bump 'majr' is not a bump (did you mean major?)",
        "hint: give one of patch, minor, major, or leave --bump out to infer it from the commits",
    ]


def test_an_unknown_repo_gets_a_did_you_mean(
    sample_family: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, *plan_args(sample_family, "omnibase_cor", "omniclaude"))
    assert code == 2
    assert err.splitlines()[0] == (
        "error[UNKNOWN_REPO]: not in the configured family: omnibase_cor "
        "(did you mean omnibase_core?)"
    )


def test_piped_together_the_plan_comes_before_the_error(sample_family: Path) -> None:
    """stdout is flushed before an error goes to stderr: one pipe keeps their order."""
    spi = sample_family / "omnibase_spi"
    subprocess.run(["git", "-C", str(spi), "rm", "-q", ".github/workflows/release.yml"], check=True)
    argv = ["git", "-C", str(spi), "-c", "user.name=a", "-c", "user.email=a@example.invalid"]
    subprocess.run([*argv, "commit", "-qm", "ci: drop the release workflow"], check=True)
    done = subprocess.run(
        [sys.executable, "-m", "release_train", *plan_args(sample_family)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # Buffered as a pipe is by default, so only an explicit flush keeps the order.
        env={k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"},
        check=False,
    )
    assert done.returncode == 2
    before, marker, after = done.stdout.partition("error[PREFLIGHT_FAILED]: ")
    assert marker, done.stdout
    assert "omniclaude" in before  # the whole plan, then the error
    assert "omniclaude" not in after.split("\n", 1)[0]
