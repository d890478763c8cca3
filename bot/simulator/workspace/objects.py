"""What the simulated workspace stores: users, channels, messages, views, and Slack's IDs.

The dataclasses' ``to_slack()`` give the object shapes of the Web API, so the server and the
player never build them by hand.
"""

from __future__ import annotations

import secrets
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
