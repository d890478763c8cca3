"""Messages in the workspace: history, threads, edits, reactions and ephemeral messages."""

from __future__ import annotations

import bisect
from typing import Any

from bot.simulator.workspace.base import WorkspaceBase
from bot.simulator.workspace.objects import (
    APP_ID,
    BOT_ID,
    BOT_NAME,
    BOT_USER_ID,
    TEAM_ID,
    Ephemeral,
    Message,
    SlackError,
    assign_ids,
)


class Messages(WorkspaceBase):
    """Channel history with thread indexes, and what only one user sees."""

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
