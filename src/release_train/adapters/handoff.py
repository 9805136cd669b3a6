"""Secrets moved out of the process environment: re-exec without them, read them from a pipe.

`/proc/<pid>/environ` shows the environment a process was *started* with, to every process
of the same account, repo code (pre-commit hooks, build backends) included; deleting a
variable from `os.environ` does not change it. So the Action's entry point starts itself
again with the secrets taken out, hands them over on a pipe whose number alone is in the
new environment, and keeps them in memory only (DESIGN, "Tokens").
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping

from release_train.adapters.tools import secret_free_environment
from release_train.errors import ErrorCode, ReleaseError

FD_VARIABLE = "RELEASE_TRAIN_SECRETS_FD"
# A pipe holds 64 KiB before a write blocks; secrets are far smaller than this.
_MOST = 60_000

Exec = Callable[[str, list[str], dict[str, str]], None]


def secrets_in(environ: Mapping[str, str]) -> dict[str, str]:
    """The non-empty variables of `environ` that hold credentials."""
    names = secret_free_environment(environ)
    return {name: value for name, value in environ.items() if name in names and value}


def sealed_environment(exec_: Exec = os.execve) -> dict[str, str]:
    """The environment with its secrets, held in memory: what the Action runs with.

    Started with secrets in the environment, this re-executes the interpreter (same pid,
    same argv) without them and does not return; the new process reads them back here.
    """
    if FD_VARIABLE in os.environ:
        return {**os.environ, **_receive(os.environ.pop(FD_VARIABLE))}
    secrets = secrets_in(os.environ)
    if not secrets:
        return dict(os.environ)
    env = {name: value for name, value in os.environ.items() if name not in secrets}
    env[FD_VARIABLE] = str(_send(secrets))
    sys.stdout.flush()
    sys.stderr.flush()
    exec_(sys.executable, list(sys.orig_argv), env)
    raise AssertionError("exec returned")  # pragma: no cover - execve does not return


def _send(secrets: Mapping[str, str]) -> int:
    """A pipe's read end, inheritable, holding `secrets`: the writer is closed (EOF)."""
    payload = json.dumps(dict(secrets)).encode()
    if len(payload) > _MOST:
        raise ReleaseError(
            ErrorCode.USAGE,
            f"the secret variables of the environment hold {len(payload)} bytes",
            hint="pass only the tokens release-train needs to the action",
        )
    read, write = os.pipe()
    try:
        os.write(write, payload)
    finally:
        os.close(write)
    os.set_inheritable(read, True)
    return read


def _receive(fd_text: str) -> dict[str, str]:
    if not fd_text.isdigit():
        raise ReleaseError(
            ErrorCode.USAGE,
            f"{FD_VARIABLE} is {fd_text!r}, not a file descriptor",
            hint=f"unset {FD_VARIABLE}: release-train sets it for itself",
        )
    fd, chunks = int(fd_text), []
    try:
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
    except OSError as exc:
        raise ReleaseError(
            ErrorCode.USAGE,
            f"cannot read the secrets handed over on fd {fd}: {exc.strerror}",
            hint=f"unset {FD_VARIABLE}: release-train sets it for itself",
        ) from exc
    os.close(fd)
    secrets: dict[str, str] = json.loads(b"".join(chunks))
    return secrets
