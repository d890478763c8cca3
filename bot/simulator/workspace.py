"""In-memory state of the simulated Slack workspace.

Everything the Web API server answers and everything the player sends is derived from this one
object, so tests can seed it, inspect it and assert on it without any HTTP. All mutation goes
through methods that hold ``self.lock`` because the Web API server handles requests on several
threads at once while the test (or the demo shell) drives the player on another.
"""

from __future__ import annotations

import bisect
import itertools
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TEAM_ID = "T0FLYWHEEL"
TEAM_DOMAIN = "flywheel-demo"
TEAM_NAME = "Flywheel Demo"
BOT_USER_ID = "U0FLYWHEEL"
BOT_ID = "B0FLYWHEEL"
BOT_NAME = "flywheel"
APP_ID = "A0FLYWHEEL"
TRIGGER_TTL_SECONDS = 3.0


def assign_ids(blocks: list[dict[str, Any]] | None) -> None:
    """Give blocks and interactive elements the random IDs Slack assigns when they have none.

    Slack does this when it stores a message or view, and the IDs then show up in the stored
    blocks and in interaction payloads; code must not assume block_id/action_id are present
    in its own definitions only.
    """
    for block in blocks or []:
        if not isinstance(block, dict):
            continue
        block.setdefault("block_id", secrets.token_urlsafe(4))
        elements: list[Any] = []
        if block.get("type") == "actions":
            elements = list(block.get("elements") or [])
        elif block.get("type") == "input" and isinstance(block.get("element"), dict):
            elements = [block["element"]]
        elif block.get("type") == "section" and isinstance(block.get("accessory"), dict):
            elements = [block["accessory"]]
        for element in elements:
            if isinstance(element, dict) and element.get("type") not in {"image", None}:
                element.setdefault("action_id", secrets.token_urlsafe(4))


class SlackError(Exception):
    """A Slack API error code (``{"ok": false, "error": code}``) raised by workspace operations.

    The Web API layer turns it into Slack's response shape; ``messages`` become
    ``response_metadata.messages`` like Slack's validation errors.
    """

    def __init__(self, code: str, messages: list[str] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.messages = messages or []


@dataclass
class User:
    """A workspace member; ``to_slack()`` gives the object shape of ``users.info``."""

    id: str
    name: str
    real_name: str = ""
    display_name: str = ""
    email: str | None = None
    tz: str = "UTC"
    is_admin: bool = False
    is_bot: bool = False
    bot_id: str | None = None
    deleted: bool = False

    def to_slack(self) -> dict[str, Any]:
        profile: dict[str, Any] = {
            "real_name": self.real_name or self.name,
            "real_name_normalized": self.real_name or self.name,
            "display_name": self.display_name,
            "display_name_normalized": self.display_name,
            "first_name": (self.real_name or self.name).split(" ")[0],
            "image_48": f"https://avatars.slack-edge.com/{self.id}_48.png",
            "team": TEAM_ID,
        }
        if self.email:
            profile["email"] = self.email
        if self.bot_id:
            profile["bot_id"] = self.bot_id
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name or self.name,
            "tz": self.tz,
            "tz_label": self.tz,
            "tz_offset": 0,
            "profile": profile,
            "is_admin": self.is_admin,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1763790000,
        }

    @property
    def label(self) -> str:
        """What Slack shows for the user: display name, else the handle."""
        return self.display_name or self.name


@dataclass
class Channel:
    """A public/private channel, an IM (``D…``) or a group DM (``G…``)."""

    id: str
    name: str
    is_private: bool = False
    is_im: bool = False
    is_mpim: bool = False
    members: list[str] = field(default_factory=list)
    topic: str = ""
    purpose: str = ""
    im_user: str | None = None
    created: int = 1763700000

    def to_slack(self, viewer: str = BOT_USER_ID) -> dict[str, Any]:
        if self.is_im:
            return {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "is_org_shared": False,
                "user": self.im_user,
                "is_user_deleted": False,
                "priority": 0,
            }
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": not self.is_private and not self.is_mpim,
            "is_group": self.is_private and not self.is_mpim,
            "is_im": False,
            "is_mpim": self.is_mpim,
            "is_private": self.is_private,
            "created": self.created,
            "is_archived": False,
            "is_general": self.name == "general",
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_member": viewer in self.members,
            "creator": self.members[0] if self.members else BOT_USER_ID,
            "topic": {"value": self.topic, "creator": "", "last_set": 0},
            "purpose": {"value": self.purpose, "creator": "", "last_set": 0},
            "num_members": len(self.members),
        }


@dataclass
class Message:
    """A message in a channel, top-level or a thread reply."""

    channel: str
    ts: str
    text: str = ""
    user: str | None = None
    bot_id: str | None = None
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    reactions: dict[str, list[str]] = field(default_factory=dict)
    edited_ts: str | None = None
    metadata: dict[str, Any] | None = None
    seq: int = 0  # workspace-wide order of the last change, for "newest visible" searches

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts


@dataclass
class Ephemeral:
    """A message only ``user`` can see; it lives in the client, not in history."""

    channel: str
    user: str
    ts: str
    text: str = ""
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    seq: int = 0
    deleted: bool = False


@dataclass
class View:
    """A modal in a user's view stack, or a user's App Home tab."""

    id: str
    user: str
    payload: dict[str, Any]
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    external_id: str | None = None
    state_values: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    seq: int = 0

    @property
    def type(self) -> str:
        return str(self.payload.get("type", "modal"))

    def to_slack(self) -> dict[str, Any]:
        """The view object as Slack returns it from ``views.*`` and in interaction payloads."""
        p = self.payload
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "type": self.type,
            "blocks": p.get("blocks", []),
            "private_metadata": p.get("private_metadata", ""),
            "callback_id": p.get("callback_id", ""),
            "state": {"values": self.state_values},
            "hash": self.hash,
            "title": p.get("title"),
            "clear_on_close": bool(p.get("clear_on_close", False)),
            "notify_on_close": bool(p.get("notify_on_close", False)),
            "close": p.get("close"),
            "submit": p.get("submit"),
            "previous_view_id": self.previous_view_id,
            "root_view_id": self.root_view_id,
            "app_id": APP_ID,
            "external_id": self.external_id or p.get("external_id", ""),
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        }


@dataclass
class ResponseUrl:
    """Where a ``response_url`` posts land: who sees them and which message they may replace."""

    id: str
    user: str
    channel: str
    message_ts: str | None = None
    is_ephemeral: bool = False
    thread_ts: str | None = None
    uses: int = 0


class Workspace:
    """Thread-safe in-memory Slack workspace: users, channels, messages, views and triggers."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.messages: dict[str, list[Message]] = {}
        # indexes so that long threads stay cheap: (channel, ts) → message, (channel, root) → replies
        self._by_ts: dict[tuple[str, str], Message] = {}
        self._replies: dict[tuple[str, str], list[Message]] = {}
        self.ephemerals: list[Ephemeral] = []
        self.views: dict[str, View] = {}
        self.view_stacks: dict[str, list[str]] = {}
        self.home_tabs: dict[str, str] = {}
        self.triggers: dict[str, tuple[float, str]] = {}
        self.exchanged_triggers: set[str] = set()
        self.response_urls: dict[str, ResponseUrl] = {}
        self._last_ts = 0.0
        self._seq = itertools.count(1)
        self._view_ids = itertools.count(1)
        self._im_ids = itertools.count(1)
        self.add_user(
            BOT_USER_ID, BOT_NAME, real_name="Flywheel", display_name="Flywheel", is_bot=True, bot_id=BOT_ID
        )

    # ---- ids and clocks -------------------------------------------------------------------

    def next_seq(self) -> int:
        """A global change counter; lets the player find the newest thing a user can see."""
        return next(self._seq)

    def new_ts(self) -> str:
        """A fresh message ts: current time with microseconds, strictly increasing."""
        with self.lock:
            now = round(self.clock(), 6)
            if now <= self._last_ts:
                now = round(self._last_ts + 0.000001, 6)
            self._last_ts = now
            return f"{now:.6f}"

    def issue_trigger(self, user_id: str) -> str:
        """A trigger_id as Slack issues with every interaction; valid for 3 seconds, once."""
        with self.lock:
            trigger = f"{int(self.clock())}.{secrets.randbelow(10**10):010d}.{secrets.token_hex(16)}"
            self.triggers[trigger] = (self.clock(), user_id)
            return trigger

    def exchange_trigger(self, trigger_id: str | None) -> str:
        """Consume a trigger_id as ``views.open``/``views.push`` do; returns the user it was for."""
        with self.lock:
            if not trigger_id or trigger_id not in self.triggers:
                raise SlackError("invalid_trigger_id")
            if trigger_id in self.exchanged_triggers:
                raise SlackError("exchanged_trigger_id")
            issued, user_id = self.triggers[trigger_id]
            if self.clock() - issued > TRIGGER_TTL_SECONDS:
                raise SlackError("expired_trigger_id")
            self.exchanged_triggers.add(trigger_id)
            return user_id

    # ---- users and channels ---------------------------------------------------------------

    def add_user(
        self,
        id: str,
        name: str,
        *,
        real_name: str = "",
        display_name: str = "",
        email: str | None = None,
        tz: str = "UTC",
        is_admin: bool = False,
        is_bot: bool = False,
        bot_id: str | None = None,
    ) -> User:
        with self.lock:
            user = User(
                id=id,
                name=name,
                real_name=real_name or name.capitalize(),
                display_name=display_name,
                email=email,
                tz=tz,
                is_admin=is_admin,
                is_bot=is_bot,
                bot_id=bot_id,
            )
            self.users[id] = user
            return user

    def add_channel(
        self,
        id: str,
        name: str,
        members: list[str] | None = None,
        *,
        is_private: bool = False,
        topic: str = "",
        purpose: str = "",
        bot_member: bool = True,
    ) -> Channel:
        """Create a channel. The bot is a member unless ``bot_member`` is False.

        Membership matters as in Slack: history of a channel the bot is not in answers
        ``not_in_channel``; a private channel without the bot is ``channel_not_found``.
        """
        with self.lock:
            member_list = list(dict.fromkeys(members or []))
            if bot_member and BOT_USER_ID not in member_list:
                member_list.append(BOT_USER_ID)
            channel = Channel(
                id=id,
                name=name.lstrip("#"),
                is_private=is_private,
                members=member_list,
                topic=topic,
                purpose=purpose,
            )
            self.channels[id] = channel
            self.messages.setdefault(id, [])
            return channel

    def user(self, user_id: str) -> User:
        with self.lock:
            user = self.users.get(user_id)
            if user is None:
                raise SlackError("user_not_found")
            return user

    def user_by_name(self, name: str) -> User | None:
        """Find a user by handle, display name, real name or e-mail (case-insensitive)."""
        key = name.lstrip("@").lower()
        with self.lock:
            for user in self.users.values():
                if key in {
                    user.id.lower(),
                    user.name.lower(),
                    user.display_name.lower(),
                    user.real_name.lower(),
                    (user.email or "").lower(),
                }:
                    return user
        return None

    def channel_by_name(self, name: str) -> Channel | None:
        key = name.lstrip("#").lower()
        with self.lock:
            for channel in self.channels.values():
                if channel.id.lower() == key or (channel.name.lower() == key and not channel.is_im):
                    return channel
        return None

    def channel(self, channel_id: str, *, as_bot: bool = True) -> Channel:
        """Look up a channel as the bot sees it; a user ID resolves to the bot's DM with them."""
        with self.lock:
            if channel_id in self.users and channel_id not in self.channels:
                return self.open_im(channel_id)
            channel = self.channels.get(channel_id)
            if channel is None:
                raise SlackError("channel_not_found")
            if as_bot and channel.is_private and BOT_USER_ID not in channel.members:
                raise SlackError("channel_not_found")
            return channel

    def open_im(self, user_id: str) -> Channel:
        """The stable IM channel between the bot and ``user_id`` (created on first use)."""
        with self.lock:
            if user_id not in self.users:
                raise SlackError("user_not_found")
            for channel in self.channels.values():
                if channel.is_im and channel.im_user == user_id:
                    return channel
            cid = f"D0{user_id.lstrip('UW')[:8].upper()}{next(self._im_ids):02d}"
            channel = Channel(id=cid, name=cid, is_im=True, members=[user_id, BOT_USER_ID], im_user=user_id)
            self.channels[cid] = channel
            self.messages.setdefault(cid, [])
            return channel

    def channel_label(self, channel_id: str) -> str:
        with self.lock:
            channel = self.channels.get(channel_id)
            if channel is None:
                return channel_id
            if channel.is_im:
                user = self.users.get(channel.im_user or "")
                return f"DM with @{user.label if user else channel.im_user}"
            return f"#{channel.name}"

    def user_label(self, user_id: str) -> str:
        with self.lock:
            user = self.users.get(user_id)
            return user.label if user else user_id

    # ---- messages -------------------------------------------------------------------------

    def find_message(self, channel_id: str, ts: str) -> Message:
        with self.lock:
            message = self._by_ts.get((channel_id, str(ts)))
            if message is None:
                raise SlackError("message_not_found")
            return message

    def post_message(
        self,
        channel_id: str,
        *,
        text: str = "",
        user: str | None = None,
        bot_id: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Message:
        """Append a message; ``thread_ts`` naming a reply resolves to its parent, as in Slack.

        ``ts`` may be given to seed history in the past; it must be unique in the channel.
        """
        with self.lock:
            channel = self.channels.get(channel_id)
            if channel is None:
                raise SlackError("channel_not_found")
            if thread_ts is not None:
                parent = self.find_message(channel_id, thread_ts)
                thread_ts = parent.thread_ts or parent.ts
            if ts is None:
                ts = self.new_ts()
            elif (channel_id, ts) in self._by_ts:
                raise SlackError("duplicate_ts")
            assign_ids(blocks)
            message = Message(
                channel=channel_id,
                ts=ts,
                text=text,
                user=user,
                bot_id=bot_id,
                blocks=blocks,
                thread_ts=thread_ts,
                metadata=metadata,
                seq=self.next_seq(),
            )
            if thread_ts is not None:
                parent = self.find_message(channel_id, thread_ts)
                parent.thread_ts = parent.ts
            bisect.insort(self.messages[channel_id], message, key=lambda m: float(m.ts))
            self._by_ts[(channel_id, ts)] = message
            if thread_ts is not None:
                bisect.insort(
                    self._replies.setdefault((channel_id, thread_ts), []), message, key=lambda m: float(m.ts)
                )
            return message

    def replies(self, channel_id: str, root_ts: str) -> list[Message]:
        """The replies of a thread (without its parent), oldest first."""
        with self.lock:
            return list(self._replies.get((channel_id, root_ts), []))

    def thread(self, channel_id: str, ts: str) -> list[Message]:
        """Parent then replies, oldest first; a reply's ts resolves to its whole thread."""
        with self.lock:
            message = self.find_message(channel_id, ts)
            root = message.thread_ts or message.ts
            parent = self._by_ts.get((channel_id, root))
            return ([parent] if parent is not None else []) + self.replies(channel_id, root)

    def message_to_slack(self, message: Message) -> dict[str, Any]:
        """The message object of ``conversations.history``/``replies`` (incl. thread metadata)."""
        with self.lock:
            out: dict[str, Any] = {"type": "message", "ts": message.ts, "text": message.text, "team": TEAM_ID}
            if message.user:
                out["user"] = message.user
            if message.bot_id:
                out["bot_id"] = message.bot_id
                out["app_id"] = APP_ID
                out["bot_profile"] = {"id": BOT_ID, "app_id": APP_ID, "name": BOT_NAME, "team_id": TEAM_ID}
                out.setdefault("user", BOT_USER_ID)
            if message.blocks is not None:
                out["blocks"] = message.blocks
            if message.metadata:
                out["metadata"] = message.metadata
            if message.edited_ts:
                out["edited"] = {"user": message.user or BOT_USER_ID, "ts": message.edited_ts}
            if message.thread_ts:
                out["thread_ts"] = message.thread_ts
                if message.is_reply:
                    parent = self._by_ts.get((message.channel, message.thread_ts))
                    if parent is not None:
                        out["parent_user_id"] = parent.user or BOT_USER_ID
                else:
                    replies = self._replies.get((message.channel, message.ts), [])
                    users = list(dict.fromkeys(r.user or BOT_USER_ID for r in replies))
                    out["reply_count"] = len(replies)
                    out["reply_users_count"] = len(users)
                    out["reply_users"] = users[:5]
                    out["latest_reply"] = replies[-1].ts if replies else message.ts
                    out["subscribed"] = False
            if message.reactions:
                out["reactions"] = [
                    {"name": name, "users": list(users), "count": len(users)}
                    for name, users in message.reactions.items()
                    if users
                ]
            return out

    def update_message(
        self,
        channel_id: str,
        ts: str,
        *,
        text: str | None,
        blocks: list[dict[str, Any]] | None,
        replace: bool = False,
    ) -> Message:
        """Edit a message. Like ``chat.update``, omitted fields are kept unless ``replace``
        (a ``response_url`` ``replace_original``), which swaps the whole message."""
        with self.lock:
            message = self.find_message(channel_id, ts)
            if replace:
                message.blocks = None
            if text is not None:
                message.text = text
            if blocks is not None:
                assign_ids(blocks)
                message.blocks = blocks
            message.edited_ts = self.new_ts()
            message.seq = self.next_seq()
            return message

    def delete_message(self, channel_id: str, ts: str) -> Message:
        with self.lock:
            message = self.find_message(channel_id, ts)
            self.messages[channel_id].remove(message)
            del self._by_ts[(channel_id, message.ts)]
            if message.is_reply:
                self._replies[(channel_id, str(message.thread_ts))].remove(message)
            return message

    def add_reaction(self, channel_id: str, ts: str, name: str, user_id: str) -> Message:
        with self.lock:
            message = self.find_message(channel_id, ts)
            name = name.strip(":")
            users = message.reactions.setdefault(name, [])
            if user_id in users:
                raise SlackError("already_reacted")
            users.append(user_id)
            return message

    def remove_reaction(self, channel_id: str, ts: str, name: str, user_id: str) -> Message:
        with self.lock:
            message = self.find_message(channel_id, ts)
            users = message.reactions.get(name.strip(":"), [])
            if user_id not in users:
                raise SlackError("no_reaction")
            users.remove(user_id)
            return message

    def add_ephemeral(
        self,
        channel_id: str,
        user_id: str,
        *,
        text: str = "",
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> Ephemeral:
        with self.lock:
            assign_ids(blocks)
            eph = Ephemeral(
                channel=channel_id,
                user=user_id,
                ts=self.new_ts(),
                text=text,
                blocks=blocks,
                thread_ts=thread_ts,
                seq=self.next_seq(),
            )
            self.ephemerals.append(eph)
            return eph

    def find_ephemeral(self, user_id: str, ts: str) -> Ephemeral | None:
        with self.lock:
            for eph in self.ephemerals:
                if eph.user == user_id and eph.ts == ts and not eph.deleted:
                    return eph
            return None

    # ---- views ----------------------------------------------------------------------------

    def _new_hash(self) -> str:
        return f"{int(self.clock())}.{secrets.token_hex(4)}"

    def _new_view(
        self, user_id: str, payload: dict[str, Any], root: str | None, previous: str | None
    ) -> View:
        assign_ids(payload.get("blocks"))
        vid = f"V{next(self._view_ids):07d}"
        view = View(
            id=vid,
            user=user_id,
            payload=payload,
            hash=self._new_hash(),
            root_view_id=root or vid,
            previous_view_id=previous,
            external_id=payload.get("external_id") or None,
            seq=self.next_seq(),
        )
        self.views[vid] = view
        return view

    def open_view(self, user_id: str, payload: dict[str, Any]) -> View:
        """``views.open``: a new modal replaces whatever stack the user had."""
        with self.lock:
            self._check_external_id(payload)
            view = self._new_view(user_id, payload, None, None)
            self.view_stacks[user_id] = [view.id]
            return view

    def push_view(self, user_id: str, payload: dict[str, Any]) -> View:
        """``views.push``: Slack allows at most three views in a stack."""
        with self.lock:
            stack = self.view_stacks.setdefault(user_id, [])
            if len(stack) >= 3:
                raise SlackError("push_limit_reached")
            self._check_external_id(payload)
            root = self.views[stack[0]].id if stack else None
            view = self._new_view(user_id, payload, root, stack[-1] if stack else None)
            stack.append(view.id)
            return view

    def _check_external_id(self, payload: dict[str, Any]) -> None:
        """external_id must be unique among live views (open modals and home tabs)."""
        ext = payload.get("external_id")
        live = {vid for stack in self.view_stacks.values() for vid in stack} | set(self.home_tabs.values())
        if ext and any(self.views[vid].external_id == ext for vid in live):
            raise SlackError("duplicate_external_id")

    def find_view(self, view_id: str | None = None, external_id: str | None = None) -> View:
        with self.lock:
            if view_id:
                view = self.views.get(view_id)
            else:
                matches = [v for v in self.views.values() if external_id and v.external_id == external_id]
                view = matches[-1] if matches else None
            if view is None:
                raise SlackError("not_found")
            return view

    def update_view(self, view: View, payload: dict[str, Any], hash: str | None = None) -> View:
        """``views.update``: replace the payload in place; a stale ``hash`` is a conflict."""
        with self.lock:
            if hash and hash != view.hash:
                raise SlackError("hash_conflict")
            assign_ids(payload.get("blocks"))
            view.payload = payload
            view.hash = self._new_hash()
            view.errors = {}
            view.seq = self.next_seq()
            if payload.get("external_id"):
                view.external_id = payload["external_id"]
            return view

    def publish_home(self, user_id: str, payload: dict[str, Any], hash: str | None = None) -> View:
        with self.lock:
            if user_id not in self.users:
                raise SlackError("user_not_found")
            existing = self.home_tabs.get(user_id)
            if existing:
                return self.update_view(self.views[existing], payload, hash)
            view = self._new_view(user_id, payload, None, None)
            self.home_tabs[user_id] = view.id
            return view

    def top_view(self, user_id: str) -> View | None:
        with self.lock:
            stack = self.view_stacks.get(user_id) or []
            return self.views[stack[-1]] if stack else None

    def pop_view(self, user_id: str) -> View | None:
        with self.lock:
            stack = self.view_stacks.get(user_id) or []
            return self.views[stack.pop()] if stack else None

    def clear_views(self, user_id: str) -> None:
        with self.lock:
            self.view_stacks[user_id] = []

    def home_view(self, user_id: str) -> View | None:
        with self.lock:
            vid = self.home_tabs.get(user_id)
            return self.views[vid] if vid else None

    # ---- response urls --------------------------------------------------------------------

    def new_response_url(
        self,
        user_id: str,
        channel_id: str,
        *,
        message_ts: str | None = None,
        is_ephemeral: bool = False,
        thread_ts: str | None = None,
    ) -> ResponseUrl:
        with self.lock:
            rid = secrets.token_hex(8)
            entry = ResponseUrl(
                id=rid,
                user=user_id,
                channel=channel_id,
                message_ts=message_ts,
                is_ephemeral=is_ephemeral,
                thread_ts=thread_ts,
            )
            self.response_urls[rid] = entry
            return entry
