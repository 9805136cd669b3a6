"""The sandbox's package index: a real `pypiserver` on loopback, with upload and listing."""

from __future__ import annotations

import hashlib
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename

from release_train.adapters import toolchain
from release_train.errors import ErrorCode, ReleaseError
from release_train.sandbox.service import Service

START_ATTEMPTS = 3  # a free port can be taken between probing it and pypiserver binding it
HTTP_TIMEOUT = 30.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def dist_name_version(filename: str) -> tuple[str, str]:
    """(normalised project name, version) of a wheel or sdist file name."""
    if filename.endswith(".whl"):
        name, version, _build, _tags = parse_wheel_filename(filename)
    else:
        name, version = parse_sdist_filename(filename)
    return str(name), str(version)


@dataclass(frozen=True)
class IndexFile:
    """A file the index serves, with the digest its Simple API advertises."""

    filename: str
    sha256: str
    url: str


class _LinkParser(HTMLParser):
    """Collects (href, text) of every anchor of a PEP 503 page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href") or ""

    def handle_data(self, data: str) -> None:
        if self._href is not None and data.strip():
            self.links.append((self._href, data.strip()))
            self._href = None


def _files_from_page(page_url: str, html: str) -> list[IndexFile]:
    parser = _LinkParser()
    parser.feed(html)
    files = []
    for href, text in parser.links:
        url, _, fragment = urljoin(page_url, href).partition("#")
        algo, _, digest = fragment.partition("=")
        files.append(
            IndexFile(
                filename=text.rsplit("/", 1)[-1],
                sha256=digest if algo == "sha256" else "",
                url=url,
            )
        )
    return sorted(files, key=lambda f: f.filename)


def _multipart(fields: dict[str, str], file_field: str, path: Path) -> tuple[bytes, str]:
    """A multipart/form-data body as twine sends it to the legacy upload API."""
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for key, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
        f'filename="{path.name}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
    )
    parts.append(path.read_bytes() + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class IndexClient:
    """HTTP access to a PEP 503 index that accepts legacy uploads: listing and upload."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    @property
    def simple_url(self) -> str:
        """The PEP 503 Simple API root, what `uv --default-index` and `pip --index-url` take."""
        return f"{self.url}/simple/"

    @property
    def upload_url(self) -> str:
        """The legacy upload endpoint (`twine upload --repository-url`)."""
        return f"{self.url}/"

    def _get(self, url: str) -> str | None:
        """GET `url` as text; None on 404."""
        try:
            with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT) as resp:  # noqa: S310
                body: bytes = resp.read()
                return body.decode()
        except urllib.error.HTTPError as exc:
            exc.close()  # it holds the connection open otherwise
            if exc.code == 404:
                return None
            raise ReleaseError(
                ErrorCode.INDEX_ERROR,
                f"GET {urlsplit(url).path} answered {exc.code}",
                hint=f"see the index's log, {self.url}",
            ) from exc
        except OSError as exc:
            raise ReleaseError(
                ErrorCode.INDEX_ERROR,
                f"the index is unreachable: {exc}",
                hint=f"check that the index at {self.url} runs",
            ) from exc

    def list_files(self, project: str) -> list[IndexFile]:
        """Files the Simple API lists for `project` (any spelling), sorted by name."""
        page_url = f"{self.simple_url}{canonicalize_name(project)}/"
        html = self._get(page_url)
        return [] if html is None else _files_from_page(page_url, html)

    def all_files(self) -> list[IndexFile]:
        """Every file on the index, sorted by name."""
        page_url = f"{self.url}/packages/"
        html = self._get(page_url)
        return [] if html is None else _files_from_page(page_url, html)

    def find(self, filename: str) -> IndexFile | None:
        """The file called `filename` if the index has it."""
        project, _version = dist_name_version(filename)
        return next((f for f in self.list_files(project) if f.filename == filename), None)

    def upload(self, files: Iterable[Path]) -> list[str]:
        """Upload `files` through the legacy API (`:action=file_upload`); return their names.

        An existing file is refused by pypiserver with 409: that surfaces as INDEX_ERROR so
        that callers decide, by digest, whether it is the same upload.
        """
        names = []
        for path in files:
            self._upload_one(path)
            names.append(path.name)
        return names

    def _upload_one(self, path: Path) -> None:
        name, version = dist_name_version(path.name)
        fields = {
            ":action": "file_upload",
            "protocol_version": "1",
            "name": name,
            "version": version,
            "filetype": "bdist_wheel" if path.name.endswith(".whl") else "sdist",
            "pyversion": "py3" if path.name.endswith(".whl") else "source",
            "sha256_digest": sha256_of(path),
        }
        body, content_type = _multipart(fields, "content", path)
        request = urllib.request.Request(  # noqa: S310
            self.upload_url, data=body, method="POST", headers={"Content-Type": content_type}
        )
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT):  # noqa: S310
                return
        except urllib.error.HTTPError as exc:
            with exc:
                detail = exc.read().decode(errors="replace").strip().splitlines()[:1]
            reason = "already exists" if exc.code == 409 else f"answered {exc.code} {detail}"
            raise ReleaseError(
                ErrorCode.INDEX_ERROR,
                f"upload of {path.name} refused: {reason}",
                repo=name,
                hint="a version is uploaded once: release a new one",
            ) from exc
        except OSError as exc:
            raise ReleaseError(
                ErrorCode.INDEX_ERROR,
                f"upload of {path.name} failed: {exc}",
                repo=name,
                hint=f"check that the index at {self.url} runs",
            ) from exc


class IndexServer(IndexClient, Service):
    """`pypi-server run` on 127.0.0.1:<free port>, serving and accepting files in `root/packages`.

    Upload needs no credentials (`-a . -P .`) and there is no fallback to PyPI, so a
    resolver pointed here sees exactly what the sandbox published and nothing else.
    """

    def __init__(self, root: Path, *, log_path: Path | None = None) -> None:
        self.root = root
        self.packages_dir = root / "packages"
        self.log_path = log_path or root / "index.log"
        self.port = 0
        super().__init__("http://127.0.0.1:0")
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self, timeout: float = 30.0) -> None:
        """Start pypiserver and return once its health endpoint answers."""
        self.packages_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        for _attempt in range(START_ATTEMPTS):
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            self._spawn()
            if self._wait_ready(timeout):
                return
            self.stop()
        raise ReleaseError(
            ErrorCode.SANDBOX_ERROR,
            "the package index (pypiserver) did not start",
            hint=f"see {self.log_path}",
            output=self._log_tail(),
        )

    def _spawn(self) -> None:
        argv = [
            *toolchain.argv(toolchain.PYPISERVER, "run"),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "-a",
            ".",
            "-P",
            ".",
            "--disable-fallback",
            "--hash-algo",
            "sha256",
            "--server",
            "auto",
            str(self.packages_dir),
        ]
        with self.log_path.open("ab") as log:
            # The one sanctioned direct Popen: a long-running server that must outlive this
            # call; adapters.command.run only runs commands to completion.
            self._proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                return False  # exited: most likely the port was taken meanwhile
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as resp:  # noqa: S310
                    if resp.status == 200:
                        return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate pypiserver, wait for it, and kill it if it will not go."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)

    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-20:])
