"""`release-train init`: read a family (local clones or the GitHub API) and write its config.

What is inferred and how the text reads is `core/scaffold`; here the facts are gathered
and the file written, never over an existing one.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from release_train.adapters import command, git
from release_train.adapters import workspace as ws
from release_train.core.declared import read_declared
from release_train.core.graph import Graph, order_graph
from release_train.core.pyproject import read_project
from release_train.core.scaffold import (
    RELEASE_WORKFLOW,
    WORKFLOW_DIR,
    Family,
    RepoFacts,
    config_text,
    found_text,
)
from release_train.errors import ErrorCode, ReleaseError

if TYPE_CHECKING:
    from release_train.adapters.github import GitHub

PYPROJECT = "pyproject.toml"
WORKFLOW = f"{WORKFLOW_DIR}/{RELEASE_WORKFLOW}"
# The owner in a GitHub remote: https://host/OWNER/repo(.git) or git@host:OWNER/repo(.git).
_REMOTE_OWNER = re.compile(
    r"^(?:[a-z+]+://[^/]+/|[^@/]+@[^:]+:)(?P<owner>[^/]+)/[^/]+?(?:\.git)?/?$"
)


@dataclass(frozen=True)
class Found:
    """A repo as read: its facts, and the pyproject text its graph edges come from."""

    facts: RepoFacts
    pyproject: str


def family_of(owner: str, found: Sequence[Found], source: str) -> Family:
    """The family with its derived graph: the planner's own edges and ordering."""
    manifests = {}
    for item in found:
        facts, where = item.facts, f"{item.facts.repo}/{PYPROJECT}"
        declared = read_declared(item.pyproject, source=where)
        manifests[facts.repo] = ws.Manifest(
            facts.repo,
            Path(facts.repo),
            facts.package,
            frozenset(d.name for d in declared.dependencies),
            declared=declared,
        )
    graph: Graph = order_graph(manifests, ws.family_edges(manifests))
    family = {canonicalize_name(m.package) for m in manifests.values()}
    sourced = tuple(
        repo
        for repo, m in sorted(manifests.items())
        if any(canonicalize_name(s.name) in family for s in m.declared.sources)
    )
    repos = sorted((f.facts for f in found), key=lambda f: f.repo)
    return Family(owner, repos, graph, source, sourced)


def _package(repo: str, text: str) -> str:
    return read_project(text, source=f"{repo}/{PYPROJECT}").name or repo


# -- a workspace of clones --------------------------------------------------------------


def from_workspace(workspace: Path, owner: str | None = None) -> Family:
    """Every directory of `workspace` that is a git clone with a pyproject.toml at HEAD."""
    if not workspace.is_dir():
        raise ReleaseError(
            ErrorCode.USAGE,
            f"workspace {workspace} is not a directory",
            hint="--workspace DIR holds one clone per repo, named as the repo",
        )
    found = []
    for child in sorted(workspace.iterdir()):
        if not (child / ".git").exists() or not git.is_repository(child):
            continue
        text = git.show_file(child, "HEAD", PYPROJECT)
        if text is None:
            continue
        facts = RepoFacts(
            repo=child.name,
            package=_package(child.name, text),
            branch=_branch(child),
            tags=tuple(t.name for t in git.tags(child, ["**"])),  # `**`: names with slashes too
            workflow=git.show_file(child, "HEAD", WORKFLOW),
        )
        found.append(Found(facts, text))
    if not found:
        raise ReleaseError(
            ErrorCode.REPO_NOT_FOUND,
            f"no git clone with a {PYPROJECT} in {workspace}",
            hint="--workspace DIR holds one clone per repo (`git clone` each into DIR)",
        )
    return family_of(owner or _owner(found, workspace), found, f"the clones in {workspace}")


def _branch(clone: Path) -> str:
    """The branch checked out (the one the clone releases from); detached: `main`."""
    done = command.run(
        git.git_argv(clone, "symbolic-ref", "--short", "-q", "HEAD"),
        check=False,
        code=ErrorCode.GIT_FAILED,
    )
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else "main"


def _owner(found: Sequence[Found], workspace: Path) -> str:
    """The GitHub owner in the clones' `origin` remotes, when they all name the same one."""
    owners = set()
    for item in found:
        done = command.run(
            git.git_argv(workspace / item.facts.repo, "remote", "get-url", "origin"),
            check=False,
            code=ErrorCode.GIT_FAILED,
        )
        match = _REMOTE_OWNER.match(done.stdout.strip()) if done.returncode == 0 else None
        owners.add(match["owner"] if match else None)
    if len(owners) == 1 and None not in owners:
        return str(owners.pop())
    raise ReleaseError(
        ErrorCode.USAGE,
        f"cannot tell the GitHub owner from the clones' origin remotes in {workspace}",
        hint="pass --owner ORG (the organisation or user the repos live under)",
    )


# -- the GitHub API ---------------------------------------------------------------------


def from_github(github: GitHub, repos: Sequence[str]) -> Family:
    """The named repos of `github.owner`, read on their default branches."""
    found = [_read_remote(github, repo) for repo in sorted(set(repos))]
    return family_of(github.owner, found, f"the GitHub repos of {github.owner}")


def _read_remote(github: GitHub, repo: str) -> Found:
    missing = ReleaseError(
        ErrorCode.REPO_NOT_FOUND,
        f"{github.owner}/{repo} does not exist or the token cannot read it",
        repo=repo,
        hint="check the name in --repos and that the token can read the repository",
    )
    answer = github.repo_read(repo, "", "read the repository", missing)
    branch = str(answer.data["default_branch"])
    text = _file(github, repo, PYPROJECT, branch)
    if text is None:
        raise ReleaseError(
            ErrorCode.PYPROJECT_INVALID,
            f"{github.owner}/{repo} has no {PYPROJECT} on {branch}",
            repo=repo,
            hint="leave it out of --repos, or add its pyproject.toml first",
        )
    facts = RepoFacts(
        repo=repo,
        package=_package(repo, text),
        branch=branch,
        tags=_tags(github, repo),
        workflow=_file(github, repo, WORKFLOW, branch),
    )
    return Found(facts, text)


def _file(github: GitHub, repo: str, path: str, ref: str) -> str | None:
    answer = github.repo_call(
        "GET", repo, f"/contents/{path}", "read files", (404,), params={"ref": ref}
    )
    if answer.status == 404 or not isinstance(answer.data, dict):
        return None  # missing, or a directory (a list)
    try:
        return base64.b64decode(str(answer.data.get("content", ""))).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ReleaseError(
            ErrorCode.GITHUB_ERROR,
            f"{repo}/{path} is not UTF-8 text",
            repo=repo,
            hint=f"save {path} as UTF-8, or write the config with `init --workspace` instead",
        ) from exc


PAGE = 100
MAX_TAG_PAGES = 50  # five thousand tags: more than any family repo we know of


def _tags(github: GitHub, repo: str) -> tuple[str, ...]:
    names: list[str] = []
    for page in range(1, MAX_TAG_PAGES + 1):
        params = {"per_page": str(PAGE), "page": str(page)}
        answer = github.repo_call(
            "GET", repo, "/git/matching-refs/tags/", "read tags", (404,), params=params
        )
        chunk = answer.data if answer.status != 404 and isinstance(answer.data, list) else []
        names += [str(ref["ref"]).removeprefix("refs/tags/") for ref in chunk]
        if len(chunk) < PAGE:
            break
    return tuple(sorted(names))


# -- the command ------------------------------------------------------------------------


@dataclass(frozen=True)
class InitRequest:
    out: Path
    workspace: Path | None = None
    owner: str | None = None
    repos: str | None = None  # API mode: "a,b,c"


def init(request: InitRequest, env: Mapping[str, str]) -> str:
    """Read the family the request names, write its config; what to print about it."""
    if request.out.exists():  # refused before anything is read
        raise _exists(request.out)
    if request.workspace is not None:
        family = from_workspace(request.workspace, request.owner)
    elif request.owner and request.repos:
        from release_train.adapters.github import GitHub  # noqa: PLC0415 - API mode only

        names = [r.strip() for r in request.repos.split(",") if r.strip()]
        family = from_github(GitHub.from_env(request.owner, env), names)
    else:
        raise ReleaseError(
            ErrorCode.USAGE,
            "init needs --workspace DIR, or --owner ORG with --repos A,B,C",
            hint="`release-train init --workspace DIR` reads your clones; --owner with "
            "--repos reads the repos over the GitHub API",
        )
    write_config(request.out, config_text(family))
    then = f"release-train plan --offline --config {request.out}"
    if request.workspace is not None:
        then += f" --workspace {request.workspace}"
    return found_text(family) + f"wrote {request.out}; check it, then: {then}\n"


# -- the file ---------------------------------------------------------------------------


def write_config(path: Path, text: str) -> None:
    """Write `text` to `path`, which must not exist: `init` never overwrites a config."""
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError as exc:
        raise _exists(path) from exc
    except OSError as exc:
        raise ReleaseError(
            ErrorCode.USAGE,
            f"cannot write {path}: {exc.strerror or exc}",
            hint="pick a writable place with --out FILE",
        ) from exc


def _exists(path: Path) -> ReleaseError:
    return ReleaseError(
        ErrorCode.CONFIG_EXISTS,
        f"{path} already exists; init does not overwrite it",
        hint="move it away, or write elsewhere with --out FILE (then pass --config FILE)",
    )
