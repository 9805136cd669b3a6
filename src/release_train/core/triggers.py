"""Whether a repo's release workflow starts for the tag the train pushes or the dispatch it sends.

GitHub's filter patterns ("Filter pattern cheat sheet", workflow syntax docs): `*` matches
anything but `/`, `**` anything, `?` / `+` make the preceding character optional /
repeatable, `[...]` is one character of a set or range (a-z, A-Z, 0-9), `\\` escapes, and
a leading `!` in a `tags` list excludes what the patterns before it included: the last
pattern that matches decides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

_RANGE_ENDS = re.compile(r"[A-Za-z0-9]")
# libyaml's loader when PyYAML was built with it: the same YAML 1.1 reading, a tenth the time.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class PatternError(ValueError):
    """A filter pattern GitHub would reject (the workflow then never runs)."""


def _char_class(pattern: str, start: int) -> tuple[str, int]:
    """The regex of the `[...]` set opening at `start`, and the index after its `]`."""
    end = pattern.find("]", start + 1)
    if end == -1:
        raise PatternError(f"{pattern!r}: '[' without a closing ']'")
    body = pattern[start + 1 : end]
    if not body:
        raise PatternError(f"{pattern!r}: empty '[]'")
    parts, i = [], 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            low, high = body[i], body[i + 2]
            same_kind = any(
                a <= low <= b and a <= high <= b for a, b in (("a", "z"), ("A", "Z"), ("0", "9"))
            )
            if not same_kind or low > high:
                raise PatternError(f"{pattern!r}: range {low}-{high} is not within a-z, A-Z or 0-9")
            parts.append(f"{re.escape(low)}-{re.escape(high)}")
            i += 3
            continue
        if not _RANGE_ENDS.fullmatch(body[i]):
            raise PatternError(f"{pattern!r}: '[...]' may only hold letters, digits and ranges")
        parts.append(re.escape(body[i]))
        i += 1
    return "[" + "".join(parts) + "]", end + 1


@lru_cache(maxsize=512)
def pattern_regex(pattern: str) -> re.Pattern[str]:
    """The compiled regex of one filter pattern (without a leading `!`)."""
    out: list[str] = []
    quantifiable = False  # `?` and `+` apply to the previous character or set only
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.+/)?")  # `docs/**/x` also matches `docs/x`
            i, quantifiable = i + 3, False
        elif pattern.startswith("**", i):
            out.append(".*")
            i, quantifiable = i + 2, False
        elif char == "*":
            out.append("[^/]*")
            i, quantifiable = i + 1, False
        elif char in "?+" and quantifiable:
            out.append(char)
            i, quantifiable = i + 1, False
        elif char in "?+" and i > 0:
            i += 1  # after a wildcard or another quantifier it changes nothing (as act reads it)
        elif char == "[":
            regex, i = _char_class(pattern, i)
            out.append(regex)
            quantifiable = True
        elif char == "\\":
            if i + 1 >= len(pattern):
                raise PatternError(f"{pattern!r}: '\\' at the end escapes nothing")
            out.append(re.escape(pattern[i + 1]))
            i, quantifiable = i + 2, True
        else:
            out.append(re.escape(char))
            i, quantifiable = i + 1, True
    return re.compile("".join(out))


def matches(pattern: str, name: str) -> bool:
    """Whether one filter pattern (no `!`) matches a whole branch or tag name."""
    return pattern_regex(pattern).fullmatch(name) is not None


def filter_matches(patterns: Sequence[str], name: str) -> bool:
    """Whether a `tags` / `branches` list selects `name`: the last matching pattern decides."""
    selected = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if matches(pattern[1:] if negated else pattern, name):
            selected = not negated
    return selected


@dataclass(frozen=True)
class Dispatch:
    """What the train sends to `workflow_dispatch`: its inputs, by name."""

    inputs: Mapping[str, str]


def load_workflow(text: str) -> dict[Any, Any]:
    """The workflow file as data; PatternError when it is not a YAML mapping."""
    try:
        data = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader, C or Python
    except yaml.YAMLError as exc:
        raise PatternError(f"not valid YAML: {exc}".splitlines()[0]) from exc
    if not isinstance(data, dict):
        raise PatternError("not a workflow (the file is not a YAML mapping)")
    return data


def _events(workflow: Mapping[Any, Any]) -> dict[str, Any]:
    """`on` as {event: settings}; PyYAML reads the bare key `on` as the boolean True."""
    on = workflow.get("on", workflow.get(True))
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return {str(event): None for event in on}
    if isinstance(on, dict):
        return {str(event): settings for event, settings in on.items()}
    return {}


def _patterns(settings: Mapping[str, Any], key: str) -> list[str] | None:
    value = settings.get(key)
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]  # GitHub also takes one string
    return [str(item) for item in items]


def _tag_filter_problem(tags: list[str] | None, ignore: list[str] | None, tag: str) -> str | None:
    """Why the `tags` / `tags-ignore` filters skip `tag`, or None when they let it through."""
    if tags is not None and ignore is not None:
        return "it sets both `tags` and `tags-ignore` under `on.push`, which GitHub rejects"
    try:
        if tags is not None and not filter_matches(tags, tag):
            return f"its `on.push.tags` ({', '.join(tags)}) does not match {tag}"
        if ignore is not None and filter_matches(ignore, tag):
            return f"its `on.push.tags-ignore` ({', '.join(ignore)}) excludes {tag}"
    except PatternError as exc:
        return f"its tag filter is invalid: {exc}"
    return None


def push_problem(workflow: Mapping[Any, Any], tag: str) -> str | None:
    """Why pushing `tag` would not start the workflow, or None when it would."""
    events = _events(workflow)
    if "push" not in events:
        return "it has no `on: push` trigger"
    settings = events["push"] or {}
    if not isinstance(settings, dict):
        return "its `on.push` is not a mapping"
    tags, ignore = _patterns(settings, "tags"), _patterns(settings, "tags-ignore")
    if tags is not None or ignore is not None:
        return _tag_filter_problem(tags, ignore, tag)
    # Only branch filters: GitHub runs it for no tag at all. Path filters are not
    # evaluated for tag pushes, so `paths` alone still lets every tag through.
    if "branches" in settings or "branches-ignore" in settings:
        return "its `on.push` filters branches only, so no tag push starts it"
    return None


def _input_problem(name: str, spec: Mapping[str, Any], value: str | None) -> str | None:
    kind = str(spec.get("type", "string"))
    if value is None:
        if required_input(spec):
            return f"its required input `{name}` is not sent by the train"
        return None
    if kind == "choice":
        options = [str(option) for option in spec.get("options") or []]
        if value not in options:
            return f"its choice input `{name}` does not offer {value}"
    if kind == "boolean" and value not in ("true", "false"):
        return f"its input `{name}` is a boolean, the train sends {value}"
    if kind == "number":
        try:
            float(value)
        except ValueError:
            return f"its input `{name}` is a number, the train sends {value}"
    return None


def dispatch_inputs(workflow: Mapping[Any, Any]) -> dict[Any, Any] | None:
    """The inputs `on.workflow_dispatch` declares ({} for none); None without that trigger.

    PatternError when `inputs` is not a mapping (GitHub rejects the file).
    """
    events = _events(workflow)
    if "workflow_dispatch" not in events:
        return None
    settings = events["workflow_dispatch"] or {}
    declared = (settings.get("inputs") or {}) if isinstance(settings, dict) else {}
    if not isinstance(declared, dict):
        raise PatternError("its `workflow_dispatch.inputs` is not a mapping")
    return declared


def required_input(spec: Any) -> bool:
    """Whether a declared input must be sent: `required` and no `default` to fall back to."""
    return isinstance(spec, dict) and bool(spec.get("required")) and spec.get("default") is None


def dispatch_problems(workflow: Mapping[Any, Any], dispatch: Dispatch) -> list[str]:
    """Why GitHub would refuse (422) the dispatch the train sends; empty when it would run."""
    try:
        declared = dispatch_inputs(workflow)
    except PatternError as exc:
        return [str(exc)]
    if declared is None:
        return ["it has no `on: workflow_dispatch` trigger"]
    found = [
        f"it declares no input `{name}`, which the train sends"
        for name in sorted(dispatch.inputs)
        if name not in declared
    ]
    for name in sorted(declared, key=str):
        spec = declared[name] if isinstance(declared[name], dict) else {}
        problem = _input_problem(str(name), spec, dispatch.inputs.get(str(name)))
        if problem:
            found.append(problem)
    return found
