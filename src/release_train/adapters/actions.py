"""The GitHub Actions runtime: step summary, outputs, masks, annotations and log groups."""

from __future__ import annotations

import re
import sys
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from release_train.console import (
    ConsoleProgress,
    due,
    note_line,
    step_line,
    wait_status_line,
    waiting_line,
    warning_line,
)
from release_train.context import Progress, WaitStatus
from release_train.core.state import PHASES, RepoStatus, RunState
from release_train.errors import BUG_HINT, ErrorCode, ReleaseError

# GitHub rejects a step summary above 1 MiB (the toolkit's SUMMARY_MAX_SIZE).
SUMMARY_LIMIT = 1024 * 1024
# What the runner accepts as an output name (the same rule as an input or step id).
_OUTPUT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
# The runner reads a line as a command when, trimmed, it starts like one of these.
_COMMAND_START = ("::", "##[")


def escape_data(text: str) -> str:
    """A command's message, as the toolkit's `escapeData` writes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A command's property value, as the toolkit's `escapeProperty` writes it."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str = "", properties: Mapping[str, str] | None = None) -> str:
    """`::name key=value,...::message`, every part escaped; properties in sorted order."""
    props = ",".join(
        f"{key}={escape_property(value)}" for key, value in sorted((properties or {}).items())
    )
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def plain(text: str) -> str:
    """One log line that the runner cannot mistake for a workflow command.

    Progress lines carry text from commits and CI checks; a line starting with `::`
    would be executed by the runner (`::add-mask::`, `::stop-commands::`...).
    """
    line = " ".join(text.replace("\r", "\n").split("\n"))
    return "> " + line if line.lstrip().startswith(_COMMAND_START) else line


def truncate_summary(markdown: str, room: int) -> str:
    """`markdown` cut at a line boundary to fit `room` UTF-8 bytes, with a note saying so."""
    data = markdown.encode("utf-8")
    if len(data) <= room:
        return markdown
    note = (
        f"\n\n> **Summary truncated**: {len(data)} bytes exceed GitHub's 1 MiB step summary "
        "limit; the full text is in the run's result file.\n"
    )
    budget = room - len(note.encode("utf-8"))
    if budget <= 0:
        return ""
    kept = data[:budget]
    cut = kept.rfind(b"\n")
    kept = kept[: cut + 1] if cut >= 0 else b""
    return kept.decode("utf-8", errors="ignore") + note


@dataclass
class ActionsRuntime:
    """Writes workflow commands to `stream` (the job log) and appends to the runner's files."""

    stream: TextIO
    summary_path: Path | None = None
    output_path: Path | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_env(
        cls, env: Mapping[str, str], stream: TextIO | None = None
    ) -> ActionsRuntime | None:
        """The runtime of the current job, or None outside GitHub Actions."""
        if env.get("GITHUB_ACTIONS") != "true":
            return None
        summary, output = env.get("GITHUB_STEP_SUMMARY"), env.get("GITHUB_OUTPUT")
        return cls(
            stream=stream if stream is not None else sys.stdout,
            summary_path=Path(summary) if summary else None,
            output_path=Path(output) if output else None,
        )

    def write(self, *lines: str) -> None:
        """Lines to the log as one block, so threads never interleave inside it."""
        with self._lock:
            self.stream.write("".join(line + "\n" for line in lines))
            self.stream.flush()

    def issue(self, name: str, message: str = "", **properties: str) -> None:
        self.write(command(name, message, properties))

    # -- files ----------------------------------------------------------------------

    def summary(self, markdown: str) -> None:
        """Append `markdown` to the step summary, cut to what is left of the 1 MiB."""
        path = self._file(self.summary_path, "GITHUB_STEP_SUMMARY")
        with self._lock:
            used = path.stat().st_size if path.exists() else 0
            text = truncate_summary(markdown, SUMMARY_LIMIT - used)
            with path.open("a", encoding="utf-8") as out:
                out.write(text)
        if text != markdown:
            self.warning("the step summary was truncated to GitHub's 1 MiB limit")

    def outputs(self, values: Mapping[str, str]) -> None:
        """Set step outputs with the runner's heredoc syntax, safe for multi-line values."""
        path = self._file(self.output_path, "GITHUB_OUTPUT")
        blocks = []
        for name, value in sorted(values.items()):
            if not _OUTPUT_NAME.fullmatch(name):
                raise ReleaseError(
                    ErrorCode.INTERNAL, f"invalid output name {name!r}", hint=BUG_HINT
                )
            delimiter = f"ghadelimiter_{uuid.uuid4()}"
            if delimiter in value:
                raise ReleaseError(
                    ErrorCode.INTERNAL, f"output {name} contains its own delimiter", hint=BUG_HINT
                )
            blocks.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
        with self._lock, path.open("a", encoding="utf-8") as out:
            out.write("".join(blocks))

    def _file(self, path: Path | None, variable: str) -> Path:
        if path is None:
            raise ReleaseError(
                ErrorCode.USAGE,
                f"${variable} is not set",
                hint="this runs inside a GitHub Actions job step, which sets it",
            )
        return path

    # -- log commands ---------------------------------------------------------------

    def mask(self, secret: str) -> None:
        """Mask every line of `secret` in the rest of the job's log."""
        lines = [line for line in secret.replace("\r", "\n").split("\n") if line.strip()]
        self.write(*(command("add-mask", line) for line in lines))

    def error(self, message: str, *, title: str | None = None) -> None:
        self._annotate("error", message, title)

    def warning(self, message: str, *, title: str | None = None) -> None:
        self._annotate("warning", message, title)

    def notice(self, message: str, *, title: str | None = None) -> None:
        self._annotate("notice", message, title)

    def _annotate(self, kind: str, message: str, title: str | None) -> None:
        self.write(command(kind, message, {"title": title} if title else None))

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        """A collapsible log group; groups do not nest in the Actions log."""
        self.write(command("group", title))
        try:
            yield
        finally:
            self.write(command("endgroup"))


def next_phase(phase: str) -> str:
    """The phase the step after `phase` records (what a repo is working towards)."""
    index = PHASES.index(phase) if phase in PHASES else 0
    return PHASES[min(index + 1, len(PHASES) - 1)]


@dataclass
class ActionsProgress:
    """`Progress` for an Actions job: one log group per repo and step, annotations for trouble.

    The engine may release repos in parallel threads; one lock serialises every write and
    the single open group, so groups never nest or interleave: output from another repo
    (or step) closes the open group first and opens its own.
    """

    runtime: ActionsRuntime
    _phases: dict[str, str] = field(default_factory=dict)  # repo -> last phase seen
    _open: tuple[str, str] | None = None  # (repo, phase) of the open group
    _logged: dict[str, float] = field(default_factory=dict)  # repo -> wait's last status line
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def expect(self, state: RunState) -> None:
        """Learn where each repo stands, so a resumed repo's first group has the right title."""
        with self._lock:
            self._phases.update({name: repo.phase for name, repo in state.repos.items()})

    def step(self, repo: str, phase: str, outcome: str) -> None:
        with self._lock:
            self._enter(repo, phase)
            self.runtime.write(plain(step_line(repo, phase, outcome)))
            self._close()
            self._phases[repo] = phase

    def waiting(self, repo: str, what: str) -> None:
        with self._lock:
            self._logged.pop(repo, None)
            self._enter(repo, self._working_on(repo))
            self.runtime.write(plain(waiting_line(repo, what)))

    def wait_status(self, repo: str, status: WaitStatus) -> None:
        """A log has no cursor to move: one line per LOG_EVERY seconds of the wait."""
        with self._lock:
            if not due(self._logged, repo, status.elapsed):
                return
            self._enter(repo, self._working_on(repo))
            self.runtime.write(plain(wait_status_line(repo, status)))

    def note(self, repo: str | None, message: str) -> None:
        with self._lock:
            if repo is None:
                self._close()
                self.runtime.write(plain(message))
                return
            self._enter(repo, self._working_on(repo))
            self.runtime.write(plain(note_line(repo, message)))

    def warning(self, repo: str | None, message: str) -> None:
        """A line in the log and a `::warning::` annotation (e.g. an index timeout)."""
        with self._lock:
            if repo is None:
                self._close()
            else:
                self._enter(repo, self._working_on(repo))
            self.runtime.write(plain(warning_line(repo, message)))
            self.runtime.warning(message, title=f"release-train: {repo}" if repo else None)

    def failure(self, repo: str, code: str, message: str, hint: str | None) -> None:
        """A repo failed: an `::error::` annotation with the hint; its group ends here."""
        lines = [f"[{code}] {message}", *([f"hint: {hint}"] if hint else [])]
        text = "\n".join(lines)
        with self._lock:
            self._enter(repo, self._working_on(repo))
            self.runtime.write(*(plain(note_line(repo, line)) for line in lines))
            self._close()
            self.runtime.error(text, title=f"release-train: {repo} failed")

    def failures(self, state: RunState) -> None:
        """`failure` for every failed repo of a settled `state` (for callers with no hook)."""
        for name, repo in state.repos.items():
            if repo.status is RepoStatus.FAILED and repo.error is not None:
                self.failure(name, repo.error.code, repo.error.message, repo.error.hint)

    def close(self) -> None:
        """End the open group, if any (call once the engine is done)."""
        with self._lock:
            self._close()

    def _working_on(self, repo: str) -> str:
        return next_phase(self._phases.get(repo, "PLANNED"))

    def _enter(self, repo: str, phase: str) -> None:
        if self._open == (repo, phase):
            return
        self._close()
        self.runtime.write(command("group", f"{repo} · {phase}"))
        self._open = (repo, phase)

    def _close(self) -> None:
        if self._open is not None:
            self.runtime.write(command("endgroup"))
            self._open = None


def progress_for(env: Mapping[str, str], stream: TextIO | None = None) -> Progress:
    """ActionsProgress inside a GitHub Actions job, ConsoleProgress everywhere else."""
    runtime = ActionsRuntime.from_env(env, stream)
    if runtime is None:
        return ConsoleProgress(stream if stream is not None else sys.stdout)
    return ActionsProgress(runtime)
