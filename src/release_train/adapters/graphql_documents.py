"""The GraphQL documents MERGE's queue path sends, exactly; contract tests check each one.

One module for both sides: the engine's adapter sends these strings, the stand-in serves
them, and `tests/contract/test_github_graphql_contract.py` validates each against GitHub's
public schema (`@octokit/graphql-schema`), so neither can drift from GitHub unnoticed.
Variables are named in each document; the adapter passes them as `variables`.
"""

from __future__ import annotations

# What MERGE reads about one queue entry; GitHub's `MergeQueueEntry` fields.
_ENTRY = "id state position"

# The probe: the PR's node id (for the mutations), head, and where it is in the queue.
# `timelineItems` gives the reason of the last removal from the queue (failed
# `merge_group` CI, a conflict, a dequeue), which `mergeQueueEntry` no longer shows.
PULL_REQUEST = f"""
query PullRequestQueueState($owner: String!, $name: String!, $number: Int!) {{
  repository(owner: $owner, name: $name) {{
    pullRequest(number: $number) {{
      id
      number
      state
      merged
      mergeCommit {{ oid }}
      headRefOid
      baseRefName
      isInMergeQueue
      mergeQueueEntry {{ {_ENTRY} }}
      timelineItems(last: 1, itemTypes: [REMOVED_FROM_MERGE_QUEUE_EVENT]) {{
        nodes {{
          __typename
          ... on RemovedFromMergeQueueEvent {{ reason createdAt }}
        }}
      }}
    }}
  }}
}}
""".strip()

# The same PR by its node id (what the REST PR's `node_id` is).
PULL_REQUEST_NODE = f"""
query PullRequestNode($id: ID!) {{
  node(id: $id) {{
    __typename
    ... on PullRequest {{
      id
      number
      state
      merged
      mergeCommit {{ oid }}
      headRefOid
      mergeQueueEntry {{ {_ENTRY} }}
    }}
  }}
}}
""".strip()

# The queue of a branch, front first.
MERGE_QUEUE = f"""
query BranchMergeQueue($owner: String!, $name: String!, $branch: String!, $first: Int!) {{
  repository(owner: $owner, name: $name) {{
    mergeQueue(branch: $branch) {{
      entries(first: $first) {{
        totalCount
        nodes {{ {_ENTRY} pullRequest {{ number }} }}
      }}
    }}
  }}
}}
""".strip()

# Enqueue only if the head is still the pushed release commit (as REST's `sha=`).
ENQUEUE = f"""
mutation EnqueuePullRequest($pullRequestId: ID!, $expectedHeadOid: GitObjectID!) {{
  enqueuePullRequest(input: {{pullRequestId: $pullRequestId, expectedHeadOid: $expectedHeadOid}}) {{
    mergeQueueEntry {{ {_ENTRY} }}
  }}
}}
""".strip()

# `id` is the PR's node id (GitHub: "The ID of the pull request to be dequeued").
DEQUEUE = f"""
mutation DequeuePullRequest($id: ID!) {{
  dequeuePullRequest(input: {{id: $id}}) {{
    mergeQueueEntry {{ {_ENTRY} }}
  }}
}}
""".strip()

# Every document above, by name: the contract tests walk this registry.
DOCUMENTS: dict[str, str] = {
    "PullRequestQueueState": PULL_REQUEST,
    "PullRequestNode": PULL_REQUEST_NODE,
    "BranchMergeQueue": MERGE_QUEUE,
    "EnqueuePullRequest": ENQUEUE,
    "DequeuePullRequest": DEQUEUE,
}

# The names the engine's adapter uses (agreed between the two branches of issue 15).
ENQUEUE_PULL_REQUEST = ENQUEUE
DEQUEUE_PULL_REQUEST = DEQUEUE
PULL_REQUEST_QUEUE_STATE = PULL_REQUEST
MERGE_QUEUE_ENTRIES = MERGE_QUEUE
