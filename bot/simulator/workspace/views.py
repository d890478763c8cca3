"""Views in the workspace: each user's modal stack and App Home tab."""

from __future__ import annotations

import secrets
from typing import Any

from bot.simulator.workspace.base import WorkspaceBase
from bot.simulator.workspace.objects import SlackError, View, assign_ids


class Views(WorkspaceBase):
    """Modals (open, push, update, close) and home tabs, as ``views.*`` change them."""

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
