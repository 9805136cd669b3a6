"""`release-train completion {bash,zsh,fish}`: a shell completion script made from the parser.

Generated from the argparse tree rather than through argcomplete: no new dependency, and a
TAB costs no Python start (the CLI's imports take longer than a keystroke should). The
script knows the commands, their options, the choices of options that have them, and
completes paths for options that take one.
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PROG = "release-train"
SHELLS = ("bash", "zsh", "fish")


@dataclass(frozen=True)
class Option:
    flags: tuple[str, ...]
    help: str
    choices: tuple[str, ...] = ()
    takes_value: bool = False
    takes_path: bool = False


@dataclass(frozen=True)
class Command:
    """One command of the tree: `path` is its words after the program ("sandbox up")."""

    path: tuple[str, ...]
    help: str
    options: tuple[Option, ...]
    subcommands: tuple[Command, ...]
    arguments: tuple[str, ...] = ()  # the choices of its positional arguments


def command_tree(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = (), summary: str = ""
) -> Command:
    options: list[Option] = []
    subcommands: list[Command] = []
    arguments: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                subcommands.append(command_tree(sub, (*path, name), helps.get(name, "")))
        elif action.option_strings:
            options.append(_option(action))
        else:
            arguments.extend(_choices(action))
    return Command(path, summary, tuple(options), tuple(subcommands), tuple(arguments))


def _choices(action: argparse.Action) -> tuple[str, ...]:
    """Its choices, or those its metavar spells (`{patch,minor,major}`) for a value that is
    checked after parsing, to get the tool's own error format."""
    if action.choices:
        return tuple(str(choice) for choice in action.choices)
    metavar = action.metavar if isinstance(action.metavar, str) else ""
    if metavar.startswith("{") and metavar.endswith("}"):
        return tuple(metavar[1:-1].split(","))
    return ()


def _option(action: argparse.Action) -> Option:
    choices = _choices(action)
    takes_value = action.nargs != 0
    return Option(
        tuple(action.option_strings),
        (action.help or "").replace("%(default)s", str(action.default)),
        choices,
        takes_value,
        takes_path=takes_value and action.type is Path,
    )


def walk(command: Command) -> Iterator[Command]:
    yield command
    for sub in command.subcommands:
        yield from walk(sub)


def script(shell: str, parser: argparse.ArgumentParser) -> str:
    tree = command_tree(parser)
    if shell == "fish":
        return fish_script(tree)
    body = bash_script(tree)
    if shell == "zsh":  # zsh runs the bash function through its bash completion layer
        return f"#compdef {PROG}\nautoload -U +X bashcompinit && bashcompinit\n{body}"
    return body


def _words(command: Command) -> str:
    names = [sub.path[-1] for sub in command.subcommands]
    flags = [flag for option in command.options for flag in option.flags]
    return " ".join([*names, *command.arguments, *flags])


def bash_script(tree: Command) -> str:
    commands = list(walk(tree))
    # Which words name a command, given the command found so far ("sandbox" then "up").
    steps = " | ".join(shlex.quote(" ".join(c.path)) for c in commands if c.path)
    values = []
    for command in commands:
        key = " ".join(command.path)
        for option in command.options:
            if not option.takes_value:
                continue
            reply = (
                f'compgen -W {shlex.quote(" ".join(option.choices))} -- "$cur"'
                if option.choices
                else 'compgen -f -- "$cur"'
                if option.takes_path
                else "true"
            )
            pattern = " | ".join(shlex.quote(f"{key}|{flag}") for flag in option.flags)
            values.append(f"        {pattern}) COMPREPLY=($({reply})); return ;;")
    words = [
        f"        {shlex.quote(' '.join(c.path))}) words={shlex.quote(_words(c))} ;;"
        for c in commands
    ]
    return "\n".join(
        [
            f'# {PROG} completion for bash: eval "$({PROG} completion bash)"',
            "_release_train() {",
            "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}",
            '    local cmd="" words="" i next',
            "    for ((i = 1; i < COMP_CWORD; i++)); do",
            '        next="${cmd:+$cmd }${COMP_WORDS[i]}"',
            f'        case "$next" in {steps}) cmd="$next" ;; esac',
            "    done",
            '    case "$cmd|$prev" in',
            *values,
            "    esac",
            '    case "$cmd" in',
            *words,
            "    esac",
            '    COMPREPLY=($(compgen -W "$words" -- "$cur"))',
            "}",
            f"complete -o default -F _release_train {PROG}",
            "",
        ]
    )


def fish_script(tree: Command) -> str:
    lines = [f"# {PROG} completion for fish: {PROG} completion fish | source"]
    for command in walk(tree):
        condition = _fish_condition(command)
        for sub in command.subcommands:
            lines.append(
                f"complete -c {PROG} -n {_fish_quote(condition)} -a {sub.path[-1]} "
                f"-d {_fish_quote(_first_line(sub.help))}"
            )
        if command.arguments:
            lines.append(
                f"complete -c {PROG} -n {_fish_quote(condition)} -x "
                f"-a {_fish_quote(' '.join(command.arguments))}"
            )
        for option in command.options:
            flags = " ".join(
                f"-l {flag[2:]}" if flag.startswith("--") else f"-s {flag[1:]}"
                for flag in option.flags
            )
            value = (
                f" -x -a {_fish_quote(' '.join(option.choices))}"
                if option.choices
                else " -r -F"
                if option.takes_path
                else " -x"
                if option.takes_value
                else ""
            )
            lines.append(
                f"complete -c {PROG} -n {_fish_quote(condition)} {flags}{value} "
                f"-d {_fish_quote(_first_line(option.help))}"
            )
    return "\n".join(lines) + "\n"


def _fish_condition(command: Command) -> str:
    """True while `command` is the deepest command on the line so far."""
    names = " ".join(sub.path[-1] for sub in command.subcommands)
    seen = [f"__fish_seen_subcommand_from {word}" for word in command.path]
    below = [f"not __fish_seen_subcommand_from {names}"] if names else []
    return "; and ".join([*seen, *below]) or "true"


def _first_line(text: str) -> str:
    return text.split(";", maxsplit=1)[0].strip()


def _fish_quote(text: str) -> str:
    """A fish single-quoted word: only backslash and the quote itself are special there."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
