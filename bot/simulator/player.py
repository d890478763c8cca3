"""Plays Slack toward the bot: signed slash commands, events and interactions over real HTTP.

Requests are built field for field like Slack's, signed with the v0 HMAC scheme, and the bot's
acknowledgement is interpreted the way Slack's client would (ack text shown ephemerally, modal
``response_action``s applied, a slow or failed ack shown as an error). Human-side effects — the
user's own message, a reaction, a joined channel — are applied to the workspace first, because
Slack would have done so before the bot hears about them.
"""

from __future__ import annotations

import html
import json
import re
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
from slack_sdk.signature import SignatureVerifier

from bot.simulator.feed import Output, Recorder
from bot.simulator.render import element_options
from bot.simulator.webapi import SlackWebApi, validate_view
from bot.simulator.workspace import (
    APP_ID,
    BOT_USER_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    Channel,
    Ephemeral,
    Message,
    SlackError,
    View,
    Workspace,
)

ACK_DEADLINE_SECONDS = 3.0
VERIFICATION_TOKEN = "sim-verification-token"
EXTERNAL_SELECTS = {"external_select", "multi_external_select"}
MAX_SUGGESTED_OPTIONS = 100  # Slack shows nothing when an app answers with more
# Loads an external select's options for a typed query: (element, block, query) → options.
Suggest = Callable[[dict[str, Any], dict[str, Any], str], list[dict[str, Any]]]


class InteractionError(ValueError):
    """Something a Slack client would refuse before sending, e.g. an empty required field."""


@dataclass
class Delivery:
    """What the bot answered to one request Slack sent it."""

    status: int
    headers: dict[str, str] = field(repr=False)
    text: str
    json: Any = None
    elapsed: float = 0.0
    request_body: str = field(default="", repr=False)
    request_headers: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


_MENTION = re.compile(r"(?<![\w<|])@([A-Za-z0-9._-]+)")
_CHANNEL = re.compile(r"(?<![\w<|&])#([a-z0-9_-]+)")
_URL = re.compile(r"(?<![<|])\bhttps?://[^\s<>]+")
_TOKEN = re.compile(r"<[@#!][^<>]*>|<https?://[^<>]*>")


class Player:
    """The request-sending half of the Simulator (mixed into it)."""

    workspace: Workspace
    api: SlackWebApi
    recorder: Recorder
    signing_secret: str
    bot_url: str | None
    _http: httpx.Client | None
    last_suggestion: Delivery | None = None  # the latest block_suggestion exchange, for tests

    # ---- transport ----------------------------------------------------------------------------

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

    # ---- helpers ------------------------------------------------------------------------------

    def _user_obj(self, user_id: str) -> dict[str, Any]:
        user = self.workspace.user(user_id)
        return {"id": user.id, "username": user.name, "name": user.name, "team_id": TEAM_ID}

    def _team(self) -> dict[str, Any]:
        return {"id": TEAM_ID, "domain": TEAM_DOMAIN}

    def _resolve_user(self, user: str) -> str:
        found = self.workspace.user_by_name(user)
        if found is None:
            raise KeyError(f"no such user: {user}")
        return found.id

    def _join(self, user_id: str, channel_id: str) -> Channel:
        """Make sure a human can act in the channel; public channels are joined like in the client."""
        self.workspace.user(user_id)
        channel = self.workspace.channel(channel_id, as_bot=False)
        with self.workspace.lock:
            if user_id not in channel.members:
                if channel.is_private or channel.is_im:
                    raise InteractionError(
                        f"@{self.workspace.user_label(user_id)} is not a member of "
                        f"{self.workspace.channel_label(channel.id)}"
                    )
                channel.members.append(user_id)
        return channel

    def encode_text(self, text: str, *, with_names: bool) -> str:
        """Encode what a person typed as Slack's client does: escape &<>, wrap links, mentions.

        ``with_names`` gives the ``should_escape`` form of slash commands (``<@U1|lena>``).
        Already-encoded tokens (``<@U…>``, ``<#C…|x>``, ``<https://…>``) are kept as they are.
        """
        parts: list[str] = []
        last = 0
        for token in _TOKEN.finditer(text):
            parts.append(self._encode_plain(text[last : token.start()], with_names))
            parts.append(token.group(0))
            last = token.end()
        parts.append(self._encode_plain(text[last:], with_names))
        return "".join(parts)

    def _encode_plain(self, text: str, with_names: bool) -> str:
        text = html.escape(text, quote=False)
        text = _URL.sub(lambda m: f"<{m.group(0)}>", text)

        def mention(m: re.Match[str]) -> str:
            word = m.group(1)
            if word.lower() in {"here", "channel", "everyone"}:
                return f"<!{word.lower()}>"
            user = self.workspace.user_by_name(word.rstrip(".,:;!?"))
            if user is None:
                return m.group(0)
            tail = word[len(word.rstrip(".,:;!?")) :]
            return (f"<@{user.id}|{user.name}>" if with_names else f"<@{user.id}>") + tail

        def channel(m: re.Match[str]) -> str:
            found = self.workspace.channel_by_name(m.group(1))
            if found is None or found.is_im:
                return m.group(0)
            return f"<#{found.id}|{found.name}>" if with_names else f"<#{found.id}|>"

        return _CHANNEL.sub(channel, _MENTION.sub(mention, text))

    def _rich_text(self, text: str) -> list[dict[str, Any]]:
        """The rich_text block Slack's client attaches to a typed message."""
        elements: list[dict[str, Any]] = []
        last = 0
        for m in re.finditer(
            r"<@([A-Z0-9]+)(?:\|[^>]*)?>|<#([A-Z0-9]+)(?:\|[^>]*)?>|<(https?://[^|>]+)(?:\|[^>]*)?>", text
        ):
            if m.start() > last:
                elements.append({"type": "text", "text": html.unescape(text[last : m.start()])})
            if m.group(1):
                elements.append({"type": "user", "user_id": m.group(1)})
            elif m.group(2):
                elements.append({"type": "channel", "channel_id": m.group(2)})
            else:
                elements.append({"type": "link", "url": m.group(3)})
            last = m.end()
        if last < len(text):
            elements.append({"type": "text", "text": html.unescape(text[last:])})
        return [
            {
                "type": "rich_text",
                "block_id": uuid.uuid4().hex[:5],
                "elements": [{"type": "rich_text_section", "elements": elements}],
            }
        ]

    def _error_output(self, user_id: str, channel_id: str | None, text: str, raw: dict[str, Any]) -> None:
        self.recorder.emit(
            Output(kind="error", channel=channel_id, user=user_id, text=text, raw=raw, via="ack")
        )

    def _ack_failed(self, delivery: Delivery) -> str | None:
        """Slack's own error code when the bot did not acknowledge properly, else None."""
        if delivery.elapsed > ACK_DEADLINE_SECONDS:
            return "operation_timeout"
        if not delivery.ok:
            return "dispatch_failed" if delivery.status >= 500 else "http_client_error"
        return None

    # ---- slash commands -----------------------------------------------------------------------

    def command(
        self,
        user_id: str,
        command: str,
        text: str = "",
        channel_id: str | None = None,
        *,
        timestamp: int | str | None = None,
        signature: str | None = None,
        raw_text: bool = False,
    ) -> Delivery:
        """Send a slash command; ``text`` is encoded like ``should_escape`` unless ``raw_text``."""
        user_id = self._resolve_user(user_id)
        if channel_id is None:
            channel_id = self.workspace.open_im(user_id).id
        channel = self._join(user_id, channel_id)
        if not command.startswith("/"):
            command = "/" + command
        entry = self.workspace.new_response_url(user_id, channel.id)
        user = self.workspace.user(user_id)
        fields = {
            "token": VERIFICATION_TOKEN,
            "team_id": TEAM_ID,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel.id,
            "channel_name": "directmessage"
            if channel.is_im
            else ("privategroup" if channel.is_private else channel.name),
            "user_id": user_id,
            "user_name": user.name,
            "command": command,
            "text": text if raw_text else self.encode_text(text, with_names=True),
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": self.api.response_url(entry.id),
            "trigger_id": self.workspace.issue_trigger(user_id),
        }
        delivery = self._post_form(fields, timestamp=timestamp, signature=signature)
        failure = self._ack_failed(delivery)
        if failure:
            self._error_output(
                user_id,
                channel.id,
                f'{command} failed with the error "{failure}"',
                {"status": delivery.status},
            )
        elif delivery.text.strip():
            body = delivery.json if isinstance(delivery.json, dict) else {"text": delivery.text}
            self._show_ack(user_id, channel.id, body, entry_id=entry.id)
        return delivery

    def _show_ack(self, user_id: str, channel_id: str, body: dict[str, Any], *, entry_id: str) -> None:
        """A command's ack body, shown as Slack shows it (ephemeral unless in_channel)."""
        text, blocks = body.get("text"), body.get("blocks")
        if not text and not blocks:
            return
        if body.get("response_type") == "in_channel":
            message = self.workspace.post_message(
                channel_id, text=str(text or ""), user=BOT_USER_ID, bot_id="B0FLYWHEEL", blocks=blocks
            )
            self.recorder.emit(
                Output(
                    kind="message",
                    channel=channel_id,
                    user=self._im_user(channel_id),
                    ts=message.ts,
                    text=message.text,
                    blocks=blocks,
                    raw=body,
                    via="ack",
                )
            )
        else:
            eph = self.workspace.add_ephemeral(channel_id, user_id, text=str(text or ""), blocks=blocks)
            self.recorder.emit(
                Output(
                    kind="ephemeral",
                    channel=channel_id,
                    user=user_id,
                    ts=eph.ts,
                    text=eph.text,
                    blocks=blocks,
                    raw=body,
                    via="ack",
                )
            )

    def _im_user(self, channel_id: str) -> str | None:
        channel = self.workspace.channels.get(channel_id)
        return channel.im_user if channel is not None and channel.is_im else None

    # ---- events -------------------------------------------------------------------------------

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        timestamp: int | str | None = None,
        signature: str | None = None,
    ) -> Delivery:
        """Deliver an Events API event in its ``event_callback`` envelope."""
        envelope = {
            "token": VERIFICATION_TOKEN,
            "team_id": TEAM_ID,
            "context_team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or "Ev" + uuid.uuid4().hex[:10].upper(),
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": TEAM_ID,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-" + uuid.uuid4().hex,
        }
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        return self._signed_post(
            json.dumps(envelope),
            "application/json",
            timestamp=timestamp,
            signature=signature,
            extra_headers=headers,
        )

    def url_verification(self, challenge: str, **sign: Any) -> Delivery:
        body = {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
        return self._signed_post(json.dumps(body), "application/json", **sign)

    def post_message(
        self, channel_id: str, user_id: str, text: str, thread_ts: str | None = None, *, ts: str | None = None
    ) -> str:
        """Seed a human message (mentions encoded as the client would); no event. Returns its ts."""
        return self._human_message(channel_id, user_id, text, thread_ts, ts=ts).ts

    def _human_message(
        self, channel_id: str, user_id: str, text: str, thread_ts: str | None, *, ts: str | None = None
    ) -> Message:
        user_id = self._resolve_user(user_id)
        channel = self._join(user_id, channel_id)
        encoded = self.encode_text(text, with_names=False)
        return self.workspace.post_message(
            channel.id,
            text=encoded,
            user=user_id,
            blocks=self._rich_text(encoded),
            thread_ts=thread_ts,
            ts=ts,
        )

    def _message_event(self, message: Message, channel: Channel, event_type: str) -> dict[str, Any]:
        event: dict[str, Any] = {
            "type": event_type,
            "user": message.user,
            "text": message.text,
            "ts": message.ts,
            "channel": channel.id,
            "event_ts": message.ts,
            "team": TEAM_ID,
            "blocks": message.blocks,
            "client_msg_id": str(uuid.uuid4()),
        }
        if message.is_reply:
            event["thread_ts"] = message.thread_ts
            if event_type == "message":
                event["parent_user_id"] = self.workspace.find_message(channel.id, str(message.thread_ts)).user
        if event_type == "message":
            event["channel_type"] = (
                "im"
                if channel.is_im
                else "mpim"
                if channel.is_mpim
                else "group"
                if channel.is_private
                else "channel"
            )
        return event

    def dm(self, user_id: str, text: str, thread_ts: str | None = None, **kwargs: Any) -> Delivery:
        """The user writes to the bot in their IM: the message is stored, then ``message.im`` sent."""
        user_id = self._resolve_user(user_id)
        channel = self.workspace.open_im(user_id)
        message = self._human_message(channel.id, user_id, text, thread_ts)
        return self.event(self._message_event(message, channel, "message"), **kwargs)

    def mention(
        self, user_id: str, channel_id: str, text: str, thread_ts: str | None = None, **kwargs: Any
    ) -> Delivery:
        """The user @-mentions the bot; ``@flywheel`` is added in front when the text lacks it."""
        user_id = self._resolve_user(user_id)
        if f"<@{BOT_USER_ID}>" not in text and not re.search(r"(?<!\w)@flywheel\b", text, re.I):
            text = f"<@{BOT_USER_ID}> {text}"
        text = re.sub(r"(?<!\w)@flywheel\b", f"<@{BOT_USER_ID}>", text, flags=re.I)
        channel = self._join(user_id, channel_id)
        message = self._human_message(channel.id, user_id, text, thread_ts)
        return self.event(self._message_event(message, channel, "app_mention"), **kwargs)

    def react(self, user_id: str, channel_id: str, ts: str, name: str, **kwargs: Any) -> Delivery:
        user_id = self._resolve_user(user_id)
        channel = self._join(user_id, channel_id)
        name = name.strip(":")
        message = self.workspace.add_reaction(channel.id, ts, name, user_id)
        event = {
            "type": "reaction_added",
            "user": user_id,
            "reaction": name,
            "item_user": message.user or BOT_USER_ID,
            "item": {"type": "message", "channel": channel.id, "ts": ts},
            "event_ts": self.workspace.new_ts(),
        }
        return self.event(event, **kwargs)

    def open_home(self, user_id: str, **kwargs: Any) -> Delivery:
        user_id = self._resolve_user(user_id)
        channel = self.workspace.open_im(user_id)
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": channel.id,
            "tab": "home",
            "event_ts": self.workspace.new_ts(),
        }
        home = self.workspace.home_view(user_id)
        if home is not None:
            event["view"] = home.to_slack()
        return self.event(event, **kwargs)

    # ---- interactivity ------------------------------------------------------------------------

    def _interaction_base(self, kind: str, user_id: str) -> dict[str, Any]:
        return {
            "type": kind,
            "user": self._user_obj(user_id),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "trigger_id": self.workspace.issue_trigger(user_id),
        }

    def click(
        self,
        user_id: str,
        action_id: str,
        value: str | None = None,
        *,
        message: Message | str | None = None,
        view: View | str | None = None,
        block_id: str | None = None,
        channel_id: str | None = None,
        ephemeral: Ephemeral | None = None,
        action: dict[str, Any] | None = None,
        **sign: Any,
    ) -> Delivery:
        """Send ``block_actions`` for a button on a message (``message`` = Message or ts with
        ``channel_id``), an ephemeral message, or a view (modal or home; ``view`` = View or id)."""
        user_id = self._resolve_user(user_id)
        payload = self._interaction_base("block_actions", user_id)
        blocks: list[dict[str, Any]] = []
        if view is not None:
            v = view if isinstance(view, View) else self.workspace.find_view(view)
            payload["container"] = {"type": "view", "view_id": v.id}
            payload["view"] = v.to_slack()
            payload["state"] = {"values": v.state_values}
            blocks = v.payload.get("blocks", [])
        elif ephemeral is not None:
            payload["container"] = {
                "type": "message",
                "message_ts": ephemeral.ts,
                "channel_id": ephemeral.channel,
                "is_ephemeral": True,
            }
            payload["channel"] = self._channel_obj(ephemeral.channel)
            payload["state"] = {"values": {}}
            entry = self.workspace.new_response_url(
                user_id,
                ephemeral.channel,
                message_ts=ephemeral.ts,
                is_ephemeral=True,
                thread_ts=ephemeral.thread_ts,
            )
            payload["response_url"] = self.api.response_url(entry.id)
            blocks = ephemeral.blocks or []
        elif message is not None:
            if isinstance(message, str):
                if channel_id is None:
                    raise ValueError("channel_id is needed with a message ts")
                message = self.workspace.find_message(channel_id, message)
            payload["container"] = {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": message.channel,
                "is_ephemeral": False,
            }
            payload["channel"] = self._channel_obj(message.channel)
            payload["message"] = self.workspace.message_to_slack(message)
            payload["state"] = {"values": {}}
            entry = self.workspace.new_response_url(
                user_id,
                message.channel,
                message_ts=message.ts,
                thread_ts=message.thread_ts if message.is_reply else None,
            )
            payload["response_url"] = self.api.response_url(entry.id)
            blocks = message.blocks or []
        else:
            raise ValueError("click needs a message, an ephemeral message or a view")
        found_block, element = _find_element(blocks, action_id, block_id)
        act: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id or found_block or "",
            "type": "button",
            "action_ts": f"{time.time():.6f}",
        }
        if element is not None:
            act["type"] = element.get("type", "button")
            if element.get("text"):
                act["text"] = element["text"]
            if element.get("value") is not None:
                act["value"] = element["value"]
            if element.get("style"):
                act["style"] = element["style"]
        if value is not None:
            act["value"] = value
        if action:
            act.update(action)
        payload["actions"] = [act]
        delivery = self._post_payload(payload, **sign)
        failure = self._ack_failed(delivery)
        if failure:
            self._error_output(
                user_id,
                payload.get("channel", {}).get("id"),
                f'⚠ "{failure}" on {action_id}',
                {"status": delivery.status},
            )
        return delivery

    def _channel_obj(self, channel_id: str) -> dict[str, Any]:
        channel = self.workspace.channel(channel_id, as_bot=False)
        return {"id": channel.id, "name": "directmessage" if channel.is_im else channel.name}

    def surfaces(self, user_id: str) -> list[tuple[str, Any, list[dict[str, Any]]]]:
        """What the user can click now, newest first: (kind, object, blocks).

        An open modal comes first and alone would hide the rest in a real client, but we still
        list messages after it so scripts can click through without closing modals.
        """
        ws = self.workspace
        with ws.lock:
            found: list[tuple[int, str, Any, list[dict[str, Any]]]] = []
            home = ws.home_view(user_id)
            if home is not None:
                found.append((home.seq, "view", home, home.payload.get("blocks", [])))
            for eph in ws.ephemerals:
                if eph.user == user_id and not eph.deleted and eph.blocks:
                    found.append((eph.seq, "ephemeral", eph, eph.blocks))
            for cid, messages in ws.messages.items():
                channel = ws.channels.get(cid)
                if channel is None or user_id not in channel.members:
                    continue
                for m in messages:
                    if m.blocks and m.bot_id:
                        found.append((m.seq, "message", m, m.blocks))
            found.sort(key=lambda f: f[0], reverse=True)
            result = [(kind, obj, blocks) for _, kind, obj, blocks in found]
            top = ws.top_view(user_id)
            if top is not None:
                result.insert(0, ("view", top, top.payload.get("blocks", [])))
            return result

    def find_button(self, user_id: str, label_or_action_id: str) -> tuple[str, Any, str, dict[str, Any]]:
        """The newest visible button matching a label or action_id: (kind, surface, block_id, element)."""
        user_id = self._resolve_user(user_id)
        key = label_or_action_id.strip().strip("[]").lower()
        surfaces = self.surfaces(user_id)
        matchers: list[Callable[[str, str], bool]] = [
            lambda label, aid: label.lower() == key or aid.lower() == key,
            lambda label, aid: key in label.lower(),
        ]
        for match in matchers:
            for kind, obj, blocks in surfaces:
                for block_id, element in _buttons(blocks):
                    label = _plain(element.get("text"))
                    if match(label, str(element.get("action_id", ""))):
                        return kind, obj, block_id, element
        labels = sorted({_plain(e.get("text")) for _, _, blocks in surfaces for _, e in _buttons(blocks)})
        raise LookupError(f"no button {label_or_action_id!r} visible; buttons: {', '.join(labels) or 'none'}")

    def click_button(self, user_id: str, label_or_action_id: str, **sign: Any) -> Delivery:
        """Click the newest visible button whose label or action_id matches (label: exact, then part)."""
        kind, obj, block_id, element = self.find_button(user_id, label_or_action_id)
        action_id = str(element.get("action_id", ""))
        if kind == "view":
            return self.click(user_id, action_id, view=obj, block_id=block_id, **sign)
        if kind == "ephemeral":
            return self.click(user_id, action_id, ephemeral=obj, block_id=block_id, **sign)
        return self.click(user_id, action_id, message=obj, block_id=block_id, **sign)

    def select(self, user_id: str, action_id: str, selected: str | list[str], **sign: Any) -> Delivery | None:
        """Choose an option in a select menu. In a modal input block this only changes the view
        state (Slack sends nothing); elsewhere it sends ``block_actions``. Returns the delivery or None."""
        user_id = self._resolve_user(user_id)
        for kind, obj, blocks in self.surfaces(user_id):
            for block in blocks:
                elements = _block_elements(block)
                for element in elements:
                    if element.get("action_id") != action_id or element.get("type") == "button":
                        continue
                    suggest = self._suggester(user_id, kind, obj)
                    state = self._state_entry(element, selected, block, suggest=suggest)
                    if kind == "view":
                        with self.workspace.lock:
                            obj.state_values.setdefault(block["block_id"], {})[action_id] = state
                        if block.get("type") == "input" and not block.get("dispatch_action"):
                            return None
                    action = {"type": element.get("type"), **{k: v for k, v in state.items() if k != "type"}}
                    if kind == "view":
                        return self.click(
                            user_id, action_id, view=obj, block_id=block["block_id"], action=action, **sign
                        )
                    if kind == "ephemeral":
                        return self.click(
                            user_id,
                            action_id,
                            ephemeral=obj,
                            block_id=block["block_id"],
                            action=action,
                            **sign,
                        )
                    return self.click(
                        user_id, action_id, message=obj, block_id=block["block_id"], action=action, **sign
                    )
        raise LookupError(f"no select menu {action_id!r} visible")

    # ---- external data sources ------------------------------------------------------------------

    def _suggester(self, user_id: str, kind: str, surface: Any) -> Suggest:
        """How the user's client loads an external select's options on ``surface`` (each search is
        its own signed request, whatever signing a test forces on the request that follows)."""

        def suggest(element: dict[str, Any], block: dict[str, Any], query: str) -> list[dict[str, Any]]:
            return self.load_options(user_id, element, block, query, kind=kind, surface=surface)

        return suggest

    def suggest(self, user_id: str, action_id: str, query: str = "", **sign: Any) -> list[dict[str, Any]]:
        """Type ``query`` into the newest visible external select ``action_id``: the options the
        bot offers, as Slack's client would list them (option groups flattened)."""
        user_id = self._resolve_user(user_id)
        for kind, obj, blocks in self.surfaces(user_id):
            for block in blocks:
                for element in _block_elements(block):
                    if element.get("action_id") == action_id and element.get("type") in EXTERNAL_SELECTS:
                        return self.load_options(
                            user_id, element, block, query, kind=kind, surface=obj, **sign
                        )
        raise LookupError(f"no external select {action_id!r} visible")

    def load_options(
        self,
        user_id: str,
        element: dict[str, Any],
        block: dict[str, Any],
        query: str,
        *,
        kind: str,
        surface: Any,
        **sign: Any,
    ) -> list[dict[str, Any]]:
        """Send ``block_suggestion`` for ``query`` typed into ``element`` and read the answer.

        Like Slack: nothing is sent while the query is shorter than ``min_query_length`` (default
        3); the answer must be ``{"options": [...]}`` or ``{"option_groups": [...]}`` with at most
        100 options, or the menu shows no choices.
        """
        label = _plain(block.get("label")) or str(element.get("action_id"))
        least = int(element.get("min_query_length", 3))
        if len(query) < least:
            raise InteractionError(f"“{label}”: type at least {least} characters to search")
        payload: dict[str, Any] = {
            "type": "block_suggestion",
            "user": self._user_obj(user_id),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "action_id": element.get("action_id", ""),
            "block_id": block.get("block_id", ""),
            "value": query,
        }
        if kind == "view":
            payload["container"] = {"type": "view", "view_id": surface.id}
            payload["view"] = surface.to_slack()
        else:
            payload["container"] = {
                "type": "message",
                "message_ts": surface.ts,
                "channel_id": surface.channel,
                "is_ephemeral": kind == "ephemeral",
            }
            payload["channel"] = self._channel_obj(surface.channel)
            if kind == "message":
                payload["message"] = self.workspace.message_to_slack(surface)
        delivery = self._post_payload(payload, **sign)
        self.last_suggestion = delivery
        failure = self._ack_failed(delivery)
        if failure:
            raise InteractionError(f"“{label}”: the app did not answer the search ({failure})")
        body = delivery.json if isinstance(delivery.json, dict) else {}
        if not isinstance(body.get("options", []), list) or not isinstance(
            body.get("option_groups", []), list
        ):
            raise InteractionError(f"“{label}”: the app's answer has no options list")
        options = element_options(body)
        if len(options) > MAX_SUGGESTED_OPTIONS:
            raise InteractionError(
                f"“{label}”: the app answered {len(options)} options; Slack shows none past "
                f"{MAX_SUGGESTED_OPTIONS}"
            )
        return options

    # ---- views --------------------------------------------------------------------------------

    def _state_entry(
        self, element: dict[str, Any], value: Any, block: dict[str, Any], *, suggest: Suggest | None = None
    ) -> dict[str, Any]:
        """One ``state.values`` entry for an input element, from what a person would type/pick.

        An external select's options come from the bot: ``suggest`` sends what is typed as the
        query (``block_suggestion``) and the choice is made among the options it answers.
        """
        etype = str(element.get("type", "plain_text_input"))
        entry: dict[str, Any] = {"type": etype}

        def as_list(v: Any) -> list[str]:
            if v is None or v == "":
                return []
            if isinstance(v, str):
                return [p.strip() for p in v.split(",") if p.strip()]
            return [str(p) for p in v]

        def option(v: str) -> dict[str, Any]:
            if etype in EXTERNAL_SELECTS:
                if suggest is None:
                    raise InteractionError(f"{element.get('action_id')}: no way to load its options here")
                options = suggest(element, block, v)
            else:
                options = element_options(element)
            for opt in options:
                if str(opt.get("value")) == v or _plain(opt.get("text")).lower() == v.lower():
                    return opt
            # A typed first word stands for the option it starts (`O-1` → "O-1 Double weekly …").
            starts = [o for o in options if _plain(o.get("text")).lower().startswith(v.lower() + " ")]
            if len(starts) == 1:
                return starts[0]
            choices = ", ".join(_plain(o.get("text")) for o in options) or "none"
            raise InteractionError(
                f"{_plain(block.get('label')) or element.get('action_id')}: no option {v!r}"
                f" (choices: {choices})"
            )

        if etype in {"static_select", "external_select", "radio_buttons"}:
            entry["selected_option"] = option(str(value)) if value not in (None, "") else None
        elif etype in {"multi_static_select", "multi_external_select", "checkboxes"}:
            entry["selected_options"] = [option(v) for v in as_list(value)]
        elif etype == "users_select":
            entry["selected_user"] = self._resolve_user(str(value)) if value not in (None, "") else None
        elif etype == "multi_users_select":
            entry["selected_users"] = [self._resolve_user(v) for v in as_list(value)]
        elif etype in {"conversations_select", "channels_select"}:
            key = "selected_conversation" if etype == "conversations_select" else "selected_channel"
            ch = self.workspace.channel_by_name(str(value)) if value not in (None, "") else None
            if value not in (None, "") and ch is None:
                raise InteractionError(f"no channel {value!r}")
            entry[key] = ch.id if ch else None
        elif etype in {"multi_conversations_select", "multi_channels_select"}:
            key = "selected_conversations" if etype == "multi_conversations_select" else "selected_channels"
            ids = []
            for v in as_list(value):
                ch = self.workspace.channel_by_name(v)
                if ch is None:
                    raise InteractionError(f"no channel {v!r}")
                ids.append(ch.id)
            entry[key] = ids
        elif etype == "datepicker":
            entry["selected_date"] = str(value) if value not in (None, "") else None
        elif etype == "timepicker":
            entry["selected_time"] = str(value) if value not in (None, "") else None
        elif etype == "datetimepicker":
            entry["selected_date_time"] = int(value) if value not in (None, "") else None
        else:
            entry["value"] = str(value) if value not in (None, "") else None
        return entry

    def _initial_entry(self, element: dict[str, Any], block: dict[str, Any]) -> dict[str, Any]:
        etype = str(element.get("type", "plain_text_input"))
        if "initial_option" in element:
            return {"type": etype, "selected_option": element["initial_option"]}
        if "initial_options" in element:
            return {"type": etype, "selected_options": element["initial_options"]}
        initial: Any = None
        for key in (
            "initial_value",
            "initial_user",
            "initial_users",
            "initial_date",
            "initial_time",
            "initial_date_time",
            "initial_conversation",
            "initial_channel",
            "initial_conversations",
            "initial_channels",
        ):
            if key in element:
                initial = element[key]
        entry = self._state_entry(element, None, block)
        if initial is not None:
            value_key = next(k for k in entry if k != "type")
            entry[value_key] = initial
        return entry

    def _build_state(
        self, view: View, values: dict[str, Any], *, suggest: Suggest | None = None
    ) -> dict[str, dict[str, dict[str, Any]]]:
        remaining = {str(k): v for k, v in values.items()}
        state: dict[str, dict[str, dict[str, Any]]] = {}
        inputs = [b for b in view.payload.get("blocks", []) if b.get("type") == "input"]
        chosen = self._assign_fields(inputs, list(remaining))
        for block in inputs:
            element = block.get("element", {})
            block_id, action_id = block["block_id"], element["action_id"]
            label = _plain(block.get("label"))
            key = chosen.get(block_id)
            if key is not None:
                entry = self._state_entry(element, remaining.pop(key), block, suggest=suggest)
            elif block_id in view.state_values and action_id in view.state_values[block_id]:
                entry = view.state_values[block_id][action_id]
            else:
                entry = self._initial_entry(element, block)
            empty = all(v in (None, [], "") for k, v in entry.items() if k != "type")
            if empty and not block.get("optional"):
                raise InteractionError(f"“{label}” is required")
            text = entry.get("value")
            if isinstance(text, str):
                if element.get("max_length") and len(text) > int(element["max_length"]):
                    raise InteractionError(f"“{label}” allows at most {element['max_length']} characters")
                if element.get("min_length") and len(text) < int(element["min_length"]):
                    raise InteractionError(f"“{label}” needs at least {element['min_length']} characters")
            state.setdefault(block_id, {})[action_id] = entry
        if remaining:
            labels = [
                _plain(b.get("label")) for b in view.payload.get("blocks", []) if b.get("type") == "input"
            ]
            raise InteractionError(
                f"no field {', '.join(remaining)!s} in this modal; fields: {', '.join(labels)}"
            )
        return state

    @staticmethod
    def _assign_fields(inputs: list[dict[str, Any]], keys: list[str]) -> dict[str, str]:
        """Which typed key fills which input: exact (block_id, action_id or label) first, then a key
        that is part of a label (`value` → "New value (%)"), so people can type short names."""
        chosen: dict[str, str] = {}
        free = list(keys)
        for block in inputs:
            element = block.get("element", {})
            names = {block["block_id"], element.get("action_id")}
            label = _plain(block.get("label"))
            key = next(
                (k for k in free if k in names or k.lower() == label.lower() or _slug(k) == _slug(label)),
                None,
            )
            if key is not None:
                chosen[block["block_id"]] = key
                free.remove(key)
        for key in list(free):
            block = next(
                (
                    b
                    for b in inputs
                    if b["block_id"] not in chosen
                    and _slug(key)
                    and _slug(key) in _slug(_plain(b.get("label")))
                ),
                None,
            )
            if block is not None:
                chosen[block["block_id"]] = key
                free.remove(key)
        return chosen

    def submit_view(
        self, user_id: str, values: dict[str, Any] | None = None, view_id: str | None = None, **sign: Any
    ) -> Delivery:
        """Submit the user's top modal (or ``view_id``) and apply the bot's ``response_action``."""
        user_id = self._resolve_user(user_id)
        view = self.workspace.find_view(view_id) if view_id else self.workspace.top_view(user_id)
        if view is None:
            raise InteractionError("no modal is open")
        state = self._build_state(view, values or {}, suggest=self._suggester(user_id, "view", view))
        with self.workspace.lock:
            view.state_values = state
        payload = self._interaction_base("view_submission", user_id)
        payload["view"] = view.to_slack()
        payload["response_urls"] = []
        delivery = self._post_payload(payload, **sign)
        failure = self._ack_failed(delivery)
        if failure:
            self._error_output(
                user_id,
                None,
                "We had some trouble connecting. Try again?",
                {"status": delivery.status, "error": failure},
            )
            return delivery
        self._apply_response_action(user_id, view, delivery)
        return delivery

    def _apply_response_action(self, user_id: str, view: View, delivery: Delivery) -> None:
        body = delivery.json if isinstance(delivery.json, dict) else {}
        action = body.get("response_action")
        ws = self.workspace
        emit = self.recorder.emit
        try:
            if action == "errors":
                with ws.lock:
                    view.errors = dict(body.get("errors") or {})
                emit(
                    Output(
                        kind="modal",
                        user=user_id,
                        text=_plain(view.payload.get("title")),
                        blocks=view.payload.get("blocks"),
                        view=view.to_slack(),
                        raw={"errors": view.errors, "view_id": view.id},
                        via="ack",
                    )
                )
            elif action == "update":
                ws.update_view(view, validate_view(body.get("view")))
                emit(_modal_output(user_id, view))
            elif action == "push":
                emit(_modal_output(user_id, ws.push_view(user_id, validate_view(body.get("view")))))
            elif action == "clear":
                ws.clear_views(user_id)
                emit(Output(kind="modal_closed", user=user_id, raw={"cleared": True}, via="ack"))
            else:
                with ws.lock:
                    stack = ws.view_stacks.get(user_id) or []
                    if view.id in stack:
                        stack.remove(view.id)
                emit(
                    Output(
                        kind="modal_closed",
                        user=user_id,
                        text=_plain(view.payload.get("title")),
                        raw={"view_id": view.id},
                        via="ack",
                    )
                )
        except SlackError as exc:
            self._error_output(
                user_id,
                None,
                f"The modal could not be shown ({exc.code})",
                {"error": exc.code, "messages": exc.messages},
            )

    def close_view(self, user_id: str, **sign: Any) -> Delivery | None:
        """Close the top modal; the bot hears ``view_closed`` only if it set ``notify_on_close``."""
        user_id = self._resolve_user(user_id)
        view = self.workspace.pop_view(user_id)
        if view is None:
            raise InteractionError("no modal is open")
        self.recorder.emit(
            Output(
                kind="modal_closed",
                user=user_id,
                text=_plain(view.payload.get("title")),
                raw={"view_id": view.id},
                via="client",
            )
        )
        if not view.payload.get("notify_on_close"):
            return None
        payload = self._interaction_base("view_closed", user_id)
        payload.pop("trigger_id")
        payload["view"] = view.to_slack()
        payload["is_cleared"] = False
        return self._post_payload(payload, **sign)

    # ---- shortcuts ----------------------------------------------------------------------------

    def message_shortcut(
        self, user_id: str, callback_id: str, channel_id: str, message_ts: str, **sign: Any
    ) -> Delivery:
        user_id = self._resolve_user(user_id)
        message = self.workspace.find_message(channel_id, message_ts)
        entry = self.workspace.new_response_url(
            user_id, channel_id, thread_ts=message.thread_ts if message.is_reply else None
        )
        payload = self._interaction_base("message_action", user_id)
        payload.update(
            {
                "action_ts": f"{time.time():.6f}",
                "callback_id": callback_id,
                "channel": self._channel_obj(channel_id),
                "message_ts": message.ts,
                "message": self.workspace.message_to_slack(message),
                "response_url": self.api.response_url(entry.id),
            }
        )
        delivery = self._post_payload(payload, **sign)
        failure = self._ack_failed(delivery)
        if failure:
            self._error_output(
                user_id,
                channel_id,
                f'⚠ shortcut failed with the error "{failure}"',
                {"status": delivery.status},
            )
        return delivery

    def global_shortcut(self, user_id: str, callback_id: str, **sign: Any) -> Delivery:
        user_id = self._resolve_user(user_id)
        payload = self._interaction_base("shortcut", user_id)
        payload.update({"action_ts": f"{time.time():.6f}", "callback_id": callback_id})
        return self._post_payload(payload, **sign)


# ---- block helpers ------------------------------------------------------------------------------


def _plain(obj: Any) -> str:
    if isinstance(obj, dict):
        return str(obj.get("text", ""))
    return str(obj or "")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def _block_elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    if block.get("type") == "actions":
        return [e for e in block.get("elements", []) if isinstance(e, dict)]
    if block.get("type") == "section" and isinstance(block.get("accessory"), dict):
        return [block["accessory"]]
    if block.get("type") == "input" and isinstance(block.get("element"), dict):
        return [block["element"]]
    return []


def _buttons(blocks: Iterable[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (str(b.get("block_id", "")), e)
        for b in blocks
        for e in _block_elements(b)
        if e.get("type") == "button"
    ]


def _find_element(
    blocks: list[dict[str, Any]], action_id: str, block_id: str | None
) -> tuple[str | None, dict[str, Any] | None]:
    for block in blocks:
        if block_id and block.get("block_id") != block_id:
            continue
        for element in _block_elements(block):
            if element.get("action_id") == action_id:
                return str(block.get("block_id", "")), element
    return None, None


def _modal_output(user_id: str, view: View) -> Output:
    """A modal the bot opened or changed through its view_submission answer."""
    return Output(
        kind="modal",
        user=user_id,
        text=_plain(view.payload.get("title")),
        blocks=view.payload.get("blocks"),
        view=view.to_slack(),
        raw={"view_id": view.id},
        via="ack",
    )
