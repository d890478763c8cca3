"""How the player reaches the bot: signed HTTP POSTs to its /slack/events URL, like Slack's."""

from __future__ import annotations

import json
import time
import urllib.parse
from typing import Any

import httpx
from slack_sdk.signature import SignatureVerifier

from bot.simulator.player.base import Delivery, PlayerBase


class HttpTransport(PlayerBase):
    """Builds Slack's headers, signs the body (v0 HMAC) and times the answer."""

    def _signed_post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | str | None = None,
        signature: str | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> Delivery:
        """POST ``body`` to the bot as Slack does, signed unless a forged signature is given."""
        if not self.bot_url:
            raise RuntimeError("set sim.bot_url to the bot's /slack/events URL first")
        ts = str(int(time.time()) if timestamp is None else timestamp)
        if signature is None:
            signature = (
                SignatureVerifier(self.signing_secret).generate_signature(timestamp=ts, body=body) or ""
            )
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "Accept": "application/json,*/*",
            **(extra_headers or {}),
        }
        client = self._http or httpx.Client(timeout=10.0)
        self.recorder.begin_request()
        started = time.monotonic()
        try:
            response = client.post(self.bot_url, content=body.encode("utf-8"), headers=headers)
        finally:
            self.recorder.end_request()
            if client is not self._http:
                client.close()
        elapsed = time.monotonic() - started
        parsed: Any = None
        if response.content:
            try:
                parsed = response.json()
            except ValueError:
                parsed = None
        return Delivery(
            status=response.status_code,
            headers=dict(response.headers),
            text=response.text,
            json=parsed,
            elapsed=elapsed,
            request_body=body,
            request_headers=headers,
        )

    def _post_form(self, fields: dict[str, str], **sign: Any) -> Delivery:
        return self._signed_post(urllib.parse.urlencode(fields), "application/x-www-form-urlencoded", **sign)

    def _post_payload(self, payload: dict[str, Any], **sign: Any) -> Delivery:
        return self._post_form({"payload": json.dumps(payload)}, **sign)
