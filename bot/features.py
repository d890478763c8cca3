"""The list of features, each registering its own listeners: the one place to add one."""

from __future__ import annotations

from slack_bolt import App

from bot.context import AppContext


def register_all(app: App, ctx: AppContext) -> None:
    from bot import assistant, digests, home, okrs, people, postmortems, requests, reviews

    people.slack.register(app, ctx)
    for feature in (okrs, requests, postmortems, reviews, digests, assistant, home):
        feature.slack.register(app, ctx)
