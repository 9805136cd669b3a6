"""The GraphQL documents MERGE sends on a merge-queue branch, exactly as GitHub receives them.

One module for both sides: the engine's adapter (`github_graphql.py`) sends these, and the
sandbox's contract tests validate each against GitHub's public schema, so the documents the
engine relies on are the ones the stand-in is proven to answer like GitHub.
"""

from __future__ import annotations

# The fields of a queue entry MERGE shows and decides on.
_ENTRY = "id state position"

ENQUEUE_PULL_REQUEST = f"""
mutation EnqueuePullRequest($pullRequestId: ID!, $expectedHeadOid: GitObjectID!) {{
  enqueuePullRequest(input: {{pullRequestId: $pullRequestId, expectedHeadOid: $expectedHeadOid}}) {{
    mergeQueueEntry {{ {_ENTRY} }}
  }}
}}
"""

DEQUEUE_PULL_REQUEST = f"""
mutation DequeuePullRequest($id: ID!) {{
  dequeuePullRequest(input: {{id: $id}}) {{
    mergeQueueEntry {{ {_ENTRY} }}
  }}
}}
"""

PULL_REQUEST_QUEUE_STATE = f"""
query PullRequestQueueState($owner: String!, $name: String!, $number: Int!) {{
  repository(owner: $owner, name: $name) {{
    pullRequest(number: $number) {{
      id
      state
      merged
      mergeCommit {{ oid }}
      headRefOid
      mergeQueueEntry {{ {_ENTRY} }}
    }}
  }}
}}
"""

MERGE_QUEUE_ENTRIES = f"""
query MergeQueueEntries($owner: String!, $name: String!, $branch: String!) {{
  repository(owner: $owner, name: $name) {{
    mergeQueue(branch: $branch) {{
      entries(first: 100) {{
        nodes {{ {_ENTRY} pullRequest {{ number }} }}
      }}
    }}
  }}
}}
"""

# Why the queue removed a PR: GitHub records it on the PR's timeline.
PULL_REQUEST_REMOVAL = """
query PullRequestRemoval($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      timelineItems(last: 1, itemTypes: [REMOVED_FROM_MERGE_QUEUE_EVENT]) {
        nodes { ... on RemovedFromMergeQueueEvent { reason createdAt } }
      }
    }
  }
}
"""

DOCUMENTS: dict[str, str] = {
    "ENQUEUE_PULL_REQUEST": ENQUEUE_PULL_REQUEST,
    "DEQUEUE_PULL_REQUEST": DEQUEUE_PULL_REQUEST,
    "PULL_REQUEST_QUEUE_STATE": PULL_REQUEST_QUEUE_STATE,
    "MERGE_QUEUE_ENTRIES": MERGE_QUEUE_ENTRIES,
    "PULL_REQUEST_REMOVAL": PULL_REQUEST_REMOVAL,
}
