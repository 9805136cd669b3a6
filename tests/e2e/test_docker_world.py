"""The e2e world checks itself: act runs a tiny Docker action and we read what it did."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from .conftest import E2E_TIMEOUT, PROJECT
from .docker_world import (
    ActJob,
    Daemon,
    act_image_name,
    base_image_tag,
    build_action_image,
    central_repo,
    parse_act_log,
    run_act,
)

TOKEN = "tiny-secret-token-0123"
BODY = "pong | from loopback"
TINY_USES = "rt-test/tiny@" + "0" * 40

ACTION_YML = """\
name: tiny
description: Reads the API with the token, writes a summary and a multi-line output.
inputs:
  token:
    description: the API token
    required: true
outputs:
  body:
    description: the API's answer and a second line
runs:
  using: docker
  image: Dockerfile
  env:
    TOKEN: ${{ inputs.token }}
"""

MAIN_PY = """\
import os, urllib.request
request = urllib.request.Request(
    os.environ["GITHUB_API_URL"] + "/ping",
    headers={"Authorization": "Bearer " + os.environ["TOKEN"]},
)
body = urllib.request.urlopen(request, timeout=10).read().decode()
with open(os.environ["GITHUB_STEP_SUMMARY"], "a") as summary:
    summary.write("| repo | cell |\\n| --- | --- |\\n| a \\\\| b | c |\\n")
with open(os.environ["GITHUB_OUTPUT"], "a") as output:
    output.write("body<<EOF_tiny\\n" + body + "\\nline two\\nEOF_tiny\\n")
"""

WORKFLOW = """\
name: tiny
on:
  workflow_dispatch:
    inputs:
      word:
        type: string
permissions: {}
jobs:
  probe:
    runs-on: ubuntu-latest
    steps:
      - id: tiny
        uses: rt-test/tiny@0000000000000000000000000000000000000000
        with:
          token: ${{ secrets.API_TOKEN }}
      - run: echo "repo $REPO word $WORD" >> "$GITHUB_STEP_SUMMARY"
        env:
          REPO: ${{ github.repository }}
          WORD: ${{ inputs.word }}
  broken:
    runs-on: ubuntu-latest
    steps:
      - run: exit 4
"""


class _Ping(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        ok = self.path == "/ping" and self.headers.get("Authorization") == f"Bearer {TOKEN}"
        data = (BODY if ok else "denied").encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def api_url() -> Iterator[str]:
    """A loopback API that answers `GET /ping` only with the right token."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ping)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def tiny_action(root: Path, base_image: str) -> Path:
    action = root / "tiny-action"
    action.mkdir()
    (action / "action.yml").write_text(ACTION_YML, encoding="utf-8")
    (action / "main.py").write_text(MAIN_PY, encoding="utf-8")
    dockerfile = f'FROM {base_image}\nCOPY main.py /main.py\nENTRYPOINT ["python3", "/main.py"]\n'
    (action / "Dockerfile").write_text(dockerfile, encoding="utf-8")
    return action


@pytest.mark.e2e
@pytest.mark.timeout(E2E_TIMEOUT)
def test_act_runs_a_docker_action_against_loopback(
    tmp_path: Path, docker_daemon: Daemon, base_image: str, api_url: str
) -> None:
    action = tiny_action(tmp_path, base_image)
    build_action_image(docker_daemon, action, act_image_name(TINY_USES), base_image)
    (tmp_path / "tiny.yml").write_text(WORKFLOW, encoding="utf-8")
    host = api_url.removeprefix("http://")
    central = central_repo(
        tmp_path, tmp_path / "tiny.yml", "# no config\n", origin=f"{api_url}/acme/central.git"
    )
    job = ActJob(
        platform_image=base_image,
        local_repositories={TINY_USES: action},
        secrets={"API_TOKEN": TOKEN},
        env={"GITHUB_API_URL": api_url},
        github_instance=host,
    )

    payload = {"inputs": {"word": "hi"}}
    run = run_act(docker_daemon, central, ".github/workflows/tiny.yml", job, payload=payload)

    assert run.job_results == {"broken": "failure", "probe": "success"}, run.log
    assert run.returncode != 0
    assert run.summaries["probe"] == [
        "| repo | cell |\n| --- | --- |\n| a \\| b | c |\n",
        "repo acme/central word hi\n",
    ]
    assert run.outputs["probe"] == {"body": f"{BODY}\nline two"}
    assert ("Main exit 4", "failure") in run.step_results["broken"]
    assert TOKEN not in run.log


def test_act_image_name_follows_act() -> None:
    assert act_image_name("release-train/release-train@" + "0" * 40) == (
        "act-release-train-release-train-" + "0" * 40 + "-dockeraction:latest"
    )
    nested = act_image_name("Acme/Tools/sub.dir@v1.2")
    assert nested == "act-acme-tools-sub-dir-v1-2-dockeraction:latest"


def test_base_image_tag_reads_the_first_from() -> None:
    text = "# FROM x\nARG V=1\nFROM --platform=linux/amd64 python:3.11-slim AS base\nFROM y\n"
    assert base_image_tag(text) == "python:3.11-slim"


def test_base_image_tag_takes_the_arg_default_without_its_digest() -> None:
    text = "ARG BASE=python:3.11-slim-bookworm@sha256:" + "a" * 64 + "\nFROM ${BASE}\n"
    assert base_image_tag(text) == "python:3.11-slim-bookworm"
    assert base_image_tag((PROJECT / "Dockerfile").read_text()) == "python:3.11-slim-bookworm"


def test_parse_act_log_reads_json_lines_and_ignores_the_rest() -> None:
    lines = [
        {"jobID": "plan", "command": "summary", "content": "| a |\n"},
        {"jobID": "plan", "command": "set-output", "name": "run-id", "arg": "r1\nr2"},
        {"jobID": "plan", "stage": "Main", "step": "plan", "stepResult": "success"},
        {"jobID": "plan", "command": "summary", "content": "second\n"},
        {"jobID": "plan", "jobResult": "success"},
        {"jobID": "release", "jobResult": "failure"},
    ]
    text = "\n".join(["Error: Job 'release' failed", *(json.dumps(x) for x in lines), "{oops"])

    run = parse_act_log(1, text)

    assert run.summaries == {"plan": ["| a |\n", "second\n"]}
    assert run.summary("plan") == "| a |\nsecond\n"
    assert run.outputs == {"plan": {"run-id": "r1\nr2"}}
    assert run.step_results == {"plan": [("Main plan", "success")]}
    assert run.job_results == {"plan": "success", "release": "failure"}
