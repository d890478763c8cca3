"""Block Kit and message validation like Slack's: its limits, error codes and json-pointer messages.

Shared by the Web API (``chat.*``, ``views.*``, ``response_url``) and the player (a
``view_submission`` answer that updates or pushes a view).
"""

from __future__ import annotations

import json
from typing import Any

from bot.simulator.workspace import SlackError

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT = 40_000
MAX_SECTION_TEXT = 3_000


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
