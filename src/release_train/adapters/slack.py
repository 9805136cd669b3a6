"""Slack through slack-sdk: post the gate and the summary, read a thread's replies, who we are."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from release_train.core.messages import SlackMessage, summary_message
from release_train.core.state import RunState
from release_train.errors import ErrorCode, ReleaseError

DEFAULT_API_URL = "https://slack.com/api/"
PAGE_LIMIT = 200  # conversations.replies: Slack suggests no more than 200 per page
MAX_PAGES = 50
RATE_LIMIT_RETRIES = 3
# The bot token scopes each method needs, named in the hint when Slack refuses one.
SCOPES = {
    "auth.test": "(none)",
    "chat.postMessage": "chat:write",
    "conversations.replies": "channels:history (public) or groups:history (private channel)",
}
_AUTH_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}
)


@dataclass(frozen=True)
class Reply:
    """One message in a thread, as much of it as the gate needs to judge it."""

    ts: str
    user: str | None
    text: str
    bot: bool  # posted by a bot or an app, not by a person
    edited: bool


def _reply(message: Mapping[str, Any]) -> Reply:
    return Reply(
        ts=str(message.get("ts") or ""),
        user=message.get("user"),
        text=str(message.get("text") or ""),
        bot=bool(message.get("bot_id")) or message.get("subtype") == "bot_message",
        edited="edited" in message,
    )


def _hint(method: str, error: str, response: Mapping[str, Any]) -> str | None:
    if error == "missing_scope":
        needed = response.get("needed") or SCOPES.get(method, "?")
        return (
            f"add the bot token scope {needed} to the Slack app (for {method}), "
            "reinstall it to the workspace, then re-run"
        )
    if error == "not_in_channel":
        return "invite the bot to the channel (`/invite @<bot name>` in it), then re-run"
    if error in _AUTH_ERRORS:
        return "SLACK_BOT_TOKEN is not a valid bot token (xoxb-…) of the workspace; renew it"
    if error == "channel_not_found":
        return "set slack.channel in release-train.toml to a channel id (C…) the bot can see"
    if error == "ratelimited":
        return "Slack kept rate-limiting this app; wait a minute and re-run"
    return None


class Slack:
    """A bot's view of Slack. Every failure is `SLACK_ERROR`; the token appears nowhere."""

    def __init__(self, token: str, api_url: str = DEFAULT_API_URL, *, timeout: int = 30) -> None:
        self.api_url = api_url if api_url.endswith("/") else api_url + "/"
        handlers = [
            ConnectionErrorRetryHandler(max_retry_count=1),
            # Waits Slack's `Retry-After` (a tier's per-minute limit) before trying again.
            RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ]
        self._client = WebClient(
            token=token, base_url=self.api_url, timeout=timeout, retry_handlers=handlers
        )
        self._bot_user: str | None = None

    def __repr__(self) -> str:
        return f"Slack(api_url={self.api_url!r})"

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Slack | None:
        """From SLACK_BOT_TOKEN and SLACK_API_URL; None when there is no token (no Slack)."""
        token = env.get("SLACK_BOT_TOKEN")
        if not token:
            return None
        return cls(token, env.get("SLACK_API_URL") or DEFAULT_API_URL)

    @contextmanager
    def _calling(self, method: str) -> Iterator[None]:
        """Turn slack-sdk's errors into `SLACK_ERROR` with the cause and, if known, a fix."""
        try:
            yield
        except SlackApiError as exc:
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            error = str(data.get("error") or f"HTTP {exc.response.status_code}")
            raise ReleaseError(
                ErrorCode.SLACK_ERROR,
                f"Slack {method} failed: {error}",
                hint=_hint(method, error, data),
            ) from None  # the chained exception's request would carry the token
        except (SlackClientError, OSError) as exc:
            raise ReleaseError(
                ErrorCode.SLACK_ERROR,
                f"Slack {method} failed: cannot reach {self.api_url} ({type(exc).__name__})",
                hint="check SLACK_API_URL and the network, then re-run",
            ) from None

    def _api(self, method: str, call: Callable[[], Any]) -> dict[str, Any]:
        with self._calling(method):
            data = call().data
        return data if isinstance(data, dict) else {}

    def bot_user_id(self) -> str:
        """The bot's own user id (auth.test), so its own messages are never read as answers."""
        if self._bot_user is None:
            data = self._api("auth.test", self._client.auth_test)
            self._bot_user = str(data.get("user_id") or "")
        return self._bot_user

    def post(self, channel: str, message: SlackMessage, thread_ts: str | None = None) -> str:
        """Post `message` (in the thread `thread_ts`, if given); its ts."""
        send = partial(
            self._client.chat_postMessage,
            channel=channel,
            text=message.text,
            blocks=message.blocks or None,
            thread_ts=thread_ts,
            unfurl_links=False,
            unfurl_media=False,
        )
        return str(self._api("chat.postMessage", send).get("ts") or "")

    def replies(self, channel: str, ts: str, oldest: str | None = None) -> list[Reply]:
        """The replies to thread `ts` after `oldest` (exclusive), oldest first; not the parent."""
        found: list[Reply] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            fetch = partial(
                self._client.conversations_replies,
                channel=channel,
                ts=ts,
                oldest=oldest,
                cursor=cursor,
                limit=PAGE_LIMIT,
            )
            data = self._api("conversations.replies", fetch)
            found.extend(_reply(m) for m in data.get("messages") or [] if m.get("ts") != ts)
            cursor = (data.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        return found


def post_summary(slack: Slack | None, channel: str | None, state: RunState) -> str | None:
    """Step 4.4, best effort: None when posted (or no Slack), else the cause, to warn with.

    A Slack failure never fails a release: the release already happened.
    """
    if slack is None or not channel:
        return None
    try:
        slack.post(channel, summary_message(state))
    except ReleaseError as exc:
        hint = f" ({exc.hint})" if exc.hint else ""
        return f"{exc.message}{hint}"
    return None
