"""Names git and GitHub accept: tag refs (`git check-ref-format`'s rules), owners and repos."""

from __future__ import annotations

import re
from collections.abc import Callable

# GitHub: an owner (user or organisation) is 1-39 letters, digits or single inner hyphens;
# a repository name is 1-100 of letters, digits, `.`, `_` and `-`, never `.` or `..`.
_OWNER = re.compile(r"[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}")
_REPO = re.compile(r"[A-Za-z0-9._-]{1,100}")
_FORBIDDEN = {" ": "a space", "~": "'~'", "^": "'^'", ":": "':'", "?": "'?'", "*": "'*'"}
_FORBIDDEN |= {"[": "'['", "\\": "'\\'"}


# git's rules on a whole ref, in the order `git check-ref-format` documents them.
_WHOLE_REF_RULES: tuple[tuple[Callable[[str], bool], str], ...] = (
    (lambda ref: "/" not in ref, "it has no '/' (a ref needs at least two components)"),
    (lambda ref: ".." in ref, "it contains '..'"),
    (lambda ref: ref.startswith("/") or ref.endswith("/"), "it starts or ends with '/'"),
    (lambda ref: "//" in ref, "it contains '//'"),
    (lambda ref: ref.endswith("."), "it ends with '.'"),
    (lambda ref: "@{" in ref, "it contains '@{'"),
)


def _char_problem(ref: str) -> str | None:
    for char in ref:
        if ord(char) < 0x20 or ord(char) == 0x7F:
            return "it contains a control character"
        if char in _FORBIDDEN:
            return f"it contains {_FORBIDDEN[char]}"
    return None


def ref_problem(ref: str) -> str | None:
    """Why `git check-ref-format <ref>` refuses `ref` (e.g. `refs/tags/v1.0`), or None."""
    if ref == "@":
        return "it is '@'"
    found = _char_problem(ref)
    found = found or next((why for rule, why in _WHOLE_REF_RULES if rule(ref)), None)
    for component in ref.split("/"):
        if found:
            break
        if component.startswith("."):
            found = f"its component {component!r} starts with '.'"
        elif component.endswith(".lock"):
            found = f"its component {component!r} ends with '.lock'"
    return found


def tag_problem(tag: str) -> str | None:
    """Why git would refuse the tag `tag` (as `refs/tags/<tag>`), or None."""
    if not tag:
        return "it is empty"
    return ref_problem(f"refs/tags/{tag}")


def owner_problem(owner: str) -> str | None:
    if _OWNER.fullmatch(owner):
        return None
    return (
        "a GitHub owner is 1-39 letters, digits or single hyphens, not starting or "
        "ending with a hyphen"
    )


def repo_problem(repo: str) -> str | None:
    if _REPO.fullmatch(repo) and repo not in (".", ".."):
        return None
    return "a GitHub repository name is 1-100 letters, digits, '.', '_' or '-' (not '.' or '..')"
