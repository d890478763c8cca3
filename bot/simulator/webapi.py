"""The Slack Web API stand-in: ``/api/<method>`` and ``/response/<id>`` on loopback.

The bot's real ``slack_sdk.WebClient`` talks to it, so answers follow Slack's shapes, errors,
limits and cursor pagination closely enough that code which works here works against Slack.
It runs on ``http.server.ThreadingHTTPServer`` in a daemon thread: no event loop to share with
the bot, one thread per request, so concurrent calls (lazy listeners, retries) are served.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bot.simulator.feed import ApiCall, Output, Recorder
from bot.simulator.workspace import (
    APP_ID,
    BOT_ID,
    BOT_NAME,
    BOT_USER_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    TEAM_NAME,
    Message,
    SlackError,
    View,
    Workspace,
    assign_ids,
)

JSON_FIELDS = {"blocks", "view", "attachments", "metadata"}
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT = 40_000
MAX_SECTION_TEXT = 3_000


@dataclass
class Failure:
    """A failure queued by ``fail_next``: an HTTP status (429 → Retry-After) or an error code."""

    status: int = 429
    retry_after: int = 1
    error: str | None = None
    times: int = 1


# ---- validation like Slack's -------------------------------------------------------------------


def _text_len(obj: Any) -> int:
    if isinstance(obj, dict):
        return len(str(obj.get("text", "")))
    return len(str(obj or ""))


def validate_blocks(blocks: Any, *, limit: int, error: str) -> None:
    """Reject blocks Slack would reject, with Slack's error code and a json-pointer message."""
    if blocks is None:
        return
    if not isinstance(blocks, list):
        raise SlackError(error, ["[ERROR] expected an array [json-pointer:/blocks]"])
    problems: list[str] = []
    if len(blocks) > limit:
        problems.append(f"[ERROR] no more than {limit} items allowed [json-pointer:/blocks]")
    seen_ids: set[str] = set()
    for i, block in enumerate(blocks):
        ptr = f"/blocks/{i}"
        if not isinstance(block, dict) or "type" not in block:
            problems.append(f"[ERROR] missing required field: type [json-pointer:{ptr}]")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if len(str(block_id)) > 255:
                problems.append(f"[ERROR] must be less than 256 characters [json-pointer:{ptr}/block_id]")
            if block_id in seen_ids:
                problems.append(f"[ERROR] duplicate block_id [json-pointer:{ptr}/block_id]")
            seen_ids.add(str(block_id))
        btype = block["type"]
        if btype == "section":
            if "text" not in block and "fields" not in block:
                problems.append(f"[ERROR] must provide text or fields [json-pointer:{ptr}]")
            if "text" in block and _text_len(block["text"]) > MAX_SECTION_TEXT:
                problems.append(f"[ERROR] must be less than 3001 characters [json-pointer:{ptr}/text/text]")
            if "text" in block and _text_len(block["text"]) == 0:
                problems.append(f"[ERROR] must be more than 0 characters [json-pointer:{ptr}/text/text]")
            fields = block.get("fields") or []
            if len(fields) > 10:
                problems.append(f"[ERROR] no more than 10 items allowed [json-pointer:{ptr}/fields]")
            for j, fld in enumerate(fields):
                if _text_len(fld) > 2000:
                    problems.append(
                        f"[ERROR] must be less than 2001 characters [json-pointer:{ptr}/fields/{j}/text]"
                    )
            if isinstance(block.get("accessory"), dict):
                problems.extend(_validate_element(block["accessory"], f"{ptr}/accessory"))
        elif btype == "header":
            if _text_len(block.get("text")) > 150:
                problems.append(f"[ERROR] must be less than 151 characters [json-pointer:{ptr}/text/text]")
            if (block.get("text") or {}).get("type") != "plain_text":
                problems.append(f"[ERROR] must be plain_text [json-pointer:{ptr}/text/type]")
        elif btype == "actions":
            elements = block.get("elements") or []
            if not elements or len(elements) > 25:
                problems.append(f"[ERROR] must have 1 to 25 items [json-pointer:{ptr}/elements]")
            action_ids = [e.get("action_id") for e in elements if isinstance(e, dict) and e.get("action_id")]
            if len(action_ids) != len(set(action_ids)):
                problems.append(f"[ERROR] duplicate action_id [json-pointer:{ptr}/elements]")
            for j, el in enumerate(elements):
                problems.extend(_validate_element(el, f"{ptr}/elements/{j}"))
        elif btype == "context":
            elements = block.get("elements") or []
            if not elements or len(elements) > 10:
                problems.append(f"[ERROR] must have 1 to 10 items [json-pointer:{ptr}/elements]")
        elif btype == "input":
            if _text_len(block.get("label")) > 2000:
                problems.append(f"[ERROR] must be less than 2001 characters [json-pointer:{ptr}/label/text]")
            if not isinstance(block.get("element"), dict):
                problems.append(f"[ERROR] missing required field: element [json-pointer:{ptr}]")
        elif btype not in {"divider", "image", "rich_text", "video", "file", "markdown"}:
            problems.append(f"[ERROR] unknown block type [json-pointer:{ptr}/type]")
    if problems:
        raise SlackError(error, problems)


def _validate_element(element: Any, ptr: str) -> list[str]:
    if not isinstance(element, dict):
        return [f"[ERROR] expected an object [json-pointer:{ptr}]"]
    problems: list[str] = []
    if element.get("type") == "button":
        if _text_len(element.get("text")) > 75:
            problems.append(f"[ERROR] must be less than 76 characters [json-pointer:{ptr}/text/text]")
        if len(str(element.get("value", ""))) > 2000:
            problems.append(f"[ERROR] must be less than 2001 characters [json-pointer:{ptr}/value]")
    if len(str(element.get("action_id", ""))) > 255:
        problems.append(f"[ERROR] must be less than 256 characters [json-pointer:{ptr}/action_id]")
    return problems


def validate_view(view: Any, *, home: bool = False) -> dict[str, Any]:
    """Check a view payload like Slack does; errors are ``invalid_arguments``."""
    if isinstance(view, str):
        try:
            view = json.loads(view)
        except ValueError as exc:
            raise SlackError("invalid_arguments", ["[ERROR] view is not valid JSON"]) from exc
    if not isinstance(view, dict):
        raise SlackError("invalid_arguments", ["[ERROR] missing required field: view"])
    problems: list[str] = []
    vtype = view.get("type")
    if home and vtype != "home":
        problems.append("[ERROR] must be home [json-pointer:/view/type]")
    if not home and vtype != "modal":
        problems.append("[ERROR] must be modal [json-pointer:/view/type]")
    if vtype == "modal":
        if not view.get("title"):
            problems.append("[ERROR] missing required field: title [json-pointer:/view]")
        for key in ("title", "submit", "close"):
            if view.get(key) and _text_len(view[key]) > 24:
                problems.append(f"[ERROR] must be less than 25 characters [json-pointer:/view/{key}/text]")
        if any(
            b.get("type") == "input" for b in view.get("blocks", []) if isinstance(b, dict)
        ) and not view.get("submit"):
            problems.append("[ERROR] submit is required when an input block is present [json-pointer:/view]")
    if len(str(view.get("private_metadata", ""))) > 3000:
        problems.append("[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]")
    if len(str(view.get("callback_id", ""))) > 255:
        problems.append("[ERROR] must be less than 256 characters [json-pointer:/view/callback_id]")
    if problems:
        raise SlackError("invalid_arguments", problems)
    validate_blocks(view.get("blocks", []), limit=MAX_VIEW_BLOCKS, error="invalid_arguments")
    return view


def _check_message(text: Any, blocks: Any, *, require: bool = True) -> None:
    if text is not None and len(str(text)) > MAX_TEXT:
        raise SlackError("msg_too_long")
    validate_blocks(blocks, limit=MAX_MESSAGE_BLOCKS, error="invalid_blocks")
    if require and not text and not blocks:
        raise SlackError("no_text")


# ---- pagination ---------------------------------------------------------------------------------


def _cursor(key: str) -> str:
    return base64.b64encode(key.encode()).decode()


def _decode_cursor(cursor: Any) -> str | None:
    if not cursor:
        return None
    try:
        return base64.b64decode(str(cursor).encode()).decode()
    except ValueError as exc:
        raise SlackError("invalid_cursor") from exc


def _paginate(
    items: list[Any], key: Callable[[Any], str], cursor: Any, limit: int, prefix: str
) -> tuple[list[Any], str]:
    """Slice ``items`` at the cursor (which names the first item of the page) and make the next one."""
    start = 0
    decoded = _decode_cursor(cursor)
    if decoded is not None:
        if not decoded.startswith(prefix):
            raise SlackError("invalid_cursor")
        wanted = decoded[len(prefix) :]
        keys = [key(i) for i in items]
        if wanted not in keys:
            raise SlackError("invalid_cursor")
        start = keys.index(wanted)
    if limit <= 0:
        return items[start:], ""
    page = items[start : start + limit]
    rest = items[start + limit :]
    return page, _cursor(prefix + key(rest[0])) if rest else ""


def _int(value: Any, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise SlackError("invalid_arguments") from exc


def _bool(value: Any) -> bool:
    return str(value).lower() in {"1", "true", "yes"}


def _in_window(ts: str, oldest: Any, latest: Any, inclusive: bool) -> bool:
    t = float(ts)
    if oldest not in (None, "", "0"):
        o = float(oldest)
        if t < o or (t == o and not inclusive):
            return False
    if latest not in (None, ""):
        la = float(latest)
        if t > la or (t == la and not inclusive):
            return False
    return True


# ---- the API ------------------------------------------------------------------------------------


class SlackWebApi:
    """Slack Web API methods over a Workspace; transport-free so it can be unit-tested."""

    def __init__(self, workspace: Workspace, recorder: Recorder, token: str) -> None:
        self.ws = workspace
        self.recorder = recorder
        self.token = token
        self.base_url = ""  # "http://127.0.0.1:PORT", set when the server starts
        self._failures: dict[str, list[Failure]] = {}
        self._fail_lock = threading.Lock()
        self.methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "api.test": lambda p: {"ok": True, "args": p},
            "auth.test": self.auth_test,
            "bots.info": self.bots_info,
            "team.info": self.team_info,
            "chat.postMessage": self.chat_post_message,
            "chat.postEphemeral": self.chat_post_ephemeral,
            "chat.update": self.chat_update,
            "chat.delete": self.chat_delete,
            "chat.getPermalink": self.chat_get_permalink,
            "conversations.history": self.conversations_history,
            "conversations.replies": self.conversations_replies,
            "conversations.info": self.conversations_info,
            "conversations.members": self.conversations_members,
            "conversations.open": self.conversations_open,
            "conversations.join": self.conversations_join,
            "conversations.list": self.conversations_list,
            "users.info": self.users_info,
            "users.lookupByEmail": self.users_lookup_by_email,
            "users.list": self.users_list,
            "views.open": self.views_open,
            "views.update": self.views_update,
            "views.push": self.views_push,
            "views.publish": self.views_publish,
            "reactions.add": self.reactions_add,
            "reactions.remove": self.reactions_remove,
        }

    # -- failure injection and dispatch --

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 1,
        error: str | None = None,
        times: int = 1,
    ) -> None:
        with self._fail_lock:
            self._failures.setdefault(method, []).append(
                Failure(status=200 if error else status, retry_after=retry_after, error=error, times=times)
            )

    def _take_failure(self, method: str) -> Failure | None:
        with self._fail_lock:
            queue = self._failures.get(method)
            if not queue:
                return None
            failure = queue[0]
            failure.times -= 1
            if failure.times <= 0:
                queue.pop(0)
            return failure

    def dispatch(
        self, method: str, params: dict[str, Any], auth: str | None
    ) -> tuple[int, dict[str, str], dict]:
        """Answer one call: (HTTP status, extra headers, JSON body). Records it in ``calls``."""
        headers: dict[str, str] = {}
        token = None
        if auth and auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        token = token or params.pop("token", None)
        params.pop("token", None)
        status = 200
        if not token:
            body: dict[str, Any] = {"ok": False, "error": "not_authed"}
        elif token != self.token:
            body = {"ok": False, "error": "invalid_auth"}
        elif (failure := self._take_failure(method)) is not None:
            if failure.error:
                body = {"ok": False, "error": failure.error}
            else:
                status = failure.status
                body = {"ok": False, "error": "ratelimited" if status == 429 else "internal_error"}
                if status == 429:
                    headers["Retry-After"] = str(failure.retry_after)
        elif method not in self.methods:
            body = {"ok": False, "error": "unknown_method"}
        else:
            try:
                body = self.methods[method](params)
            except SlackError as exc:
                body = {"ok": False, "error": exc.code}
                if exc.messages:
                    body["response_metadata"] = {"messages": exc.messages}
        self.recorder.record_call(
            ApiCall(method=method, params=params, time=time.time(), status=status, response=body)
        )
        return status, headers, body

    # -- helpers --

    def _out(self, **kwargs: Any) -> None:
        self.recorder.emit(Output(**kwargs))

    def _dm_user(self, channel_id: str) -> str | None:
        channel = self.ws.channels.get(channel_id)
        return channel.im_user if channel is not None and channel.is_im else None

    def _require(self, params: dict[str, Any], name: str, error: str = "invalid_arguments") -> Any:
        value = params.get(name)
        if value in (None, ""):
            raise SlackError(error)
        return value

    def permalink(self, channel_id: str, message: Message) -> str:
        link = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel_id}/p{message.ts.replace('.', '')}"
        if message.is_reply:
            link += f"?thread_ts={message.thread_ts}&cid={channel_id}"
        return link

    # -- methods --

    def auth_test(self, p: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": TEAM_NAME,
            "user": BOT_NAME,
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def bots_info(self, p: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "bot": {
                "id": BOT_ID,
                "deleted": False,
                "name": BOT_NAME,
                "app_id": APP_ID,
                "user_id": BOT_USER_ID,
                "icons": {},
            },
        }

    def team_info(self, p: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "team": {"id": TEAM_ID, "name": TEAM_NAME, "domain": TEAM_DOMAIN, "email_domain": "", "icon": {}},
        }

    def chat_post_message(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self.ws.channel(self._require(p, "channel", "channel_not_found"))
        text, blocks = p.get("text"), p.get("blocks")
        _check_message(text, blocks)
        message = self.ws.post_message(
            channel.id,
            text=str(text or ""),
            user=BOT_USER_ID,
            bot_id=BOT_ID,
            blocks=blocks,
            thread_ts=p.get("thread_ts") or None,
            metadata=p.get("metadata"),
        )
        self._out(
            kind="message",
            channel=channel.id,
            user=self._dm_user(channel.id),
            ts=message.ts,
            thread_ts=message.thread_ts if message.is_reply else None,
            text=message.text,
            blocks=blocks,
            raw=p,
            via="chat.postMessage",
        )
        return {
            "ok": True,
            "channel": channel.id,
            "ts": message.ts,
            "message": self.ws.message_to_slack(message),
        }

    def chat_post_ephemeral(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self.ws.channel(self._require(p, "channel", "channel_not_found"))
        user_id = self._require(p, "user", "user_not_found")
        self.ws.user(user_id)
        if not channel.is_im and user_id not in channel.members:
            raise SlackError("user_not_in_channel")
        text, blocks = p.get("text"), p.get("blocks")
        _check_message(text, blocks)
        eph = self.ws.add_ephemeral(
            channel.id, user_id, text=str(text or ""), blocks=blocks, thread_ts=p.get("thread_ts") or None
        )
        self._out(
            kind="ephemeral",
            channel=channel.id,
            user=user_id,
            ts=eph.ts,
            thread_ts=eph.thread_ts,
            text=eph.text,
            blocks=blocks,
            raw=p,
            via="chat.postEphemeral",
        )
        return {"ok": True, "message_ts": eph.ts}

    def chat_update(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self.ws.channel(self._require(p, "channel", "channel_not_found"))
        message = self.ws.find_message(channel.id, self._require(p, "ts", "message_not_found"))
        if message.bot_id != BOT_ID:
            raise SlackError("cant_update_message")
        text, blocks = p.get("text"), p.get("blocks")
        _check_message(text, blocks, require=False)
        message = self.ws.update_message(channel.id, message.ts, text=text, blocks=blocks)
        self._out(
            kind="update",
            channel=channel.id,
            user=self._dm_user(channel.id),
            ts=message.ts,
            thread_ts=message.thread_ts if message.is_reply else None,
            text=message.text,
            blocks=message.blocks,
            raw=p,
            via="chat.update",
        )
        return {
            "ok": True,
            "channel": channel.id,
            "ts": message.ts,
            "text": message.text,
            "message": self.ws.message_to_slack(message),
        }

    def chat_delete(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self.ws.channel(self._require(p, "channel", "channel_not_found"))
        message = self.ws.find_message(channel.id, self._require(p, "ts", "message_not_found"))
        if message.bot_id != BOT_ID:
            raise SlackError("cant_delete_message")
        self.ws.delete_message(channel.id, message.ts)
        self._out(
            kind="delete",
            channel=channel.id,
            user=self._dm_user(channel.id),
            ts=message.ts,
            text=message.text,
            raw=p,
            via="chat.delete",
        )
        return {"ok": True, "channel": channel.id, "ts": message.ts}

    def chat_get_permalink(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self.ws.channel(self._require(p, "channel", "channel_not_found"))
        message = self.ws.find_message(channel.id, self._require(p, "message_ts", "message_not_found"))
        return {"ok": True, "channel": channel.id, "permalink": self.permalink(channel.id, message)}

    def _readable(self, channel_id: str) -> str:
        channel = self.ws.channel(channel_id)
        if BOT_USER_ID not in channel.members:
            raise SlackError("not_in_channel")
        return channel.id

    def conversations_history(self, p: dict[str, Any]) -> dict[str, Any]:
        cid = self._readable(self._require(p, "channel", "channel_not_found"))
        inclusive = _bool(p.get("inclusive"))
        with self.ws.lock:
            items = [
                m
                for m in self.ws.messages[cid]
                if not m.is_reply and _in_window(m.ts, p.get("oldest"), p.get("latest"), inclusive)
            ]
            items.reverse()  # newest first, as Slack returns history
            page, nxt = _paginate(
                items, lambda m: m.ts, p.get("cursor"), _int(p.get("limit"), 100), "next_ts:"
            )
            messages = [self.ws.message_to_slack(m) for m in page]
        return {
            "ok": True,
            "messages": messages,
            "has_more": bool(nxt),
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
            "response_metadata": {"next_cursor": nxt},
        }

    def conversations_replies(self, p: dict[str, Any]) -> dict[str, Any]:
        cid = self._readable(self._require(p, "channel", "channel_not_found"))
        ts = self._require(p, "ts", "thread_not_found")
        inclusive = _bool(p.get("inclusive"))
        with self.ws.lock:
            try:
                thread = self.ws.thread(cid, str(ts))
            except SlackError as exc:
                raise SlackError("thread_not_found") from exc
            items = [m for m in thread if _in_window(m.ts, p.get("oldest"), p.get("latest"), inclusive)]
            page, nxt = _paginate(
                items, lambda m: m.ts, p.get("cursor"), _int(p.get("limit"), 1000), "next_ts:"
            )
            messages = [self.ws.message_to_slack(m) for m in page]
        return {
            "ok": True,
            "messages": messages,
            "has_more": bool(nxt),
            "response_metadata": {"next_cursor": nxt},
        }

    def conversations_info(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self.ws.channel(self._require(p, "channel", "channel_not_found"))
        return {"ok": True, "channel": channel.to_slack()}

    def conversations_members(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self.ws.channel(self._require(p, "channel", "channel_not_found"))
        with self.ws.lock:
            members = list(channel.members)
        page, nxt = _paginate(members, lambda u: u, p.get("cursor"), _int(p.get("limit"), 100), "user:")
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": nxt}}

    def conversations_open(self, p: dict[str, Any]) -> dict[str, Any]:
        if p.get("channel"):
            channel = self.ws.channel(p["channel"])
            return {"ok": True, "channel": {"id": channel.id}, "no_op": True, "already_open": True}
        users = [u for u in str(self._require(p, "users", "users_list_not_supplied")).split(",") if u]
        if len(users) != 1:
            raise SlackError("not_supported")
        with self.ws.lock:
            existed = any(c.is_im and c.im_user == users[0] for c in self.ws.channels.values())
            channel = self.ws.open_im(users[0])
        body: dict[str, Any] = {
            "ok": True,
            "no_op": existed,
            "already_open": existed,
            "channel": {"id": channel.id},
        }
        if _bool(p.get("return_im")):
            body["channel"] = channel.to_slack()
        return body

    def conversations_join(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self.ws.channel(self._require(p, "channel", "channel_not_found"))
        if channel.is_private or channel.is_im:
            raise SlackError("method_not_supported_for_channel_type")
        with self.ws.lock:
            if BOT_USER_ID not in channel.members:
                channel.members.append(BOT_USER_ID)
        return {"ok": True, "channel": channel.to_slack()}

    def conversations_list(self, p: dict[str, Any]) -> dict[str, Any]:
        types = str(p.get("types") or "public_channel").split(",")
        with self.ws.lock:
            items = [
                c
                for c in self.ws.channels.values()
                if ("im" in types and c.is_im)
                or ("private_channel" in types and c.is_private and BOT_USER_ID in c.members)
                or ("public_channel" in types and not c.is_private and not c.is_im and not c.is_mpim)
            ]
        page, nxt = _paginate(items, lambda c: c.id, p.get("cursor"), _int(p.get("limit"), 100), "channel:")
        return {
            "ok": True,
            "channels": [c.to_slack() for c in page],
            "response_metadata": {"next_cursor": nxt},
        }

    def users_info(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "user": self.ws.user(self._require(p, "user", "user_not_found")).to_slack()}

    def users_lookup_by_email(self, p: dict[str, Any]) -> dict[str, Any]:
        email = str(self._require(p, "email", "users_not_found")).lower()
        with self.ws.lock:
            user = next((u for u in self.ws.users.values() if (u.email or "").lower() == email), None)
        if user is None:
            raise SlackError("users_not_found")
        return {"ok": True, "user": user.to_slack()}

    def users_list(self, p: dict[str, Any]) -> dict[str, Any]:
        with self.ws.lock:
            users = list(self.ws.users.values())
        page, nxt = _paginate(users, lambda u: u.id, p.get("cursor"), _int(p.get("limit"), 0), "user:")
        return {
            "ok": True,
            "members": [u.to_slack() for u in page],
            "cache_ts": int(time.time()),
            "response_metadata": {"next_cursor": nxt},
        }

    def _view_out(self, view: View, via: str) -> None:
        kind = "home" if view.type == "home" else "modal"
        title = view.payload.get("title") or {}
        self._out(
            kind=kind,
            user=view.user,
            text=str(title.get("text", "")) if isinstance(title, dict) else "",
            blocks=view.payload.get("blocks"),
            view=view.to_slack(),
            raw={"view_id": view.id},
            via=via,
        )

    def views_open(self, p: dict[str, Any]) -> dict[str, Any]:
        trigger_id = p.get("trigger_id") or p.get("interactivity_pointer")
        view_payload = validate_view(p.get("view"))
        view = self.ws.open_view(self.ws.exchange_trigger(trigger_id), view_payload)
        self._view_out(view, "views.open")
        return {"ok": True, "view": view.to_slack()}

    def views_push(self, p: dict[str, Any]) -> dict[str, Any]:
        trigger_id = p.get("trigger_id") or p.get("interactivity_pointer")
        view_payload = validate_view(p.get("view"))
        view = self.ws.push_view(self.ws.exchange_trigger(trigger_id), view_payload)
        self._view_out(view, "views.push")
        return {"ok": True, "view": view.to_slack()}

    def views_update(self, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("view_id") and not p.get("external_id"):
            raise SlackError("invalid_arguments", ["[ERROR] view_id or external_id is required"])
        view = self.ws.find_view(p.get("view_id"), p.get("external_id"))
        view_payload = validate_view(p.get("view"), home=view.type == "home")
        view = self.ws.update_view(view, view_payload, p.get("hash"))
        self._view_out(view, "views.update")
        return {"ok": True, "view": view.to_slack()}

    def views_publish(self, p: dict[str, Any]) -> dict[str, Any]:
        user_id = self._require(p, "user_id", "user_not_found")
        view_payload = validate_view(p.get("view"), home=True)
        view = self.ws.publish_home(user_id, view_payload, p.get("hash"))
        self._view_out(view, "views.publish")
        return {"ok": True, "view": view.to_slack()}

    def reactions_add(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self.ws.channel(self._require(p, "channel", "channel_not_found"))
        ts = self._require(p, "timestamp", "message_not_found")
        name = str(self._require(p, "name", "invalid_name"))
        message = self.ws.add_reaction(channel.id, ts, name, BOT_USER_ID)
        self._out(
            kind="reaction",
            channel=channel.id,
            user=self._dm_user(channel.id),
            ts=message.ts,
            text=f":{name.strip(':')}:",
            raw=p,
            via="reactions.add",
        )
        return {"ok": True}

    def reactions_remove(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self.ws.channel(self._require(p, "channel", "channel_not_found"))
        self.ws.remove_reaction(
            channel.id,
            self._require(p, "timestamp", "message_not_found"),
            str(self._require(p, "name", "invalid_name")),
            BOT_USER_ID,
        )
        return {"ok": True}

    # -- response_url --

    def response_url(self, rid: str) -> str:
        return f"{self.base_url}/response/{rid}"

    def post_response(self, rid: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Apply a ``response_url`` post: ephemeral reply, in-channel message, replace or delete."""
        entry = self.ws.response_urls.get(rid)
        self.recorder.record_call(
            ApiCall(method="response_url", params=dict(payload, _id=rid), time=time.time())
        )
        if entry is None:
            return 404, {"ok": False, "error": "expired_url"}
        entry.uses += 1
        if entry.uses > 5:
            return 404, {"ok": False, "error": "used_url"}
        text, blocks = payload.get("text"), payload.get("blocks")
        try:
            if payload.get("delete_original"):
                return 200, self._delete_original(entry, payload)
            _check_message(text, blocks)
            if payload.get("replace_original") and entry.message_ts:
                return 200, self._replace_original(entry, payload)
            thread_ts = payload.get("thread_ts") or entry.thread_ts
            if payload.get("response_type") == "in_channel":
                message = self.ws.post_message(
                    entry.channel,
                    text=str(text or ""),
                    user=BOT_USER_ID,
                    bot_id=BOT_ID,
                    blocks=blocks,
                    thread_ts=thread_ts,
                )
                self._out(
                    kind="message",
                    channel=entry.channel,
                    user=self._dm_user(entry.channel),
                    ts=message.ts,
                    thread_ts=message.thread_ts if message.is_reply else None,
                    text=message.text,
                    blocks=blocks,
                    raw=payload,
                    via="response_url",
                )
            else:
                eph = self.ws.add_ephemeral(
                    entry.channel, entry.user, text=str(text or ""), blocks=blocks, thread_ts=thread_ts
                )
                self._out(
                    kind="ephemeral",
                    channel=entry.channel,
                    user=entry.user,
                    ts=eph.ts,
                    thread_ts=thread_ts,
                    text=eph.text,
                    blocks=blocks,
                    raw=payload,
                    via="response_url",
                )
        except SlackError as exc:
            return 400, {"ok": False, "error": exc.code}
        return 200, {"ok": True}

    def _delete_original(self, entry: Any, payload: dict[str, Any]) -> dict[str, Any]:
        if entry.message_ts is None:
            return {"ok": True}
        if entry.is_ephemeral:
            eph = self.ws.find_ephemeral(entry.user, entry.message_ts)
            if eph is not None:
                eph.deleted = True
        else:
            self.ws.delete_message(entry.channel, entry.message_ts)
        self._out(
            kind="delete",
            channel=entry.channel,
            user=entry.user,
            ts=entry.message_ts,
            raw=payload,
            via="response_url",
        )
        return {"ok": True}

    def _replace_original(self, entry: Any, payload: dict[str, Any]) -> dict[str, Any]:
        text, blocks = payload.get("text"), payload.get("blocks")
        if entry.is_ephemeral:
            eph = self.ws.find_ephemeral(entry.user, entry.message_ts)
            if eph is not None:
                assign_ids(blocks)
                eph.text, eph.blocks, eph.seq = str(text or ""), blocks, self.ws.next_seq()
            self._out(
                kind="ephemeral",
                channel=entry.channel,
                user=entry.user,
                ts=entry.message_ts,
                text=str(text or ""),
                blocks=blocks,
                raw=payload,
                via="response_url",
            )
        else:
            message = self.ws.update_message(
                entry.channel, entry.message_ts, text=str(text or ""), blocks=blocks, replace=True
            )
            self._out(
                kind="update",
                channel=entry.channel,
                user=self._dm_user(entry.channel),
                ts=message.ts,
                thread_ts=message.thread_ts if message.is_reply else None,
                text=message.text,
                blocks=message.blocks,
                raw=payload,
                via="response_url",
            )
        return {"ok": True}


def parse_params(query: str, content_type: str, body: bytes) -> dict[str, Any]:
    """Merge query-string and body parameters; decode JSON-encoded fields of form bodies."""
    params: dict[str, Any] = {
        k: v[-1] for k, v in urllib.parse.parse_qs(query, keep_blank_values=True).items()
    }
    if body:
        if "application/json" in content_type:
            data = json.loads(body.decode("utf-8"))
            if isinstance(data, dict):
                params.update(data)
        else:
            form = urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True)
            params.update({k: v[-1] for k, v in form.items()})
    for key in JSON_FIELDS:
        value = params.get(key)
        if isinstance(value, str) and value.strip()[:1] in {"[", "{"}:
            try:
                params[key] = json.loads(value)
            except ValueError:
                pass
    return params


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Silence the default stderr access log; calls are recorded in ``sim.calls``."""

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        api = self.server.api
        api.recorder.touch()
        parsed = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            if parsed.path.startswith("/api/"):
                params = parse_params(parsed.query, self.headers.get("Content-Type", ""), body)
                status, headers, answer = api.dispatch(
                    parsed.path[5:], params, self.headers.get("Authorization")
                )
                self._send(status, answer, headers)
            elif parsed.path.startswith("/response/") and self.command == "POST":
                payload = json.loads(body.decode("utf-8") or "{}")
                status, answer = api.post_response(parsed.path[10:], payload)
                self._send(status, answer)
            else:
                self._send(404, {"ok": False, "error": "not_found"})
        except ValueError:
            self._send(400, {"ok": False, "error": "invalid_json"})
        finally:
            api.recorder.touch()

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._handle()

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        self._handle()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, api: SlackWebApi) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.api = api


class WebApiServer:
    """Runs SlackWebApi on 127.0.0.1 with an OS-assigned port in a background thread."""

    def __init__(self, api: SlackWebApi) -> None:
        self.api = api
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the simulator is not started")
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._server = _Server(self.api)
        self.api.base_url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="slack-sim-webapi",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
