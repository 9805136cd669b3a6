from __future__ import annotations

from pathlib import Path

import pytest

from release_train.config import Config, load_config
from release_train.core.pyproject import PinPolicy
from release_train.errors import ErrorCode, ReleaseError

EXAMPLE = Path(__file__).parents[1] / "examples" / "release-train.toml"


def test_example_config_restates_the_spec_graph() -> None:
    config, path = load_config(EXAMPLE)
    assert path == EXAMPLE
    assert config.owner == "OmniNode-ai"
    assert sorted(config.repos) == sorted(
        [
            "omnibase_spi",
            "omnibase_core",
            "omnibase_infra",
            "omniintelligence",
            "omnimemory",
            "omniclaude",
        ]
    )
    assert config.tiers is not None and config.tiers[2] == (
        "omnibase_infra",
        "omniintelligence",
        "omnimemory",
    )
    assert config.pin_policy is PinPolicy.EXACT
    assert config.repos["omnibase_core"].package == "omnibase-core"


def test_defaults() -> None:
    config = Config.model_validate({"owner": "o", "repos": {"a": {}}})
    assert config.tag_format == "{repo}/v{version}"
    assert config.legacy_tag_patterns == ()
    assert config.zero_major is True
    assert config.cascade is True
    assert config.prerelease is None
    assert config.repos["a"].package is None  # the pyproject's project.name is used
    assert config.tag_template("a") == "{repo}/v{version}"


def test_found_in_cwd_then_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "central"\n\n[tool.release-train]\nowner = "acme"\n\n'
        '[tool.release-train.repos.a]\ntag_format = "a-{version}"\n'
    )
    config, path = load_config(cwd=tmp_path)
    assert (config.owner, path.name, config.tag_template("a")) == (
        "acme",
        "pyproject.toml",
        "a-{version}",
    )
    (tmp_path / "release-train.toml").write_text('owner = "other"\n[repos.b]\n')
    config, path = load_config(cwd=tmp_path)
    assert (config.owner, path.name) == ("other", "release-train.toml")


def error_of(tmp_path: Path, text: str) -> ReleaseError:
    path = tmp_path / "release-train.toml"
    path.write_text(text)
    with pytest.raises(ReleaseError) as err:
        load_config(path)
    return err.value


def test_error_names_the_key_and_the_file(tmp_path: Path) -> None:
    err = error_of(tmp_path, 'owner = "o"\npin_policy = "loose"\n[repos.a]\n')
    assert err.code is ErrorCode.CONFIG_INVALID
    assert err.message.startswith(f"{tmp_path / 'release-train.toml'}: pin_policy: ")
    assert err.code.exit_status == 2


def test_unknown_keys_are_errors(tmp_path: Path) -> None:
    err = error_of(tmp_path, 'owner = "o"\n[repos.a]\npackge = "x"\n')
    assert "repos.a.packge" in err.message


def test_tag_template_needs_version(tmp_path: Path) -> None:
    err = error_of(tmp_path, 'owner = "o"\ntag_format = "{repo}-release"\n[repos.a]\n')
    assert "tag_format" in err.message and "{version}" in err.message


def test_tag_template_unknown_placeholder(tmp_path: Path) -> None:
    err = error_of(tmp_path, 'owner = "o"\nlegacy_tag_patterns = ["{name}-{version}"]\n[repos.a]\n')
    assert "legacy_tag_patterns" in err.message


def test_depends_on_unknown_repo(tmp_path: Path) -> None:
    err = error_of(tmp_path, 'owner = "o"\n[repos.a]\ndepends_on = ["zzz"]\n')
    assert "repos.a.depends_on names unknown repos: zzz" in err.message


def test_an_unknown_repo_in_depends_on_gets_a_did_you_mean(tmp_path: Path) -> None:
    text = 'owner = "o"\n[repos.omnibase_core]\n[repos.b]\ndepends_on = ["omnibase_cor"]\n'
    err = error_of(tmp_path, text)
    assert err.message.endswith(
        "repos.b.depends_on names unknown repos: omnibase_cor (did you mean omnibase_core?)"
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (
            'owner = "o"\ntag_fromat = "x"\n[repos.a]\n',
            "tag_fromat: unknown key (did you mean tag_format?)",
        ),
        (
            'owner = "o"\n[repos.a]\npakage = "x"\n',
            "repos.a.pakage: unknown key (did you mean package?)",
        ),
        (
            'owner = "o"\n[repos.a]\n[slack]\nchanel = "C1"\n',
            "slack.chanel: unknown key (did you mean channel?)",
        ),
        ('owner = "o"\nzzzz = 1\n[repos.a]\n', "zzzz: unknown key"),
    ],
)
def test_an_unknown_key_is_named_with_the_closest_known_one(
    tmp_path: Path, text: str, where: str
) -> None:
    err = error_of(tmp_path, text)
    assert err.code is ErrorCode.CONFIG_INVALID
    assert err.message == f"{tmp_path / 'release-train.toml'}: {where}"


def test_bad_toml_is_reported(tmp_path: Path) -> None:
    err = error_of(tmp_path, "owner = \n")
    assert err.code is ErrorCode.CONFIG_INVALID and "not valid TOML" in err.message


def test_missing_config_has_a_hint(tmp_path: Path) -> None:
    with pytest.raises(ReleaseError) as err:
        load_config(cwd=tmp_path)
    assert err.value.code is ErrorCode.CONFIG_NOT_FOUND
    assert err.value.hint == (
        "run `release-train init --workspace DIR` to write one, or pass --config"
    )


def test_an_unreadable_config_has_the_same_hint(tmp_path: Path) -> None:
    with pytest.raises(ReleaseError) as err:
        load_config(tmp_path / "missing.toml")
    assert err.value.code is ErrorCode.CONFIG_NOT_FOUND
    assert err.value.hint == (
        "run `release-train init --workspace DIR` to write one, or pass --config"
    )


def test_prerelease_none_string_means_none() -> None:
    config = Config.model_validate({"owner": "o", "repos": {"a": {}}, "prerelease": "none"})
    assert config.prerelease is None
    config = Config.model_validate({"owner": "o", "repos": {"a": {}}, "prerelease": "rc"})
    assert config.prerelease == "rc"
