"""What every Web API method family shares: the workspace, the output feed, argument checks."""

from __future__ import annotations

from typing import Any

from bot.simulator.feed import Output, Recorder
from bot.simulator.workspace import TEAM_DOMAIN, Message, SlackError, Workspace


class ApiBase:
    """The state and helpers the method families (mixins of ``SlackWebApi``) use."""

    def __init__(self, workspace: Workspace, recorder: Recorder, token: str) -> None:
        self.ws = workspace
        self.recorder = recorder
        self.token = token
        self.base_url = ""  # "http://127.0.0.1:PORT", set when the server starts

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
