"""How the player reaches the bot, as Slack does: signed HTTP POSTs to its /slack/events URL, or,
when the app is in Socket Mode, envelopes on its WebSocket (``bot/simulator/socket_mode.py``).

Either way the caller gets a ``Delivery``: the status (in Socket Mode 200 when acknowledged,
503 when no connection was open, 504 when the ack never came), the answer's body (the ack's
payload), and how long the acknowledgement took — so commands, modals and menus are shown
exactly the same whichever way the app listens.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from typing import Any

import httpx
from slack_sdk.signature import SignatureVerifier

from bot.simulator.player.base import Delivery, InteractionError, PlayerBase
from bot.simulator.socket_mode import Exchange

# Interactions whose ack may carry an answer: response_action, or a menu's options.
_ANSWERING_INTERACTIONS = {"view_submission", "block_suggestion"}


class HttpTransport(PlayerBase):
    """Builds Slack's headers, signs the body (v0 HMAC) and times the answer — or, in Socket
    Mode, wraps the same payload in an envelope and waits for its ack."""

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
        """A slash command: a signed form POST, or a ``slash_commands`` envelope."""
        if self.socket is not None:
            return self._over_socket("slash_commands", dict(fields), accepts_response_payload=True, **sign)
        delivery = self._signed_post(
            urllib.parse.urlencode(fields), "application/x-www-form-urlencoded", **sign
        )
        delivery.sent = dict(fields)
        return delivery

    def _post_payload(self, payload: dict[str, Any], **sign: Any) -> Delivery:
        """An interaction: a signed ``payload=`` form POST, or an ``interactive`` envelope."""
        if self.socket is not None:
            answers = payload.get("type") in _ANSWERING_INTERACTIONS
            return self._over_socket("interactive", payload, accepts_response_payload=answers, **sign)
        delivery = self._signed_post(
            urllib.parse.urlencode({"payload": json.dumps(payload)}),
            "application/x-www-form-urlencoded",
            **sign,
        )
        delivery.sent = payload
        return delivery

    def _post_event(
        self, envelope: dict[str, Any], *, retry_num: int | None, retry_reason: str, **sign: Any
    ) -> Delivery:
        """An Events API callback: signed JSON with the retry headers, or an ``events_api``
        envelope with ``retry_attempt``/``retry_reason`` (redelivered until acknowledged)."""
        if self.socket is not None:
            return self._over_socket(
                "events_api",
                envelope,
                accepts_response_payload=False,
                retry_attempt=retry_num or 0,
                retry_reason=retry_reason if retry_num else "",
                **sign,
            )
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        delivery = self._signed_post(json.dumps(envelope), "application/json", extra_headers=headers, **sign)
        delivery.sent = envelope
        return delivery

    def _over_socket(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool,
        retry_attempt: int = 0,
        retry_reason: str = "",
        **sign: Any,
    ) -> Delivery:
        """Deliver over the app's Socket Mode connection and read the ack like an HTTP answer."""
        if any(v is not None for v in sign.values()):
            raise InteractionError(
                f"{', '.join(k for k, v in sign.items() if v is not None)}: requests are signed in HTTP "
                "mode only; Socket Mode has no signatures"
            )
        assert self.socket is not None
        self.recorder.begin_request()
        try:
            exchange = self.socket.deliver(
                kind,
                payload,
                accepts_response_payload=accepts_response_payload,
                retry_attempt=retry_attempt,
                retry_reason=retry_reason,
            )
        finally:
            self.recorder.end_request()
        return _socket_delivery(exchange, payload)


def _socket_delivery(exchange: Exchange, payload: dict[str, Any]) -> Delivery:
    if exchange.acked:
        status = 200
    elif not exchange.attempts or all(outcome == "no connection" for _, outcome in exchange.attempts):
        status = 503
    else:
        status = 504
    body = exchange.payload or None
    return Delivery(
        status=status,
        headers={},
        text=json.dumps(body) if body else "",
        json=body,
        elapsed=exchange.elapsed,
        request_body=json.dumps(exchange.envelope),
        sent=payload,
        transport="socket",
        exchange=exchange,
    )
