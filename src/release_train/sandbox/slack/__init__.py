"""A Slack Web API stand-in for slack-sdk's `WebClient(base_url=...)`, with an admin API."""

from __future__ import annotations

from release_train.sandbox.slack.server import SlackStandIn
from release_train.sandbox.slack.workspace import BOT, PEOPLE, SlackError, SlackUser

__all__ = ["BOT", "PEOPLE", "SlackError", "SlackStandIn", "SlackUser"]
