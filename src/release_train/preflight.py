"""Step 0.1 pre-flight validation: the gate attestation token and the state of a resumed run."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from release_train.errors import ErrorCode, ReleaseError

# `<slack_ts>:<run_id>`, e.g. "1767225600.000100:release-20260101-a3f7b2".
GATE_TOKEN = re.compile(r"^(?P<ts>\d{9,11}\.\d{1,6}):(?P<run_id>[A-Za-z0-9][A-Za-z0-9._-]{0,99})$")
RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def validate_run_id(run_id: str) -> str:
    if not RUN_ID.match(run_id):
        raise ReleaseError(
            ErrorCode.USAGE,
            f"invalid run id {run_id!r}",
            hint="a run id is letters, digits, '.', '_' and '-', e.g. release-20260225-a3f7b2",
        )
    return run_id


def validate_gate_token(token: str, run_id: str | None) -> tuple[str, str]:
    """(slack_ts, run_id) of a well-formed token whose run id matches the run, if known."""
    match = GATE_TOKEN.match(token)
    if not match:
        raise ReleaseError(
            ErrorCode.INVALID_GATE_TOKEN,
            f"gate attestation {token!r} is not <slack_ts>:<run_id>",
            hint="e.g. --gate-attestation 1767225600.000100:release-20260101-a3f7b2",
        )
    if run_id is not None and match["run_id"] != run_id:
        raise ReleaseError(
            ErrorCode.INVALID_GATE_TOKEN,
            f"gate attestation is for run {match['run_id']}, not {run_id}",
            hint="an approval is only valid for the run it was given for",
        )
    return match["ts"], match["run_id"]


def state_dir() -> Path:
    """Where local state files live: $RELEASE_TRAIN_STATE_DIR or the XDG state dir."""
    configured = os.environ.get("RELEASE_TRAIN_STATE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "release-train"


def load_state_document(run_id: str, directory: Path | None = None) -> dict[str, Any]:
    """The raw state of `run_id`: `STATE_NOT_FOUND`, `STATE_CORRUPT` per Step 0.1."""
    path = (directory or state_dir()) / f"{validate_run_id(run_id)}.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ReleaseError(
            ErrorCode.STATE_NOT_FOUND,
            f"no state for run {run_id} at {path}",
            hint="check the run id (`release-train status` lists runs) or RELEASE_TRAIN_STATE_DIR",
        ) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReleaseError(
            ErrorCode.STATE_CORRUPT,
            f"state file {path} is not valid JSON (line {exc.lineno}: {exc.msg})",
            hint="restore it from the run's artifact or the state branch; it was left untouched",
        ) from exc
    if not isinstance(data, dict) or data.get("run_id") != run_id:
        found = data.get("run_id") if isinstance(data, dict) else None
        raise ReleaseError(
            ErrorCode.STATE_CORRUPT,
            f"state file {path} is for run {found!r}, not {run_id}",
            hint="the file was renamed or overwritten; restore it from the run's artifact",
        )
    return data
