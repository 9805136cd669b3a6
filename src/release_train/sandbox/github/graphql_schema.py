"""The part of GitHub's GraphQL schema the stand-in serves, in GitHub's own names and types.

Every type, field, argument and enum value here exists in GitHub's public schema with the
same type (the contract tests compare them against `@octokit/graphql-schema`); the stand-in
leaves out what it does not serve, never renames or retypes.
"""

from __future__ import annotations

SDL = """
interface Node { id: ID! }

scalar DateTime
scalar GitObjectID

type Query {
  node(id: ID!): Node
  repository(owner: String!, name: String!, followRenames: Boolean = true): Repository
}

type Mutation {
  enqueuePullRequest(input: EnqueuePullRequestInput!): EnqueuePullRequestPayload
  dequeuePullRequest(input: DequeuePullRequestInput!): DequeuePullRequestPayload
}

input EnqueuePullRequestInput {
  clientMutationId: String
  pullRequestId: ID!
  jump: Boolean
  expectedHeadOid: GitObjectID
}

type EnqueuePullRequestPayload {
  clientMutationId: String
  mergeQueueEntry: MergeQueueEntry
}

input DequeuePullRequestInput {
  clientMutationId: String
  id: ID!
}

type DequeuePullRequestPayload {
  clientMutationId: String
  mergeQueueEntry: MergeQueueEntry
}

type Repository implements Node {
  id: ID!
  name: String!
  nameWithOwner: String!
  pullRequest(number: Int!): PullRequest
  mergeQueue(branch: String): MergeQueue
}

enum PullRequestState { OPEN CLOSED MERGED }
enum MergeableState { MERGEABLE CONFLICTING UNKNOWN }
enum PullRequestMergeMethod { MERGE SQUASH REBASE }

type PullRequest implements Node {
  id: ID!
  number: Int!
  title: String!
  state: PullRequestState!
  closed: Boolean!
  merged: Boolean!
  mergedAt: DateTime
  mergeable: MergeableState!
  mergeCommit: Commit
  headRefName: String!
  headRefOid: GitObjectID!
  baseRefName: String!
  isInMergeQueue: Boolean!
  isMergeQueueEnabled: Boolean!
  mergeQueue: MergeQueue
  mergeQueueEntry: MergeQueueEntry
  repository: Repository!
  timelineItems(
    since: DateTime
    skip: Int
    itemTypes: [PullRequestTimelineItemsItemType!]
    after: String
    before: String
    first: Int
    last: Int
  ): PullRequestTimelineItemsConnection!
}

type Commit implements Node {
  id: ID!
  oid: GitObjectID!
}

enum MergeQueueEntryState { QUEUED AWAITING_CHECKS MERGEABLE UNMERGEABLE LOCKED }

type MergeQueueEntry implements Node {
  id: ID!
  state: MergeQueueEntryState!
  position: Int!
  enqueuedAt: DateTime!
  jump: Boolean!
  solo: Boolean!
  baseCommit: Commit
  headCommit: Commit
  pullRequest: PullRequest
  mergeQueue: MergeQueue
}

type MergeQueueConfiguration {
  mergeMethod: PullRequestMergeMethod
  maximumEntriesToBuild: Int
  maximumEntriesToMerge: Int
  minimumEntriesToMerge: Int
}

type MergeQueue implements Node {
  id: ID!
  configuration: MergeQueueConfiguration
  entries(after: String, before: String, first: Int, last: Int): MergeQueueEntryConnection
  repository: Repository
}

type PageInfo {
  endCursor: String
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
}

type MergeQueueEntryConnection {
  nodes: [MergeQueueEntry]
  pageInfo: PageInfo!
  totalCount: Int!
}

enum PullRequestTimelineItemsItemType { ADDED_TO_MERGE_QUEUE_EVENT REMOVED_FROM_MERGE_QUEUE_EVENT }

type AddedToMergeQueueEvent implements Node {
  id: ID!
  createdAt: DateTime!
  mergeQueue: MergeQueue
  pullRequest: PullRequest
}

type RemovedFromMergeQueueEvent implements Node {
  id: ID!
  createdAt: DateTime!
  reason: String
  beforeCommit: Commit
  mergeQueue: MergeQueue
  pullRequest: PullRequest
}

union PullRequestTimelineItems = AddedToMergeQueueEvent | RemovedFromMergeQueueEvent

type PullRequestTimelineItemsConnection {
  nodes: [PullRequestTimelineItems]
  pageInfo: PageInfo!
  totalCount: Int!
  filteredCount: Int!
}
"""
