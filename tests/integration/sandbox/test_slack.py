"""The Slack stand-in driven by slack-sdk itself: the fields and errors Slack's docs show."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from release_train.sandbox.slack import BOT, PEOPLE, SlackStandIn

ALICE, BOB = PEOPLE[0].id, PEOPLE[1].id
TS = re.compile(r"^\d{10}\.\d{6}$")


def admin(slack: SlackStandIn, action: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 (loopback)
        f"{slack.admin_url}/{action}", data=data, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310
        return json.loads(resp.read())


def api_error(call: Any) -> str:
    with pytest.raises(SlackApiError) as caught:
        call()
    assert caught.value.response.status_code == 200  # Slack reports errors in the body
    assert caught.value.response["ok"] is False
    return str(caught.value.response["error"])


def test_auth_test_names_the_bot(slack_client: WebClient) -> None:
    body = slack_client.auth_test().data
    assert isinstance(body, dict)
    assert body["ok"] is True
    assert body["user_id"] == BOT.id
    assert body["bot_id"] == BOT.bot_id
    assert {"url", "team", "user", "team_id"} <= body.keys()


def test_post_message_returns_ts_channel_and_the_message(
    slack: SlackStandIn, slack_client: WebClient
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*plan*"}}]
    resp = slack_client.chat_postMessage(channel="#releases", text="plan", blocks=blocks)
    assert resp["channel"] == slack.channel_id
    assert TS.match(resp["ts"])
    message = resp["message"]
    assert message["type"] == "message"
    assert message["user"] == BOT.id
    assert message["bot_id"] == BOT.bot_id
    assert message["text"] == "plan"
    assert message["blocks"] == blocks
    assert message["ts"] == resp["ts"]
    assert "edited" not in message and "thread_ts" not in message


def test_replies_lists_the_parent_then_replies_in_order(
    slack: SlackStandIn, slack_client: WebClient
) -> None:
    parent = slack_client.chat_postMessage(channel=slack.channel_id, text="approve?")["ts"]
    first = admin(slack, "reply", {"thread_ts": parent, "user": ALICE, "text": "approve"})
    admin(slack, "reply", {"thread_ts": parent, "user": BOB, "text": "ok", "bot": True})
    # A reply's own ts as thread_ts lands in the same thread, as in Slack.
    own = slack_client.chat_postMessage(
        channel=slack.channel_id, text="noted", thread_ts=first["message"]["ts"]
    )

    messages = slack_client.conversations_replies(channel=slack.channel_id, ts=parent)["messages"]

    assert [m["text"] for m in messages] == ["approve?", "approve", "ok", "noted"]
    assert [m["ts"] for m in messages] == sorted(m["ts"] for m in messages)
    head, alice, by_bot, noted = messages
    assert head["thread_ts"] == parent and head["reply_count"] == 3
    assert head["reply_users"] == sorted([ALICE, BOB, BOT.id])
    assert head["latest_reply"] == noted["ts"] == own["ts"]
    assert alice["user"] == ALICE and "bot_id" not in alice
    assert alice["thread_ts"] == parent and alice["parent_user_id"] == BOT.id
    assert by_bot["user"] == BOB and by_bot["bot_id"]
    assert noted["thread_ts"] == parent


def test_replies_filters_by_oldest_latest_and_pages_by_cursor(
    slack: SlackStandIn, slack_client: WebClient
) -> None:
    parent = slack_client.chat_postMessage(channel=slack.channel_id, text="p")["ts"]
    ts = [
        admin(slack, "reply", {"thread_ts": parent, "user": ALICE, "text": str(i)})["message"]["ts"]
        for i in range(5)
    ]
    replies = slack_client.conversations_replies

    after = replies(channel=slack.channel_id, ts=parent, oldest=ts[1])["messages"]
    assert [m["text"] for m in after] == ["p", "2", "3", "4"]  # the parent always comes first
    channel = slack.channel_id
    window = replies(channel=channel, ts=parent, oldest=ts[1], latest=ts[3], inclusive=True)
    assert [m["text"] for m in window["messages"]] == ["p", "1", "2", "3"]

    # slack-sdk's iterator refills one response object page after page: read as it goes.
    pages = [
        ([m["text"] for m in page["messages"]], page["has_more"])
        for page in replies(channel=slack.channel_id, ts=parent, limit=2)
    ]
    assert pages == [(["p", "0"], True), (["1", "2"], True), (["3", "4"], False)]


def test_update_and_admin_edit_mark_messages_edited(
    slack: SlackStandIn, slack_client: WebClient
) -> None:
    parent = slack_client.chat_postMessage(channel=slack.channel_id, text="v1")
    updated = slack_client.chat_update(channel=slack.channel_id, ts=parent["ts"], text="v2")
    assert updated["ts"] == parent["ts"] and updated["text"] == "v2"
    assert updated["message"]["edited"]["user"] == BOT.id
    reply = admin(slack, "reply", {"thread_ts": parent["ts"], "user": ALICE, "text": "approve"})

    edited = admin(slack, "edit", {"ts": reply["message"]["ts"], "text": "approve!"})

    assert edited["message"]["edited"]["user"] == ALICE
    messages = slack_client.conversations_replies(channel=slack.channel_id, ts=parent["ts"])
    assert messages["messages"][1]["text"] == "approve!"
    assert TS.match(messages["messages"][1]["edited"]["ts"])
    listed = admin(slack, "messages")["messages"]
    assert [m["text"] for m in listed] == ["v2", "approve!"]
    assert {m["channel"] for m in listed} == {slack.channel_id}


def test_users_info(slack_client: WebClient) -> None:
    user = slack_client.users_info(user=ALICE)["user"]
    assert user["id"] == ALICE and user["is_bot"] is False
    assert {"name", "real_name", "profile", "team_id", "deleted"} <= user.keys()
    bot = slack_client.users_info(user=BOT.id)["user"]
    assert bot["is_bot"] is True and bot["profile"]["bot_id"] == BOT.bot_id
    assert api_error(lambda: slack_client.users_info(user="U0NOBODY")) == "user_not_found"


def test_errors_are_ok_false_with_slacks_error_names(
    slack: SlackStandIn, slack_client: WebClient
) -> None:
    bad = WebClient(token="xoxb-wrong", base_url=slack.api_url)
    assert api_error(bad.auth_test) == "invalid_auth"
    assert api_error(WebClient(base_url=slack.api_url).auth_test) == "not_authed"
    post = slack_client.chat_postMessage
    assert api_error(lambda: post(channel="C0NOWHERE", text="x")) == "channel_not_found"
    no_text = {"channel": slack.channel_id}  # through api_call: slack-sdk warns otherwise
    assert api_error(lambda: slack_client.api_call("chat.postMessage", json=no_text)) == "no_text"
    assert api_error(lambda: post(channel=slack.channel_id, text="x", thread_ts="1.2")) == (
        "thread_not_found"
    )
    replies = slack_client.conversations_replies
    assert api_error(lambda: replies(channel=slack.channel_id, ts="1.000001")) == (
        "thread_not_found"
    )
    parent = post(channel=slack.channel_id, text="x")["ts"]
    assert api_error(lambda: replies(channel=slack.channel_id, ts=parent, cursor="%%")) == (
        "invalid_cursor"
    )
    update = slack_client.chat_update
    assert api_error(lambda: update(channel=slack.channel_id, ts="1.1", text="y")) == (
        "message_not_found"
    )
    human = admin(slack, "reply", {"thread_ts": parent, "user": ALICE, "text": "mine"})
    assert api_error(
        lambda: update(channel=slack.channel_id, ts=human["message"]["ts"], text="y")
    ) == ("cant_update_message")


def test_form_bodies_and_token_parameters_are_accepted(slack: SlackStandIn) -> None:
    anonymous = WebClient(base_url=slack.api_url)
    body = anonymous.api_call("auth.test", params={"token": slack.bot_token})
    assert body["user_id"] == BOT.id
    form = WebClient(token=slack.bot_token, base_url=slack.api_url).api_call(
        "chat.postMessage",
        params={"channel": slack.channel_id, "text": "form", "blocks": '[{"type": "divider"}]'},
    )
    assert form["message"]["blocks"] == [{"type": "divider"}]


def test_admin_refuses_unknown_users(slack: SlackStandIn, slack_client: WebClient) -> None:
    parent = slack_client.chat_postMessage(channel=slack.channel_id, text="x")["ts"]
    with pytest.raises(urllib.error.HTTPError) as caught:
        admin(slack, "reply", {"thread_ts": parent, "user": "U0NOBODY", "text": "approve"})
    with caught.value:
        assert caught.value.code == 400
        assert json.loads(caught.value.read())["error"] == "user_not_found"


def test_timestamps_are_unique_and_increasing_under_a_frozen_clock() -> None:
    with SlackStandIn(clock=lambda: 1700000000.0) as slack:
        client = WebClient(token=slack.bot_token, base_url=slack.api_url)
        first = client.chat_postMessage(channel=slack.channel_id, text="a")["ts"]
        second = client.chat_postMessage(channel=slack.channel_id, text="b")["ts"]
        assert (first, second) == ("1700000000.000000", "1700000000.000001")
        assert admin(slack, "requests")["requests"][-1] == {
            "method": "POST",
            "path": "/api/chat.postMessage",
            "status": 200,
        }
