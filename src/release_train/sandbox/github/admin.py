"""The admin API under `/_sandbox/`: settings, approvals, faults, request log, world snapshot.

It has no authentication: the stand-in only listens on 127.0.0.1, and the admin API is how
the tests and `release-train sandbox` steer it. Bodies are JSON; errors are
`{"error": "..."}` with status 400 (bad input) or 404 (unknown repo or path).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from release_train.errors import ReleaseError
from release_train.sandbox.github import access, ci
from release_train.sandbox.github.api import template
from release_train.sandbox.github.faults import FaultRule
from release_train.sandbox.github.hosting import Raw
from release_train.sandbox.github.model import (
    ApprovalRecord,
    CiSettings,
    PublishSettings,
    QueueSettings,
)

if TYPE_CHECKING:
    from release_train.sandbox.github.frontend import Frontend

AdminHandler = Callable[["Frontend", dict[str, str], Any], Any]


@dataclass(frozen=True)
class _AdminRoute:
    method: str
    path: str
    handler: AdminHandler

    @property
    def pattern(self) -> re.Pattern[str]:
        return template(self.path)


class AdminError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _repo(front: Frontend, params: dict[str, str]) -> str:
    name = params["repo"]
    if name not in front.forge.store.state.repos:
        raise AdminError(404, f"no repository {name}")
    return name


def _update(model: BaseModel, body: Any) -> Any:
    """`model` with the fields of `body` laid over it, validated."""
    if not isinstance(body, dict):
        raise AdminError(400, "expected a JSON object")
    return type(model).model_validate({**model.model_dump(), **body})


def info(front: Frontend, params: dict[str, str], body: Any) -> Any:
    forge = front.forge
    return {
        "owner": forge.owner,
        "api_url": forge.urls.api,
        "server_url": forge.urls.web,
        "repos": sorted(forge.store.state.repos),
        "publish_delay": forge.store.state.publish_delay,
        "rate_limit": forge.store.state.rate_limit,
    }


def set_ci(front: Frontend, params: dict[str, str], body: Any) -> Any:
    name = _repo(front, params)
    with front.forge.store.lock:
        record = front.forge.store.state.repos[name]
        if body is not None:
            record.ci = CiSettings.model_validate(_update(record.ci, body).model_dump())
        return record.ci.model_dump()


def rerun_ci(front: Frontend, params: dict[str, str], body: Any) -> Any:
    """ "Re-run all jobs" of `sha`: new check runs with the repo's current CI settings."""
    name = _repo(front, params)
    sha = body.get("sha") if isinstance(body, dict) else None
    if not isinstance(sha, str) or front.forge.repos[name].object_type(sha) != "commit":
        raise ValueError('expected {"sha": "<a commit of the repo>"}')
    ci.start(front.forge, name, sha, rerun=True)
    return {"sha": sha}


def set_publish(front: Frontend, params: dict[str, str], body: Any) -> Any:
    name = _repo(front, params)
    with front.forge.store.lock:
        record = front.forge.store.state.repos[name]
        if body is not None:
            record.publish = PublishSettings.model_validate(
                _update(record.publish, body).model_dump()
            )
        return record.publish.model_dump()


def set_publish_delay(front: Frontend, params: dict[str, str], body: Any) -> Any:
    delay = _number(body, "delay")
    with front.forge.store.lock:
        front.forge.store.state.publish_delay = delay
    return {"delay": delay}


def set_rate_limit(front: Frontend, params: dict[str, str], body: Any) -> Any:
    limit = int(_number(body, "limit"))
    with front.forge.store.lock:
        front.forge.store.state.rate_limit = limit
    return {"limit": limit}


def _number(body: Any, key: str) -> float:
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, int | float) or value < 0:
        raise AdminError(400, f"`{key}` must be a non-negative number")
    return float(value)


def set_rules(front: Frontend, params: dict[str, str], body: Any) -> Any:
    """The repo's ruleset rules: `{"rules": [{type, parameters?, branches?}]}` replaces them."""
    name = _repo(front, params)
    if body is None:
        with front.forge.store.lock:
            return [r.model_dump() for r in front.forge.store.state.repos[name].rules]
    return access.set_rules(
        front.forge, name, body.get("rules") if isinstance(body, dict) else None
    )


def merge_queue(front: Frontend, params: dict[str, str], body: Any) -> Any:
    """Require a merge queue on a branch: `{branch, merge_method?, delay?, parameters?}`.

    It is a ruleset rule of type `merge_queue` (replacing one on the same branch), as
    GitHub stores it; `delay` paces the repo's queues (seconds an entry waits QUEUED).
    """
    name = _repo(front, params)
    forge = front.forge
    if body is None:
        with forge.store.lock:
            record = forge.store.state.repos[name]
            rules = [r.model_dump() for r in record.rules if r.type == "merge_queue"]
            return {"rules": rules, **record.queue.model_dump()}
    if not isinstance(body, dict) or not isinstance(body.get("branch"), str):
        raise AdminError(400, 'expected {"branch": "<branch>", "merge_method"?, "delay"?}')
    parameters = {**MERGE_QUEUE_DEFAULTS, **(body.get("parameters") or {})}
    parameters["merge_method"] = str(body.get("merge_method") or "SQUASH").upper()
    with forge.store.lock:
        record = forge.store.state.repos[name]
        kept = [
            r.model_dump(exclude={"ruleset_id"})
            for r in record.rules
            if not (r.type == "merge_queue" and r.branches == [body["branch"]])
        ]
        rule = {"type": "merge_queue", "parameters": parameters, "branches": [body["branch"]]}
        access.set_rules(forge, name, [*kept, rule])
        if body.get("delay") is not None:
            record.queue = QueueSettings(delay=_number(body, "delay"))
    return merge_queue(front, params, None)


# GitHub's defaults for a new merge queue rule (the ruleset form's).
MERGE_QUEUE_DEFAULTS: dict[str, Any] = {
    "check_response_timeout_minutes": 60,
    "grouping_strategy": "ALLGREEN",
    "max_entries_to_build": 5,
    "max_entries_to_merge": 5,
    "merge_method": "MERGE",
    "min_entries_to_merge": 1,
    "min_entries_to_merge_wait_minutes": 5,
}


def add_approval(front: Frontend, params: dict[str, str], body: Any) -> Any:
    name = _repo(front, params)
    if not isinstance(body, dict) or not params["run_id"].isdigit():
        raise AdminError(400, "expected {user, state, comment, environment} for a numeric run id")
    approval = ApprovalRecord(
        repo=name,
        run_id=int(params["run_id"]),
        user=str(body.get("user", "")),
        state=body.get("state", "approved"),
        comment=str(body.get("comment", "")),
        environment=str(body.get("environment", "release")),
        created_at=time.time(),
    )
    if not approval.user:
        raise AdminError(400, "`user` (a login) is required")
    with front.forge.store.lock:
        front.forge.store.state.approvals.append(approval)
    return approval.model_dump()


def add_fault(front: Frontend, params: dict[str, str], body: Any) -> Any:
    if not isinstance(body, dict):
        raise AdminError(400, "expected a JSON object")
    seed = body.pop("seed", None)
    if seed is not None:
        front.faults.seed(int(seed))
    return front.faults.add(FaultRule.model_validate(body)).model_dump()


def list_faults(front: Frontend, params: dict[str, str], body: Any) -> Any:
    return [rule.model_dump() for rule in front.faults.rules()]


def clear_faults(front: Frontend, params: dict[str, str], body: Any) -> Any:
    front.faults.clear()
    return []


def seed_faults(front: Frontend, params: dict[str, str], body: Any) -> Any:
    seed = int(_number(body, "seed"))
    front.faults.seed(seed)
    return {"seed": seed}


def requests_log(front: Frontend, params: dict[str, str], body: Any) -> Any:
    return front.requests()


def clear_log(front: Frontend, params: dict[str, str], body: Any) -> Any:
    front.clear_requests()
    return []


def make_token(front: Frontend, params: dict[str, str], body: Any) -> Any:
    body = body if isinstance(body, dict) else {}
    read_only, actions = bool(body.get("read_only", False)), bool(body.get("actions", False))
    token = front.forge.store.add_token(read_only=read_only, actions=actions)
    return {"token": token, "read_only": read_only, "actions": actions}


def add_repo(front: Frontend, params: dict[str, str], body: Any) -> Any:
    if not isinstance(body, dict) or "name" not in body or "source" not in body:
        raise AdminError(400, "expected {name, source}")
    front.forge.add_repo(str(body["name"]), Path(str(body["source"])))
    return {"name": body["name"], "clone_url": f"{front.forge.urls.html(str(body['name']))}.git"}


def snapshot(front: Frontend, params: dict[str, str], body: Any) -> Any:
    """The world for invariant checks: refs, PRs, merges, CI, releases, runs, approvals."""
    forge = front.forge
    with forge.store.lock:
        state = forge.store.state.model_copy(deep=True)
    repos = {}
    for name in sorted(state.repos):
        bare = forge.repos[name]
        refs = bare.refs()
        peeled = {
            ref.removeprefix("refs/tags/"): bare.resolve(ref) or sha
            for ref, sha in refs.items()
            if ref.startswith("refs/tags/")
        }
        repos[name] = {
            "default_branch": forge.default_branch(bare),
            "refs": refs,
            "branches": {
                r.removeprefix("refs/heads/"): s
                for r, s in refs.items()
                if r.startswith("refs/heads/")
            },
            "tags": peeled,
            "ci": state.repos[name].ci.model_dump(),
            "publish": state.repos[name].publish.model_dump(),
        }
    check_runs = [
        {
            "repo": job.repo,
            "sha": job.sha,
            "id": v.id,
            "name": v.name,
            "status": v.status,
            "conclusion": v.conclusion,
        }
        for job in state.ci_jobs
        for v in ci.views(forge, job.repo, job.sha)
        if v.job.suite_id == job.suite_id
    ]
    return {
        "owner": forge.owner,
        "publish_delay": state.publish_delay,
        "repos": repos,
        "pulls": [
            p.model_dump(
                include={
                    "repo",
                    "number",
                    "title",
                    "body",
                    "state",
                    "merged",
                    "head_ref",
                    "head_sha",
                    "base_ref",
                    "merge_commit_sha",
                    "user",
                }
            )
            for p in state.pulls
        ],
        "merges": [m.model_dump() for m in state.merges],
        "check_runs": sorted(check_runs, key=lambda c: c["id"]),
        "statuses": [s.model_dump() for s in state.statuses],
        "releases": [r.model_dump() for r in state.releases],
        "workflow_runs": [r.model_dump() for r in state.runs],
        "approvals": [a.model_dump() for a in state.approvals],
        "merge_queue": [e.model_dump() for e in state.queue],
        "merge_queue_events": [e.model_dump() for e in state.queue_events],
    }


ROUTES: list[_AdminRoute] = [
    _AdminRoute("GET", "/?", info),
    _AdminRoute("GET", "/snapshot", snapshot),
    _AdminRoute("GET", "/requests", requests_log),
    _AdminRoute("DELETE", "/requests", clear_log),
    _AdminRoute("GET", "/faults", list_faults),
    _AdminRoute("POST", "/faults", add_fault),
    _AdminRoute("DELETE", "/faults", clear_faults),
    _AdminRoute("POST", "/faults/seed", seed_faults),
    _AdminRoute("POST", "/tokens", make_token),
    _AdminRoute("POST", "/publish-delay", set_publish_delay),
    _AdminRoute("POST", "/rate-limit", set_rate_limit),
    _AdminRoute("POST", "/repos", add_repo),
    _AdminRoute("GET", "/repos/{repo}/ci", set_ci),
    _AdminRoute("POST", "/repos/{repo}/ci", set_ci),
    _AdminRoute("POST", "/repos/{repo}/ci/rerun", rerun_ci),
    _AdminRoute("GET", "/repos/{repo}/publish", set_publish),
    _AdminRoute("POST", "/repos/{repo}/publish", set_publish),
    _AdminRoute("POST", "/repos/{repo}/runs/{run_id}/approvals", add_approval),
    _AdminRoute("GET", "/repos/{repo}/rules", set_rules),
    _AdminRoute("POST", "/repos/{repo}/rules", set_rules),
    _AdminRoute("GET", "/repos/{repo}/merge-queue", merge_queue),
    _AdminRoute("POST", "/repos/{repo}/merge-queue", merge_queue),
]


def handle(front: Frontend, method: str, path: str, query: str, body: bytes) -> Raw:
    del query  # no admin call takes query parameters
    try:
        data = json.loads(body) if body.strip() else None
        handler, params = _find(method, path or "/")
        result = handler(front, params, data)
    except AdminError as exc:
        return _json(exc.status, {"error": str(exc)})
    except (ValueError, ValidationError, ReleaseError) as exc:
        message = exc.message if isinstance(exc, ReleaseError) else str(exc)
        return _json(400, {"error": message})
    return _json(200, result)


def _find(method: str, path: str) -> tuple[AdminHandler, dict[str, str]]:
    for candidate in ROUTES:
        match = candidate.pattern.match(path)
        if match and candidate.method == method:
            return candidate.handler, match.groupdict()
    raise AdminError(404, f"no admin endpoint {method} /_sandbox{path}")


def _json(status: int, body: Any) -> Raw:
    return Raw(
        status, [("Content-Type", "application/json")], json.dumps(body, sort_keys=True).encode()
    )
