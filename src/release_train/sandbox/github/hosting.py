"""Git over smart HTTP: `git http-backend` as a CGI behind token auth; pushes raise events."""

from __future__ import annotations

import base64
import binascii
import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from release_train.sandbox.github.model import TokenRecord

if TYPE_CHECKING:
    from release_train.sandbox.github.forge import Forge

GIT_PATH = re.compile(r"^/(?P<owner>[^/]+)/(?P<repo>[^/]+?)(?:\.git)?(?P<rest>/.*)$")
BACKEND_TIMEOUT = 300.0


@dataclass
class Raw:
    """A response as bytes: what the HTTP layer writes back."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def basic_token(header: str | None) -> str | None:
    """The token in `Authorization: Basic base64(user:token)` (`x-access-token:<token>`)."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return password or user


def _denied(status: int, text: str) -> Raw:
    headers = [("Content-Type", "text/plain; charset=utf-8")]
    if status == 401:
        headers.append(("WWW-Authenticate", 'Basic realm="GitHub"'))
    return Raw(status, headers, text.encode())


@dataclass(frozen=True)
class GitRequest:
    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes


def serve(forge: Forge, request: GitRequest, token: TokenRecord | None) -> Raw:
    match = GIT_PATH.match(request.path)
    if match is None:
        return _denied(404, "Not Found")
    if token is None:
        return _denied(401, "Invalid username or token. Password authentication is not supported.")
    owner, name = match["owner"], match["repo"]
    if owner.lower() != forge.owner.lower() or name not in forge.repos:
        return _denied(404, "Repository not found.")
    pushing = match["rest"].endswith("/git-receive-pack") or "git-receive-pack" in request.query
    if pushing and token.read_only:
        return _denied(403, f"Write access to repository not granted to {token.login}.")
    path_info = f"/{forge.owner}/{name}.git{match['rest']}"
    if pushing and request.method == "POST":
        with forge.watching(name, token):
            return _backend(forge, request, path_info, token)
    return _backend(forge, request, path_info, token)


def _backend(forge: Forge, request: GitRequest, path_info: str, token: TokenRecord) -> Raw:
    headers = request.headers
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(forge.root),
        "GIT_PROJECT_ROOT": str(forge.root / "git"),
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": path_info,
        "REMOTE_USER": token.login,
        "REMOTE_ADDR": "127.0.0.1",
        "REQUEST_METHOD": request.method,
        "QUERY_STRING": request.query,
        "CONTENT_TYPE": headers.get("Content-Type", ""),
        "CONTENT_LENGTH": str(len(request.body)),
        "GIT_PROTOCOL": headers.get("Git-Protocol", ""),
        "HTTP_CONTENT_ENCODING": headers.get("Content-Encoding", ""),
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    # Packfiles are binary and can be large: command.run speaks text only, so the CGI gets
    # its one Popen here, with an argv list, stdin/stdout as bytes and a timeout.
    with subprocess.Popen(
        ["git", "http-backend"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    ) as proc:
        try:
            out, _err = proc.communicate(request.body, timeout=BACKEND_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            return _denied(504, "git http-backend timed out")
    return _parse_cgi(out)


def _parse_cgi(out: bytes) -> Raw:
    head, sep, body = out.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = out.partition(b"\n\n")
    raw = Raw(200, [], body)
    for line in head.decode("latin-1").splitlines():
        key, _, value = line.partition(":")
        if key.lower() == "status":
            raw.status = int(value.strip().split()[0])
        elif key:
            raw.headers.append((key.strip(), value.strip()))
    return raw
