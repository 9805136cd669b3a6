"""The Slack stand-in's model: users, a channel, its messages and threads, and their paging."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]
TEAM_ID = "T0SANDBOX"
DEFAULT_LIMIT = 1000


@dataclass(frozen=True)
class SlackUser:
    id: str
    name: str
    real_name: str
    bot_id: str | None = None

    def as_json(self) -> JSON:
        profile: JSON = {"real_name": self.real_name, "display_name": self.name}
        if self.bot_id:
            profile["bot_id"] = self.bot_id
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.name,
            "deleted": False,
            "real_name": self.real_name,
            "tz": "Etc/UTC",
            "is_admin": False,
            "is_owner": False,
            "is_bot": self.bot_id is not None,
            "is_app_user": False,
            "updated": 1700000000,
            "profile": profile,
        }


BOT = SlackUser("U0BOT0001", "release-train", "release-train", bot_id="B0BOT0001")
OTHER_BOT = SlackUser("U0BOT0002", "another-bot", "Another bot", bot_id="B0BOT0002")
PEOPLE = (
    SlackUser("U0ALICE01", "alice", "Alice Approver"),
    SlackUser("U0BOB0001", "bob", "Bob Builder"),
    SlackUser("U0CAROL01", "carol", "Carol Outsider"),
)


class SlackError(Exception):
    """An API-level failure: Slack answers it with HTTP 200 and `ok: false`."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def ts_key(ts: str) -> int:
    """A Slack `ts` ("1700000000.000100") as integer microseconds, for ordering."""
    seconds, _, fraction = ts.partition(".")
    try:
        return int(seconds) * 1_000_000 + int((fraction or "0").ljust(6, "0")[:6])
    except ValueError as exc:
        raise SlackError("invalid_ts_latest") from exc


def _cursor(ts: str) -> str:
    return base64.b64encode(f"next_ts:{ts}".encode()).decode()


def _cursor_ts(cursor: str) -> str:
    try:
        text = base64.b64decode(cursor, validate=True).decode()
    except ValueError as exc:
        raise SlackError("invalid_cursor") from exc
    if not text.startswith("next_ts:"):
        raise SlackError("invalid_cursor")
    return text.removeprefix("next_ts:")


class Workspace:
    """Users, one channel and its messages; every method holds the lock."""

    def __init__(self, channel_id: str, channel_name: str, clock: Callable[[], float]) -> None:
        self.channel_id = channel_id
        self.channel_name = channel_name
        self.users = {u.id: u for u in (BOT, OTHER_BOT, *PEOPLE)}
        self.messages: list[JSON] = []  # in ts order
        self._clock = clock
        self._last_ts = 0
        self._lock = threading.Lock()

    def _next_ts(self) -> str:
        micros = max(int(self._clock() * 1_000_000), self._last_ts + 1)
        self._last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def channel(self, channel: str | None) -> str:
        if channel in (self.channel_id, self.channel_name, f"#{self.channel_name}"):
            return self.channel_id
        raise SlackError("channel_not_found")

    def _find(self, ts: str) -> JSON:
        for message in self.messages:
            if message["ts"] == ts:
                return message
        raise SlackError("message_not_found")

    def post(self, channel: str, user: SlackUser, text: str, blocks: Any, thread_ts: str) -> JSON:
        with self._lock:
            message: JSON = {"type": "message", "user": user.id, "text": text}
            if user.bot_id:
                message.update(bot_id=user.bot_id, app_id="A0SANDBOX", team=TEAM_ID)
            if blocks:
                message["blocks"] = blocks
            message["ts"] = self._next_ts()
            if thread_ts:
                parent = self._thread_parent(thread_ts)
                message.update(thread_ts=parent["ts"], parent_user_id=parent["user"])
                self._count_reply(parent, message)
            self.messages.append({**message, "channel": channel})
            return dict(message)

    def _thread_parent(self, thread_ts: str) -> JSON:
        try:
            found = self._find(thread_ts)
        except SlackError as exc:
            raise SlackError("thread_not_found") from exc
        # A reply's ts as thread_ts threads onto its parent, as in Slack.
        return self._find(found["thread_ts"]) if found.get("parent_user_id") else found

    @staticmethod
    def _count_reply(parent: JSON, reply: JSON) -> None:
        users = [*parent.get("reply_users", []), reply["user"]]
        parent.update(
            thread_ts=parent["ts"],
            reply_count=parent.get("reply_count", 0) + 1,
            reply_users=sorted(set(users)),
            reply_users_count=len(set(users)),
            latest_reply=reply["ts"],
        )

    def update(self, ts: str, user: SlackUser, text: str | None, blocks: Any) -> JSON:
        with self._lock:
            message = self._find(ts)
            if message["user"] != user.id and user.bot_id:
                raise SlackError("cant_update_message")
            if text is not None:
                message["text"] = text
            if blocks:
                message["blocks"] = blocks
            message["edited"] = {"user": user.id, "ts": self._next_ts()}
            return _public(message)

    def thread(self, ts: str) -> list[JSON]:
        """The parent, then its replies in ts order."""
        with self._lock:
            try:
                parent = self._find(ts)
            except SlackError as exc:
                raise SlackError("thread_not_found") from exc
            root = str(parent.get("thread_ts") or parent["ts"])
            replies = [m for m in self.messages if m.get("thread_ts") == root and m["ts"] != root]
            return [_public(self._find(root)), *(_public(m) for m in replies)]

    def all_messages(self) -> list[JSON]:
        with self._lock:
            return [dict(m) for m in self.messages]


def _public(message: JSON) -> JSON:
    return {k: v for k, v in message.items() if k != "channel"}


def window(messages: list[JSON], params: JSON) -> list[JSON]:
    """Replies inside `oldest`..`latest` (inclusive only on request); the parent always."""
    inclusive = str(params.get("inclusive", "")).lower() in ("1", "true")
    oldest = ts_key(str(params.get("oldest") or "0"))
    latest = ts_key(str(params["latest"])) if params.get("latest") else None

    def inside(message: JSON) -> bool:
        key = ts_key(message["ts"])
        after = key >= oldest if inclusive else key > oldest
        before = latest is None or (key <= latest if inclusive else key < latest)
        return after and before

    parent, *replies = messages
    return [parent, *(m for m in replies if inside(m))]


def page(messages: list[JSON], params: JSON) -> JSON:
    try:
        limit = min(int(params.get("limit") or DEFAULT_LIMIT), DEFAULT_LIMIT)
    except ValueError as exc:
        raise SlackError("invalid_limit") from exc
    start = 0
    if params.get("cursor"):
        after = ts_key(_cursor_ts(str(params["cursor"])))
        start = next((i for i, m in enumerate(messages) if ts_key(m["ts"]) >= after), 0)
    page = messages[start : start + max(limit, 1)]
    rest = messages[start + len(page) :]
    body: JSON = {"messages": page, "has_more": bool(rest)}
    if rest:
        body["response_metadata"] = {"next_cursor": _cursor(rest[0]["ts"])}
    return body
