"""Block Kit → readable plain text, for the demo shell and for test assertions.

The point is that a human (or a test) can read what a Slack user would see without a Slack
client: mentions become ``@name``, links keep their target, buttons appear as ``[Label]`` and
modal inputs show their label, their options and their initial value.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Protocol

from bot.simulator.feed import Output

if TYPE_CHECKING:
    from bot.simulator.workspace import Workspace


class Names(Protocol):
    """Anything that can turn IDs into names (the Workspace does)."""

    def user_label(self, user_id: str) -> str: ...

    def channel_label(self, channel_id: str) -> str: ...


class _NoNames:
    def user_label(self, user_id: str) -> str:
        return user_id

    def channel_label(self, channel_id: str) -> str:
        return channel_id


_TOKEN = re.compile(r"<([^<>]+)>")


def mrkdwn(text: str | None, names: Names | None = None) -> str:
    """Convert Slack's mrkdwn escapes (mentions, channels, links, specials) into plain text."""
    if not text:
        return ""
    names = names or _NoNames()

    def replace(match: re.Match[str]) -> str:
        body = match.group(1)
        target, _, label = body.partition("|")
        if target.startswith("@"):
            uid = target[1:]
            resolved = names.user_label(uid)
            return "@" + (resolved if resolved != uid or not label else label.lstrip("@"))
        if target.startswith("#"):
            cid = target[1:]
            resolved = names.channel_label(cid)
            if resolved != cid:
                return resolved if resolved.startswith(("#", "DM")) else "#" + resolved
            return "#" + (label or cid)
        if target.startswith("!"):
            special = target[1:]
            if special.startswith("subteam^"):
                return label or "@" + special.split("^", 1)[1]
            if special.startswith("date^"):
                return label or special
            return "@" + special.split("^", 1)[0]
        if label:
            return f"{label} <{target}>"
        return target.removeprefix("mailto:")

    out = _TOKEN.sub(replace, text)
    return out.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def text_of(obj: Any, names: Names | None = None) -> str:
    """The readable text of a text object (plain_text or mrkdwn) or a bare string."""
    if obj is None:
        return ""
    if isinstance(obj, str):
        return mrkdwn(obj, names)
    if isinstance(obj, dict):
        if obj.get("type") == "plain_text":
            return str(obj.get("text", ""))
        return mrkdwn(str(obj.get("text", "")), names)
    return str(obj)


def _option_text(option: dict[str, Any], names: Names | None) -> str:
    return text_of(option.get("text"), names)


def element_text(element: dict[str, Any], names: Names | None = None) -> str:
    """One interactive or context element, e.g. a button as ``[Label]``."""
    etype = element.get("type")
    if etype == "button":
        label = text_of(element.get("text"), names)
        if element.get("url"):
            return f"[{label} ↗ {element['url']}]"
        return f"[{label}]"
    if etype == "image":
        return f"[image: {element.get('alt_text', '')}]"
    if etype in {"mrkdwn", "plain_text"}:
        return text_of(element, names)
    if etype in {"external_select", "multi_external_select"}:  # options come from the app on search
        initial = _initial_options(element, names)
        return "[search…]" + (f" ({initial})" if initial else "")
    if etype in {"static_select", "multi_static_select"}:
        placeholder = text_of(element.get("placeholder"), names) or "Select"
        options = [_option_text(o, names) for o in element_options(element)]
        initial = element.get("initial_option") or {}
        shown = f"[{placeholder} ▾: {' | '.join(options)}]" if options else f"[{placeholder} ▾]"
        return shown + (f" ({_option_text(initial, names)})" if initial else "")
    if etype in {
        "users_select",
        "multi_users_select",
        "conversations_select",
        "channels_select",
        "multi_conversations_select",
        "multi_channels_select",
    }:
        placeholder = text_of(element.get("placeholder"), names) or etype.replace("_", " ")
        return f"[{placeholder} ▾]"
    if etype == "overflow":
        return "[⋯ " + " | ".join(_option_text(o, names) for o in element.get("options", [])) + "]"
    if etype == "datepicker":
        return f"[date: {element.get('initial_date', '____-__-__')}]"
    if etype == "timepicker":
        return f"[time: {element.get('initial_time', '__:__')}]"
    if etype in {"checkboxes", "radio_buttons"}:
        return " ".join(f"( ) {_option_text(o, names)}" for o in element.get("options", []))
    return f"[{etype}]"


def _initial_options(element: dict[str, Any], names: Names | None) -> str:
    if element.get("initial_option"):
        return _option_text(element["initial_option"], names)
    return ", ".join(_option_text(o, names) for o in element.get("initial_options") or [])


def element_options(element: dict[str, Any]) -> list[dict[str, Any]]:
    """A select's options, flattened out of option groups (shared with the player)."""
    if "options" in element:
        return list(element["options"])
    out: list[dict[str, Any]] = []
    for group in element.get("option_groups", []):
        out.extend(group.get("options", []))
    return out


def _rich_text(element: dict[str, Any], names: Names | None) -> str:
    etype = element.get("type")
    if etype in {"rich_text_section", "rich_text_preformatted", "rich_text_quote"}:
        parts: list[str] = []
        for el in element.get("elements", []):
            t = el.get("type")
            if t == "text":
                parts.append(str(el.get("text", "")))
            elif t == "link":
                parts.append(f"{el['text']} <{el['url']}>" if el.get("text") else str(el.get("url", "")))
            elif t == "user":
                parts.append("@" + (names or _NoNames()).user_label(el.get("user_id", "")))
            elif t == "channel":
                label = (names or _NoNames()).channel_label(el.get("channel_id", ""))
                parts.append(label if label.startswith("#") else "#" + label)
            elif t == "emoji":
                parts.append(f":{el.get('name', '')}:")
            elif t == "broadcast":
                parts.append("@" + str(el.get("range", "")))
            else:
                parts.append(str(el.get("text", "")))
        text = "".join(parts)
        if etype == "rich_text_preformatted":
            return "```\n" + text + "\n```"
        if etype == "rich_text_quote":
            return "\n".join("> " + line for line in text.splitlines())
        return text
    if etype == "rich_text_list":
        indent = "  " * int(element.get("indent", 0))
        lines = []
        for i, item in enumerate(element.get("elements", []), start=1):
            bullet = f"{i}." if element.get("style") == "ordered" else "•"
            lines.append(f"{indent}{bullet} {_rich_text(item, names)}")
        return "\n".join(lines)
    return ""


def _input_block(block: dict[str, Any], names: Names | None, state: dict[str, Any] | None) -> str:
    label = text_of(block.get("label"), names)
    element = block.get("element", {})
    etype = element.get("type", "")
    optional = " (optional)" if block.get("optional") else ""
    current = _state_value(state, block.get("block_id"), element.get("action_id"), names)
    if etype in {"static_select", "multi_static_select", "radio_buttons", "checkboxes"}:
        options = " | ".join(_option_text(o, names) for o in element_options(element))
        initial = element.get("initial_option") or {}
        initial_options = element.get("initial_options") or []
        init = (
            _option_text(initial, names)
            if initial
            else ", ".join(_option_text(o, names) for o in initial_options)
        )
        value = current or init
        return f"{label}{optional}: [{options}]" + (f" ({value})" if value else "")
    if etype in {"external_select", "multi_external_select"}:
        value = current or _initial_options(element, names)
        return f"{label}{optional}: [search…]" + (f" ({value})" if value else "")
    if etype in {"users_select", "multi_users_select"}:
        init = element.get("initial_user") or ", ".join(element.get("initial_users", []))
        value = current or (
            " ".join("@" + (names or _NoNames()).user_label(u) for u in init.split(", ")) if init else ""
        )
        return f"{label}{optional}: [user ▾]" + (f" ({value})" if value else "")
    if etype == "datepicker":
        value = current or element.get("initial_date", "")
        return f"{label}{optional}: ____-__-__" + (f" ({value})" if value else "")
    initial = current or element.get("initial_value", "")
    if not initial and etype in {"conversations_select", "channels_select"}:
        initial = element.get("initial_conversation") or element.get("initial_channel") or ""
    placeholder = text_of(element.get("placeholder"), names)
    line = f"{label}{optional}: ____"
    if initial:
        line += f" ({initial})"
    elif placeholder:
        line += f" ({placeholder})"
    return line


def _state_value(
    state: dict[str, Any] | None, block_id: str | None, action_id: str | None, names: Names | None
) -> str:
    if not state or not block_id or not action_id:
        return ""
    entry = state.get(block_id, {}).get(action_id)
    if not entry:
        return ""
    if entry.get("value") is not None:
        return str(entry["value"])
    if entry.get("selected_option"):
        return _option_text(entry["selected_option"], names)
    if entry.get("selected_options"):
        return ", ".join(_option_text(o, names) for o in entry["selected_options"])
    if entry.get("selected_user"):
        return "@" + (names or _NoNames()).user_label(entry["selected_user"])
    if entry.get("selected_users"):
        return ", ".join("@" + (names or _NoNames()).user_label(u) for u in entry["selected_users"])
    for key in ("selected_date", "selected_time", "selected_conversation", "selected_channel"):
        if entry.get(key):
            return str(entry[key])
    return ""


def render_blocks(
    blocks: list[dict[str, Any]] | None,
    names: Names | None = None,
    *,
    state: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> str:
    """Render a list of blocks as lines of text; ``errors`` (by block_id) mark modal inputs."""
    lines: list[str] = []
    for block in blocks or []:
        btype = block.get("type")
        if btype == "header":
            lines.append(f"== {text_of(block.get('text'), names)} ==")
        elif btype == "section":
            text = text_of(block.get("text"), names)
            accessory = block.get("accessory")
            if accessory:
                text = (text + "  " if text else "") + element_text(accessory, names)
            if text:
                lines.append(text)
            fields = [text_of(f, names) for f in block.get("fields", [])]
            for i in range(0, len(fields), 2):
                lines.append("   ".join(fields[i : i + 2]))
        elif btype == "context":
            lines.append("  ".join(element_text(e, names) for e in block.get("elements", [])))
        elif btype == "divider":
            lines.append("---")
        elif btype == "actions":
            lines.append(" ".join(element_text(e, names) for e in block.get("elements", [])))
        elif btype == "image":
            title = text_of(block.get("title"), names)
            lines.append(f"[image: {block.get('alt_text', '')}]" + (f" {title}" if title else ""))
        elif btype == "rich_text":
            lines.append("\n".join(_rich_text(e, names) for e in block.get("elements", [])))
        elif btype == "input":
            lines.append(_input_block(block, names, state))
            hint = text_of(block.get("hint"), names)
            if hint:
                lines.append(f"  ({hint})")
        elif btype == "video":
            lines.append(f"[video: {text_of(block.get('title'), names)}]")
        elif btype == "file":
            lines.append(f"[file: {block.get('external_id', '')}]")
        else:
            lines.append(f"[{btype} block]")
        block_id = block.get("block_id")
        if errors and block_id in errors:
            lines.append(f"  ! {errors[block_id]}")
    return "\n".join(lines)


def render_message(text: str | None, blocks: list[dict[str, Any]] | None, names: Names | None = None) -> str:
    """A message as a user sees it: its blocks, or its ``text`` when it has none."""
    if blocks:
        return render_blocks(blocks, names)
    return mrkdwn(text, names)


def render_view(
    view: dict[str, Any],
    names: Names | None = None,
    *,
    state: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    with_title: bool = True,
) -> str:
    """A modal or home tab: title, blocks, and the submit/close buttons of a modal."""
    lines: list[str] = []
    title = text_of(view.get("title"), names)
    if with_title and title:
        lines.append(f"=== {title} ===")
    body = render_blocks(view.get("blocks", []), names, state=state, errors=errors)
    if body:
        lines.append(body)
    if view.get("type", "modal") == "modal":
        buttons = []
        if view.get("close"):
            buttons.append(f"[{text_of(view['close'], names)}]")
        elif view.get("submit"):
            buttons.append("[Cancel]")
        if view.get("submit"):
            buttons.append(f"[{text_of(view['submit'], names)}]")
        if buttons:
            lines.append(" ".join(buttons))
    return "\n".join(lines)


def render_output(output: Output, ws: Workspace) -> str:
    """A readable block for one output, headed by where and to whom it was shown."""
    user = f"@{ws.user_label(output.user)}" if output.user else ""
    where = ws.channel_label(output.channel) if output.channel else ""
    channel = ws.channels.get(output.channel or "")
    is_dm = channel is not None and channel.is_im
    thread = f", thread {output.thread_ts}" if output.thread_ts else ""
    kind = output.kind
    if kind == "ephemeral":
        head = f"[ephemeral to {user} in {'DM' if is_dm else where}{thread}]"
    elif kind == "message":
        head = f"[DM to {user}{thread}]" if is_dm else f"[{where}{thread}]"
    elif kind == "update":
        head = f"[updated DM to {user}]" if is_dm else f"[updated in {where}{thread}]"
        head = head[:-1] + f" {output.ts}]"
    elif kind == "delete":
        return f"[deleted {output.ts} in {'DM' if is_dm else where}]"
    elif kind == "reaction":
        return f"[reaction {output.text} on {output.ts} in {'DM' if is_dm else where}]"
    elif kind == "modal":
        view = output.view or {}
        errors = output.raw.get("errors") or {}
        title = (view.get("title") or {}).get("text", output.text)
        head = f'[modal "{title}"' + (" with errors" if errors else "") + f" for {user}]"
        body = render_view(
            view, ws, state=(view.get("state") or {}).get("values"), errors=errors, with_title=False
        )
        return head + ("\n" + body if body else "")
    elif kind == "modal_closed":
        return f"[modal closed for {user}]"
    elif kind == "home":
        head = f"[App Home of {user}]"
        return head + "\n" + render_view(output.view or {}, ws, with_title=False)
    elif kind == "error":
        return f"[error shown to {user}{' in ' + where if where else ''}] {output.text}"
    else:
        head = f"[{kind}]"
    body = render_message(output.text, output.blocks, ws)
    return head + ("\n" + body if body else "")
