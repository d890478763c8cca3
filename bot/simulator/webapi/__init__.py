"""The Slack Web API stand-in: ``/api/<method>`` and ``/response/<id>`` on loopback.

The bot's real ``slack_sdk.WebClient`` talks to it, so answers follow Slack's shapes, errors,
limits and cursor pagination closely enough that code which works here works against Slack.
One module per method family (``chat.py`` for ``chat.*``, ``conversations.py``, ``users.py``,
``views.py``, ``reactions.py``, ``auth.py``), ``response_urls.py`` for replies to interactions,
``paging.py`` for cursors, and ``server.py`` for the HTTP server; ``SlackWebApi`` composes the
families and holds dispatch (auth, injected failures, the call log).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.simulator.feed import ApiCall, Recorder
from bot.simulator.validation import validate_blocks, validate_view
from bot.simulator.webapi.apps import APP_TOKEN_METHODS, AppsMethods
from bot.simulator.webapi.auth import AuthMethods
from bot.simulator.webapi.chat import ChatMethods
from bot.simulator.webapi.conversations import ConversationsMethods
from bot.simulator.webapi.paging import _int
from bot.simulator.webapi.reactions import ReactionsMethods
from bot.simulator.webapi.response_urls import ResponseUrls
from bot.simulator.webapi.server import WebApiServer, parse_params
from bot.simulator.webapi.users import UsersMethods
from bot.simulator.webapi.views import ViewsMethods
from bot.simulator.workspace import SlackError, Workspace

__all__ = ["Failure", "SlackWebApi", "WebApiServer", "parse_params", "validate_blocks", "validate_view"]


@dataclass
class Failure:
    """A failure queued by ``fail_next``: an HTTP status (429 → Retry-After) or an error code."""

    status: int = 429
    retry_after: int = 1
    error: str | None = None
    times: int = 1


class SlackWebApi(
    AuthMethods,
    ChatMethods,
    ConversationsMethods,
    UsersMethods,
    ViewsMethods,
    ReactionsMethods,
    ResponseUrls,
    AppsMethods,
):
    """Slack Web API methods over a Workspace; transport-free so it can be unit-tested."""

    def __init__(self, workspace: Workspace, recorder: Recorder, token: str) -> None:
        super().__init__(workspace, recorder, token)
        self._failures: dict[str, list[Failure]] = {}
        self._fail_lock = threading.Lock()
        self.limiter: Any = None  # bot.simulator.ratelimit.PostingLimit, when Slack's limit is on
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
            "apps.connections.open": self.apps_connections_open,
        }

    def cap_page(self, method: str, limit: int) -> None:
        """Answer at most `limit` items per page from a paginated `method`, whatever the caller asks:
        Slack may return fewer than `limit`, and a test can make a short channel span many pages."""
        original = self.methods[method]

        def capped(p: dict[str, Any]) -> dict[str, Any]:
            asked = _int(p.get("limit"), limit)
            return original({**p, "limit": str(min(asked, limit) if asked > 0 else limit)})

        self.methods[method] = capped

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
        elif token != self.token and (not self.app_token or token != self.app_token):
            body = {"ok": False, "error": "invalid_auth"}
        elif (method in APP_TOKEN_METHODS) != (token == self.app_token):
            body = {"ok": False, "error": "not_allowed_token_type"}
        elif (failure := self._take_failure(method)) is not None:
            if failure.error:
                body = {"ok": False, "error": failure.error}
            else:
                status = failure.status
                body = {"ok": False, "error": "ratelimited" if status == 429 else "internal_error"}
                if status == 429:
                    headers["Retry-After"] = str(failure.retry_after)
        elif self.limiter is not None and (retry_after := self.limiter.check(method, params)) is not None:
            status, body = 429, {"ok": False, "error": "ratelimited"}
            headers["Retry-After"] = str(retry_after)
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
