"""A local GitHub stand-in: REST API, git over smart HTTP, CI, release workflows, admin API."""

from __future__ import annotations

from pathlib import Path

from release_train.errors import ErrorCode, ReleaseError
from release_train.sandbox.github.client import SandboxAdmin
from release_train.sandbox.github.faults import FaultPlan
from release_train.sandbox.github.forge import Forge, Publisher, release_version
from release_train.sandbox.github.frontend import Frontend
from release_train.sandbox.github.queue import QueueRunner
from release_train.sandbox.github.server import HttpServer
from release_train.sandbox.github.shapes import Urls
from release_train.sandbox.github.workflows import WorkflowRunner
from release_train.sandbox.service import Service

__all__ = ["GitHubStandIn", "Publisher", "SandboxAdmin", "release_version"]


class GitHubStandIn(Service):
    """GitHub on 127.0.0.1: `start()` serves it on a free port, `stop()` ends every thread.

    Bare repos live in `root/git/<owner>/<repo>.git`; the records (PRs, CI, runs, tokens)
    persist in `root/github-state.json` when the stand-in stops, and load when it is made.
    """

    def __init__(
        self, root: Path, *, owner: str = "OmniNode-ai", publisher: Publisher | None = None
    ) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.forge = Forge(root, owner, publisher)
        self.faults = FaultPlan()
        self.frontend = Frontend(self.forge, self.faults)
        writable = [t for t in self.forge.store.state.tokens if not t.read_only and not t.actions]
        self.token = writable[0].token if writable else self.forge.store.add_token()
        self._server: HttpServer | None = None

    @property
    def owner(self) -> str:
        return self.forge.owner

    def _port(self) -> int:
        if self._server is None:
            raise ReleaseError(
                ErrorCode.SANDBOX_ERROR,
                "the GitHub stand-in is not running",
                hint="start it first (GitHubStandIn.start, or `release-train sandbox up`)",
            )
        return self._server.port

    @property
    def server_url(self) -> str:
        return f"http://127.0.0.1:{self._port()}"

    @property
    def api_url(self) -> str:
        return f"{self.server_url}/api/v3"

    @property
    def admin_url(self) -> str:
        return f"{self.server_url}/_sandbox"

    def clone_url(self, repo: str) -> str:
        return f"{self.server_url}/{self.owner}/{repo}.git"

    def start(self) -> None:
        if self._server is not None:
            return
        self.frontend.stopping.clear()
        self.forge.runner = WorkflowRunner(self.forge)
        self.forge.queues = QueueRunner(self.forge)
        self._server = HttpServer(self.frontend)
        self.forge.urls = Urls(self.api_url, self.server_url, self.owner)
        self._server.start()
        self.forge.queues.resume()

    def stop(self) -> None:
        server, self._server = self._server, None
        self.frontend.stopping.set()
        if server is not None:
            server.stop()
        if self.forge.runner is not None:
            self.forge.runner.stop()
        if self.forge.queues is not None:
            self.forge.queues.stop()
        self.forge.store.save()

    def add_repo(
        self,
        name: str,
        source: Path,
        *,
        default_branch: str = "main",
        workflow: str | None = None,
    ) -> None:
        """Host a bare clone of `source` as `owner/name`: every branch (those it only tracks
        too) and every tag; `workflow` names its release workflow file (release.yml)."""
        self.forge.add_repo(name, source, default_branch=default_branch, workflow=workflow)

    def make_token(self, *, read_only: bool = False, actions: bool = False) -> str:
        """A new token; `actions=True` makes one that behaves like a workflow's GITHUB_TOKEN."""
        return self.forge.store.add_token(read_only=read_only, actions=actions)

    def set_publish_delay(self, seconds: float) -> None:
        with self.forge.store.lock:
            self.forge.store.state.publish_delay = seconds

    def admin(self) -> SandboxAdmin:
        return SandboxAdmin(self.admin_url)
