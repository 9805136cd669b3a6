"""Tests of reading pyproject.toml and of the byte-preserving version and pin edits."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from release_train.core.declared import Dependency, Override, Source, read_declared
from release_train.core.graph import EdgeKind
from release_train.core.pyproject import (
    PinPolicy,
    ProjectInfo,
    family_sources,
    pin_dependencies,
    pin_specifier,
    read_project,
    requirement_names,
    set_version,
)
from release_train.errors import ErrorCode, ReleaseError

CORE = {"omnibase-core": "1.5.0"}


def original_pin(content: str, pkg_name: str, new_version: str) -> str:
    """The original specification's PIN step (Sub-Step 3), kept to show defect 5."""
    pattern = rf'("{pkg_name})((?:>=|~=|==|<=|!=|>|<)[^"]*)?(")'
    return re.sub(pattern, rf"\g<1>=={new_version}\g<3>", content)


def pin_core(text: str) -> str:
    return pin_dependencies(text, CORE, PinPolicy.EXACT)


# --- defect 5: each of these texts is mangled or missed by the original regex ---------


def test_defect5_extras_are_kept_and_pinned() -> None:
    text = 'dependencies = ["omnibase-core[cli,http]>=1.0"]\n'
    expected = 'dependencies = ["omnibase-core[cli,http]==1.5.0"]\n'
    assert pin_core("[project]\n" + text) == "[project]\n" + expected
    assert original_pin(text, "omnibase-core", "1.5.0") != expected


def test_defect5_markers_are_kept_byte_for_byte() -> None:
    text = "[project]\ndependencies = [\"omnibase-core>=1.0 ; python_version < '3.12'\"]\n"
    expected = "[project]\ndependencies = [\"omnibase-core==1.5.0 ; python_version < '3.12'\"]\n"
    assert pin_core(text) == expected
    assert original_pin(text, "omnibase-core", "1.5.0") != expected


def test_defect5_non_normalised_names_match_by_pep503() -> None:
    text = '[project]\ndependencies = ["Omnibase_Core>=1.0", "omnibase.core"]\n'
    expected = '[project]\ndependencies = ["Omnibase_Core==1.5.0", "omnibase.core==1.5.0"]\n'
    assert pin_dependencies(text, {"OMNIBASE.core": "1.5.0"}, PinPolicy.EXACT) == expected
    assert original_pin(text, "omnibase-core", "1.5.0") != expected


def test_defect5_comments_are_never_edited() -> None:
    text = (
        "[project]\n"
        "dependencies = [\n"
        '    # keep "omnibase-core" first: it provides the models\n'
        '    "omnibase-core>=1.0",  # "omnibase-core>=1.0" until the next train\n'
        "]\n"
    )
    expected = text.replace('    "omnibase-core>=1.0",', '    "omnibase-core==1.5.0",')
    assert pin_core(text) == expected
    assert original_pin(text, "omnibase-core", "1.5.0") != expected


def test_defect5_tool_tables_are_never_edited_but_uv_pins_are() -> None:
    # uv's override/constraint arrays hold pins `uv lock` obeys (issue 11): they are
    # rewritten; any other tool's table that merely names the package is not.
    text = (
        "[project]\n"
        'dependencies = ["omnibase-core>=1.0"]\n'
        "\n"
        "[tool.deptry.per_rule_ignores]\n"
        'DEP002 = ["omnibase-core"]\n'
        "[tool.uv]\n"
        'constraint-dependencies = ["omnibase-core<2"]\n'
    )
    expected = text.replace('["omnibase-core>=1.0"]', '["omnibase-core==1.5.0"]').replace(
        '["omnibase-core<2"]', '["omnibase-core==1.5.0"]'
    )
    assert pin_core(text) == expected
    assert original_pin(text, "omnibase-core", "1.5.0") != expected


def test_defect5_a_name_that_is_a_prefix_of_another_pins_only_itself() -> None:
    # The original regex happens to get this one right; it guards PEP 503 matching.
    text = '[project]\ndependencies = ["omnibase-core-extras>=1", "omnibase-core"]\n'
    expected = '[project]\ndependencies = ["omnibase-core-extras>=1", "omnibase-core==1.5.0"]\n'
    assert pin_core(text) == expected
    longer = pin_dependencies(text, {"omnibase-core-extras": "2.0"}, PinPolicy.FLOOR)
    assert longer == text.replace("extras>=1", "extras>=2.0")


def test_defect5_single_quoted_literal_strings_are_pinned() -> None:
    text = "[project]\ndependencies = ['omnibase-core>=1.0; python_version < \"3.12\"']\n"
    expected = "[project]\ndependencies = ['omnibase-core==1.5.0; python_version < \"3.12\"']\n"
    assert pin_core(text) == expected
    assert original_pin(text, "omnibase-core", "1.5.0") != expected


def test_defect5_whitespace_before_the_specifier_is_kept() -> None:
    text = '[project]\ndependencies = ["omnibase-core >= 1.0, < 2"]\n'
    expected = '[project]\ndependencies = ["omnibase-core ==1.5.0"]\n'
    assert pin_core(text) == expected
    assert original_pin(text, "omnibase-core", "1.5.0") != expected


# --- pin_dependencies: layout, groups, idempotency -----------------------------------

LAYOUT = """\
[project]
name = "omniclaude"
dependencies = [
    "omnibase-core",          # unpinned: gets the pin
    'omnibase-spi (>=0.3)',
    \"\"\"omnibase-core[cli]~=1.4\"\"\",
    "requests>=2",
]

[project.optional-dependencies]
dev = [ "Omnibase-Core[test] ; sys_platform != 'win32'" ]
url = ["omnibase-core @ https://example.com/omnibase_core-1.0-py3-none-any.whl"]

[dependency-groups]
lint = [{ include-group = "dev" }, "omnibase_spi"]
"""


def test_pin_rewrites_only_specifiers_across_all_three_tables() -> None:
    pins = {"omnibase_core": "1.5.0", "Omnibase.SPI": "0.4.0"}
    expected = """\
[project]
name = "omniclaude"
dependencies = [
    "omnibase-core~=1.5.0",          # unpinned: gets the pin
    'omnibase-spi (~=0.4.0)',
    \"\"\"omnibase-core[cli]~=1.5.0\"\"\",
    "requests>=2",
]

[project.optional-dependencies]
dev = [ "Omnibase-Core[test]~=1.5.0 ; sys_platform != 'win32'" ]
url = ["omnibase-core @ https://example.com/omnibase_core-1.0-py3-none-any.whl"]

[dependency-groups]
lint = [{ include-group = "dev" }, "omnibase_spi~=0.4.0"]
"""
    result = pin_dependencies(LAYOUT, pins, PinPolicy.COMPATIBLE)
    assert result == expected
    assert pin_dependencies(result, pins, PinPolicy.COMPATIBLE) == result


def test_pin_is_idempotent_and_keeps_an_equivalent_spelling() -> None:
    text = '[project]\ndependencies = ["omnibase-core == 1.5.0"]\n'
    assert pin_core(text) == text


def test_pin_without_matches_returns_the_text_unchanged() -> None:
    assert pin_dependencies(LAYOUT, {"unrelated": "1.0"}, PinPolicy.EXACT) == LAYOUT


def test_pin_keeps_crlf_and_marker_escapes() -> None:
    text = '[project]\r\ndependencies = [\r\n  "omnibase-core; os_name == \\"nt\\"",\r\n]\r\n'
    expected = text.replace("omnibase-core;", "omnibase-core==1.5.0;")
    assert pin_core(text) == expected


def test_pin_reescapes_a_string_that_escapes_its_name() -> None:
    text = '[project]\ndependencies = ["omnibase\\u002dcore>=1"]  # odd but valid\n'
    expected = '[project]\ndependencies = ["omnibase-core==1.5.0"]  # odd but valid\n'
    assert pin_core(text) == expected


def test_pin_keeps_the_newline_after_a_multiline_opening_quote() -> None:
    text = "[project]\ndependencies = [\"\"\"\nomnibase-core>=1\"\"\", '''\r\nomnibase-core''']\n"
    expected = text.replace("core>=1", "core==1.5.0").replace("core'''", "core==1.5.0'''")
    assert pin_core(text) == expected


def test_pin_rejects_an_invalid_requirement_naming_it() -> None:
    with pytest.raises(ReleaseError) as caught:
        pin_core('[project]\ndependencies = ["omnibase-core >>> 1"]\n')
    assert caught.value.code is ErrorCode.PYPROJECT_INVALID
    assert "project.dependencies" in caught.value.message
    assert "omnibase-core >>> 1" in caught.value.message


@pytest.mark.parametrize(
    ("policy", "version", "expected"),
    [
        (PinPolicy.EXACT, "1.5.0", "==1.5.0"),
        (PinPolicy.COMPATIBLE, "1.5.0", "~=1.5.0"),
        (PinPolicy.FLOOR, "1.5.0rc1", ">=1.5.0rc1"),
        (PinPolicy.COMPATIBLE, "2", "~=2.0"),
    ],
)
def test_pin_specifier(policy: PinPolicy, version: str, expected: str) -> None:
    assert pin_specifier(version, policy) == expected


@pytest.mark.parametrize("version", ["not-a-version", "1.0+local"])
def test_pin_specifier_rejects_what_cannot_be_pinned(version: str) -> None:
    with pytest.raises(ReleaseError) as caught:
        pin_specifier(version, PinPolicy.FLOOR)
    assert caught.value.code is ErrorCode.VERSION_INVALID


# --- read_project, requirement_names, set_version, family_sources --------------------


def test_read_project_collects_every_requirement_table() -> None:
    assert read_project(LAYOUT) == ProjectInfo(
        name="omniclaude",
        version=None,
        dynamic_version=False,
        dependencies=(
            "omnibase-core",
            "omnibase-spi (>=0.3)",
            "omnibase-core[cli]~=1.4",
            "requests>=2",
            "Omnibase-Core[test] ; sys_platform != 'win32'",
            "omnibase-core @ https://example.com/omnibase_core-1.0-py3-none-any.whl",
            "omnibase_spi",
        ),
    )
    assert requirement_names(LAYOUT) == {"omnibase-core", "omnibase-spi", "requests"}


def test_read_project_reports_toml_errors_naming_the_source() -> None:
    with pytest.raises(ReleaseError) as caught:
        read_project("[project\nname = 1", source="omniclaude/pyproject.toml")
    assert caught.value.code is ErrorCode.PYPROJECT_INVALID
    assert caught.value.message.startswith("omniclaude/pyproject.toml: is not valid TOML")


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ('project = "x"\n', "[project] is not a table"),
        ('[project]\ndependencies = "omnibase-core"\n', "project.dependencies is not an array"),
        ("[project]\ndependencies = [1]\n", "project.dependencies holds a non-string entry 1"),
        ("[project]\noptional-dependencies = []\n", "project.optional-dependencies is not a table"),
        ("[project]\nname = 1\n", "project.name is not a string"),
        ('[project]\ndynamic = "version"\n', "project.dynamic is not an array"),
    ],
)
def test_read_project_refuses_malformed_tables(text: str, cause: str) -> None:
    with pytest.raises(ReleaseError) as caught:
        read_project(text, source="a/pyproject.toml")
    assert caught.value.code is ErrorCode.PYPROJECT_INVALID
    assert caught.value.message == f"a/pyproject.toml: {cause}"


def test_read_project_dynamic_version() -> None:
    info = read_project('[project]\nname = "x"\ndynamic = ["version"]\n')
    assert info == ProjectInfo(name="x", version=None, dynamic_version=True, dependencies=())


def test_set_version_changes_only_the_value() -> None:
    text = "[project]\nname = 'x'\nversion   =   '1.4.0'   # bumped by release-train\n"
    expected = "[project]\nname = 'x'\nversion   =   '1.5.0'   # bumped by release-train\n"
    assert set_version(text, "1.5.0") == expected
    assert set_version(expected, "1.5.0") == expected


def test_set_version_in_an_inline_project_table() -> None:
    text = 'project = { name = "x", version = "0.1.0" }\n'
    assert set_version(text, "0.2.0") == 'project = { name = "x", version = "0.2.0" }\n'


def test_set_version_leaves_a_dynamic_version_alone() -> None:
    text = '[project]\nname = "x"\ndynamic = ["version"]\n'
    assert set_version(text, "2.0.0") == text


@pytest.mark.parametrize(
    ("text", "version", "code"),
    [
        ('[project]\nname = "x"\n', "1.0.0", ErrorCode.BUMP_FAILED),
        ('[project]\nversion = "1"\ndynamic = ["version"]\n', "2", ErrorCode.PYPROJECT_INVALID),
        ("[project]\nversion = 1\n", "2", ErrorCode.PYPROJECT_INVALID),
        ('[project]\nversion = "1"\n', "two", ErrorCode.VERSION_INVALID),
    ],
)
def test_set_version_refuses(text: str, version: str, code: ErrorCode) -> None:
    with pytest.raises(ReleaseError) as caught:
        set_version(text, version)
    assert caught.value.code is code


def test_family_sources_names_unreleasable_member_sources() -> None:
    text = """\
[tool.uv.sources]
Omnibase_Core = { path = "../omnibase_core", editable = true }
omnibase-spi = { git = "https://github.com/o/omnibase_spi", tag = "v1" }
omniintelligence = [{ index = "internal", marker = "sys_platform == 'linux'" },
                    { url = "https://example.com/x.whl", marker = "sys_platform != 'linux'" }]
omnimemory = { workspace = true }
omniclaude = { index = "internal" }
requests = { path = "../requests" }
"""
    members = ["omnibase_core", "omnibase-spi", "omniintelligence", "omnimemory", "omniclaude"]
    assert family_sources(text, members) == {
        "omnibase-core": "path",
        "omnibase-spi": "git",
        "omniintelligence": "url",
        "omnimemory": "workspace",
    }
    assert family_sources('[project]\nname = "x"\n', members) == {}


# --- kinds, sources and uv pins (issue 11) ---------------------------------------------

# omnibase_infra's and omniclaude's layout (realfam), trimmed.
INFRA = """\
[project]
name = "omnibase_infra"
dependencies = [
    "omnibase-core==0.46.8",
    "omnibase-spi==0.23.1",
    "omnibase-compat==0.5.6",
]

[dependency-groups]
dev = ["onex-change-control>=0.1.0"]

[tool.uv]
dev-dependencies = ["omniclaude>=0.1"]
# uv resolves the overrides instead of the dependencies above
override-dependencies = [
    "omnibase-core==0.46.8",
    "omnibase-spi==0.23.1",  # keep
]
constraint-dependencies = ["omnibase_spi<1"]

[tool.uv.sources]
onex-change-control = { git = "https://github.com/OmniNode-ai/occ.git", rev = "2dd2" }
omnibase-core = { git = "https://github.com/OmniNode-ai/omnibase_core.git", rev = "a256" }  # dev

[tool.hatch.build.targets.wheel]
packages = ["src/omnibase_infra"]
"""
INFRA_PINS = {"omnibase-core": "0.47.0", "omnibase-spi": "0.24.0"}


def test_read_declared_gives_each_dependency_its_kind_and_group() -> None:
    found = {(d.name, d.kind, d.group) for d in read_declared(LAYOUT).dependencies}
    assert found == {
        ("omnibase-core", EdgeKind.REQUIRED, None),
        ("omnibase-spi", EdgeKind.REQUIRED, None),
        ("requests", EdgeKind.REQUIRED, None),
        ("omnibase-core", EdgeKind.OPTIONAL, "dev"),
        ("omnibase-core", EdgeKind.OPTIONAL, "url"),
        ("omnibase-spi", EdgeKind.GROUP, "lint"),
    }
    infra = read_declared(INFRA)
    assert Dependency("omniclaude", EdgeKind.GROUP, "dev", "tool.uv.dev-dependencies") in set(
        infra.dependencies
    )


def test_uv_overrides_and_constraints_are_listed_not_dependencies() -> None:
    declared = read_declared(INFRA)
    assert declared.overrides == (
        Override("omnibase-core", "omnibase-core==0.46.8", "tool.uv.override-dependencies"),
        Override("omnibase-spi", "omnibase-spi==0.23.1", "tool.uv.override-dependencies"),
        Override("omnibase-spi", "omnibase_spi<1", "tool.uv.constraint-dependencies"),
    )
    assert {d.where for d in declared.dependencies}.isdisjoint(
        {"tool.uv.override-dependencies", "tool.uv.constraint-dependencies"}
    )


def test_sources_come_from_uv_sources_and_direct_references() -> None:
    assert read_declared(INFRA).sources == (
        Source("omnibase-core", "git", "tool.uv.sources"),
        Source("onex-change-control", "git", "tool.uv.sources"),
    )
    text = (
        "[project]\ndependencies = [\n"
        '  "omnibase-core @ git+https://github.com/o/omnibase_core@v1",\n'
        '  "omnibase-spi @ file:///src/spi",\n'
        '  "omniclaude @ https://example.com/omniclaude-1.0.whl",\n]\n'
    )
    assert read_declared(text).sources == (
        Source("omnibase-core", "git", "project.dependencies"),
        Source("omnibase-spi", "path", "project.dependencies"),
        Source("omniclaude", "url", "project.dependencies"),
    )


def test_pin_rewrites_uv_overrides_and_constraints_with_the_same_policy() -> None:
    result = pin_dependencies(INFRA, INFRA_PINS, PinPolicy.EXACT)
    expected = (
        INFRA.replace('"omnibase-core==0.46.8"', '"omnibase-core==0.47.0"')
        .replace('"omnibase-spi==0.23.1"', '"omnibase-spi==0.24.0"')
        .replace('"omnibase_spi<1"', '"omnibase_spi==0.24.0"')
    )
    assert result == expected  # the git source stays: family_sources = "refuse" stops earlier
    assert pin_dependencies(result, INFRA_PINS, PinPolicy.EXACT) == result


def test_pin_with_drop_sources_removes_the_members_uv_source_entry() -> None:
    result = pin_dependencies(INFRA, INFRA_PINS, PinPolicy.EXACT, drop_sources=True)
    source_line = next(line for line in INFRA.splitlines() if line.startswith("omnibase-core = {"))
    assert source_line not in result
    assert "onex-change-control = { git" in result  # not a family member: not ours
    assert read_declared(result).sources == (
        Source("onex-change-control", "git", "tool.uv.sources"),
    )
    without = INFRA.replace(source_line + "\n", "")
    assert result == pin_dependencies(without, INFRA_PINS, PinPolicy.EXACT)


def test_pin_with_drop_sources_turns_a_direct_reference_into_a_pin() -> None:
    text = (
        "[project]\ndependencies = [\n"
        "  \"omnibase-core[spi] @ git+https://github.com/o/core@v1 ; python_version >= '3.12'\",\n"
        '  "omnibase-spi@file:///src/spi",\n]\n'
    )
    pins = {"omnibase-core": "0.47.0", "omnibase-spi": "0.24.0"}
    assert pin_dependencies(text, pins, PinPolicy.EXACT) == text
    result = pin_dependencies(text, pins, PinPolicy.COMPATIBLE, drop_sources=True)
    assert result == (
        "[project]\ndependencies = [\n"
        "  \"omnibase-core[spi]~=0.47.0 ; python_version >= '3.12'\",\n"
        '  "omnibase-spi~=0.24.0",\n]\n'
    )


# --- properties -----------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One generated requirement line; `raw` is its TOML text, `matches` if it is pinned."""

    name: str
    extras: str
    ws: str
    spec: str
    marker: str
    quote: str
    comment: str
    matches: bool

    def line(self, pin: str | None = None) -> str:
        """The line as generated, or as pinning it with `pin` must leave it."""
        middle = self.ws + self.spec
        if pin is not None and self.matches:
            pin = f"({pin})" if self.spec.startswith("(") else pin
            middle = self.ws + pin if self.spec else pin + self.ws
        body = f"{self.name}{self.extras}{middle}{self.marker}"
        return f"    {self.quote}{body}{self.quote},{self.comment}"


FAMILY = ("omnibase-core", "omnibase-spi")
BASES = (*FAMILY, "omnibase-core-extras", "requests")


@st.composite
def spellings(draw: st.DrawFn, base: str) -> str:
    parts = base.split("-")
    seps = draw(st.lists(st.sampled_from("-_."), min_size=len(parts) - 1, max_size=len(parts) - 1))
    name = parts[0] + "".join(sep + part for sep, part in zip(seps, parts[1:], strict=True))
    upper = draw(st.lists(st.booleans(), min_size=len(name), max_size=len(name)))
    return "".join(c.upper() if up else c for c, up in zip(name, upper, strict=True))


@st.composite
def entries(draw: st.DrawFn) -> Entry:
    base = draw(st.sampled_from(BASES))
    quote = draw(st.sampled_from(['"', "'", '"""']))
    inner = "'" if quote in {'"', '"""'} else '"'
    markers = ["", f" ; python_version < {inner}3.12{inner}", f";sys_platform!={inner}win32{inner}"]
    if quote == '"':
        markers.append(' ; os_name == \\"nt\\"')
    return Entry(
        name=draw(spellings(base)),
        extras=draw(st.sampled_from(["", "[cli]", "[a,b]", " [ a , b ]"])),
        ws=draw(st.sampled_from(["", " ", "  "])),
        spec=draw(
            st.sampled_from(["", ">=1.0", "==1.5.0", "~=1.4", ">=1,<2", ">= 1.0 , < 2", "(>=1)"])
        ),
        marker=draw(st.sampled_from(markers)),
        quote=quote,
        comment=draw(st.sampled_from(["", "  # omnibase-core>=1.0", ' # "omnibase-spi"'])),
        matches=base in FAMILY,
    )


HEADS = (
    "[project]\ndependencies = [",
    "[project.optional-dependencies]\ndev = [",
    '[dependency-groups]\nci = [{ include-group = "x" },',
)


def render(groups: list[list[Entry]], pin: str | None = None) -> str:
    """The generated pyproject, or the one pinning it with `pin` must produce."""
    lines: list[str] = []
    for head, group in zip(HEADS, groups, strict=True):
        lines.extend(head.split("\n"))
        lines.extend(entry.line(pin) for entry in group)
        lines.append("]")
    lines += ["[tool.deptry]", 'known_first_party = ["omnibase-core", "omnibase_spi>=1"]', ""]
    return "\n".join(lines)


@settings(max_examples=150, deadline=None)
@given(
    groups=st.lists(st.lists(entries(), max_size=5), min_size=3, max_size=3),
    keys=st.tuples(spellings("omnibase-core"), spellings("omnibase-spi")),
    policy=st.sampled_from(list(PinPolicy)),
)
def test_pin_properties(
    groups: list[list[Entry]], keys: tuple[str, str], policy: PinPolicy
) -> None:
    text = render(groups)
    pins = dict.fromkeys(keys, "1.5.0")
    result = pin_dependencies(text, pins, policy)
    spec = pin_specifier("1.5.0", policy)
    # (a) it parses; (c) every line is exactly what it was, or the same with the new pin.
    tomllib.loads(result)
    assert result == render(groups, spec)
    # (b) every matching requirement now carries exactly the pin and nothing else changed.
    before = read_project(text).dependencies
    for old, new in zip(before, read_project(result).dependencies, strict=True):
        old_req, new_req = Requirement(old), Requirement(new)
        assert (new_req.name, new_req.extras, new_req.marker) == (
            old_req.name,
            old_req.extras,
            old_req.marker,
        )
        if canonicalize_name(new_req.name) in FAMILY:
            assert str(new_req.specifier) == spec
        elif old != new:
            pytest.fail(f"non-family requirement changed: {old!r} -> {new!r}")
    # (d) pinning twice is pinning once.
    assert pin_dependencies(result, pins, policy) == result


@settings(max_examples=100, deadline=None)
@given(
    quote=st.sampled_from(['"', "'"]),
    old=st.sampled_from(["0.1.0", "1.4.0rc1", "2.0"]),
    new=st.sampled_from(["0.2.0", "1.5.0", "2.0.1.post1"]),
    spacing=st.sampled_from([" = ", "=", "   =  "]),
    comment=st.sampled_from(["", "  # version", ' # "0.1.0"']),
)
def test_set_version_property(quote: str, old: str, new: str, spacing: str, comment: str) -> None:
    head = f"[project]\nname = {quote}x{quote}\n"
    tail = "\n[tool.x]\nversion = '0.1.0'\n"
    text = f"{head}version{spacing}{quote}{old}{quote}{comment}{tail}"
    result = set_version(text, new)
    assert result == f"{head}version{spacing}{quote}{new}{quote}{comment}{tail}"
    assert tomllib.loads(result)["project"]["version"] == new


def test_pin_refuses_conflicting_spellings() -> None:
    with pytest.raises(ReleaseError) as caught:
        pin_dependencies(
            LAYOUT, {"omnibase_core": "1.5.0", "Omnibase-Core": "1.6.0"}, PinPolicy.EXACT
        )
    assert caught.value.code is ErrorCode.PIN_FAILED
    assert caught.value.message == "two spellings of omnibase-core are pinned to different versions"
