"""Poetry projects: name, version, dependency kinds and sources are read; BUMP and PIN write."""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from release_train.core.declared import Dependency, Source, read_declared
from release_train.core.graph import EdgeKind
from release_train.core.poetry import to_pep440
from release_train.core.pyproject import (
    PinPolicy,
    family_sources,
    pin_dependencies,
    read_project,
    requirement_names,
    set_version,
)
from release_train.errors import ErrorCode, ReleaseError

# omnimemory's layout (realfam), trimmed: git dependencies on two family members.
MEMORY = """\
[tool.poetry]
name = "omnimemory"
version = "0.1.0"  # bumped by the release
packages = [{include = "omnimemory", from = "src"}]

[tool.poetry.dependencies]
python = "^3.12"

# HTTP client
httpx = "^0.28.0"
uvicorn = {extras = ["standard"], version = "^0.32.0"}
# ONEX dependencies
omnibase_spi = {git = "https://github.com/OmniNode-ai/omnibase_spi.git", branch = "main"}
omnibase_core = {git = "https://github.com/OmniNode-ai/omnibase_core.git", branch = "main"}  # why
omnibase-infra = { version = "^0.38.0", extras = ["kafka"] }
omniintelligence = { version = "^0.23", optional = true }

[tool.poetry.extras]
intelligence = ["omniintelligence"]

[tool.poetry.group.dev.dependencies]
pytest = "^8.3.4"
omniclaude = "~0.19.1"

[tool.poetry.dev-dependencies]
omnibase-compat = "0.5.6"

[build-system]
requires = ["poetry-core"]
build-backend = "poetry.core.masonry.api"
"""


@pytest.mark.parametrize(
    ("poetry", "pep440"),
    [
        ("^1.2.3", ">=1.2.3,<2"),
        ("^1.2", ">=1.2,<2"),
        ("^0.2.3", ">=0.2.3,<0.3"),
        ("^0.0.3", ">=0.0.3,<0.0.4"),
        ("^0.0", ">=0.0,<0.1"),
        ("^0", ">=0,<1"),
        ("~1.2.3", ">=1.2.3,<1.3"),
        ("~1.2", ">=1.2,<1.3"),
        ("~1", ">=1,<2"),
        ("~=1.2", "~=1.2"),
        ("1.2.3", "==1.2.3"),
        ("1.2.*", "==1.2.*"),
        ("*", ""),
        (">= 1.2, < 1.5", ">=1.2,<1.5"),
        ("==0.48.0", "==0.48.0"),
        ("^1.0 || ^2.0", ""),  # a union has no PEP 440 spelling: "any" is all the graph needs
        ("^banana", ""),
    ],
)
def test_poetry_constraints_translate_to_pep440(poetry: str, pep440: str) -> None:
    assert SpecifierSet(to_pep440(poetry)) == SpecifierSet(pep440)


@given(
    st.lists(st.integers(0, 3), min_size=1, max_size=3),
    st.lists(st.integers(0, 5), min_size=3, max_size=3),
)
@settings(max_examples=300, deadline=None)
def test_caret_admits_exactly_the_versions_that_keep_the_leftmost_nonzero_part(
    given_parts: list[int], candidate: list[int]
) -> None:
    base = ".".join(map(str, given_parts))
    spec = SpecifierSet(to_pep440(f"^{base}"))
    version = Version(".".join(map(str, candidate)))
    padded = [*given_parts, 0, 0][:3]
    # Poetry's rule: the leftmost non-zero given part may not change (the last given if all 0).
    index = next((i for i, p in enumerate(given_parts) if p), len(given_parts) - 1)
    expected = version >= Version(base) and candidate[: index + 1] == padded[: index + 1]
    assert (version in spec) is expected


def test_read_project_reads_poetry_name_version_and_translated_requirements() -> None:
    info = read_project(MEMORY)
    assert (info.name, info.version, info.dynamic_version) == ("omnimemory", "0.1.0", False)
    assert "uvicorn[standard]>=0.32.0,<0.33" in info.dependencies
    assert "omnibase_spi" in info.dependencies  # a git dependency has no version range
    assert "omniclaude>=0.19.1,<0.20" in info.dependencies


def test_poetry_dependencies_have_kinds_and_groups() -> None:
    declared = read_declared(MEMORY)
    kinds = {(d.name, d.kind, d.group) for d in declared.dependencies}
    assert ("omnibase-spi", EdgeKind.REQUIRED, None) in kinds
    assert ("omnibase-infra", EdgeKind.REQUIRED, None) in kinds
    assert ("omniintelligence", EdgeKind.OPTIONAL, "intelligence") in kinds
    assert ("omniclaude", EdgeKind.GROUP, "dev") in kinds
    assert ("omnibase-compat", EdgeKind.GROUP, "dev") in kinds
    assert "python" not in {d.name for d in declared.dependencies}
    assert Dependency("omnibase-core", EdgeKind.REQUIRED, None, "tool.poetry.dependencies") in set(
        declared.dependencies
    )
    assert "omnibase-core" in requirement_names(MEMORY)


def test_poetry_git_dependencies_are_sources() -> None:
    declared = read_declared(MEMORY)
    assert declared.sources == (
        Source("omnibase-core", "git", "tool.poetry.dependencies"),
        Source("omnibase-spi", "git", "tool.poetry.dependencies"),
    )
    text = '[tool.poetry.dependencies]\nomnibase-core = {path = "../core", develop = true}\n'
    assert family_sources(text, ["omnibase_core"]) == {"omnibase-core": "path"}


def test_bump_writes_tool_poetry_version_and_nothing_else() -> None:
    result = set_version(MEMORY, "0.2.0")
    assert result == MEMORY.replace('version = "0.1.0"  #', 'version = "0.2.0"  #')
    assert set_version(result, "0.2.0") == result


def test_bump_writes_poetry_version_when_project_declares_it_dynamic() -> None:
    # Poetry 2: [project] with `dynamic = ["version"]`, the version in [tool.poetry].
    text = '[project]\nname = "x"\ndynamic = ["version"]\n\n[tool.poetry]\nversion = "1.0.0"\n'
    assert set_version(text, "1.1.0") == text.replace('"1.0.0"', '"1.1.0"')


def test_bump_refuses_a_poetry_project_without_a_version() -> None:
    with pytest.raises(ReleaseError) as caught:
        set_version('[tool.poetry]\nname = "x"\n', "1.0.0")
    assert caught.value.code is ErrorCode.BUMP_FAILED


PINS = {"omnibase-infra": "0.39.0", "omniclaude": "0.20.0", "omnibase_compat": "0.6.0"}


def test_pin_rewrites_poetry_versions_keeping_every_other_byte() -> None:
    result = pin_dependencies(MEMORY, PINS, PinPolicy.EXACT)
    expected = (
        MEMORY.replace('{ version = "^0.38.0", extras', '{ version = "==0.39.0", extras')
        .replace('omniclaude = "~0.19.1"', 'omniclaude = "==0.20.0"')
        .replace('omnibase-compat = "0.5.6"', 'omnibase-compat = "==0.6.0"')
    )
    assert result == expected
    assert pin_dependencies(result, PINS, PinPolicy.EXACT) == result


def test_pin_leaves_an_equal_poetry_spelling_alone() -> None:
    # "0.5.6" is Poetry's spelling of ==0.5.6: already pinned, so not respelled.
    assert pin_dependencies(MEMORY, {"omnibase-compat": "0.5.6"}, PinPolicy.EXACT) == MEMORY
    # `~0.19.1` is the same range as `~=0.19.1`, but ranges are compared as spelled in
    # PEP 440 (as for PEP 621 strings), so the pin respells it in the policy's form.
    compatible = pin_dependencies(MEMORY, {"omniclaude": "0.19.1"}, PinPolicy.COMPATIBLE)
    assert compatible == MEMORY.replace('"~0.19.1"', '"~=0.19.1"')


def test_pin_leaves_git_dependencies_alone_unless_sources_are_dropped() -> None:
    pins = {"omnibase-core": "0.47.0", "omnibase-spi": "0.24.0"}
    assert pin_dependencies(MEMORY, pins, PinPolicy.EXACT) == MEMORY
    dropped = pin_dependencies(MEMORY, pins, PinPolicy.FLOOR, drop_sources=True)
    assert dropped == MEMORY.replace(
        'omnibase_spi = {git = "https://github.com/OmniNode-ai/omnibase_spi.git", branch = "main"}',
        'omnibase_spi = ">=0.24.0"',
    ).replace(
        'omnibase_core = {git = "https://github.com/OmniNode-ai/omnibase_core.git", '
        'branch = "main"}  # why',
        'omnibase_core = ">=0.47.0"  # why',
    )
    assert read_declared(dropped).sources == ()


def test_dropping_a_git_source_keeps_the_tables_other_keys() -> None:
    text = (
        "[tool.poetry.dependencies]\n"
        'omnibase-core = {git = "https://x/core.git", rev = "abc", extras = ["spi"]}\n'
    )
    result = pin_dependencies(text, {"omnibase-core": "1.0.0"}, PinPolicy.EXACT, drop_sources=True)
    entry = tomllib.loads(result)["tool"]["poetry"]["dependencies"]["omnibase-core"]
    assert entry == {"extras": ["spi"], "version": "==1.0.0"}


def test_a_poetry_table_without_version_gets_one() -> None:
    text = '[tool.poetry.dependencies]\nomnibase-core = {extras = ["spi"]}\n'
    result = pin_dependencies(text, {"omnibase-core": "1.0.0"}, PinPolicy.COMPATIBLE)
    entry = tomllib.loads(result)["tool"]["poetry"]["dependencies"]["omnibase-core"]
    assert entry == {"extras": ["spi"], "version": "~=1.0.0"}


def test_a_poetry_list_of_constraints_is_left_alone() -> None:
    text = (
        "[tool.poetry.dependencies]\n"
        'omnibase-core = [{version = "^1", python = "<3.12"},\n'
        '                 {version = "^2", python = ">=3.12"}]\n'
    )
    assert pin_dependencies(text, {"omnibase-core": "3.0.0"}, PinPolicy.EXACT) == text


def test_a_malformed_poetry_dependency_table_is_pyproject_invalid() -> None:
    with pytest.raises(ReleaseError) as caught:
        read_declared('[tool.poetry]\ndependencies = "x"\n', source="m/pyproject.toml")
    assert caught.value.code is ErrorCode.PYPROJECT_INVALID
    assert "m/pyproject.toml" in caught.value.message


# --- property: a Poetry pin touches exactly its own lines ------------------------------

_VALUES = st.sampled_from(
    ['"^1.2"', '"~0.3.1"', '"*"', '">=1,<2"', '{version = "^0.1", extras = ["a"]}', '"1.0"']
)


@given(
    st.lists(st.tuples(st.sampled_from(["pkg-a", "pkg_b", "Other", "x"]), _VALUES), max_size=6),
    st.sampled_from(list(PinPolicy)),
)
@settings(max_examples=150, deadline=None)
def test_poetry_pins_change_only_the_pinned_entries(
    entries: list[tuple[str, str]], policy: PinPolicy
) -> None:
    unique = dict(entries)
    lines = [f"{name} = {value}  # {i}" for i, (name, value) in enumerate(unique.items())]
    text = "[tool.poetry.dependencies]\npython = '^3.12'\n" + "\n".join(lines) + "\n"
    result = pin_dependencies(text, {"pkg-a": "2.0.0", "pkg-b": "2.0.0"}, policy)
    before, after = text.splitlines(), result.splitlines()
    assert len(before) == len(after)
    for old, new in zip(before, after, strict=True):
        if old.startswith(("pkg-a ", "pkg_b ")):
            assert new.endswith(old[old.index("  #") :])
            parsed = tomllib.loads(f"v = {new.split(' = ', 1)[1]}")["v"]
            version = parsed if isinstance(parsed, str) else parsed["version"]
            assert Version("2.0.0") in SpecifierSet(to_pep440(version))
        else:
            assert new == old
