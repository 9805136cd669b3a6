"""Merge commits as GitHub writes them (merge or squash), for REST merges and merge queues."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from release_train.sandbox.github.bare import BOT_EMAIL, BOT_NAME, BareRepo, Person
from release_train.sandbox.github.model import MergeRecord, PullRecord
from release_train.sandbox.github.shapes import user_id

if TYPE_CHECKING:
    from release_train.sandbox.github.forge import Forge


def merge_commit(
    forge: Forge,
    pr: PullRecord,
    bare: BareRepo,
    base: str | None,
    head: str,
    *,
    method: str,
    login: str,
    title: str | None = None,
    body: str | None = None,
) -> str | None:
    """The commit that merges `head` into `base` by `method` (GitHub's messages); None: conflict."""
    tree = bare.merge_tree(base, head) if base else None
    if base is None or tree is None:
        return None
    now = int(time.time())
    author = Person(login, f"{user_id(login)}+{login}@users.noreply.github.com", now)
    committer = Person(BOT_NAME, BOT_EMAIL, now)
    if method == "squash":
        title = title or f"{pr.title} (#{pr.number})"
        default = bare.git("log", "--reverse", "--format=* %B", f"{base}..{head}").strip()
        parents = [base]
    else:
        title = title or f"Merge pull request #{pr.number} from {forge.owner}/{pr.head_ref}"
        default = pr.title
        parents = [base, head]
    message = f"{title}\n\n{default if body is None else body}".rstrip() + "\n"
    return bare.commit_tree(tree, parents, message, author, committer)


def record_merge(
    forge: Forge, pr: PullRecord, login: str, method: str, *, base: str, head: str, sha: str
) -> None:
    """Mark `pr` merged (closed) by `login` with merge commit `sha`, and log the merge."""
    now = float(int(time.time()))
    with forge.store.lock:
        pr.state, pr.merged, pr.merged_by = "closed", True, login
        pr.merged_at = pr.closed_at = pr.updated_at = now
        pr.merge_commit_sha, pr.head_sha = sha, head
        forge.store.state.merges.append(
            MergeRecord(
                repo=pr.repo,
                number=pr.number,
                method=method,
                base_ref=pr.base_ref,
                base_before=base,
                head_sha=head,
                sha=sha,
                at=now,
            )
        )
