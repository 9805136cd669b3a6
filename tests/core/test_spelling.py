"""Did-you-mean suggestions: a near miss is named, a different name is not."""

from __future__ import annotations

from release_train.core.spelling import did_you_mean, suggestions

FAMILY = ["omnibase_core", "omnibase_infra", "omnibase_spi", "omniclaude", "omnimemory"]


def test_a_typo_or_a_dash_gets_the_name_it_missed() -> None:
    assert did_you_mean("omnibase_cor", FAMILY) == " (did you mean omnibase_core?)"
    assert did_you_mean("omnibase-infra", FAMILY) == " (did you mean omnibase_infra?)"


def test_a_different_name_with_the_familys_prefix_gets_none() -> None:
    assert did_you_mean("omnidash", FAMILY) == ""


def test_each_name_is_followed_by_its_own_suggestion() -> None:
    assert suggestions(["omnidash", "omniclaud"], FAMILY) == (
        "omnidash, omniclaud (did you mean omniclaude?)"
    )
