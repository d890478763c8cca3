"""Renders stay within Slack's limits however big a postmortem grows, and untrusted text stays inert."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.common import views as common
from bot.postmortems import modals, views
from bot.postmortems.blameless import check_text
from bot.postmortems.service import Detail
from storage.models.postmortems import ActionItem, Postmortem, TimelineEntry

TZ = ZoneInfo("Europe/Berlin")
TODAY = date(2026, 12, 2)


def _big() -> Detail:
    long = "x" * 2999
    pm = Postmortem(
        id=7,
        title="T" * 200,
        severity=1,
        status="draft",
        author_id="U0A",
        **{
            k: long
            for k in (
                "summary",
                "impact",
                "detection",
                "contributing_factors",
                "went_well",
                "went_poorly",
                "got_lucky",
                "links",
            )
        },
    )
    start = datetime(2026, 12, 1, tzinfo=UTC)
    timeline = [
        TimelineEntry(id=i, postmortem_id=7, at=start + timedelta(minutes=i), text="y" * 3000, added_by="U0A")
        for i in range(1, 501)
    ]
    actions = [
        ActionItem(id=i, postmortem_id=7, title="z" * 300, owner_id="U0B", due_on=TODAY, created_by="U0A")
        for i in range(1, 101)
    ]
    return Detail(pm=pm, participants=[f"U0P{i}" for i in range(50)], timeline=timeline, actions=actions)


def _fits(blocks: list[dict], limit: int) -> None:
    assert len(blocks) <= limit
    for b in blocks:
        text = (b.get("text") or {}).get("text", "")
        assert len(text) <= common.SECTION_TEXT_LIMIT


def test_a_huge_postmortem_fits_a_message_and_its_modals() -> None:
    d = _big()
    _fits(
        views.postmortem_message(d, tz=TZ, today=TODAY, can_edit=True)["blocks"], common.MESSAGE_BLOCK_LIMIT
    )
    _fits(views.announcement(d, today=TODAY)["blocks"], common.MESSAGE_BLOCK_LIMIT)
    _fits(views.drafted_message(d, added=500, created=True, mode="offline", tz=TZ, today=TODAY)["blocks"], 50)
    for modal in (
        modals.timeline_modal(d, tz=TZ, metadata={}),
        modals.actions_modal(d, today=TODAY, metadata={}),
        modals.template_modal(values={}, participants=d.participants, channel_id=None, metadata={}),
    ):
        _fits(modal["blocks"], common.VIEW_BLOCK_LIMIT)
    findings = check_text("summary", "Bob forgot it. " * 40)
    _fits(views.findings_message(d, findings, {}, target=None)["blocks"], common.MESSAGE_BLOCK_LIMIT)


def test_untrusted_text_cannot_forge_links_or_pings() -> None:
    assert (
        views.show("<!channel> <https://evil|ok> & <@U0TOM>")
        == "&lt;!channel&gt; &lt;https://evil|ok&gt; &amp; <@U0TOM>"
    )
