""" "Did you mean …?" for a name that is not one of the known ones (a repo, a config key)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# difflib's default (0.6) suggests omnibase_spi for omnidash: a family's names share a
# prefix, so only a near miss (a typo, `-` for `_`) is worth suggesting.
CUTOFF = 0.75


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """` (did you mean X?)` for the closest of `known` to `name`, or "" when none is close."""
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=CUTOFF)
    return f" (did you mean {close[0]}?)" if close else ""


def suggestions(names: Iterable[str], known: Iterable[str]) -> str:
    """`a (did you mean b?), c`: each of `names` followed by its suggestion, if any."""
    choices = sorted(known)
    return ", ".join(f"{name}{did_you_mean(name, choices)}" for name in names)
