"""The one way release-train runs a subprocess: argv list, timeout, masked output, ReleaseError."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from release_train.errors import ErrorCode, ReleaseError

OUTPUT_TAIL_LINES = 30


@dataclass(frozen=True)
class Completed:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def mask(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret in `text` by `***` so it can be logged or raised."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def tail(text: str, lines: int = OUTPUT_TAIL_LINES) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def run(
    argv: list[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 600.0,
    check: bool = True,
    secrets: Iterable[str] = (),
    code: ErrorCode = ErrorCode.COMMAND_FAILED,
    repo: str | None = None,
    hint: str | None = None,
    input_text: str | None = None,
) -> Completed:
    """Run `argv` (never through a shell) and return its output.

    `env` *replaces* nothing: it is laid over the current environment. With `check`, a
    non-zero exit raises `ReleaseError(code)` carrying the masked tail of the output.
    """
    secrets = tuple(secrets)
    full_env = {**os.environ, **env} if env is not None else None
    try:
        proc = subprocess.run(
            argv,
            cwd=cwd,
            env=full_env,
            capture_output=True,
            # Commit messages are whatever bytes their author wrote (a bogus `encoding`
            # header makes git pass them through raw): undecodable bytes become U+FFFD
            # rather than crashing a plan over one old commit.
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            check=False,
            input=input_text,
            stdin=None if input_text is not None else subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise ReleaseError(
            ErrorCode.COMMAND_TIMEOUT,
            mask(f"`{' '.join(argv)}` did not finish within {timeout:g}s", secrets),
            repo=repo,
            hint=hint,
        ) from exc
    except FileNotFoundError as exc:
        raise ReleaseError(
            code,
            f"`{argv[0]}` is not installed or not on PATH",
            repo=repo,
            hint=hint or f"install {argv[0]} and try again",
        ) from exc
    done = Completed(tuple(argv), proc.returncode, proc.stdout, proc.stderr)
    if check and proc.returncode != 0:
        raise ReleaseError(
            code,
            mask(f"`{' '.join(argv)}` exited with status {proc.returncode}", secrets),
            repo=repo,
            hint=hint,
            output=mask(tail(proc.stderr + proc.stdout), secrets),
        )
    return done
