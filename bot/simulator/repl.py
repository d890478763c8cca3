"""The interactive driver behind ``flywheel demo``: type what a Slack user would do, read what
the bot shows, rendered as text. The same lines work from a script, so a demo can be replayed.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Iterable
from typing import TextIO

from bot.simulator import Simulator
from bot.simulator.player import Delivery, InteractionError
from bot.simulator.render import render_message, text_of
from bot.simulator.workspace import SlackError

HELP = """\
Act as a Slack user; the bot's answers are printed after each line.
  /cmd args                 slash command as the current user in the current channel
  dm <text>                 DM the bot
  mention <text>            @-mention the bot here (or `@flywheel <text>`); in the thread if one is set
  post <text>               post a plain message here (no event to the bot)
  react <emoji> <ts|last>   add a reaction to a message
  thread <ts|last|off>      set or leave the current thread
  as <U…|name>              switch user          in <#channel|C…>   switch channel
  home                      open the App Home tab
  click <label|action_id>   click the newest visible button with that label
  select <menu> <value>     pick an option in a select menu, named by its label or action_id
                            (a search menu: what you type)
  search <menu> [text]      list what a search menu (external select) offers for the text
  submit a=1; b=two         submit the open modal (fields by label, block_id or action_id)
  close                     close the open modal
  shortcut <callback_id> <ts|last>   run a message shortcut on a message
  socket [refresh|drop|silent]   Socket Mode: the connections; ask the bot to reconnect, or
                            drop its connection (silent: stop answering) and time the reconnect
  users · channels · history [n] · help · quit
Lines starting with # are comments."""

# A command the host adds (the demo adds `clock` and `jobs`): (shell, rest of line) -> understood.
ExtraCommand = Callable[["DemoShell", str], bool]


class DemoShell:
    """Reads demo lines, drives the simulator as the current user, prints the bot's output."""

    def __init__(
        self,
        sim: Simulator,
        *,
        user_id: str,
        channel_id: str,
        out: TextIO,
        extra: dict[str, tuple[str, ExtraCommand]] | None = None,
    ) -> None:
        self.sim = sim
        self.user_id = user_id
        self.channel_id = channel_id
        self.thread_ts: str | None = None
        self.out = out
        self.done = False
        self._commands: dict[str, Callable[[str], bool]] = {
            "dm": self._dm,
            "mention": self._mention,
            "@flywheel": self._mention,
            "as": self._as,
            "in": self._in,
            "thread": self._thread,
            "post": self._post,
            "react": self._react,
            "home": self._home,
            "click": self._click,
            "select": self._select,
            "search": self._search,
            "submit": self._submit,
            "close": self._close,
            "shortcut": self._shortcut,
            "socket": self._socket,
            "users": self._users,
            "channels": self._channels,
            "history": self._history,
            "help": self._help,
            "quit": self._quit,
            "exit": self._quit,
        }
        # Host commands: name -> (help line, handler).
        self._extra = dict(extra or {})
        for name, (_usage, handler) in self._extra.items():
            self._commands[name] = lambda rest, handler=handler: handler(self, rest)

    # ---- driving ------------------------------------------------------------------------------

    @property
    def prompt(self) -> str:
        user = self.sim.workspace.users.get(self.user_id)
        name = user.name if user else self.user_id
        where = self.sim.workspace.channel_label(self.channel_id)
        if where.startswith("DM with"):
            where = "DM"
        thread = f"/{self.thread_ts}" if self.thread_ts else ""
        return f"{name}@{where}{thread}> "

    def run(self, lines: Iterable[str] | None = None) -> int:
        """Run lines from a script (echoed after the prompt), or interactively when ``lines`` is
        None. Returns how many lines failed."""
        failures = 0
        if lines is None:
            while not self.done:
                try:
                    line = input(self.prompt)
                except (EOFError, KeyboardInterrupt):
                    self.out.write("\n")
                    break
                failures += not self.run_line(line)
            return failures
        for raw in lines:
            line = raw.rstrip("\n")
            if line.strip() and not line.lstrip().startswith("#"):
                self.out.write(f"{self.prompt}{line}\n")
            failures += not self.run_line(line)
            if self.done:
                break
        return failures

    def run_line(self, line: str) -> bool:
        """Run one line; False (after a one-line error) when it was not understood or failed."""
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        try:
            if line.startswith("/"):
                return self._slash(line)
            word, _, rest = line.partition(" ")
            handler = self._commands.get(word.lower())
            if handler is None:
                return self._error(f"unknown command {word!r}", hint=True)
            return handler(rest.strip())
        except (InteractionError, LookupError, SlackError, ValueError) as exc:
            message = exc.code if isinstance(exc, SlackError) else str(exc).strip("'\"")
            return self._error(message)
        except TimeoutError as exc:
            return self._error(str(exc))

    def after(self, delivery: Delivery | None) -> bool:
        """For host commands: wait for the bot and print what it showed (see `_after`)."""
        return self._after(delivery)

    def say(self, text: str) -> None:
        self._say(text)

    def _error(self, message: str, *, hint: bool = False) -> bool:
        self.out.write(f"error: {message}" + (" (type `help` for the commands)" if hint else "") + "\n")
        return False

    def _say(self, text: str) -> None:
        self.out.write(text + "\n")

    def _after(self, delivery: Delivery | None) -> bool:
        """Wait for the bot to finish, then print everything it showed since the last line."""
        if delivery is not None and not delivery.ok:
            self._say(f"(the bot answered HTTP {delivery.status})")
        try:
            self.sim.settle()
        except TimeoutError:
            self._say("(the bot is still working; its output so far:)")
        for output in self.sim.take_outputs():
            self._say(self.sim.render_output(output))
            self._say("")
        return delivery is None or delivery.ok

    def _need(self, rest: str, usage: str) -> str:
        if not rest:
            raise ValueError(f"usage: {usage}")
        return rest

    def _ts(self, ref: str) -> str:
        """A message ts from ``last`` (newest message here, in the thread if set) or a literal ts."""
        if ref in {"", "last"}:
            messages = self.sim.messages(self.channel_id)
            if self.thread_ts:
                messages = [m for m in messages if m.ts == self.thread_ts or m.thread_ts == self.thread_ts]
            else:
                messages = [m for m in messages if not m.is_reply]
            if not messages:
                raise LookupError("no messages here yet")
            return messages[-1].ts
        self.sim.workspace.find_message(self.channel_id, ref)
        return ref

    # ---- actions ------------------------------------------------------------------------------

    def _slash(self, line: str) -> bool:
        command, _, text = line.partition(" ")
        return self._after(self.sim.command(self.user_id, command, text.strip(), self.channel_id))

    def _dm(self, rest: str) -> bool:
        return self._after(self.sim.dm(self.user_id, self._need(rest, "dm <text>")))

    def _mention(self, rest: str) -> bool:
        text = self._need(rest, "mention <text>")
        return self._after(self.sim.mention(self.user_id, self.channel_id, text, self.thread_ts))

    def _as(self, rest: str) -> bool:
        user = self.sim.user_by_name(self._need(rest, "as <U…|name>"))
        if user is None:
            return self._error(f"no user {rest!r}; type `users` to list them")
        self.user_id = user.id
        self._say(f"now acting as @{user.name} ({user.id})")
        return True

    def _in(self, rest: str) -> bool:
        ref = self._need(rest, "in <#channel|C…>")
        channel = self.sim.channel_by_name(ref.strip("<>").split("|")[0].lstrip("#"))
        if channel is None and ref.lower() in {"dm", "im"}:
            channel = self.sim.workspace.open_im(self.user_id)
        if channel is None:
            return self._error(f"no channel {ref!r}; type `channels` to list them")
        self.channel_id, self.thread_ts = channel.id, None
        self._say(f"now in {self.sim.workspace.channel_label(channel.id)}")
        return True

    def _thread(self, rest: str) -> bool:
        ref = self._need(rest, "thread <ts|last|off>")
        if ref in {"off", "none", "-"}:
            self.thread_ts = None
            self._say("left the thread")
            return True
        self.thread_ts = None
        ts = self._ts(ref)
        message = self.sim.workspace.find_message(self.channel_id, ts)
        self.thread_ts = message.thread_ts or message.ts
        self._say(f"in thread {self.thread_ts}")
        return True

    def _post(self, rest: str) -> bool:
        ts = self.sim.post_message(
            self.channel_id, self.user_id, self._need(rest, "post <text>"), self.thread_ts
        )
        self._say(f"posted {ts}")
        return True

    def _react(self, rest: str) -> bool:
        parts = self._need(rest, "react <emoji> <ts|last>").split()
        ts = self._ts(parts[1] if len(parts) > 1 else "last")
        return self._after(self.sim.react(self.user_id, self.channel_id, ts, parts[0]))

    def _home(self, rest: str) -> bool:
        return self._after(self.sim.open_home(self.user_id))

    def _click(self, rest: str) -> bool:
        return self._after(self.sim.click_button(self.user_id, self._need(rest, "click <label|action_id>")))

    def _select(self, rest: str) -> bool:
        menu, value = self.sim.split_menu(self.user_id, self._need(rest, "select <menu> <value>"))
        if not value:
            raise ValueError("usage: select <menu> <value>")
        delivery = self.sim.select(self.user_id, menu, value)
        if delivery is None:
            self._say(f"selected {value}")
        return self._after(delivery)

    def _search(self, rest: str) -> bool:
        menu, text = self.sim.split_menu(
            self.user_id, self._need(rest, "search <menu> [text]"), external=True
        )
        options = self.sim.suggest(self.user_id, menu, text)
        self._say("\n".join(text_of(o.get("text")) for o in options) or "(no options)")
        return True

    def _submit(self, rest: str) -> bool:
        values: dict[str, str] = {}
        for item in rest.split(";"):
            if not item.strip():
                continue
            key, sep, value = item.partition("=")
            if not sep:
                raise ValueError(f"expected field=value, got {item.strip()!r}")
            values[key.strip()] = value.strip()
        return self._after(self.sim.submit_view(self.user_id, values))

    def _close(self, rest: str) -> bool:
        return self._after(self.sim.close_view(self.user_id))

    def _shortcut(self, rest: str) -> bool:
        parts = shlex.split(self._need(rest, "shortcut <callback_id> <ts|last>"))
        ts = self._ts(parts[1] if len(parts) > 1 else "last")
        return self._after(self.sim.message_shortcut(self.user_id, parts[0], self.channel_id, ts))

    def _socket(self, rest: str) -> bool:
        server = self.sim.socket
        if server is None:
            return self._error("the bot is in HTTP mode; run `flywheel demo --socket` for Socket Mode")
        action = rest.strip().lower()
        if action in {"", "status"}:
            for conn in server.connections:
                self._say(f"connection {conn.id}: {conn.state}, {conn.acks} acknowledgements")
            return True
        actions = {
            "refresh": lambda: server.disconnect("refresh_requested"),
            "drop": lambda: server.drop(),
            "silent": lambda: server.drop(silent=True),
        }
        if action not in actions:
            raise ValueError("usage: socket [refresh|drop|silent]")
        newest = max((c.id for c in server.connections), default=0)
        started = time.monotonic()
        actions[action]()
        conn = server.wait_for_connection(newer_than=newest, timeout=30)
        self._say(f"the bot reconnected in {conn.opened_at - started:.2f} s (connection {conn.id})")
        return True

    def _users(self, rest: str) -> bool:
        for user in self.sim.workspace.users.values():
            extra = " (bot)" if user.is_bot else " (admin)" if user.is_admin else ""
            self._say(f"{user.id}  @{user.name:<12} {user.real_name}{extra}")
        return True

    def _channels(self, rest: str) -> bool:
        for channel in self.sim.workspace.channels.values():
            if channel.is_im:
                continue
            lock = " (private)" if channel.is_private else ""
            member = "" if self.user_id in channel.members else "  (not a member)"
            self._say(f"{channel.id}  #{channel.name}{lock}{member}")
        return True

    def _history(self, rest: str) -> bool:
        count = int(rest) if rest.strip().isdigit() else 10
        messages = self.sim.messages(self.channel_id)
        if self.thread_ts:
            messages = [m for m in messages if m.ts == self.thread_ts or m.thread_ts == self.thread_ts]
        else:
            messages = [m for m in messages if not m.is_reply]
        ws = self.sim.workspace
        for m in messages[-count:]:
            who = ws.user_label(m.user or "U0FLYWHEEL")
            replies = len(ws.replies(self.channel_id, m.ts))
            tail = f"  [{replies} replies]" if replies and not self.thread_ts else ""
            body = render_message(m.text, m.blocks, ws).replace("\n", "\n    ")
            self._say(f"{m.ts}  @{who}: {body}{tail}")
        if not messages:
            self._say("(no messages)")
        return True

    def _help(self, rest: str) -> bool:
        self._say(HELP)
        for usage, _handler in self._extra.values():
            self._say(f"  {usage}")
        return True

    def _quit(self, rest: str) -> bool:
        self.done = True
        return True
