"""The Slack adapter against the Slack stand-in over HTTP: posts, threads, errors, the summary."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from release_train.adapters import slack as slack_module
from release_train.adapters.slack import DEFAULT_API_URL, Slack, post_summary
from release_train.core.messages import SlackMessage, section
from release_train.errors import ErrorCode, ReleaseError
from release_train.sandbox.index import free_port
from release_train.sandbox.slack import BOT, PEOPLE, SlackStandIn
from tests.core.test_summary import partial_state

ALICE, BOB = PEOPLE[0].id, PEOPLE[1].id
HELLO = SlackMessage("hello", [section("*hello*")])


@pytest.fixture
def stand_in() -> Iterator[SlackStandIn]:
    with SlackStandIn() as server:
        yield server


@pytest.fixture
def slack(stand_in: SlackStandIn) -> Slack:
    return Slack(stand_in.bot_token, stand_in.api_url)


def slack_error(call: object) -> ReleaseError:
    assert callable(call)
    with pytest.raises(ReleaseError) as caught:
        call()
    assert caught.value.code is ErrorCode.SLACK_ERROR
    return caught.value


def test_from_env_needs_a_token_and_defaults_to_slack_com(stand_in: SlackStandIn) -> None:
    assert Slack.from_env({}) is None
    assert Slack.from_env({"SLACK_API_URL": stand_in.api_url}) is None
    default = Slack.from_env({"SLACK_BOT_TOKEN": "xoxb-1"})
    assert default is not None and default.api_url == DEFAULT_API_URL
    env = {"SLACK_BOT_TOKEN": stand_in.bot_token, "SLACK_API_URL": stand_in.api_url}
    configured = Slack.from_env(env)
    assert configured is not None
    assert configured.bot_user_id() == BOT.id
    assert stand_in.bot_token not in repr(configured)


def test_post_sends_text_and_blocks_and_returns_the_ts(
    stand_in: SlackStandIn, slack: Slack
) -> None:
    ts = slack.post(stand_in.channel_id, HELLO)
    reply_ts = slack.post(stand_in.channel_id, SlackMessage("in thread"), thread_ts=ts)

    parent, reply = stand_in.messages()
    assert (parent["ts"], parent["text"], parent["blocks"]) == (ts, "hello", HELLO.blocks)
    assert (reply["ts"], reply["thread_ts"], reply["text"]) == (reply_ts, ts, "in thread")
    assert "blocks" not in reply


def test_replies_page_through_the_thread_after_oldest(
    stand_in: SlackStandIn, slack: Slack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(slack_module, "PAGE_LIMIT", 2)
    ts = slack.post(stand_in.channel_id, HELLO)
    first = stand_in.post_reply(stand_in.channel_id, ts, ALICE, "one")
    for text in ("two", "three", "four", "five"):
        stand_in.post_reply(stand_in.channel_id, ts, BOB, text)
    edited = stand_in.post_reply(stand_in.channel_id, ts, ALICE, "six")
    stand_in.edit(stand_in.channel_id, edited["ts"], "six!")
    stand_in.post_reply(stand_in.channel_id, ts, BOB, "seven", bot=True)

    replies = slack.replies(stand_in.channel_id, ts, oldest=ts)
    later = slack.replies(stand_in.channel_id, ts, oldest=first["ts"])

    assert [r.text for r in replies] == ["one", "two", "three", "four", "five", "six!", "seven"]
    assert [r.user for r in replies[:2]] == [ALICE, BOB]
    assert [(r.edited, r.bot) for r in replies[-3:]] == [
        (False, False),
        (True, False),
        (False, True),
    ]
    assert [r.text for r in later] == ["two", "three", "four", "five", "six!", "seven"]
    pages = [p for m, p, _ in stand_in.requests if p.endswith("conversations.replies")]
    assert len(pages) >= 5  # 8 messages, 2 a page: the cursor was followed


def test_an_invalid_token_is_a_slack_error_that_never_shows_the_token(
    stand_in: SlackStandIn,
) -> None:
    token = "xoxb-not-the-right-one-123456"
    error = slack_error(lambda: Slack(token, stand_in.api_url).post(stand_in.channel_id, HELLO))
    assert error.message == "Slack chat.postMessage failed: invalid_auth"
    assert error.hint is not None and "SLACK_BOT_TOKEN" in error.hint
    assert token not in error.render()
    assert error.__cause__ is None and error.__suppress_context__


@pytest.mark.parametrize(
    ("error", "extra", "hint"),
    [
        ("missing_scope", {"needed": "chat:write"}, "add the bot token scope chat:write"),
        ("not_in_channel", {}, "invite the bot to the channel"),
        ("channel_not_found", {}, "slack.channel"),
    ],
)
def test_slack_refusals_name_the_fix(
    stand_in: SlackStandIn, slack: Slack, error: str, extra: dict[str, str], hint: str
) -> None:
    stand_in.fail("chat.postMessage", error, fields=extra)
    refused = slack_error(lambda: slack.post(stand_in.channel_id, HELLO))
    assert refused.message == f"Slack chat.postMessage failed: {error}"
    assert refused.hint is not None and hint in refused.hint
    assert refused.code.exit_status == 6


def test_a_missing_history_scope_names_it_from_our_table(
    stand_in: SlackStandIn, slack: Slack
) -> None:
    ts = slack.post(stand_in.channel_id, HELLO)
    stand_in.fail("conversations.replies", "missing_scope")
    refused = slack_error(lambda: slack.replies(stand_in.channel_id, ts))
    assert refused.hint is not None and "channels:history" in refused.hint


def test_a_rate_limit_is_waited_out_with_retry_after(stand_in: SlackStandIn, slack: Slack) -> None:
    stand_in.fail("chat.postMessage", "ratelimited", status=429, retry_after=0)

    ts = slack.post(stand_in.channel_id, HELLO)

    assert [m["ts"] for m in stand_in.messages()] == [ts]
    statuses = [s for _, p, s in stand_in.requests if p.endswith("chat.postMessage")]
    assert statuses == [429, 200]


def test_a_rate_limit_that_does_not_end_is_a_slack_error(
    stand_in: SlackStandIn, slack: Slack
) -> None:
    stand_in.fail("auth.test", "ratelimited", times=4, status=429, retry_after=0)
    refused = slack_error(slack.bot_user_id)
    assert refused.message == "Slack auth.test failed: ratelimited"
    assert refused.hint is not None and "rate-limiting" in refused.hint


def test_an_unreachable_slack_is_a_slack_error() -> None:
    dead = f"http://127.0.0.1:{free_port()}/api/"
    refused = slack_error(lambda: Slack("xoxb-secret-token", dead).bot_user_id())
    assert refused.message.startswith(f"Slack auth.test failed: cannot reach {dead}")
    assert "xoxb-secret-token" not in refused.render()


def test_post_summary_posts_the_low_risk_summary(stand_in: SlackStandIn, slack: Slack) -> None:
    state = partial_state()
    assert post_summary(slack, stand_in.channel_id, state) is None
    (message,) = stand_in.messages()
    assert message["text"].startswith(f"[release] run {state.run_id} complete")
    assert message["blocks"][0]["type"] == "header"


def test_post_summary_without_slack_does_nothing(stand_in: SlackStandIn, slack: Slack) -> None:
    assert post_summary(None, stand_in.channel_id, partial_state()) is None
    assert post_summary(slack, None, partial_state()) is None
    assert stand_in.messages() == []


def test_post_summary_failures_are_warnings_not_errors(stand_in: SlackStandIn) -> None:
    bad_token = Slack("xoxb-wrong", stand_in.api_url)
    warning = post_summary(bad_token, stand_in.channel_id, partial_state())
    assert warning is not None
    assert warning.startswith("Slack chat.postMessage failed: invalid_auth (SLACK_BOT_TOKEN")
    assert "invalid_auth" in warning and "xoxb-wrong" not in warning

    down = Slack(stand_in.bot_token, f"http://127.0.0.1:{free_port()}/api/")
    warning = post_summary(down, stand_in.channel_id, partial_state())
    assert warning is not None and "cannot reach" in warning
    assert stand_in.messages() == []
