"""Shell completion scripts generated from the parser: bash's run in a real bash."""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from release_train.completion import command_tree, fish_script, script


def completion(shell: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "release_train", "completion", shell],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@pytest.fixture(scope="module")
def bash_script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("completion") / "release-train.bash"
    path.write_text(completion("bash"))
    return path


def complete(bash_script: Path, *words: str) -> list[str]:
    """What bash offers for the last of `words` (the word being typed) after the others."""
    program = (
        f"source {bash_script}\n"
        f"COMP_WORDS=(release-train {' '.join(shlex.quote(w) for w in words)})\n"
        f"COMP_CWORD={len(words)}\n"
        "_release_train\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    argv = ["bash", "--norc", "-c", program]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    return done.stdout.split()


@pytest.mark.parametrize(
    ("words", "offered"),
    [
        (("pl",), ["plan"]),
        (("sandbox", ""), ["up", "status", "down", "-h", "--help"]),
        (("sandbox", "up", "--"), ["--help", "--no-seed", "--timeout", "--dir"]),
        (("plan", "--format", ""), ["json", "markdown", "text"]),
        (("release", "--bump", "m"), ["minor", "major"]),
        (("release", "--failure-policy", ""), ["fail-fast", "keep-going"]),
        (("completion", ""), ["bash", "zsh", "fish", "-h", "--help"]),
        (("plan", "--config", "x", "--det"), ["--detail"]),
    ],
)
def test_bash_completes_commands_options_and_choices(
    bash_script: Path, words: tuple[str, ...], offered: list[str]
) -> None:
    assert complete(bash_script, *words) == offered


def test_bash_completes_a_path_option_with_files(bash_script: Path, tmp_path: Path) -> None:
    (tmp_path / "release-train.toml").touch()
    assert complete(bash_script, "plan", "--config", f"{tmp_path}/rel") == [
        f"{tmp_path}/release-train.toml"
    ]


def test_zsh_runs_the_bash_function_through_bashcompinit() -> None:
    text = completion("zsh")
    assert text.startswith("#compdef release-train\nautoload -U +X bashcompinit && bashcompinit\n")
    assert text.endswith(completion("bash"))


def test_fish_script_of_a_small_parser() -> None:
    parser = argparse.ArgumentParser(prog="release-train")
    sub = parser.add_subparsers(dest="command")
    plan = sub.add_parser("plan", help="print the plan; and more", add_help=False)
    plan.add_argument("--config", type=Path, help="config file")
    plan.add_argument("--format", choices=["json", "text"])
    plan.add_argument("--offline", action="store_true", help="ask no index")
    shell = sub.add_parser("completion", help="the script", add_help=False)
    shell.add_argument("shell", choices=["bash", "fish"])
    top = "not __fish_seen_subcommand_from plan completion"
    assert fish_script(command_tree(parser)).splitlines() == [
        "# release-train completion for fish: release-train completion fish | source",
        f"complete -c release-train -n '{top}' -a plan -d 'print the plan'",
        f"complete -c release-train -n '{top}' -a completion -d 'the script'",
        f"complete -c release-train -n '{top}' -s h -l help -d 'show this help message and exit'",
        "complete -c release-train -n '__fish_seen_subcommand_from plan' -l config -r -F "
        "-d 'config file'",
        "complete -c release-train -n '__fish_seen_subcommand_from plan' -l format -x "
        "-a 'json text' -d ''",
        "complete -c release-train -n '__fish_seen_subcommand_from plan' -l offline "
        "-d 'ask no index'",
        "complete -c release-train -n '__fish_seen_subcommand_from completion' -x -a 'bash fish'",
    ]


def test_fish_quotes_what_fish_would_read_otherwise() -> None:
    parser = argparse.ArgumentParser(prog="release-train", add_help=False)
    parser.add_argument("--x", action="store_true", help="it's a \\ here")
    assert script("fish", parser).splitlines()[1] == (
        "complete -c release-train -n 'true' -l x -d 'it\\'s a \\\\ here'"
    )
