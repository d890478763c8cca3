"""Confirmations after a modal or a button, where there is no acknowledgement left to answer in."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient

log = logging.getLogger(__name__)


def notify(client: WebClient, user_id: str, channel_id: str | None, payload: dict[str, Any]) -> None:
    """Ephemeral in the channel it was started from, else (App Home, a DM) a DM; failures logged."""
    body = {k: v for k, v in payload.items() if k in ("text", "blocks")}
    try:
        if channel_id and not channel_id.startswith("D") and channel_id != "home":
            client.chat_postEphemeral(channel=channel_id, user=user_id, **body)
        else:
            client.chat_postMessage(channel=user_id, **body)
    except Exception:
        log.exception("could not confirm to %s", user_id)
