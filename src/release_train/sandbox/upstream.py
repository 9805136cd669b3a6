"""The rest of the world behind the index front: which upstream index, and merged project pages.

A rehearsal's family publishes its new versions to the sandbox's pypiserver, but `uv lock`
of real repos needs every third-party package and the family's older releases too. The
front asks both for a project's Simple API page and answers one page: the sandbox's files
first, then the upstream's that the sandbox lacks (by file name), each link absolute, so
a client downloads an upstream file from the upstream itself.
"""

from __future__ import annotations

import html
import os
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin

from release_train.adapters import command
from release_train.errors import ErrorCode, ReleaseError

PUBLIC_INDEX = "https://pypi.org/simple"
FETCH_TIMEOUT = 30.0
# Where uv and pip read their index from the environment, the newest spelling first.
INDEX_VARIABLES = ("UV_DEFAULT_INDEX", "UV_INDEX_URL", "PIP_INDEX_URL")
HTML_ACCEPT = "text/html"


def index_from(env: Mapping[str, str], pip_config: str | None) -> str:
    """The index uv/pip use: the first variable that is set, else pip's config, else PyPI."""
    for name in INDEX_VARIABLES:
        value = env.get(name, "").strip()
        if value:
            return value.split()[0]
    return (pip_config or "").strip() or PUBLIC_INDEX


def pip_index_url() -> str | None:
    """`pip config get global.index-url`, or None when pip has none (or is not there)."""
    try:
        done = command.run(
            ["pip", "config", "get", "global.index-url"],
            check=False,
            timeout=30.0,
            code=ErrorCode.SANDBOX_ERROR,
        )
    except ReleaseError:  # no pip at all: no configured index, not an error
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def configured_index() -> str:
    """The index this machine's uv and pip are configured with: a rehearsal's upstream."""
    return index_from(os.environ, pip_index_url())


@dataclass(frozen=True)
class Link:
    """One file of a Simple API page: its name, absolute URL and the anchor's data-* attributes."""

    filename: str
    url: str
    attrs: tuple[tuple[str, str], ...]


class _Anchors(HTMLParser):
    def __init__(self, page_url: str) -> None:
        super().__init__()
        self.page_url = page_url
        self.links: list[Link] = []
        self._open: tuple[str, tuple[tuple[str, str], ...]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "a":
            return
        found = {key: value or "" for key, value in attrs}
        data = tuple(sorted((k, v) for k, v in found.items() if k.startswith("data-")))
        self._open = (urljoin(self.page_url, found.get("href", "")), data)

    def handle_data(self, data: str) -> None:
        if self._open is not None and data.strip():
            url, attrs = self._open
            self.links.append(Link(data.strip().rsplit("/", 1)[-1], url, attrs))
            self._open = None

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._open = None


def page_links(page_url: str, text: str) -> list[Link]:
    """The files a PEP 503 page lists, in its order, with absolute URLs."""
    parser = _Anchors(page_url)
    parser.feed(text)
    return parser.links


def merge(first: Sequence[Link], then: Sequence[Link]) -> list[Link]:
    """`first`'s files, then those of `then` whose file name `first` does not have."""
    seen = {link.filename for link in first}
    return [*first, *(link for link in then if link.filename not in seen)]


def render_page(project: str, links: Sequence[Link]) -> str:
    """A PEP 503 project page (API version 1.0) listing `links`."""
    rows = []
    for link in links:
        attrs = "".join(f' {key}="{html.escape(value)}"' for key, value in link.attrs)
        href, text = html.escape(link.url), html.escape(link.filename)
        rows.append(f'    <a href="{href}"{attrs}>{text}</a><br>')
    title = html.escape(project)
    return (
        "<!DOCTYPE html>\n<html>\n  <head>\n"
        '    <meta name="pypi:repository-version" content="1.0">\n'
        f"    <title>Links for {title}</title>\n  </head>\n  <body>\n"
        f"    <h1>Links for {title}</h1>\n" + "\n".join(rows) + "\n  </body>\n</html>\n"
    )


def fetch_page(url: str) -> str | None:
    """The HTML page at `url`; None for a 404 (the project is not there). Errors raise."""
    request = urllib.request.Request(url, headers={"Accept": HTML_ACCEPT})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as reply:  # noqa: S310
            body: bytes = reply.read()
            charset = reply.headers.get_content_charset() or "utf-8"
            return body.decode(charset, errors="replace")
    except urllib.error.HTTPError as exc:
        with exc:
            if exc.code in (404, 410):
                return None
            raise


def project_url(index_url: str, project: str) -> str:
    """The Simple API page of `project` (normalised) under `index_url`."""
    return f"{index_url.rstrip('/')}/{project}/"
