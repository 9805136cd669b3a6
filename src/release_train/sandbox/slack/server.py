"""The Slack stand-in's HTTP side: the Web API methods under `/api/` and the admin API.

It answers the way Slack does: HTTP 200 with `{"ok": false, "error": ...}` for API
errors, form-encoded or JSON bodies, the bot token in `Authorization: Bearer` or a
`token` parameter. Replies "from people" are posted through `/_sandbox/slack/reply`.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from release_train.sandbox.service import HttpService
from release_train.sandbox.slack.workspace import (
    BOT,
    JSON,
    OTHER_BOT,
    TEAM_ID,
    SlackError,
    SlackUser,
    Workspace,
    page,
    window,
)


@dataclass(frozen=True)
class Failure:
    """A Web API answer a test asked for: an error, its HTTP status and fields."""

    error: str
    status: int = 200
    retry_after: int | None = None
    extra: JSON = field(default_factory=dict)


class SlackStandIn(HttpService):
    """The Web API under `/api/` and the admin API under `/_sandbox/slack/` on one port."""

    name = "slack-stand-in"

    def __init__(
        self,
        *,
        channel_id: str = "C0SANDBOX1",
        channel_name: str = "releases",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.workspace = Workspace(channel_id, channel_name, clock)
        self.bot_token = f"xoxb-sandbox-{secrets.token_hex(12)}"
        self.bot_user_id = BOT.id
        self.requests: list[tuple[str, str, int]] = []  # (method, path, HTTP status)
        self.failures: dict[str, list[Failure]] = {}  # Web API method -> answers to give first
        super().__init__()

    @property
    def channel_id(self) -> str:
        return self.workspace.channel_id

    @property
    def api_url(self) -> str:
        """slack-sdk's `base_url`: it appends the method name."""
        return f"{self.server_url}/api/"

    @property
    def admin_url(self) -> str:
        return f"{self.server_url}/_sandbox/slack"

    def make_server(self) -> ThreadingHTTPServer:
        return _Server(self)

    # The admin operations, callable in-process as well as over HTTP.
    def post_reply(
        self, channel: str, thread_ts: str, user: str, text: str, *, bot: bool = False
    ) -> JSON:
        """Post `text` in the thread as user `user` (a bot user's message when `bot`)."""
        author = self.workspace.users.get(user)
        if author is None:
            raise SlackError("user_not_found")
        if bot and author.bot_id is None:
            author = SlackUser(author.id, author.name, author.real_name, bot_id=OTHER_BOT.bot_id)
        return self.workspace.post(self.workspace.channel(channel), author, text, None, thread_ts)

    def edit(self, channel: str, ts: str, text: str, *, user: str | None = None) -> JSON:
        """Edit message `ts` as `user` (its author by default): it then carries `edited`."""
        self.workspace.channel(channel)
        author = self.workspace.users.get(user or "") or self._author_of(ts)
        return self.workspace.update(ts, author, text, None)

    def _author_of(self, ts: str) -> SlackUser:
        for message in self.workspace.all_messages():
            if message["ts"] == ts:
                return self.workspace.users[message["user"]]
        raise SlackError("message_not_found")

    def fail(
        self,
        method: str,
        error: str,
        *,
        times: int = 1,
        status: int = 200,
        retry_after: int | None = None,
        fields: JSON | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` with `error` (429 + Retry-After: a limit)."""
        failure = Failure(error, status, retry_after, dict(fields or {}))
        self.failures.setdefault(method, []).extend([failure] * times)

    def take_failure(self, method: str) -> Failure | None:
        queued = self.failures.get(method)
        return queued.pop(0) if queued else None

    def messages(self) -> list[JSON]:
        return self.workspace.all_messages()

    def call(self, method: str, params: JSON, token: str | None) -> JSON:
        """One Web API call: the response body, `ok` included."""
        if token is None:
            raise SlackError("not_authed")
        if not secrets.compare_digest(token, self.bot_token):
            raise SlackError("invalid_auth")
        handler = _METHODS.get(method)
        if handler is None:
            raise SlackError("unknown_method")
        return {"ok": True, **handler(self, params)}


def _blocks(params: JSON) -> Any:
    blocks = params.get("blocks")
    if isinstance(blocks, str):  # form-encoded bodies carry blocks as a JSON string
        try:
            return json.loads(blocks)
        except ValueError as exc:
            raise SlackError("invalid_blocks") from exc
    return blocks


def _auth_test(slack: SlackStandIn, _params: JSON) -> JSON:
    return {
        "url": "https://sandbox.slack.com/",
        "team": "Sandbox",
        "user": BOT.name,
        "team_id": TEAM_ID,
        "user_id": BOT.id,
        "bot_id": BOT.bot_id,
        "is_enterprise_install": False,
    }


def _post_message(slack: SlackStandIn, params: JSON) -> JSON:
    channel = slack.workspace.channel(params.get("channel"))
    text, blocks = str(params.get("text") or ""), _blocks(params)
    if not text and not blocks:
        raise SlackError("no_text")
    thread_ts = str(params.get("thread_ts") or "")
    message = slack.workspace.post(channel, BOT, text, blocks, thread_ts)
    return {"channel": channel, "ts": message["ts"], "message": message}


def _update(slack: SlackStandIn, params: JSON) -> JSON:
    channel = slack.workspace.channel(params.get("channel"))
    text = params.get("text")
    message = slack.workspace.update(
        str(params.get("ts") or ""), BOT, None if text is None else str(text), _blocks(params)
    )
    return {"channel": channel, "ts": message["ts"], "text": message["text"], "message": message}


def _replies(slack: SlackStandIn, params: JSON) -> JSON:
    slack.workspace.channel(params.get("channel"))
    thread = slack.workspace.thread(str(params.get("ts") or ""))
    return page(window(thread, params), params)


def _users_info(slack: SlackStandIn, params: JSON) -> JSON:
    user = slack.workspace.users.get(str(params.get("user") or ""))
    if user is None:
        raise SlackError("user_not_found")
    return {"user": user.as_json()}


_METHODS: dict[str, Callable[[SlackStandIn, JSON], JSON]] = {
    "auth.test": _auth_test,
    "chat.postMessage": _post_message,
    "chat.update": _update,
    "conversations.replies": _replies,
    "users.info": _users_info,
}


def _admin(slack: SlackStandIn, verb: str, action: str, body: JSON) -> JSON:
    """`/_sandbox/slack/<action>`: reply, edit, messages, requests."""
    if verb == "GET" and action == "messages":
        return {"ok": True, "messages": slack.messages()}
    if verb == "GET" and action == "requests":
        rows = [{"method": m, "path": p, "status": s} for m, p, s in slack.requests]
        return {"ok": True, "requests": rows}
    if verb == "POST" and action == "reply":
        message = slack.post_reply(
            str(body.get("channel") or slack.channel_id),
            str(body.get("thread_ts") or ""),
            str(body.get("user") or ""),
            str(body.get("text") or ""),
            bot=bool(body.get("bot")),
        )
        return {"ok": True, "message": message}
    if verb == "POST" and action == "edit":
        message = slack.edit(
            str(body.get("channel") or slack.channel_id),
            str(body.get("ts") or ""),
            str(body.get("text") or ""),
            user=body.get("user"),
        )
        return {"ok": True, "message": message}
    raise SlackError("unknown_method")


class _Server(ThreadingHTTPServer):
    """The HTTP server of one stand-in; handlers reach the stand-in through it."""

    daemon_threads = True

    def __init__(self, slack: SlackStandIn) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.slack = slack


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr log: requests are kept in `slack.requests`."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, verb: str) -> None:
        slack = self.server.slack
        url = urlsplit(self.path)
        params: JSON = dict(parse_qsl(url.query))
        status, body = HTTPStatus.OK, {}
        headers: dict[str, str] = {}
        api = url.path.startswith("/api/")
        failure = slack.take_failure(url.path.removeprefix("/api/")) if api else None
        try:
            params.update(self._body())
            if failure is not None:
                status = HTTPStatus(failure.status)
                body = {"ok": False, "error": failure.error, **failure.extra}
                if failure.retry_after is not None:
                    headers["Retry-After"] = str(failure.retry_after)
            elif api:
                body = slack.call(url.path.removeprefix("/api/"), params, self._token(params))
            elif url.path.startswith("/_sandbox/slack/"):
                action = url.path.removeprefix("/_sandbox/slack/")
                body = _admin(slack, verb, action, params)
            else:
                status, body = HTTPStatus.NOT_FOUND, {"ok": False, "error": "not_found"}
        except SlackError as exc:
            body = {"ok": False, "error": exc.error}
            if url.path.startswith("/_sandbox/"):
                status = HTTPStatus.BAD_REQUEST
        slack.requests.append((verb, url.path, int(status)))
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> JSON:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        if not raw:
            return {}
        if self.headers.get_content_type() == "application/json":
            try:
                parsed = json.loads(raw)
            except ValueError as exc:
                raise SlackError("invalid_json") from exc
            if not isinstance(parsed, dict):
                raise SlackError("invalid_json")
            return parsed
        return dict(parse_qsl(raw))

    def _token(self, params: JSON) -> str | None:
        header = self.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return header.removeprefix("Bearer ").strip()
        token = params.pop("token", None)
        return None if token is None else str(token)
