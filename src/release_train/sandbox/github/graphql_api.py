"""`POST /api/graphql`: GitHub's GraphQL API for merge queues, executed by graphql-core.

Documents are parsed, validated and executed against `graphql_schema.SDL` (GitHub's own
types, a subset) by the `graphql-core` library, so a query GitHub would reject is rejected
here too. Objects are dicts whose callable values graphql-core's default resolver calls
lazily (with the field's arguments). Errors come back as GitHub sends them: HTTP 200 and
`{"errors": [{"type", "path", "locations", "message"}]}` beside whatever data resolved.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphql import (
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    build_schema,
    graphql_sync,
    parse,
)
from graphql.language import FieldNode

from release_train.sandbox.github import queue
from release_train.sandbox.github.graphql_schema import SDL
from release_train.sandbox.github.model import PullRecord, QueueEntryRecord, TokenRecord
from release_train.sandbox.github.shapes import iso, node_id

if TYPE_CHECKING:
    from release_train.sandbox.github.forge import Forge

PATH = "/api/graphql"
JSON = dict[str, Any]
_NODE = re.compile(r"^0:(?P<kind>PR|MQE|QE|C|R)(?P<key>[0-9a-f]{40}|\d+)$")
_schema: GraphQLSchema | None = None
_schema_lock = threading.Lock()


@dataclass(frozen=True)
class Context:
    forge: Forge
    token: TokenRecord


def not_found(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"type": "NOT_FOUND"})


def serve(forge: Forge, token: TokenRecord, body: bytes) -> tuple[int, JSON]:
    """(HTTP status, JSON body) of one GraphQL request."""
    try:
        request = json.loads(body)
    except ValueError:
        return 400, {"message": "Problems parsing JSON"}
    query = request.get("query") if isinstance(request, dict) else None
    if not isinstance(query, str):
        return 200, {
            "errors": [{"message": "A query attribute must be specified and not be null."}]
        }
    variables = request.get("variables") or {}
    result = graphql_sync(
        schema(),
        query,
        variable_values=variables if isinstance(variables, dict) else {},
        operation_name=request.get("operationName"),
        context_value=Context(forge, token),
    )
    answer: JSON = {}
    if result.errors:
        answer["errors"] = [_error(error) for error in result.errors]
    if result.data is not None or not result.errors:
        answer["data"] = result.data
    return 200, answer


def _error(error: GraphQLError) -> JSON:
    shaped: JSON = {}
    kind = (error.extensions or {}).get("type")
    if kind is not None:
        shaped["type"] = kind
    if error.path is not None:
        shaped["path"] = list(error.path)
    if error.locations:
        shaped["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    shaped["message"] = error.message
    return shaped


def root_fields(body: bytes) -> frozenset[str]:
    """The top-level fields a GraphQL request selects (`enqueuePullRequest`), for faults."""
    try:
        document = parse(json.loads(body).get("query") or "")
    except (ValueError, AttributeError, GraphQLError):
        return frozenset()
    return frozenset(
        selection.name.value
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode)
        for selection in definition.selection_set.selections
        if isinstance(selection, FieldNode)
    )


def schema() -> GraphQLSchema:
    """The executable schema, built once: the SDL plus the root fields' resolvers."""
    global _schema  # noqa: PLW0603 - built on first use, then shared by every request thread
    with _schema_lock:
        if _schema is None:
            built = build_schema(SDL)
            assert built.query_type is not None  # noqa: S101 - the SDL declares both roots
            assert built.mutation_type is not None  # noqa: S101
            built.query_type.fields["node"].resolve = _resolve_node
            built.query_type.fields["repository"].resolve = _resolve_repository
            mutations = built.mutation_type.fields
            mutations["enqueuePullRequest"].resolve = _resolve_enqueue
            mutations["dequeuePullRequest"].resolve = _resolve_dequeue
            _schema = built
        return _schema


def _ctx(info: Any) -> Context:
    context: Context = info.context
    return context


def _resolve_node(_root: Any, info: Any, id: str) -> JSON:
    forge = _ctx(info).forge
    found = _decode(id)
    node: JSON | None = None
    if found is not None:
        kind, key = found
        if kind == "PR":
            with forge.store.lock:
                pr = next((p for p in forge.store.state.pulls if p.id == int(key)), None)
            node = _pull(forge, pr) if pr is not None else None
        elif kind == "MQE":
            with forge.store.lock:
                entry = next((e for e in forge.store.state.queue if e.id == int(key)), None)
            node = _entry(forge, entry) if entry is not None else None
    if node is None:
        raise not_found(f"Could not resolve to a node with the global id of '{id}'")
    return node


def _decode(value: str) -> tuple[str, str] | None:
    try:
        text = base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    match = _NODE.match(text)
    return (match["kind"], match["key"]) if match else None


def _resolve_repository(_root: Any, info: Any, owner: str, name: str, **_: Any) -> JSON:
    forge = _ctx(info).forge
    if owner.lower() != forge.owner.lower() or name not in forge.store.state.repos:
        raise not_found(f"Could not resolve to a Repository with the name '{owner}/{name}'.")
    return _repository(forge, name)


def _mutation_pull(
    info: Any, pull_id: str, *, entry_id: bool = False
) -> tuple[Forge, TokenRecord, PullRecord]:
    """The PR a mutation names; `entry_id`: a queue entry's id names its PR too.

    GitHub's schema says `dequeuePullRequest(input: {id})` takes the PR's id; some clients
    pass the entry's, so the stand-in takes either rather than guess which GitHub accepts.
    """
    context = _ctx(info)
    state = context.forge.store.state
    if context.token.read_only:
        raise GraphQLError(
            "Resource not accessible by integration", extensions={"type": "FORBIDDEN"}
        )
    kind, key = _decode(pull_id) or ("", "")
    with context.forge.store.lock:
        if kind == "MQE" and entry_id:
            entry = next((e for e in state.queue if e.id == int(key)), None)
            kind, key = ("PR", str(_pull_id(context.forge, entry))) if entry else ("", "")
        pr = next((p for p in state.pulls if kind == "PR" and p.id == int(key)), None)
    if pr is None:
        raise not_found(f"Could not resolve to a node with the global id of '{pull_id}'")
    return context.forge, context.token, pr


def _pull_id(forge: Forge, entry: QueueEntryRecord) -> int:
    pr = forge.store.pull(entry.repo, entry.number)
    return pr.id if pr is not None else 0


def _resolve_enqueue(_root: Any, info: Any, input: JSON) -> JSON:
    forge, token, pr = _mutation_pull(info, str(input["pullRequestId"]))
    try:
        entry = queue.enqueue(forge, pr, input.get("expectedHeadOid"), token.login)
    except queue.QueueRefusal as refusal:
        raise GraphQLError(refusal.message, extensions={"type": refusal.kind}) from refusal
    return _payload(forge, input, entry)


def _resolve_dequeue(_root: Any, info: Any, input: JSON) -> JSON:
    forge, token, pr = _mutation_pull(info, str(input["id"]), entry_id=True)
    try:
        entry = queue.dequeue(forge, pr, token.login)
    except queue.QueueRefusal as refusal:
        raise GraphQLError(refusal.message, extensions={"type": refusal.kind}) from refusal
    return _payload(forge, input, entry)


def _payload(forge: Forge, given: JSON, entry: QueueEntryRecord) -> JSON:
    return {
        "clientMutationId": given.get("clientMutationId"),
        "mergeQueueEntry": _entry(forge, entry),
    }


def _commit(sha: str | None) -> JSON | None:
    return None if sha is None else {"id": node_id("C", sha), "oid": sha}


def _repository(forge: Forge, name: str) -> JSON:
    record = forge.store.state.repos[name]

    def pull_request(_info: Any, number: int) -> JSON:
        pr = forge.store.pull(name, number)
        if pr is None:
            raise not_found(f"Could not resolve to a PullRequest with the number of {number}.")
        return _pull(forge, pr)

    def merge_queue(_info: Any, branch: str | None = None) -> JSON | None:
        branch = branch or forge.default_branch(forge.repos[name])
        return _queue(forge, name, branch) if queue.rule(forge, name, branch) is not None else None

    return {
        "id": node_id("R", record.id),
        "name": name,
        "nameWithOwner": f"{forge.owner}/{name}",
        "pullRequest": pull_request,
        "mergeQueue": merge_queue,
    }


def _pull(forge: Forge, pr: PullRecord) -> JSON:
    bare = forge.repos[pr.repo]
    enabled = queue.rule(forge, pr.repo, pr.base_ref) is not None
    entry = queue.entry_of(forge, pr.repo, pr.number)

    def mergeable(_info: Any) -> str:
        base = bare.resolve(f"refs/heads/{pr.base_ref}")
        if pr.state != "open" or base is None:
            return "UNKNOWN"
        return "MERGEABLE" if bare.merge_tree(base, pr.head_sha) is not None else "CONFLICTING"

    return {
        "__typename": "PullRequest",
        "id": node_id("PR", pr.id),
        "number": pr.number,
        "title": pr.title,
        "state": "MERGED" if pr.merged else pr.state.upper(),
        "closed": pr.state == "closed",
        "merged": pr.merged,
        "mergedAt": iso(pr.merged_at),
        "mergeable": mergeable,
        "mergeCommit": _commit(pr.merge_commit_sha),
        "headRefName": pr.head_ref,
        "headRefOid": pr.head_sha,
        "baseRefName": pr.base_ref,
        "isInMergeQueue": entry is not None,
        "isMergeQueueEnabled": enabled,
        "mergeQueue": lambda _info: _queue(forge, pr.repo, pr.base_ref) if enabled else None,
        "mergeQueueEntry": lambda _info: _entry(forge, entry) if entry is not None else None,
        "repository": lambda _info: _repository(forge, pr.repo),
        "timelineItems": lambda _info, **args: _timeline(forge, pr, args),
    }


def _entry(forge: Forge, entry: QueueEntryRecord) -> JSON:
    return {
        "__typename": "MergeQueueEntry",
        "id": node_id("MQE", entry.id),
        "state": entry.state,
        "position": queue.position(forge, entry),
        "enqueuedAt": iso(entry.enqueued_at),
        "jump": False,
        "solo": False,
        "baseCommit": _commit(entry.base_sha),
        "headCommit": _commit(entry.head_sha),
        "pullRequest": lambda _info: _pull_of(forge, entry),
        "mergeQueue": lambda _info: _queue(forge, entry.repo, entry.branch),
    }


def _pull_of(forge: Forge, entry: QueueEntryRecord) -> JSON | None:
    pr = forge.store.pull(entry.repo, entry.number)
    return None if pr is None else _pull(forge, pr)


def _queue(forge: Forge, repo: str, branch: str) -> JSON:
    parameters = queue.rule(forge, repo, branch) or {}

    def entries(_info: Any, **args: Any) -> JSON:
        found = queue.entries(forge, repo, branch)
        return _connection([_entry(forge, e) for e in found], args)

    return {
        "__typename": "MergeQueue",
        "id": base64.b64encode(f"0:MQ:{repo}:{branch}".encode()).decode().rstrip("="),
        "configuration": {
            "mergeMethod": queue.merge_method(parameters),
            "maximumEntriesToBuild": parameters.get("max_entries_to_build"),
            "maximumEntriesToMerge": parameters.get("max_entries_to_merge"),
            "minimumEntriesToMerge": parameters.get("min_entries_to_merge"),
        },
        "entries": entries,
        "repository": lambda _info: _repository(forge, repo),
    }


def _timeline(forge: Forge, pr: PullRecord, args: dict[str, Any]) -> JSON:
    kinds = {"ADDED_TO_MERGE_QUEUE_EVENT": "added", "REMOVED_FROM_MERGE_QUEUE_EVENT": "removed"}
    wanted = {kinds[t] for t in args.get("itemTypes") or kinds}
    with forge.store.lock:
        events = [
            e.model_copy()
            for e in forge.store.state.queue_events
            if e.repo == pr.repo and e.number == pr.number and e.kind in wanted
        ]
    nodes: list[JSON] = [
        {
            "__typename": "AddedToMergeQueueEvent"
            if e.kind == "added"
            else "RemovedFromMergeQueueEvent",
            "id": node_id("QE", e.id),
            "createdAt": iso(e.at),
            "reason": e.reason,
            "beforeCommit": None,
            "mergeQueue": lambda _info: _queue(forge, pr.repo, pr.base_ref),
            "pullRequest": lambda _info: _pull(forge, pr),
        }
        for e in events
    ]
    connection = _connection(nodes, args)
    connection["filteredCount"] = len(nodes)
    return connection


def _connection(nodes: list[JSON], args: dict[str, Any]) -> JSON:
    """A page of `nodes` by `first`/`last` (cursors are not served)."""
    total, start, end = len(nodes), 0, len(nodes)
    if args.get("first") is not None:
        end = min(max(int(args["first"]), 0), total)
    if args.get("last") is not None:
        start = max(end - int(args["last"]), 0)
    nodes = nodes[start:end]
    page = {
        "hasNextPage": end < total,
        "hasPreviousPage": start > 0,
        "startCursor": None,
        "endCursor": None,
    }
    return {"nodes": nodes, "totalCount": total, "pageInfo": page}
