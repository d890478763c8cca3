"""The workspace's directory: users and channels (public, private, IMs), found by ID or name."""

from __future__ import annotations

from bot.simulator.workspace.base import WorkspaceBase
from bot.simulator.workspace.objects import BOT_USER_ID, Channel, SlackError, User


class Directory(WorkspaceBase):
    """Users and channels."""

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
