"""Conventional Commits 1.0 parsing of whole messages, including the original's defect 3."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from release_train.core.commits import (
    RELEASE_SUBJECT,
    Footer,
    Kind,
    parse_commit,
    parse_release_subject,
)

# --- DESIGN defect 3: the original read subjects only --------------------------------------


def test_defect3_breaking_change_footer_is_breaking() -> None:
    commit = parse_commit("feat: new config loader\n\nBREAKING CHANGE: `load()` takes a path")
    assert commit.breaking
    assert commit.breaking_notes == ("`load()` takes a path",)


def test_defect3_breaking_hyphen_footer_is_breaking() -> None:
    commit = parse_commit("fix: x\n\nSome body.\n\nBREAKING-CHANGE: y is gone\nRefs: #12")
    assert commit.breaking
    assert commit.footers == (Footer("BREAKING-CHANGE", "y is gone"), Footer("Refs", "#12"))


def test_defect3_feature_type_is_not_feat() -> None:
    commit = parse_commit("feature: add something")
    assert commit.kind is Kind.CONVENTIONAL
    assert commit.type == "feature"


def test_defect3_bang_inside_scope_is_not_breaking() -> None:
    commit = parse_commit("fix(scope!): handle x")
    assert commit.scope == "scope!"
    assert not commit.breaking


def test_defect3_exclamation_in_description_is_not_breaking() -> None:
    assert not parse_commit("fix: say hello!: loudly").breaking


# --- header -----------------------------------------------------------------------------------


def test_full_header_is_parsed() -> None:
    commit = parse_commit("feat(parser)!: drop the v1 grammar", sha="a1b2c3d4")
    assert (commit.kind, commit.type, commit.scope, commit.breaking) == (
        Kind.CONVENTIONAL,
        "feat",
        "parser",
        True,
    )
    assert commit.description == "drop the v1 grammar"
    assert commit.sha == "a1b2c3d4"
    assert commit.breaking_notes == ("drop the v1 grammar",)


def test_types_are_case_insensitive() -> None:
    assert parse_commit("FEAT: shout").type == "feat"
    assert parse_commit("Fix(Core): x").scope == "Core"


@pytest.mark.parametrize(
    "message",
    ["feat:no space", "feat(): empty scope", "feat : space before colon", "1fix: digit first"],
)
def test_non_conforming_headers_are_other(message: str) -> None:
    commit = parse_commit(message)
    assert commit.kind is Kind.OTHER
    assert commit.type is None
    assert commit.description == message
    assert commit.is_change


def test_squash_title_gives_pr_number() -> None:
    commit = parse_commit("feat(cli): add --json (#123)")
    assert (commit.description, commit.pr_number) == ("add --json", 123)
    other = parse_commit("Update README (#7)")
    assert (other.kind, other.description, other.pr_number) == (Kind.OTHER, "Update README", 7)


# --- body and footers -------------------------------------------------------------------------


def test_body_and_trailers_are_split() -> None:
    message = (
        "fix: a\n\nFirst paragraph.\nStill first.\n\nSecond paragraph.\n\n"
        "Reviewed-by: Z <z@example.com>\nSigned-off-by: A <a@example.com>\nCloses #4"
    )
    commit = parse_commit(message)
    assert commit.body == "First paragraph.\nStill first.\n\nSecond paragraph."
    assert [f.token for f in commit.footers] == ["Reviewed-by", "Signed-off-by", "Closes"]
    assert commit.footers[2].value == "#4"
    assert not commit.breaking


def test_footer_values_continue_over_lines() -> None:
    message = "feat: a\n\nBREAKING CHANGE: first line\n  second line\n\nmore words\nAcked-by: me"
    commit = parse_commit(message)
    assert commit.footers == (
        Footer("BREAKING CHANGE", "first line\n  second line\n\nmore words"),
        Footer("Acked-by", "me"),
    )
    assert commit.body == ""


def test_breaking_change_mid_sentence_is_not_a_footer() -> None:
    commit = parse_commit("fix: a\n\nThis is not a BREAKING CHANGE: only docs.\n\nRefs: #1")
    assert not commit.breaking
    assert commit.footers == (Footer("Refs", "#1"),)
    assert "BREAKING CHANGE" in commit.body


def test_lowercase_breaking_change_is_not_breaking() -> None:
    # CC 1.0 §15: BREAKING CHANGE must be upper case; "breaking change" is no token.
    assert not parse_commit("fix: a\n\nbreaking change: nope").breaking


def test_breaking_change_paragraph_followed_by_explanation_is_breaking() -> None:
    commit = parse_commit("feat: a\n\nBREAKING CHANGE: api\n\nWhy we did it, at length.")
    assert commit.breaking
    assert commit.breaking_notes == ("api\n\nWhy we did it, at length.",)


def test_dependabot_message_has_only_the_signoff_footer() -> None:
    message = (
        "build(deps-dev): bump ruff from 0.6.7 to 0.6.8\n\nBumps [ruff](https://x) from 0.6.7.\n"
        "- [Release notes](https://x/releases)\n\n---\nupdated-dependencies:\n"
        "- dependency-name: ruff\n  dependency-type: direct:development\n...\n\n"
        "Signed-off-by: dependabot[bot] <support@github.com>"
    )
    commit = parse_commit(message)
    assert commit.footers == (Footer("Signed-off-by", "dependabot[bot] <support@github.com>"),)
    assert commit.body.endswith("...")
    assert commit.type == "build"


def test_crlf_whitespace_and_comment_lines() -> None:
    message = "# Please enter the commit message\r\n\r\n  feat: x  \r\n\r\nbody\r\n\r\nRefs: #1\r\n"
    commit = parse_commit(message)
    assert (commit.subject, commit.type, commit.description) == ("feat: x", "feat", "x")
    assert commit.body == "body"
    assert commit.footers == (Footer("Refs", "#1"),)


@pytest.mark.parametrize("message", ["", "   ", "\n\n", "# only a comment", "\r\n"])
def test_empty_messages(message: str) -> None:
    commit = parse_commit(message)
    assert (commit.kind, commit.subject, commit.description, commit.footers) == (
        Kind.OTHER,
        "",
        "",
        (),
    )


# --- merges, reverts, release commits ---------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "pr_number"),
    [
        ("Merge pull request #12 from org/branch\n\nfeat: x", 12),
        ("Merge branch 'main' into feature", None),
        ("Merge remote-tracking branch 'origin/main'", None),
    ],
)
def test_merge_commits_are_not_changes(message: str, pr_number: int | None) -> None:
    commit = parse_commit(message)
    assert commit.kind is Kind.MERGE
    assert commit.pr_number == pr_number
    assert not commit.is_change
    assert commit.type is None


def test_git_revert_records_the_reverted_subject() -> None:
    commit = parse_commit('Revert "feat: x"\n\nThis reverts commit abc.')
    assert (commit.kind, commit.reverts, commit.type, commit.breaking) == (
        Kind.REVERT,
        "feat: x",
        None,
        False,
    )
    assert commit.is_change


def test_conventional_revert_is_a_revert_with_its_type() -> None:
    commit = parse_commit("revert(api): feat: x (#9)")
    assert (commit.kind, commit.type, commit.scope, commit.reverts, commit.pr_number) == (
        Kind.REVERT,
        "revert",
        "api",
        "feat: x",
        9,
    )


def test_release_commits_are_not_changes() -> None:
    subject = RELEASE_SUBJECT.format(repo="omnibase_core", version="1.2.0")
    commit = parse_commit(subject)
    assert commit.kind is Kind.RELEASE
    assert not commit.is_change
    # Squash-merging the release PR appends the PR number to the subject.
    assert parse_commit(subject + " (#45)").kind is Kind.RELEASE


def test_parse_release_subject() -> None:
    assert parse_release_subject("release: omnibase_core v1.2.0rc1") == (
        "omnibase_core",
        "1.2.0rc1",
    )
    assert parse_release_subject("release: x v2.0 (#3)") == ("x", "2.0")
    assert parse_release_subject("release: x vnext") is None
    assert parse_release_subject("release: prepare the notes") is None
    assert parse_commit("release: prepare the notes").kind is Kind.CONVENTIONAL


# --- properties -------------------------------------------------------------------------------

# "release" is left out: `release: x v1` is, rightly, one of the tool's own release commits.
_TYPES = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,10}", fullmatch=True).filter(
    lambda kind: kind.lower() != "release"
)
_SCOPES = st.from_regex(r"[a-z0-9 ./!_-]{1,12}", fullmatch=True)
_DESCRIPTIONS = st.from_regex(r"[^\s(][^\n\r]{0,40}[^\s)]", fullmatch=True)


@given(st.text())
def test_never_raises_on_any_text(message: str) -> None:
    commit = parse_commit(message)
    assert commit.message == message
    assert "\n" not in commit.subject


@given(
    st.lists(
        st.one_of(
            st.sampled_from(["", "BREAKING CHANGE: x", "Refs #1", "  cont", "# c", "\r", "a: b"]),
            st.text(max_size=20),
        ),
        max_size=12,
    )
)
def test_never_raises_on_structured_messages(lines: list[str]) -> None:
    commit = parse_commit("\n".join(["fix: start", *lines]))
    assert commit.type == "fix"
    assert commit.breaking == any(footer.is_breaking for footer in commit.footers)


@given(_TYPES, st.one_of(st.none(), _SCOPES), st.booleans(), _DESCRIPTIONS)
def test_header_round_trip(kind: str, scope: str | None, bang: bool, description: str) -> None:
    header = f"{kind}{f'({scope})' if scope else ''}{'!' if bang else ''}: {description}"
    commit = parse_commit(header + "\n\nSome body.")
    if kind.lower() == "revert":
        assert commit.kind is Kind.REVERT
    else:
        assert commit.kind is Kind.CONVENTIONAL
    assert (commit.type, commit.scope, commit.breaking) == (kind.lower(), scope, bang)
    assert commit.description == description
    assert commit.body == "Some body."


def test_breaking_change_line_inside_a_squash_body_is_breaking() -> None:
    # Squash bodies list several commits; a BREAKING CHANGE line among them still counts,
    # even when later paragraphs are not footers (the one replay row this over-bumps).
    message = "feat: a (#238)\n\n* fix: b\nBREAKING CHANGE: c changed\n\n* docs: d"
    commit = parse_commit(message)
    assert commit.breaking
    assert commit.body == "* fix: b"
    assert commit.footers == (Footer("BREAKING CHANGE", "c changed\n\n* docs: d"),)


def test_long_subjects_keep_their_text() -> None:
    subject = "a" + " " * 20_000 + "b"
    assert parse_commit(subject).description == subject
    assert parse_commit(subject + " (#5)").pr_number == 5
