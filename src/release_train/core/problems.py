"""Preflight problems: everything that would stop a release, found before anyone approves it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from release_train.errors import ErrorCode, ReleaseError


class Severity(StrEnum):
    ERROR = "error"  # the release cannot start: `plan` exits non-zero, `release` refuses
    WARNING = "warning"  # the release can start; the plan says what it will not do


@dataclass(frozen=True)
class Problem:
    """One finding of the preflight, as the plan's text, Markdown and JSON list it."""

    repo: str | None  # None: a family-wide problem (the config, the owner)
    code: ErrorCode
    severity: Severity
    message: str
    hint: str | None = None

    def as_json(self) -> dict[str, str | None]:
        return {
            "repo": self.repo,
            "code": str(self.code),
            "severity": str(self.severity),
            "message": self.message,
            "hint": self.hint,
        }

    @classmethod
    def from_error(cls, error: ReleaseError, repo: str | None = None) -> Problem:
        """An expected failure met while checking, kept as an error-level problem."""
        return cls(error.repo or repo, error.code, Severity.ERROR, error.message, error.hint)


def sort_problems(problems: Iterable[Problem]) -> tuple[Problem, ...]:
    """Errors first, then by repo (family-wide first) and code: the same plan, the same bytes."""
    return tuple(
        sorted(
            set(problems),
            key=lambda p: (p.severity is not Severity.ERROR, p.repo or "", p.code, p.message),
        )
    )


def errors(problems: Sequence[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity is Severity.ERROR]


def preflight_failed(problems: Sequence[Problem]) -> ReleaseError:
    """`PREFLIGHT_FAILED` listing every error, for `release` to refuse before any state exists."""
    found = errors(problems)
    lines = [f"{p.repo or '(family)'}: [{p.code}] {p.message}" for p in found]
    return ReleaseError(
        ErrorCode.PREFLIGHT_FAILED,
        f"{len(found)} problem(s) would stop this release",
        hint="fix each one (`release-train plan` lists them with hints); nothing was started",
        output="\n".join(lines),
    )
