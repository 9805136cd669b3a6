"""A synthetic family for benchmarks: any number of repos over any number of tiers.

Each repo of tier t > 1 requires one repo of tier t - 1 (so its tier is exactly t) and one
of tier 1 (so the graph is wider than a set of chains); each has one fix to release.
"""

from __future__ import annotations

from pathlib import Path

from release_train.sandbox.family import Hook, RepoSpec, build_family

REPOS = 50
TIERS = 6


def tier_sizes(repos: int = REPOS, tiers: int = TIERS) -> list[int]:
    """`repos` spread over `tiers`, the remainder on the last tiers: 50 / 6 -> 8 8 8 8 9 9."""
    if tiers < 1 or repos < tiers:
        raise ValueError(f"{repos} repos cannot fill {tiers} tiers")
    base, extra = divmod(repos, tiers)
    return [base + (1 if t >= tiers - extra else 0) for t in range(tiers)]


def synthetic_specs(repos: int = REPOS, tiers: int = TIERS) -> tuple[RepoSpec, ...]:
    """The family's specs in dependency order, named `syn<tier>_<index>`."""
    names = [
        [f"syn{t + 1}_{i:02d}" for i in range(n)] for t, n in enumerate(tier_sizes(repos, tiers))
    ]
    specs = []
    for t, tier in enumerate(names):
        for i, name in enumerate(tier):
            ups = {names[t - 1][i % len(names[t - 1])], names[0][i % len(names[0])]} if t else set()
            specs.append(
                RepoSpec(
                    name,
                    "1.0.0",
                    requires=tuple(f"{up.replace('_', '-')}>=1.0.0" for up in sorted(ups)),
                    history=("chore: initial commit", f"feat: {name} first feature"),
                    unreleased=(f"fix: a change in {name}",),
                )
            )
    return tuple(specs)


def build_synthetic_family(
    dest: Path,
    *,
    before_tag: Hook | None = None,
    after_tag: Hook | None = None,
    repos: int = REPOS,
    tiers: int = TIERS,
) -> list[Path]:
    """Build the synthetic family under `dest`, upstreams first (a sandbox `FamilyBuilder`)."""
    return build_family(
        dest, synthetic_specs(repos, tiers), before_tag=before_tag, after_tag=after_tag
    )
