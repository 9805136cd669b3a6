"""The gates against the GitHub and Slack stand-ins: who approved, when, and who is ignored."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from release_train.adapters.github import GitHub
from release_train.adapters.slack import Reply, Slack
from release_train.core.plan import Plan
from release_train.core.state import Gate
from release_train.errors import ErrorCode, ReleaseError
from release_train.gates import attestation_gate, counts, environment_gate, slack_gate
from release_train.sandbox.builder import Change, RepoBuilder
from release_train.sandbox.github import GitHubStandIn, SandboxAdmin
from release_train.sandbox.slack import BOT, PEOPLE, SlackStandIn
from tests.core.test_render import spec_example_plan

CENTRAL = "release-central"
RUN_ID = "release-20260225-a3f7b2"
PLAN_HASH = "sha256:0123456789ab"
ACTIONS_RUN = 4242
ALICE, BOB, CAROL = (p.id for p in PEOPLE)
APPROVERS = (ALICE, BOB)


@dataclass
class GitHubWorld:
    stand_in: GitHubStandIn
    admin: SandboxAdmin
    github: GitHub


@pytest.fixture(scope="module")
def gh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitHubWorld]:
    root = tmp_path_factory.mktemp("gates")
    source = RepoBuilder(root / "source").init()
    source.commit([Change("chore: central repo", {"release-train.toml": "# config\n"})])
    stand_in = GitHubStandIn(root / "world")
    stand_in.start()
    try:
        stand_in.add_repo(CENTRAL, root / "source")
        github = GitHub(stand_in.api_url, stand_in.token, stand_in.owner, attempts=1)
        yield GitHubWorld(stand_in, stand_in.admin(), github)
    finally:
        stand_in.stop()


def gate(world: GitHubWorld, run: int, environment: str = "release", repo: str = CENTRAL) -> Gate:
    return environment_gate(
        world.github,
        repo=repo,
        actions_run_id=run,
        environment=environment,
        run_id=RUN_ID,
        plan_hash=PLAN_HASH,
    )


def refused(call: Callable[[], object], code: ErrorCode) -> ReleaseError:
    with pytest.raises(ReleaseError) as caught:
        call()
    assert caught.value.code is code
    return caught.value


def test_the_environment_approval_is_recorded_with_logins_and_time(gh: GitHubWorld) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    gh.admin.add_approval(CENTRAL, ACTIONS_RUN, user="zoe", comment="plan ok")
    gh.admin.add_approval(CENTRAL, ACTIONS_RUN, user="adam", comment="+1")
    gh.admin.add_approval(CENTRAL, ACTIONS_RUN, user="eve", environment="staging", state="rejected")

    result = environment_gate(
        gh.github,
        repo=f"{gh.stand_in.owner}/{CENTRAL}",
        actions_run_id=ACTIONS_RUN,
        environment="release",
        run_id=RUN_ID,
        plan_hash=PLAN_HASH,
    )

    assert result.kind == "environment"
    assert result.approved_by == "adam, zoe"
    assert result.token == f"environment:{gh.stand_in.owner}/{CENTRAL}#{ACTIONS_RUN}:{PLAN_HASH}"
    assert before <= result.at <= datetime.now(UTC)


def test_a_rejection_in_the_environment_names_who(gh: GitHubWorld) -> None:
    gh.admin.add_approval(CENTRAL, 5001, user="alice")
    gh.admin.add_approval(CENTRAL, 5001, user="mallory", state="rejected", comment="not today")
    error = refused(lambda: gate(gh, 5001), ErrorCode.GATE_REJECTED)
    assert error.message == (f"run {RUN_ID} was rejected in environment 'release' by mallory")


def test_no_approval_for_the_environment_refuses_with_a_reviewers_hint(gh: GitHubWorld) -> None:
    # Approvals of another environment of the same workflow run do not count.
    gh.admin.add_approval(CENTRAL, 5002, user="alice", environment="staging")
    error = refused(lambda: gate(gh, 5002), ErrorCode.GATE_REJECTED)
    assert (
        error.message
        == f"run {RUN_ID} has no approval in environment 'release' (workflow run 5002)"
    )
    assert error.hint is not None and "required reviewers" in error.hint
    assert "never runs unreviewed" in error.hint
    assert gate(gh, 5002, environment="staging").approved_by == "alice"


def test_an_unknown_workflow_run_is_a_github_error(gh: GitHubWorld) -> None:
    error = refused(lambda: gate(gh, 999_999), ErrorCode.GITHUB_ERROR)
    assert "GITHUB_RUN_ID" in (error.hint or "")


# The Slack gate.


@dataclass
class Human:
    """The sleeper of a Slack gate: at its n-th nap, people act in the thread; time advances."""

    stand_in: SlackStandIn
    acts: dict[int, Callable[[str], object]] = field(default_factory=dict)
    naps: list[float] = field(default_factory=list)
    now: float = 1000.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.naps.append(seconds)
        self.now += seconds
        act = self.acts.get(len(self.naps))
        if act is not None:
            act(self.stand_in.messages()[0]["ts"])  # the gate's request comes first

    def reply(self, thread: str, user: str, text: str, *, bot: bool = False) -> str:
        message = self.stand_in.post_reply(self.stand_in.channel_id, thread, user, text, bot=bot)
        return str(message["ts"])


@pytest.fixture
def slack_world() -> Iterator[SlackStandIn]:
    with SlackStandIn() as stand_in:
        yield stand_in


def run_slack_gate(
    stand_in: SlackStandIn, human: Human, *, plan: Plan | None = None, timeout: float = 600
) -> Gate:
    return slack_gate(
        Slack(stand_in.bot_token, stand_in.api_url),
        channel=stand_in.channel_id,
        approvers=APPROVERS,
        plan=plan or spec_example_plan(),
        run_id=RUN_ID,
        timeout_seconds=timeout,
        clock=human.clock,
        sleep=human.sleep,
    )


def test_an_approver_approves_and_everyone_else_is_ignored(slack_world: SlackStandIn) -> None:
    human = Human(slack_world)

    def noise(thread: str) -> None:
        human.reply(thread, CAROL, "approve")  # not an approver
        human.reply(thread, ALICE, "approve", bot=True)  # a bot posting as Alice
        human.reply(thread, BOT.id, "approve")  # the bot itself
        edited = human.reply(thread, ALICE, "yes")
        slack_world.edit(slack_world.channel_id, edited, "yes!")  # edited after the fact
        human.reply(thread, BOB, "looks good to me")  # an approver, but no keyword

    approved: list[str] = []

    def approval(thread: str) -> None:
        approved.append(human.reply(thread, BOB, "Approve."))
        human.reply(thread, ALICE, "reject")  # too late: the first decision stands

    human.acts = {1: noise, 2: approval}
    result = run_slack_gate(slack_world, human)

    parent = slack_world.messages()[0]
    assert result.kind == "slack"
    assert result.token == f"{parent['ts']}:{RUN_ID}"
    assert result.approved_by == BOB
    assert result.at == datetime.fromtimestamp(float(approved[0]), UTC)
    assert human.naps == [2.0, 4.0]
    assert parent["text"].startswith("[HIGH_RISK] release — coordinated release of 6 repos")
    assert parent["blocks"][0]["type"] == "header"
    ack = slack_world.messages()[-1]
    assert ack["user"] == BOT.id and ack["thread_ts"] == parent["ts"]
    assert ack["text"] == f"Approved by <@{BOB}>: starting release run `{RUN_ID}`."


def test_an_approver_can_reject(slack_world: SlackStandIn) -> None:
    human = Human(slack_world)
    human.acts = {1: lambda thread: human.reply(thread, ALICE, "hold, infra is down")}
    error = refused(lambda: run_slack_gate(slack_world, human), ErrorCode.GATE_REJECTED)
    assert error.message.startswith(f"run {RUN_ID} was rejected in Slack by {ALICE}: ")
    assert "hold, infra is down" in error.message
    assert not any(m["text"].startswith("Approved") for m in slack_world.messages())
    closing = slack_world.messages()[-1]
    assert closing["user"] == BOT.id and closing["thread_ts"] == slack_world.messages()[0]["ts"]
    assert closing["text"] == f"Rejected by <@{ALICE}>: release run `{RUN_ID}` will not start."


def test_silence_times_out_with_backoff_that_never_passes_the_deadline(
    slack_world: SlackStandIn,
) -> None:
    human = Human(slack_world)
    human.acts = {3: lambda thread: human.reply(thread, CAROL, "approve")}
    error = refused(lambda: run_slack_gate(slack_world, human, timeout=300), ErrorCode.GATE_TIMEOUT)
    assert error.message == f"no approval of run {RUN_ID} in Slack after 5 minutes"
    assert error.hint is not None and "--gate-attestation" in error.hint
    assert human.naps[:5] == [2.0, 4.0, 8.0, 16.0, 30.0]
    assert max(human.naps) == 30.0
    assert sum(human.naps) == 300.0
    closing = slack_world.messages()[-1]
    assert closing["user"] == BOT.id
    assert closing["text"].startswith(
        f"No approval in time: release run `{RUN_ID}` will not start."
    )


def test_a_slack_api_error_is_a_slack_error_with_a_hint(slack_world: SlackStandIn) -> None:
    human = Human(slack_world)
    slack_world.fail("chat.postMessage", "not_in_channel")
    error = refused(lambda: run_slack_gate(slack_world, human), ErrorCode.SLACK_ERROR)
    assert error.hint is not None and "invite the bot" in error.hint

    wrong = Slack("xoxb-wrong", slack_world.api_url)
    error = refused(
        lambda: slack_gate(
            wrong,
            channel=slack_world.channel_id,
            approvers=APPROVERS,
            plan=spec_example_plan(),
            run_id=RUN_ID,
            timeout_seconds=60,
        ),
        ErrorCode.SLACK_ERROR,
    )
    assert "SLACK_BOT_TOKEN" in (error.hint or "")
    assert slack_world.messages() == []


def test_a_slack_gate_without_approvers_is_a_configuration_error(
    slack_world: SlackStandIn,
) -> None:
    error = refused(
        lambda: slack_gate(
            Slack(slack_world.bot_token, slack_world.api_url),
            channel=slack_world.channel_id,
            approvers=(),
            plan=spec_example_plan(),
            run_id=RUN_ID,
            timeout_seconds=60,
        ),
        ErrorCode.CONFIG_INVALID,
    )
    assert "slack.approvers" in (error.hint or "")
    assert slack_world.messages() == []


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply("100.000200", ALICE, "approve", bot=False, edited=False), True),
        (Reply("100.000100", ALICE, "approve", bot=False, edited=False), False),  # the request
        (Reply("99.999999", ALICE, "approve", bot=False, edited=False), False),  # older
        (Reply("100.000200", CAROL, "approve", bot=False, edited=False), False),
        (Reply("100.000200", ALICE, "approve", bot=True, edited=False), False),
        (Reply("100.000200", ALICE, "approve", bot=False, edited=True), False),
        (Reply("100.000200", None, "approve", bot=False, edited=False), False),
        (Reply("100.000200", "U0SELF", "approve", bot=False, edited=False), False),
    ],
)
def test_which_replies_count(reply: Reply, expected: bool) -> None:
    assert (
        counts(reply, gate_ts="100.0001", approvers=(ALICE, "U0SELF"), bot_user="U0SELF")
        is expected
    )


def test_an_attestation_binds_to_the_run() -> None:
    token = f"1767225600.000100:{RUN_ID}"
    result = attestation_gate(token, RUN_ID)
    assert (result.kind, result.token, result.approved_by) == ("attestation", token, None)
    error = refused(
        lambda: attestation_gate(token, "release-20260101-000000"), ErrorCode.INVALID_GATE_TOKEN
    )
    assert "is for run" in error.message
    refused(lambda: attestation_gate("approve", RUN_ID), ErrorCode.INVALID_GATE_TOKEN)
