"""The configuration model (`release-train.toml` or `[tool.release-train]`) and its loader."""

from __future__ import annotations

import os
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Any, get_args, get_origin
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from release_train.core import changelog
from release_train.core.pyproject import PinPolicy
from release_train.core.spelling import did_you_mean, suggestions
from release_train.core.versions import Prerelease
from release_train.errors import ErrorCode, ReleaseError

CONFIG_FILE = "release-train.toml"
DEFAULT_TAG_FORMAT = "{repo}/v{version}"
_PLACEHOLDERS = ("{repo}", "{package}", "{version}")
INIT_HINT = "run `release-train init --workspace DIR` to write one, or pass --config"


class FailurePolicy(StrEnum):
    FAIL_FAST = "fail-fast"  # the specification's: block the rest of the tier and later tiers
    KEEP_GOING = "keep-going"  # block only the failed repo's dependents


class GateKind(StrEnum):
    ENVIRONMENT = "environment"
    SLACK = "slack"
    ATTESTATION = "attestation"


class PublishMode(StrEnum):
    TAG = "tag"  # the repo's release workflow runs on the tag push
    DISPATCH = "dispatch"  # release-train dispatches the repo's release workflow
    NONE = "none"  # nothing publishes; the index is not waited for


class PythonDownloads(StrEnum):
    """uv's `UV_PYTHON_DOWNLOADS`, for the Python LOCK locks with."""

    AUTOMATIC = "automatic"  # uv downloads a Python that requires-python asks for
    MANUAL = "manual"  # only Pythons already installed with `uv python install`
    NEVER = "never"


class FamilySources(StrEnum):
    REFUSE = "refuse"  # a family member from git, a path or a URL is a preflight error
    DROP = "drop"  # PIN removes that source and pins the released version instead


class StoreKind(StrEnum):
    LOCAL = "local"
    BRANCH = "branch"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_template(template: str) -> str:
    if "{version}" not in template:
        raise ValueError(f"tag template {template!r} must contain {{version}}")
    probe = template
    for placeholder in _PLACEHOLDERS:
        probe = probe.replace(placeholder, "")
    if "{" in probe or "}" in probe:
        raise ValueError(
            f"tag template {template!r} may only use {', '.join(_PLACEHOLDERS)} as placeholders"
        )
    return template


class RepoConfig(_Model):
    """One repository of the family."""

    package: str | None = Field(
        None, description="Distribution name; default: project.name of its pyproject."
    )
    pyproject: str = Field("pyproject.toml", description="Path of the pyproject in the repo.")
    version_files: tuple[str, ...] = Field(
        (), description="Other files holding the version string, rewritten by BUMP."
    )
    tag_format: str | None = Field(None, description="Overrides the family's tag_format.")
    branch: str | None = Field(
        None, description="Overrides the family's branch (e.g. dev where others release main)."
    )
    depends_on: tuple[str, ...] | None = Field(
        None, description="Expected upstream repos, checked against the derived graph."
    )
    publish: PublishMode = Field(
        PublishMode.TAG, description="How this repo's release is published."
    )
    release_workflow: str = Field(
        "release.yml", description="The repo's publish workflow (for dispatch mode and detection)."
    )
    changelog: str = Field("CHANGELOG.md", description="The changelog the release prepends to.")
    allow_no_checks: bool | None = Field(
        None, description="Overrides the family's allow_no_checks for this repo."
    )

    @field_validator("tag_format")
    @classmethod
    def _check_tag(cls, value: str | None) -> str | None:
        return value if value is None else _check_template(value)


class ChangelogSection(_Model):
    """One entry of `changelog_sections`, as release-please's `changelog-sections`."""

    type: str = Field(..., min_length=1, description="A Conventional Commits type: feat, fix, ...")
    section: str | None = Field(None, description="The heading its commits are listed under.")
    hidden: bool = Field(False, description="Leave commits of this type out of the changelog.")

    @model_validator(mode="after")
    def _named_unless_hidden(self) -> ChangelogSection:
        if not self.hidden and not (self.section or "").strip():
            raise ValueError(f"changelog section of type {self.type!r} needs a section name")
        return self


class SlackConfig(_Model):
    channel: str | None = Field(None, description="Channel id (C…) for the gate and summary.")
    approvers: tuple[str, ...] = Field((), description="Slack user ids (U…) allowed to approve.")
    gate_timeout_minutes: int = Field(300, ge=1, le=340, description="Bounded below a job's 6 h.")


class StateConfig(_Model):
    store: StoreKind = Field(
        StoreKind.LOCAL,
        description="local: files in $RELEASE_TRAIN_STATE_DIR; branch: a branch of `repo`.",
    )
    repo: str | None = Field(None, description="The central repo holding the state branch.")
    branch: str = Field("release-train-state", description="The branch states are kept on.")

    @model_validator(mode="after")
    def _branch_needs_repo(self) -> StateConfig:
        if self.store is StoreKind.BRANCH and not self.repo:
            raise ValueError('state.store = "branch" needs state.repo (the central repo)')
        return self


class Config(_Model):
    """The whole configuration; every field has a documented default but `owner` and `repos`."""

    owner: str = Field(..., min_length=1, description="GitHub organisation or user of the repos.")
    repos: dict[str, RepoConfig] = Field(..., min_length=1, description="The family, by repo name.")
    tag_format: str = Field(DEFAULT_TAG_FORMAT, description="Template of the release tags.")
    legacy_tag_patterns: tuple[str, ...] = Field(
        (), description="Older tag templates, used only to find the last release."
    )
    tiers: tuple[tuple[str, ...], ...] | None = Field(
        None, description="Expected tiers (lists of repos), checked against the derived graph."
    )
    zero_major: bool = Field(True, description="While major is 0, a breaking change bumps minor.")
    pin_policy: PinPolicy = Field(PinPolicy.EXACT, description="How same-run upstreams are pinned.")
    family_sources: FamilySources = Field(
        FamilySources.REFUSE,
        description="A family member taken from git, a path or a URL ([tool.uv.sources], "
        "Poetry git/path deps, `pkg @ URL`): refuse (a preflight error) or drop (PIN removes "
        "that source and pins the released version).",
    )
    cascade: bool = Field(
        True,
        description="Release (patch) a repo with no commits when a same-run upstream is released.",
    )
    prerelease: Prerelease | None = Field(None, description="a, b or rc: make pre-releases.")
    branch: str = Field("main", description="The branch releases are cut from and merged into.")
    failure_policy: FailurePolicy = Field(
        FailurePolicy.FAIL_FAST,
        description="fail-fast: block the rest of the tier and later tiers; keep-going: "
        "block only dependents.",
    )
    max_parallel: int = Field(
        1,
        ge=1,
        le=16,
        description="1: the specification's strict order; N: repos whose upstreams are done.",
    )
    gate: GateKind = Field(GateKind.ENVIRONMENT, description="How a release is approved.")
    index_url: str = Field("https://pypi.org/simple/", description="Simple API of the index.")
    python_downloads: PythonDownloads = Field(
        PythonDownloads.AUTOMATIC,
        description="uv's UV_PYTHON_DOWNLOADS at LOCK: automatic lets uv fetch the Python a "
        "repo's requires-python asks for; never and manual make a missing one a plan error.",
    )
    slack: SlackConfig = Field(default_factory=SlackConfig, description="Slack gate and summary.")
    state: StateConfig = Field(default_factory=StateConfig, description="Where run states live.")
    bot_name: str = Field("release-train[bot]", description="Author of the release commits.")
    bot_email: str = Field(
        "release-train@users.noreply.github.com", description="Its e-mail address."
    )
    ci_timeout_minutes: int = Field(
        60, ge=1, le=340, description="How long MERGE waits for a PR's checks."
    )
    checks_grace_seconds: int = Field(
        60,
        ge=0,
        le=3600,
        description="Where no required checks can be read (branch protection, rulesets), how "
        "long MERGE gives checks to register before it trusts the ones it sees.",
    )
    allow_no_checks: bool = Field(
        False,
        description="Merge a PR on which no check at all reported within the grace period "
        "(a repo without CI); otherwise MERGE refuses with NO_CHECKS.",
    )
    publish_start_timeout_seconds: int = Field(
        120, ge=1, description="How long PUBLISH waits for the release workflow run to appear."
    )
    index_timeout_minutes: int = Field(
        10, ge=0, description="How long to wait for a release to be installable (the spec's 10)."
    )
    github_release: bool = Field(
        False, description="Also create a GitHub Release with the changelog entry."
    )
    family_release: bool = Field(
        False,
        description="Once every repo of a run is released, publish the family's release note "
        "as a GitHub Release (tag train/<run id>, at the default branch) in the central repo.",
    )
    family_release_repo: str | None = Field(
        None,
        description="The central repo (owner/name, or a name under owner) for family_release; "
        "default: the repo running the Action (GITHUB_REPOSITORY), else [state] repo.",
    )
    lint_skip: tuple[str, ...] = Field(
        (),
        description="pre-commit hook ids LINT skips (pre-commit's SKIP; their repositories "
        "are not fetched either); the run warns which hooks it skipped.",
    )
    changelog_style: changelog.Style = Field(
        changelog.Style.CONVENTIONAL,
        description="conventional: release-please's entries (a heading linked to the compare "
        "view, scopes in bold, commit and PR links); spec: the specification's plain entries.",
    )
    changelog_sections: tuple[ChangelogSection, ...] | None = Field(
        None,
        description="The conventional style's sections, in order, e.g. "
        '[{type = "feat", section = "Features"}, {type = "chore", hidden = true}]; types not '
        "listed are left out. Default: release-please's (feat, fix, perf, deps, revert, docs; "
        "style, chore, refactor, test, build, ci hidden).",
    )
    server_url: str | None = Field(
        None,
        description="GitHub's web address for changelog links; default: $GITHUB_SERVER_URL, "
        "else https://github.com.",
    )

    @field_validator("tag_format")
    @classmethod
    def _check_tag(cls, value: str) -> str:
        return _check_template(value)

    @field_validator("legacy_tag_patterns")
    @classmethod
    def _check_legacy(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_template(v) for v in value)

    @field_validator("prerelease", mode="before")
    @classmethod
    def _none_prerelease(cls, value: Any) -> Any:
        return None if value in ("none", "") else value

    @model_validator(mode="after")
    def _check_names(self) -> Config:
        names = set(self.repos)
        for repo, conf in self.repos.items():
            unknown = sorted(set(conf.depends_on or ()) - names)
            if unknown:
                raise ValueError(
                    f"repos.{repo}.depends_on names unknown repos: {suggestions(unknown, names)}"
                )
        for tier in self.tiers or ():
            unknown = sorted(set(tier) - names)
            if unknown:
                raise ValueError(f"tiers name unknown repos: {suggestions(unknown, names)}")
        if self.checks_grace_seconds >= self.ci_timeout_minutes * 60:
            raise ValueError("checks_grace_seconds must be shorter than ci_timeout_minutes")
        return self

    def allows_no_checks(self, repo: str) -> bool:
        found = self.repos[repo].allow_no_checks
        return self.allow_no_checks if found is None else found

    def tag_template(self, repo: str) -> str:
        return self.repos[repo].tag_format or self.tag_format

    def changelog_format(self, repo: str, server_url: str) -> changelog.Format:
        """How `repo`'s entries are written, linking to `server_url` unless the config names one."""
        sections = changelog.DEFAULT_SECTIONS
        if self.changelog_sections is not None:
            sections = tuple(
                changelog.Section(s.type.lower(), s.section or "", s.hidden)
                for s in self.changelog_sections
            )
        server = (self.server_url or server_url).rstrip("/")
        url = f"{server}/{quote(self.owner)}/{quote(repo)}"
        return changelog.Format(self.changelog_style, sections, url)

    def branch_of(self, repo: str) -> str:
        """The branch `repo`'s releases are cut from and merged into."""
        return self.repos[repo].branch or self.branch


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def _nested(annotation: Any) -> tuple[type[BaseModel], bool] | None:
    """The model a field holds, and whether by name in a table (`repos.<name>`)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    args = get_args(annotation)
    if get_origin(annotation) is dict and len(args) == 2:
        found = _nested(args[1])
        return (found[0], True) if found else None
    return next((found for arg in args if (found := _nested(arg)) is not None), None)


def _keys_at(loc: tuple[int | str, ...]) -> list[str]:
    """The keys allowed in the table that `loc` (a path to a key in it) points into."""
    model: type[BaseModel] = Config
    parts = list(loc[:-1])
    while parts:
        field = model.model_fields.get(str(parts.pop(0)))
        found = _nested(field.annotation) if field is not None else None
        if found is None:
            return []
        model, by_name = found
        if by_name and parts:
            parts.pop(0)  # the repo's name
    return sorted(model.model_fields)


def _message(error: ErrorDetails) -> str:
    if error["type"] == "extra_forbidden":
        key = str(error["loc"][-1])
        return f"unknown key{did_you_mean(key, _keys_at(error['loc']))}"
    return error["msg"]


def parse_config(data: dict[str, Any], source: str) -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ReleaseError(
            ErrorCode.CONFIG_INVALID,
            f"{source}: {_location(first['loc'])}: {_message(first)}{more}",
            hint="see docs/configuration.md for every key and its default",
        ) from exc


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ReleaseError(
            ErrorCode.CONFIG_INVALID, f"{path}: not valid TOML: {exc}", hint="fix the syntax"
        ) from exc
    except OSError as exc:
        raise ReleaseError(
            ErrorCode.CONFIG_NOT_FOUND, f"{path}: cannot be read: {exc.strerror}", hint=INIT_HINT
        ) from exc


def load_config(path: Path | None = None, cwd: Path | None = None) -> tuple[Config, Path]:
    """The config from `path`, else `release-train.toml` or `[tool.release-train]` in `cwd`."""
    if path is not None:
        data = _read_toml(path)
        if path.name == "pyproject.toml":
            data = data.get("tool", {}).get("release-train", {})
        return parse_config(data, str(path)), path
    cwd = cwd or Path(os.getcwd())
    candidate = cwd / CONFIG_FILE
    if candidate.is_file():
        return parse_config(_read_toml(candidate), str(candidate)), candidate
    pyproject = cwd / "pyproject.toml"
    if pyproject.is_file():
        section = _read_toml(pyproject).get("tool", {}).get("release-train")
        if section is not None:
            return parse_config(section, f"{pyproject} [tool.release-train]"), pyproject
    raise ReleaseError(
        ErrorCode.CONFIG_NOT_FOUND,
        f"no {CONFIG_FILE} or [tool.release-train] in {cwd}",
        hint=INIT_HINT,
    )
