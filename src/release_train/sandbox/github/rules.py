"""Branch rules: the default branch's protection and its rulesets' required status checks.

Both come from the repo's CI settings (`required`, `ruleset`), which the merge enforces
too, so what a client reads here is what a merge is held to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from release_train.sandbox.github import access
from release_train.sandbox.github.api import ApiError, Reply, Request, paginate, route
from release_train.sandbox.github.shapes import JSON

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


# Before `repos.ROUTES`, whose `/branches/{branch+}` would take these paths too.
ROUTES = [
    route("GET", "/repos/{owner}/{repo}/branches/{branch+}/protection", get_protection),
    route("GET", "/repos/{owner}/{repo}/rules/branches/{branch+}", get_branch_rules),
]
