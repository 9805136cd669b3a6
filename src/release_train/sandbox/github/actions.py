"""The Actions API: the release workflow, its dispatch, its runs and their environment approvals."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from release_train.sandbox.github import workflows
from release_train.sandbox.github.api import ApiError, Reply, Request, not_found, paginate, route
from release_train.sandbox.github.model import ApprovalRecord, RepoRecord, RunRecord
from release_train.sandbox.github.shapes import JSON, iso, minimal_repo, node_id, user, user_id

if TYPE_CHECKING:
    from release_train.sandbox.github.forge import Forge

WORKFLOW_NAME = "release"


def _workflow(forge: Forge, req: Request) -> RepoRecord:
    """The repo's release workflow by id or file name; repos in publish mode `none` have none."""
    record, _ = forge.repo(req.params["owner"], req.params["repo"])
    wanted = req.params["workflow_id"]
    if record.publish.mode == "none" or wanted not in (
        str(record.workflow_id),
        record.publish.workflow,
    ):
        raise not_found()
    return record


def workflow_json(forge: Forge, record: RepoRecord) -> JSON:
    api = f"{forge.urls.repo(record.name)}/actions/workflows/{record.workflow_id}"
    path = workflows.workflow_path(record.publish.workflow)
    branch = forge.default_branch(forge.repos[record.name])
    html = f"{forge.urls.html(record.name)}/blob/{branch}/{path}"
    return {
        "id": record.workflow_id,
        "node_id": node_id("W", record.workflow_id),
        "name": WORKFLOW_NAME,
        "path": path,
        "state": "active",
        "created_at": iso(record.created_at),
        "updated_at": iso(record.created_at),
        "url": api,
        "html_url": html,
        "badge_url": f"{forge.urls.html(record.name)}/workflows/{WORKFLOW_NAME}/badge.svg",
    }


def run_json(forge: Forge, run: RunRecord) -> JSON:
    record = forge.store.state.repos[run.repo]
    api = f"{forge.urls.repo(run.repo)}/actions/runs/{run.id}"
    info = forge.repos[run.repo].commit(run.head_sha)
    author = {"name": info.author.name, "email": info.author.email}
    committer = {"name": info.committer.name, "email": info.committer.email}
    return {
        "id": run.id,
        "name": WORKFLOW_NAME,
        "node_id": node_id("WFR", run.id),
        "check_suite_id": run.id + 1,
        "check_suite_node_id": node_id("CS", run.id + 1),
        "head_branch": run.head_branch,
        "head_sha": run.head_sha,
        "path": workflows.workflow_path(record.publish.workflow),
        "display_title": f"release {run.tag or run.head_branch or run.head_sha[:7]}",
        "run_number": run.run_number,
        "run_attempt": 1,
        "event": run.event,
        "status": run.status,
        "conclusion": run.conclusion,
        "workflow_id": record.workflow_id,
        "url": api,
        "html_url": f"{forge.urls.html(run.repo)}/actions/runs/{run.id}",
        "pull_requests": [],
        "created_at": iso(run.created_at),
        "updated_at": iso(run.updated_at),
        "run_started_at": iso(run.started_at or run.created_at),
        "actor": user(forge.urls, run.actor, "Bot"),
        "triggering_actor": user(forge.urls, run.actor, "Bot"),
        "jobs_url": f"{api}/jobs",
        "logs_url": f"{api}/logs",
        "check_suite_url": f"{forge.urls.repo(run.repo)}/check-suites/{run.id + 1}",
        "artifacts_url": f"{api}/artifacts",
        "cancel_url": f"{api}/cancel",
        "rerun_url": f"{api}/rerun",
        "workflow_url": f"{forge.urls.repo(run.repo)}/actions/workflows/{record.workflow_id}",
        "head_commit": {
            "id": info.sha,
            "tree_id": info.tree,
            "message": info.message,
            "timestamp": iso(info.committer.epoch),
            "author": author,
            "committer": committer,
        },
        "repository": minimal_repo(forge.urls, record),
        "head_repository": minimal_repo(forge.urls, record),
    }


def list_workflows(forge: Forge, req: Request) -> Reply:
    record, _ = forge.repo(req.params["owner"], req.params["repo"])
    items: list[Any] = [] if record.publish.mode == "none" else [workflow_json(forge, record)]
    return paginate(
        req, items, f"{forge.urls.repo(record.name)}/actions/workflows", key="workflows"
    )


def get_workflow(forge: Forge, req: Request) -> Reply:
    return Reply(200, workflow_json(forge, _workflow(forge, req)))


def dispatch(forge: Forge, req: Request) -> Reply:
    """`workflow_dispatch`: runs the release workflow for `inputs.tag` (or a tag `ref`)."""
    record = _workflow(forge, req)
    bare = forge.repos[record.name]
    ref = str(req.require("ref")).removeprefix("refs/heads/").removeprefix("refs/tags/")
    refs = bare.refs()
    is_tag = f"refs/tags/{ref}" in refs
    if f"refs/heads/{ref}" not in refs and not is_tag:
        raise ApiError(422, f"No ref found for: {ref}")
    inputs = req.json_field("inputs") or {}
    if not isinstance(inputs, dict):
        raise ApiError(422, "Invalid request.\n\nFor 'properties/inputs', is not an object.")
    # GitHub reads the workflow file at the dispatched ref and checks the inputs against it.
    sha = bare.resolve(f"refs/tags/{ref}" if is_tag else f"refs/heads/{ref}") or ""
    declared = workflows.workflow_at(bare, record.publish.workflow, sha) if sha else None
    refusal = workflows.dispatch_refusal(declared, inputs)
    if refusal is not None:
        raise ApiError(422, refusal)
    tag = inputs.get("tag") or (ref if is_tag else None)
    assert forge.runner is not None  # noqa: S101 - the stand-in starts its runner before serving
    run = forge.runner.trigger(
        record.name,
        tag=str(tag) if tag else None,
        sha=sha,
        event="workflow_dispatch",
        head_branch=ref,
        actor=req.token.login,
    )
    if req.json_field("return_run_details"):
        body = {
            "workflow_run_id": run.id,
            "run_url": f"{forge.urls.repo(record.name)}/actions/runs/{run.id}",
            "html_url": f"{forge.urls.html(record.name)}/actions/runs/{run.id}",
        }
        return Reply(200, body)
    return Reply(204)


def _runs(forge: Forge, req: Request, repo: str) -> list[RunRecord]:
    query = req.query
    with forge.store.lock:
        runs = [r.model_copy() for r in forge.store.state.runs if r.repo == repo]
    keep = []
    for run in runs:
        if query.get("event") and run.event != query["event"]:
            continue
        if query.get("head_sha") and run.head_sha != query["head_sha"]:
            continue
        if query.get("branch") and run.head_branch != query["branch"]:
            continue
        if query.get("status") and query["status"] not in (run.status, run.conclusion):
            continue
        keep.append(run)
    return sorted(keep, key=lambda r: -r.id)


def list_runs(forge: Forge, req: Request) -> Reply:
    record, _ = forge.repo(req.params["owner"], req.params["repo"])
    items: list[Any] = [run_json(forge, r) for r in _runs(forge, req, record.name)]
    return paginate(req, items, f"{forge.urls.repo(record.name)}/actions/runs", key="workflow_runs")


def list_workflow_runs(forge: Forge, req: Request) -> Reply:
    record = _workflow(forge, req)
    items: list[Any] = [run_json(forge, r) for r in _runs(forge, req, record.name)]
    url = f"{forge.urls.repo(record.name)}/actions/workflows/{record.workflow_id}/runs"
    return paginate(req, items, url, key="workflow_runs")


def _find_run(forge: Forge, req: Request) -> RunRecord | None:
    record, _ = forge.repo(req.params["owner"], req.params["repo"])
    with forge.store.lock:
        for run in forge.store.state.runs:
            if run.repo == record.name and str(run.id) == req.params["run_id"]:
                return run.model_copy()
    return None


def get_run(forge: Forge, req: Request) -> Reply:
    run = _find_run(forge, req)
    if run is None:
        raise not_found()
    return Reply(200, run_json(forge, run))


def _approvals(forge: Forge, req: Request) -> list[ApprovalRecord]:
    """Reviews of a run; the admin API may add them for runs it does not host (a central repo's)."""
    record, _ = forge.repo(req.params["owner"], req.params["repo"])
    with forge.store.lock:
        found = [
            a
            for a in forge.store.state.approvals
            if a.repo == record.name and str(a.run_id) == req.params["run_id"]
        ]
    if not found and _find_run(forge, req) is None:
        raise not_found()
    return found


def approval_json(forge: Forge, approval: ApprovalRecord) -> JSON:
    env_id = user_id(f"{approval.repo}/{approval.environment}")
    env_url = f"{forge.urls.repo(approval.repo)}/environments/{approval.environment}"
    return {
        "state": approval.state,
        "comment": approval.comment,
        "user": user(forge.urls, approval.user),
        "environments": [
            {
                "id": env_id,
                "node_id": node_id("EN", env_id),
                "name": approval.environment,
                "url": env_url,
                "html_url": f"{forge.urls.html(approval.repo)}/deployments/{approval.environment}",
                "created_at": iso(approval.created_at),
                "updated_at": iso(approval.created_at),
            }
        ],
    }


def list_approvals(forge: Forge, req: Request) -> Reply:
    return Reply(200, [approval_json(forge, a) for a in _approvals(forge, req)])


def pending_deployments(forge: Forge, req: Request) -> Reply:
    _approvals(forge, req)
    return Reply(200, [])


ROUTES = [
    route("GET", "/repos/{owner}/{repo}/actions/workflows", list_workflows),
    route("GET", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}", get_workflow),
    route("POST", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches", dispatch),
    route("GET", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs", list_workflow_runs),
    route("GET", "/repos/{owner}/{repo}/actions/runs", list_runs),
    route("GET", "/repos/{owner}/{repo}/actions/runs/{run_id}", get_run),
    route("GET", "/repos/{owner}/{repo}/actions/runs/{run_id}/approvals", list_approvals),
    route(
        "GET",
        "/repos/{owner}/{repo}/actions/runs/{run_id}/pending_deployments",
        pending_deployments,
    ),
]
