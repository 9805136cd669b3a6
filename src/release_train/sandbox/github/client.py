"""`SandboxAdmin`: a urllib client of the stand-in's admin API, for tests and `sandbox status`."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from release_train.errors import ErrorCode, ReleaseError

TIMEOUT = 30.0


class SandboxAdmin:
    """Steers a running GitHub stand-in through `{admin_url}` (e.g. `http://127.0.0.1:P/_sandbox`)."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url.rstrip("/")

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - the URL is the stand-in's own http URL
            self.admin_url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            detail = json.loads(exc.read() or b"{}").get("error", exc.reason)
            raise ReleaseError(
                ErrorCode.SANDBOX_ERROR,
                f"{method} {path}: {detail}",
                hint="the stand-in's admin API refused it: see its log",
            ) from exc
        except urllib.error.URLError as exc:
            raise ReleaseError(
                ErrorCode.SANDBOX_ERROR,
                f"the GitHub stand-in at {self.admin_url} does not answer: {exc.reason}",
                hint="start it with `release-train sandbox up`",
            ) from exc

    def info(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/")
        return result

    def snapshot(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/snapshot")
        return result

    def requests(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/requests")
        return result

    def clear_requests(self) -> None:
        self._call("DELETE", "/requests")

    def set_ci(
        self,
        repo: str,
        *,
        conclusion: str | None = None,
        duration: float | None = None,
        mode: str | None = None,
        checks: list[str] | None = None,
        required: list[str] | None = None,
        ruleset: list[str] | None = None,
        protection_readable: bool | None = None,
        late: dict[str, float] | None = None,
        failing: list[str] | None = None,
    ) -> dict[str, Any]:
        """CI of `repo`: conclusion success|failure|none, seconds, mode checks|statuses|both;
        branch protection's `required` contexts, a ruleset's, checks that register `late`
        (name -> seconds) and checks that fail whatever the conclusion."""
        settings = {
            "conclusion": conclusion,
            "duration": duration,
            "mode": mode,
            "checks": checks,
            "required": required,
            "ruleset": ruleset,
            "protection_readable": protection_readable,
            "late": late,
            "failing": failing,
        }
        result: dict[str, Any] = self._call("POST", f"/repos/{repo}/ci", _given(settings))
        return result

    def set_rules(self, repo: str, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Replace `repo`'s ruleset rules: each `{type, parameters?, branches?}` (fnmatch)."""
        result: list[dict[str, Any]] = self._call("POST", f"/repos/{repo}/rules", {"rules": rules})
        return result

    def require_merge_queue(
        self,
        repo: str,
        branch: str = "main",
        *,
        merge_method: str = "SQUASH",
        delay: float | None = None,
    ) -> dict[str, Any]:
        """Require a merge queue on `branch` (a `merge_queue` ruleset rule); `delay`: the
        seconds each entry waits QUEUED before its merge group is built."""
        body: dict[str, Any] = {"branch": branch, "merge_method": merge_method}
        if delay is not None:
            body["delay"] = delay
        result: dict[str, Any] = self._call("POST", f"/repos/{repo}/merge-queue", body)
        return result

    def rerun_ci(self, repo: str, sha: str) -> None:
        """Re-run CI on `sha` with the repo's current settings (GitHub's "Re-run all jobs")."""
        self._call("POST", f"/repos/{repo}/ci/rerun", {"sha": sha})

    def set_publish(
        self, repo: str, *, mode: str | None = None, delay: float | None = None
    ) -> dict[str, Any]:
        """Publish mode tag|dispatch|none and a per-repo delay (overrides the global one)."""
        body = _given({"mode": mode})
        if delay is not None:
            body["delay"] = delay
        result: dict[str, Any] = self._call("POST", f"/repos/{repo}/publish", body)
        return result

    def set_publish_delay(self, seconds: float) -> None:
        self._call("POST", "/publish-delay", {"delay": seconds})

    def set_rate_limit(self, limit: int) -> None:
        self._call("POST", "/rate-limit", {"limit": limit})

    def add_approval(
        self,
        repo: str,
        run_id: int,
        *,
        user: str,
        state: str = "approved",
        comment: str = "",
        environment: str = "release",
    ) -> dict[str, Any]:
        body = {"user": user, "state": state, "comment": comment, "environment": environment}
        result: dict[str, Any] = self._call("POST", f"/repos/{repo}/runs/{run_id}/approvals", body)
        return result

    def add_fault(
        self,
        kind: str,
        *,
        rate: float | None = None,
        count: int | None = None,
        method: str | None = None,
        path_prefix: str | None = None,
        graphql: str | None = None,
        status: int | None = None,
        retry_after: int | None = None,
        latency: float | None = None,
        phase: str | None = None,
        seed: int | None = None,
    ) -> dict[str, Any]:
        """kind error|secondary_rate_limit|drop|latency; by `rate` (probability) or `count`;
        `graphql` narrows it to GraphQL requests selecting that root field."""
        body = _given(
            {
                "kind": kind,
                "rate": rate,
                "count": count,
                "method": method,
                "path_prefix": path_prefix,
                "graphql": graphql,
                "status": status,
                "retry_after": retry_after,
                "latency": latency,
                "phase": phase,
                "seed": seed,
            }
        )
        result: dict[str, Any] = self._call("POST", "/faults", body)
        return result

    def faults(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/faults")
        return result

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def seed_faults(self, seed: int) -> None:
        self._call("POST", "/faults/seed", {"seed": seed})

    def make_token(self, *, read_only: bool = False, actions: bool = False) -> str:
        body = {"read_only": read_only, "actions": actions}
        return str(self._call("POST", "/tokens", body)["token"])

    def add_repo(self, name: str, source: Path) -> None:
        self._call("POST", "/repos", {"name": name, "source": str(source)})


def _given(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}
