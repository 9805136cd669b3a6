"""PEP 440 bumps, bump inference and tag templates, including the original's defects 3 and 4."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version

from release_train.core.commits import parse_commit
from release_train.core.versions import (
    Bump,
    Prerelease,
    format_tag,
    infer_bump,
    next_version,
    parse_version,
    tag_glob,
    version_from_tag,
)
from release_train.errors import ErrorCode, ReleaseError

_DATA_NAME = "real-release-ranges.jsonl"
_DATA_CANDIDATES = (
    Path(__file__).parents[1] / "data" / _DATA_NAME,
    Path(__file__).parents[3] / "shared" / "data" / _DATA_NAME,
)


def _bump_of(*messages: str) -> Bump | None:
    return infer_bump([parse_commit(message) for message in messages]).bump


# --- DESIGN defect 3, seen from the bump ---------------------------------------------------


def test_defect3_breaking_change_footer_is_major() -> None:
    assert _bump_of("fix: a", "refactor: b\n\nBREAKING CHANGE: drops py3.10") is Bump.MAJOR


def test_defect3_feature_type_is_patch_not_minor() -> None:
    assert _bump_of("feature: something", "fix: a") is Bump.PATCH


def test_defect3_bang_in_scope_is_not_major() -> None:
    assert _bump_of("fix(scope!): a") is Bump.PATCH


# --- DESIGN defect 4: the original split on "." and called int() ------------------------


@pytest.mark.parametrize(
    ("current", "bump", "expected"),
    [
        ("1.0.0rc1", Bump.PATCH, "1.0.0"),
        ("1.0.0rc1", Bump.MAJOR, "1.0.0"),
        ("2.0", Bump.PATCH, "2.0.1"),
        ("2.0", Bump.MINOR, "2.1.0"),
        ("1.2.3.post1", Bump.PATCH, "1.2.4"),
        ("1.2.3.post1", Bump.MAJOR, "2.0.0"),
        ("1.2.3+local.7", Bump.PATCH, "1.2.4"),
    ],
)
def test_defect4_non_three_part_versions(current: str, bump: Bump, expected: str) -> None:
    assert next_version(current, bump) == expected


# --- bump inference ---------------------------------------------------------------------------


def test_breaking_wins_and_names_its_first_driver() -> None:
    commits = [
        parse_commit("feat!: drop x", sha="a1b2c3d4e5"),
        parse_commit("feat: y", sha="b"),
        parse_commit("fix: z\n\nBREAKING CHANGE: z", sha="c"),
    ]
    decision = infer_bump(commits)
    assert decision.bump is Bump.MAJOR
    assert decision.drivers == (commits[0], commits[2])
    assert decision.reason == "2 breaking changes (a1b2c3d feat!: drop x)"


def test_features_give_minor() -> None:
    decision = infer_bump([parse_commit(m) for m in ["feat: a", "fix: b", "FEAT(x): c"]])
    assert (decision.bump, len(decision.drivers), decision.reason) == (
        Bump.MINOR,
        2,
        "2 features",
    )


def test_any_change_gives_patch_and_reverts_count() -> None:
    messages = ["fix: a", "fix: b", "docs: c", 'Revert "feat: d"', "tidy up"]
    decision = infer_bump([parse_commit(m) for m in messages])
    assert decision.bump is Bump.PATCH
    assert len(decision.drivers) == 5
    assert decision.reason == "2 fixes and 3 other changes"


def test_merges_and_release_commits_are_ignored() -> None:
    messages = ["Merge pull request #1 from a/b\n\nfeat: x", "release: core v1.2.0 (#2)"]
    decision = infer_bump([parse_commit(m) for m in messages])
    assert (decision.bump, decision.drivers) == (None, ())
    assert infer_bump([]).bump is None
    assert _bump_of(*messages, "chore: one real change") is Bump.PATCH


# --- next_version -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "bump", "expected"),
    [
        ("1.2.3", Bump.PATCH, "1.2.4"),
        ("1.2.3", Bump.MINOR, "1.3.0"),
        ("1.2.3", Bump.MAJOR, "2.0.0"),
        ("v1.2.3", Bump.PATCH, "1.2.4"),
        ("0.9.0", Bump.MAJOR, "0.10.0"),
        ("0.0.0", Bump.PATCH, "0.0.1"),
        ("1!2.0.0", Bump.MINOR, "1!2.1.0"),
        ("1.2.3.4", Bump.PATCH, "1.2.4"),
    ],
)
def test_final_releases(current: str, bump: Bump, expected: str) -> None:
    assert next_version(current, bump) == expected


def test_zero_major_can_be_turned_off() -> None:
    assert next_version("0.9.0", Bump.MAJOR, zero_major=False) == "1.0.0"


@pytest.mark.parametrize(
    ("current", "bump", "prerelease", "expected"),
    [
        ("1.4.0", Bump.MINOR, Prerelease.RC, "1.5.0rc1"),
        ("1.5.0rc1", Bump.MINOR, Prerelease.RC, "1.5.0rc2"),
        ("1.5.0rc1", Bump.PATCH, Prerelease.RC, "1.5.0rc2"),
        ("1.5.0a3", Bump.PATCH, Prerelease.BETA, "1.5.0b1"),
        ("1.5.0rc1", Bump.MAJOR, Prerelease.RC, "2.0.0rc1"),
        ("1.5.0rc1", Bump.MINOR, None, "1.5.0"),
        ("1.5.0rc1", Bump.MAJOR, None, "2.0.0"),
        ("1.5.3rc1", Bump.MINOR, None, "1.6.0"),
        ("0.5.0rc1", Bump.MAJOR, None, "0.5.0"),
        ("1.5.0.dev4", Bump.MINOR, None, "1.5.0"),
        ("1.5.0.dev4", Bump.MINOR, Prerelease.ALPHA, "1.5.0a1"),
        ("1.5.0rc1.dev2", Bump.PATCH, Prerelease.RC, "1.5.0rc1"),
        ("1.5.0rc1.post1", Bump.PATCH, Prerelease.RC, "1.5.0rc2"),
        ("1.0.0.post1.dev2", Bump.PATCH, None, "1.0.1"),
    ],
)
def test_prereleases(
    current: str, bump: Bump, prerelease: Prerelease | None, expected: str
) -> None:
    assert next_version(current, bump, prerelease=prerelease) == expected


def test_lower_phase_never_goes_backwards() -> None:
    # Rule: asking for an earlier phase continues the current one (1.5.0a1 < 1.5.0rc2).
    assert next_version("1.5.0rc2", Bump.PATCH, prerelease=Prerelease.ALPHA) == "1.5.0rc3"
    assert next_version("1.5.0b1", Bump.MINOR, prerelease=Prerelease.ALPHA) == "1.5.0b2"


def test_bump_and_phase_ranks() -> None:
    assert [b.rank for b in (Bump.PATCH, Bump.MINOR, Bump.MAJOR)] == [0, 1, 2]
    assert Prerelease.ALPHA.rank < Prerelease.BETA.rank < Prerelease.RC.rank


@pytest.mark.parametrize("text", ["", "1.2.x", "latest", "v", "1..2"])
def test_parse_version_rejects_non_pep440(text: str) -> None:
    with pytest.raises(ReleaseError) as caught:
        parse_version(text)
    assert caught.value.code is ErrorCode.VERSION_INVALID
    assert caught.value.hint is not None


def test_parse_version_accepts_leading_v() -> None:
    assert parse_version(" v1.2.3 ") == Version("1.2.3")


_VERSIONS = st.builds(
    lambda epoch, release, pre, post, dev, local: (
        f"{epoch}!" * (epoch > 0)
        + ".".join(map(str, release))
        + (f"{pre[0]}{pre[1]}" if pre else "")
        + (f".post{post}" if post is not None else "")
        + (f".dev{dev}" if dev is not None else "")
        + (f"+{local}" if local else "")
    ),
    st.integers(0, 2),
    st.lists(st.integers(0, 30), min_size=1, max_size=5),
    st.none() | st.tuples(st.sampled_from(["a", "b", "rc", "alpha", "c"]), st.integers(0, 5)),
    st.none() | st.integers(0, 3),
    st.none() | st.integers(0, 3),
    st.sampled_from(["", "ubuntu.1"]),
)


@given(
    _VERSIONS,
    st.sampled_from(list(Bump)),
    st.booleans(),
    st.none() | st.sampled_from(list(Prerelease)),
)
def test_next_version_is_canonical_and_greater(
    current: str, bump: Bump, zero_major: bool, prerelease: Prerelease | None
) -> None:
    result = next_version(current, bump, zero_major=zero_major, prerelease=prerelease)
    assert str(Version(result)) == result
    assert Version(result) > Version(current)
    assert (Version(result).pre is not None) == (prerelease is not None)


# --- tags -------------------------------------------------------------------------------------


def test_format_tag_and_glob() -> None:
    assert format_tag("{repo}/v{version}", "omnibase_core", "1.2.0") == "omnibase_core/v1.2.0"
    assert format_tag("{package}-{version}", "core", "2.0", package="omnibase-core") == (
        "omnibase-core-2.0"
    )
    assert format_tag("v{version}", "core", "1.0") == "v1.0"
    assert tag_glob("{repo}/v{version}", "omnibase_core") == "omnibase_core/v*"
    assert tag_glob("v{version}", "omnibase_core") == "v*"
    assert tag_glob("[{package}]*{version}", "r") == r"\[r]\**"


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("omnibase_core/v1.2.0", Version("1.2.0")),
        ("omnibase_core/v1.5.0rc1", Version("1.5.0rc1")),
        ("omnibase_core/vnext", None),
        ("omnibase_corex/v1.2.0", None),
        ("other/v1.2.0", None),
        ("v1.2.0", None),
    ],
)
def test_version_from_tag(tag: str, expected: Version | None) -> None:
    assert version_from_tag("{repo}/v{version}", "omnibase_core", tag) == expected


def test_version_from_tag_round_trips_format_tag() -> None:
    tag = format_tag("{package}@{version}", "r", "3.1.4.post2", package="a.b")
    assert version_from_tag("{package}@{version}", "r", tag, package="a.b") == Version(
        "3.1.4.post2"
    )
    assert version_from_tag("{package}@{version}", "r", "aXb@1.0", package="a.b") is None


@pytest.mark.parametrize(
    "template",
    ["{repo}", "{repo}/{version}/{version}", "{name}-{version}", "{version", "{version!r}"],
)
def test_bad_tag_templates_are_config_errors(template: str) -> None:
    with pytest.raises(ReleaseError) as caught:
        format_tag(template, "r", "1.0")
    assert caught.value.code is ErrorCode.CONFIG_INVALID


# --- replay of real release ranges ------------------------------------------------------------


def test_replay_real_release_ranges() -> None:
    """Real projects' releases (see the data set's README): a CC 1.0 reading agrees on >= 97."""
    path = next((p for p in _DATA_CANDIDATES if p.is_file()), None)
    if path is None:
        pytest.fail(f"{_DATA_NAME} not found in {[str(p) for p in _DATA_CANDIDATES]}")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    mismatches = []
    for row in rows:
        decision = infer_bump([parse_commit(message) for message in row["messages"]])
        assert decision.bump is not None
        planned = next_version(row["from"], decision.bump)
        if f"v{planned}" != row["to"]:
            mismatches.append(f"{row['repo']} {row['from']} -> {row['to']}: planned {planned}")
    print("\n".join(mismatches))
    assert len(rows) == 102
    assert len(rows) - len(mismatches) >= 97, mismatches
