"""Branch rules: the default branch's protection, its rulesets, and the rules of a branch.

The required checks come from the repo's CI settings (`required`, `ruleset`), the other
rules (a merge queue, reviews) from the admin API; the merge enforces them too, so what a
client reads here is what a merge is held to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from release_train.sandbox.github import access
from release_train.sandbox.github.api import (
    ApiError,
    Reply,
    Request,
    not_found,
    paginate,
    route,
)
from release_train.sandbox.github.model import RuleRecord
from release_train.sandbox.github.shapes import JSON, iso, node_id

if TYPE_CHECKING:
    from release_train.sandbox.github.forge import Forge

ACTIONS_APP_ID = 15368  # the `github-actions` app that reports the simulated check runs
NOT_ACCESSIBLE = "Resource not accessible by integration"


def _default_branch_settings(forge: Forge, req: Request) -> tuple[str, Any, bool]:
    """(repo, its CI settings, whether `branch` is the default branch the rules apply to)."""
    record, bare = forge.repo(req.params["owner"], req.params["repo"])
    return record.name, record.ci, req.params["branch"] == forge.default_branch(bare)


def _enabled(value: bool = False) -> JSON:
    return {"enabled": value}


def get_protection(forge: Forge, req: Request) -> Reply:
    """`GET .../branches/{branch}/protection`: 404 "Branch not protected" without rules."""
    repo, settings, default = _default_branch_settings(forge, req)
    if not settings.protection_readable:
        raise ApiError(403, NOT_ACCESSIBLE)
    if not default or not settings.required:
        raise ApiError(404, "Branch not protected")
    url = f"{forge.urls.repo(repo)}/branches/{req.params['branch']}/protection"
    body = {
        "url": url,
        "required_status_checks": {
            "url": f"{url}/required_status_checks",
            "strict": False,
            "contexts": list(settings.required),
            "contexts_url": f"{url}/required_status_checks/contexts",
            "checks": [{"context": name, "app_id": None} for name in settings.required],
        },
        "enforce_admins": {"url": f"{url}/enforce_admins", "enabled": False},
        "required_linear_history": _enabled(),
        "allow_force_pushes": _enabled(),
        "allow_deletions": _enabled(),
        "block_creations": _enabled(),
        "required_conversation_resolution": _enabled(),
        "lock_branch": _enabled(),
        "allow_fork_syncing": _enabled(),
    }
    return Reply(200, body)


def get_branch_rules(forge: Forge, req: Request) -> Reply:
    """`GET .../rules/branches/{branch}`: the rules that apply, readable with read access."""
    repo, settings, default = _default_branch_settings(forge, req)
    items: list[Any] = []
    if default and settings.ruleset:
        checks = [{"context": name, "integration_id": ACTIONS_APP_ID} for name in settings.ruleset]
        items.append(
            {
                "type": "required_status_checks",
                "parameters": {
                    "required_status_checks": checks,
                    "strict_required_status_checks_policy": False,
                    "do_not_enforce_on_create": False,
                },
                "ruleset_source_type": "Repository",
                "ruleset_source": f"{forge.owner}/{repo}",
                "ruleset_id": 1,
            }
        )
    items += access.stored_rules(forge, repo, req.params["branch"])  # set by the admin API
    return paginate(req, items, f"{forge.urls.repo(repo)}/rules/branches/{req.params['branch']}")


@dataclass(frozen=True)
class Ruleset:
    id: int
    name: str
    patterns: list[str]  # fnmatch patterns of branch names, `~DEFAULT_BRANCH`, `~ALL`
    rules: list[JSON]


def _rulesets(forge: Forge, repo: str) -> list[Ruleset]:
    """The repo's rulesets: the CI settings' required checks, then one per admin-set rule."""
    record = forge.store.state.repos[repo]
    found = []
    if record.ci.ruleset:
        checks = [{"context": name, "integration_id": ACTIONS_APP_ID} for name in record.ci.ruleset]
        parameters = {
            "required_status_checks": checks,
            "strict_required_status_checks_policy": False,
            "do_not_enforce_on_create": False,
        }
        rule = {"type": "required_status_checks", "parameters": parameters}
        found.append(Ruleset(1, "required checks", ["~DEFAULT_BRANCH"], [rule]))
    for stored in record.rules:
        found.append(Ruleset(stored.ruleset_id, stored.type, stored.branches, [_rule(stored)]))
    return found


def _rule(stored: RuleRecord) -> JSON:
    shape: JSON = {"type": stored.type}
    if stored.parameters is not None:
        shape["parameters"] = stored.parameters
    return shape


def _ruleset_json(forge: Forge, repo: str, ruleset: Ruleset) -> JSON:
    ident, name = ruleset.id, ruleset.name
    created = iso(forge.store.state.repos[repo].created_at)
    return {
        "id": ident,
        "name": name,
        "target": "branch",
        "source_type": "Repository",
        "source": f"{forge.owner}/{repo}",
        "enforcement": "active",
        "node_id": node_id("RRS", ident),
        "_links": {
            "self": {"href": f"{forge.urls.repo(repo)}/rulesets/{ident}"},
            "html": {"href": f"{forge.urls.html(repo)}/rules/{ident}"},
        },
        "created_at": created,
        "updated_at": created,
    }


def list_rulesets(forge: Forge, req: Request) -> Reply:
    """`GET .../rulesets`: the repo's rulesets, without their rules (as GitHub lists them)."""
    record, _ = forge.repo(req.params["owner"], req.params["repo"])
    with forge.store.lock:
        items: list[Any] = [
            _ruleset_json(forge, record.name, r) for r in _rulesets(forge, record.name)
        ]
    return paginate(req, items, f"{forge.urls.repo(record.name)}/rulesets")


def get_ruleset(forge: Forge, req: Request) -> Reply:
    """`GET .../rulesets/{id}`: one ruleset with its ref conditions and rules."""
    record, _ = forge.repo(req.params["owner"], req.params["repo"])
    with forge.store.lock:
        for ruleset in _rulesets(forge, record.name):
            if str(ruleset.id) == req.params["ruleset_id"]:
                include = [
                    p if p.startswith(("~", "refs/")) else f"refs/heads/{p}"
                    for p in ruleset.patterns
                ]
                body = _ruleset_json(forge, record.name, ruleset)
                body["current_user_can_bypass"] = "never"
                body["bypass_actors"] = []
                body["conditions"] = {"ref_name": {"include": include, "exclude": []}}
                body["rules"] = ruleset.rules
                return Reply(200, body)
    raise not_found()


# Before `repos.ROUTES`, whose `/branches/{branch+}` would take these paths too.
ROUTES = [
    route("GET", "/repos/{owner}/{repo}/branches/{branch+}/protection", get_protection),
    route("GET", "/repos/{owner}/{repo}/rules/branches/{branch+}", get_branch_rules),
    route("GET", "/repos/{owner}/{repo}/rulesets", list_rulesets),
    route("GET", "/repos/{owner}/{repo}/rulesets/{ruleset_id}", get_ruleset),
]
