"""Simulated CI: check runs and commit statuses whose stage follows the clock since CI started."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from release_train.sandbox.github.api import ApiError, Reply, Request, paginate, route
from release_train.sandbox.github.model import CiJob, CiSettings, StatusRecord
from release_train.sandbox.github.shapes import JSON, Urls, iso, minimal_repo, node_id, user

if TYPE_CHECKING:
    from release_train.sandbox.github.forge import Forge

QUEUED_SHARE = 0.25  # the first quarter of a job's duration is spent queued


@dataclass(frozen=True)
class CheckView:
    """One check run as seen at a moment."""

    id: int
    name: str
    job: CiJob
    status: str
    conclusion: str | None
    started_at: float
    completed_at: float | None


def start(forge: Forge, repo: str, sha: str, *, rerun: bool = False) -> None:
    """Run CI on `sha` once (a re-push does not run it again); `rerun`: "Re-run all jobs"."""
    store = forge.store
    with store.lock:
        settings = store.state.repos[repo].ci
        seen = any(j.repo == repo and j.sha == sha for j in store.state.ci_jobs)
        if settings.conclusion == "none" or (seen and not rerun):
            return
        job = CiJob(
            repo=repo,
            sha=sha,
            suite_id=store.next_id(),
            created_at=time.time(),
            duration=settings.duration,
            conclusion=settings.conclusion,
            mode=settings.mode,
            checks=[(store.next_id(), name) for name in settings.checks],
            late=settings.late,
            failing=settings.failing,
        )
        store.state.ci_jobs.append(job)


def views(forge: Forge, repo: str, sha: str, now: float | None = None) -> list[CheckView]:
    now = time.time() if now is None else now
    with forge.store.lock:
        jobs = [j for j in forge.store.state.ci_jobs if j.repo == repo and j.sha == sha]
    out = [
        view
        for job in jobs
        for check_id, name in job.checks
        if (view := _view(job, check_id, name, now)) is not None
    ]
    return sorted(out, key=lambda v: -v.id)


def _view(job: CiJob, check_id: int, name: str, now: float) -> CheckView | None:
    """The check at `now`; None while a late check has not registered yet."""
    created = job.created_at + job.late.get(name, 0.0)
    elapsed = now - created
    if elapsed < 0:
        return None
    started = created + job.duration * QUEUED_SHARE
    if elapsed < job.duration * QUEUED_SHARE:
        return CheckView(check_id, name, job, "queued", None, created, None)
    if elapsed < job.duration:
        return CheckView(check_id, name, job, "in_progress", None, started, None)
    conclusion = "failure" if name in job.failing else job.conclusion
    done = created + job.duration
    return CheckView(check_id, name, job, "completed", conclusion, started, done)


def required_contexts(settings: CiSettings) -> list[str]:
    """What must be green before a merge: branch protection's and the ruleset's contexts."""
    return list(dict.fromkeys([*settings.required, *settings.ruleset]))


def _app(urls: Urls) -> JSON:
    return {
        "id": 15368,
        "slug": "github-actions",
        "node_id": node_id("A", 15368),
        "owner": user(urls, "github", "Organization"),
        "name": "GitHub Actions",
        "description": "Automate your workflow from idea to production",
        "external_url": "https://help.github.com/en/actions",
        "html_url": f"{urls.web}/apps/github-actions",
        "created_at": "2018-07-30T09:30:17Z",
        "updated_at": "2024-04-10T20:33:16Z",
        "permissions": {"checks": "write", "contents": "write", "statuses": "write"},
        "events": ["check_run", "check_suite", "push", "pull_request", "workflow_dispatch"],
    }


def check_run(urls: Urls, repo: str, view: CheckView) -> JSON:
    api = urls.repo(repo)
    html = f"{urls.html(repo)}/actions/runs/{view.job.suite_id}/job/{view.id}"
    return {
        "id": view.id,
        "name": view.name,
        "node_id": node_id("CR", view.id),
        "head_sha": view.job.sha,
        "external_id": str(view.id),
        "url": f"{api}/check-runs/{view.id}",
        "html_url": html,
        "details_url": html,
        "status": view.status,
        "conclusion": view.conclusion,
        "started_at": iso(view.started_at),
        "completed_at": iso(view.completed_at),
        "output": {
            "title": None,
            "summary": None,
            "text": None,
            "annotations_count": 0,
            "annotations_url": f"{api}/check-runs/{view.id}/annotations",
        },
        "check_suite": {"id": view.job.suite_id},
        "app": _app(urls),
        "pull_requests": [],
    }


def _status_states(forge: Forge, repo: str, sha: str) -> list[StatusRecord]:
    """The newest status per context: posted ones, plus CI's own in `statuses` mode."""
    with forge.store.lock:
        posted = [s for s in forge.store.state.statuses if s.repo == repo and s.sha == sha]
    derived = [
        StatusRecord(
            id=v.id,
            repo=repo,
            sha=sha,
            state="pending" if v.conclusion is None else v.conclusion,
            context=f"ci/{v.name}",
            description=f"CI {v.status}",
            target_url=None,
            creator="github-actions[bot]",
            created_at=v.completed_at or v.started_at,
        )
        for v in newest_runs(views(forge, repo, sha))
        if v.job.mode in ("statuses", "both")
    ]
    latest: dict[str, StatusRecord] = {}
    for status in sorted(posted + derived, key=lambda s: (s.created_at, s.id)):
        latest[status.context] = status
    return sorted(latest.values(), key=lambda s: s.context)


def combined_state(statuses: list[StatusRecord]) -> str:
    states = {s.state for s in statuses}
    if states & {"failure", "error"}:
        return "failure"
    if "pending" in states or not states:
        return "pending"
    return "success"


def required_state(forge: Forge, repo: str, sha: str, contexts: list[str]) -> tuple[str, str]:
    """(`success`|`pending`|`failure`, first context not green) for branch protection."""
    checks = {v.name: v for v in newest_runs(views(forge, repo, sha))}
    statuses = {s.context: s for s in _status_states(forge, repo, sha)}
    for context in contexts:
        if context in checks:
            view = checks[context]
            state = "pending" if view.conclusion is None else view.conclusion
        elif context in statuses:
            state = statuses[context].state
        else:
            return "pending", context
        if state != "success":
            return ("pending" if state == "pending" else "failure"), context
    return "success", ""


def _status_json(urls: Urls, repo: str, status: StatusRecord, full: bool) -> JSON:
    shape: JSON = {
        "url": f"{urls.repo(repo)}/statuses/{status.sha}",
        "avatar_url": f"{urls.web}/avatars/{status.creator}",
        "id": status.id,
        "node_id": node_id("SC", status.id),
        "state": status.state,
        "description": status.description,
        "target_url": status.target_url,
        "context": status.context,
        "created_at": iso(status.created_at),
        "updated_at": iso(status.created_at),
    }
    if full:
        shape["creator"] = user(urls, status.creator)
    else:
        shape["required"] = False
    return shape


def _commit_sha(forge: Forge, req: Request) -> tuple[str, str]:
    record, bare = forge.repo(req.params["owner"], req.params["repo"])
    sha = bare.resolve(req.params["ref"])
    if sha is None:
        raise ApiError(422, f"No commit found for SHA: {req.params['ref']}")
    return record.name, sha


def get_combined_status(forge: Forge, req: Request) -> Reply:
    repo, sha = _commit_sha(forge, req)
    statuses = _status_states(forge, repo, sha)
    record, _ = forge.repo(req.params["owner"], repo)
    body = {
        "state": combined_state(statuses),
        "statuses": [_status_json(forge.urls, repo, s, full=False) for s in statuses],
        "sha": sha,
        "total_count": len(statuses),
        "repository": minimal_repo(forge.urls, record),
        "commit_url": f"{forge.urls.repo(repo)}/commits/{sha}",
        "url": f"{forge.urls.repo(repo)}/commits/{sha}/status",
    }
    return Reply(200, body)


def list_statuses(forge: Forge, req: Request) -> Reply:
    repo, sha = _commit_sha(forge, req)
    with forge.store.lock:
        posted = [s for s in forge.store.state.statuses if s.repo == repo and s.sha == sha]
    items = [_status_json(forge.urls, repo, s, full=True) for s in reversed(posted)]
    return paginate(req, items, f"{forge.urls.repo(repo)}/commits/{sha}/statuses")


def create_status(forge: Forge, req: Request) -> Reply:
    record, bare = forge.repo(req.params["owner"], req.params["repo"])
    sha = bare.resolve(req.params["sha"]) if len(req.params["sha"]) == 40 else None
    if sha is None:
        raise ApiError(422, f"No commit found for SHA: {req.params['sha']}")
    state = req.require("state")
    if state not in ("error", "failure", "pending", "success"):
        raise ApiError(
            422,
            "Validation Failed",
            errors=[{"resource": "Status", "field": "state", "code": "custom"}],
        )
    status = StatusRecord(
        id=forge.store.next_id(),
        repo=record.name,
        sha=sha,
        state=state,
        context=req.json_field("context") or "default",
        description=req.json_field("description"),
        target_url=req.json_field("target_url"),
        creator=req.token.login,
        created_at=time.time(),
    )
    with forge.store.lock:
        forge.store.state.statuses.append(status)
    return Reply(201, _status_json(forge.urls, record.name, status, full=True))


def newest_runs(found: list[CheckView]) -> list[CheckView]:
    """GitHub's default `filter=latest`: the newest run of each check name."""
    newest: dict[str, CheckView] = {}
    for view in found:  # newest first
        newest.setdefault(view.name, view)
    return sorted(newest.values(), key=lambda v: -v.id)


def list_check_runs(forge: Forge, req: Request) -> Reply:
    repo, sha = _commit_sha(forge, req)
    # A CI that reports through commit statuses only (Jenkins-like) makes no check runs.
    selected = [v for v in views(forge, repo, sha) if v.job.mode != "statuses"]
    if req.query.get("filter", "latest") != "all":
        selected = newest_runs(selected)
    name, status = req.query.get("check_name"), req.query.get("status")
    selected = [
        v for v in selected if (not name or v.name == name) and (not status or v.status == status)
    ]
    items: list[Any] = [check_run(forge.urls, repo, v) for v in selected]
    return paginate(
        req, items, f"{forge.urls.repo(repo)}/commits/{sha}/check-runs", key="check_runs"
    )


def get_check_run(forge: Forge, req: Request) -> Reply:
    record, _ = forge.repo(req.params["owner"], req.params["repo"])
    with forge.store.lock:
        shas = sorted({j.sha for j in forge.store.state.ci_jobs if j.repo == record.name})
    for sha in shas:
        for view in views(forge, record.name, sha):
            if str(view.id) == req.params["check_run_id"]:
                return Reply(200, check_run(forge.urls, record.name, view))
    raise ApiError(404, "Not Found")


ROUTES = [
    route("GET", "/repos/{owner}/{repo}/commits/{ref+}/status", get_combined_status),
    route("GET", "/repos/{owner}/{repo}/commits/{ref+}/statuses", list_statuses),
    route("GET", "/repos/{owner}/{repo}/commits/{ref+}/check-runs", list_check_runs),
    route("POST", "/repos/{owner}/{repo}/statuses/{sha}", create_status),
    route("GET", "/repos/{owner}/{repo}/statuses/{ref}", list_statuses),
    route("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}", get_check_run),
]
