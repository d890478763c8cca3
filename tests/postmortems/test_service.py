"""The postmortem service: who may move what, bad input that changes nothing, and the APIs others use."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import func, select

from bot.common.errors import Forbidden, NotFound, UserError
from bot.postmortems import items, rules, search, workflow
from bot.postmortems import service as svc
from storage.db import Database
from storage.models import AuditLog
from storage.models.postmortems import ActionItem, Postmortem, TimelineEntry
from tests.postmortems.conftest import NOW, TODAY, make_complete


def _status(db: Database, pid: int) -> str:
    with db.session() as s:
        return svc.get(db_session=s, postmortem_id=pid).status


def _review(
    db: Database, pid: int, actor: str, *, admin: bool = False, confirmed: bool = True
) -> workflow.Transition:
    with db.session() as s:
        return workflow.request_review(
            db_session=s, actor_id=actor, is_admin=admin, postmortem_id=pid, confirmed=confirmed
        )


def _publish(
    db: Database, pid: int, actor: str, *, admin: bool = False, confirmed: bool = True
) -> workflow.Transition:
    with db.session() as s:
        return workflow.publish(
            db_session=s, actor_id=actor, is_admin=admin, postmortem_id=pid, confirmed=confirmed
        )


# ---- the workflow and its permission rule ----------------------------------------------------


def test_author_participants_and_admins_move_it_others_are_refused(db: Database, people: None) -> None:
    pid = make_complete(db, author="U0PRIYA", participants=("U0JONAS",))
    with pytest.raises(
        Forbidden, match=r"Only <@U0PRIYA> \(the author of PM-1\), its participants or an admin"
    ):
        _review(db, pid, "U0LENA")
    assert _status(db, pid) == "draft"
    assert _review(db, pid, "U0JONAS").done  # a participant
    with pytest.raises(Forbidden):
        _publish(db, pid, "U0LENA")
    assert _status(db, pid) == "in_review"
    assert _publish(db, pid, "U0MAYA", admin=True).done  # an admin
    with db.session() as s:
        pm = svc.get(db_session=s, postmortem_id=pid)
        assert (pm.status, pm.published_by) == ("published", "U0MAYA")
        actions = s.exec(select(AuditLog.action).where(AuditLog.record_id == "PM-1")).all()
    assert "postmortem.status.in_review" in actions and "postmortem.status.published" in actions


def test_the_order_is_draft_review_published(db: Database, people: None) -> None:
    pid = make_complete(db)
    with pytest.raises(
        UserError, match=r"still a draft — send it for review first: `/postmortem review PM-1`"
    ):
        _publish(db, pid, "U0PRIYA")
    _review(db, pid, "U0PRIYA")
    with pytest.raises(UserError, match="already in review"):
        _review(db, pid, "U0PRIYA")
    _publish(db, pid, "U0PRIYA")
    with pytest.raises(UserError, match="already published"):
        _publish(db, pid, "U0PRIYA")
    with pytest.raises(UserError, match="already published"):
        _review(db, pid, "U0PRIYA")


def test_publishing_names_every_empty_required_field_and_changes_nothing(db: Database, people: None) -> None:
    with db.session() as s:
        pid = svc.create(
            db_session=s, actor_id="U0PRIYA", title="Half written", fields={"summary": "Something broke."}
        ).id
    _review(db, pid or 0, "U0PRIYA")
    with pytest.raises(UserError) as err:
        _publish(db, pid or 0, "U0PRIYA")
    assert (
        "PM-1 can't be published yet: severity, impact, detection, contributing factors and timeline "
        "(at least one entry) are empty" in str(err.value)
    )
    assert _status(db, pid or 0) == "in_review"


def test_findings_stop_the_move_until_confirmed_and_it_warns_never_blocks(db: Database, people: None) -> None:
    pid = make_complete(db)
    with db.session() as s:
        svc.update(
            db_session=s,
            actor_id="U0PRIYA",
            is_admin=False,
            postmortem_id=pid,
            changes={"contributing_factors": "Jonas forgot to load-test the pool change."},
        )
    first = _review(db, pid, "U0PRIYA", confirmed=False)
    assert not first.done and _status(db, pid) == "draft"
    (finding,) = first.findings
    assert (finding.field, finding.text, finding.person) == ("contributing_factors", "Jonas forgot", "Jonas")
    second = _review(db, pid, "U0PRIYA", confirmed=True)
    assert second.done and len(second.findings) == 1 and _status(db, pid) == "in_review"


def test_the_check_reads_timeline_entries_and_action_items_too(db: Database, people: None) -> None:
    pid = make_complete(db)
    with db.session() as s:
        items.add_timeline_entry(
            db_session=s,
            actor_id="U0PRIYA",
            is_admin=False,
            postmortem_id=pid,
            at=datetime(2026, 12, 1, 14, 40, tzinfo=UTC),
            text="Tom 没有检查回滚脚本",
        )
        items.add_action_item(
            db_session=s,
            actor_id="U0PRIYA",
            is_admin=False,
            postmortem_id=pid,
            title="Make sure Jonas is less careless",
            owner_id="U0JONAS",
            due_on=TODAY,
            today=TODAY,
        )
        d = svc.detail(db_session=s, postmortem_id=pid)
        found = workflow.findings_for(db_session=s, d=d)
    assert sorted((f.field.split(":")[0], f.text) for f in found) == [
        ("action", "careless"),
        ("timeline", "Tom 没有检查"),
    ]


def test_edits_need_the_same_right_and_bad_fields_change_nothing(db: Database, people: None) -> None:
    pid = make_complete(db)
    with db.session() as s:
        with pytest.raises(Forbidden):
            svc.update(
                db_session=s, actor_id="U0LENA", is_admin=False, postmortem_id=pid, changes={"summary": "x"}
            )
    with db.session() as s:
        with pytest.raises(UserError, match="Severity `7` is not one of 1, 2, 3 or 4"):
            svc.update(
                db_session=s,
                actor_id="U0PRIYA",
                is_admin=False,
                postmortem_id=pid,
                changes={"summary": "new", "severity": "7"},
            )
    with db.session() as s:
        with pytest.raises(UserError, match="The summary is 3,001 characters long; at most 3,000 fit"):
            svc.update(
                db_session=s,
                actor_id="U0PRIYA",
                is_admin=False,
                postmortem_id=pid,
                changes={"summary": "x" * 3001},
            )
        pm = svc.get(db_session=s, postmortem_id=pid)
        assert (pm.severity, pm.summary.startswith("Checkout failed")) == (2, True)


def test_severity_outside_one_to_four_is_refused() -> None:
    for bad in ("0", "5", "-1", "sev9", "high", ""):
        with pytest.raises(UserError, match="1 is the most severe"):
            rules.parse_severity(bad)
    assert [rules.parse_severity(x) for x in ("1", "sev2", "SEV-3", "severity 4")] == [1, 2, 3, 4]


# ---- timeline and action items ---------------------------------------------------------------


def test_a_timeline_entry_needs_text_and_a_message_is_added_once(db: Database, people: None) -> None:
    pid = make_complete(db)
    with db.session() as s:
        with pytest.raises(UserError, match="The timeline entry is empty"):
            items.add_timeline_entry(
                db_session=s, actor_id="U0PRIYA", is_admin=False, postmortem_id=pid, at=NOW, text=" \u200b\n "
            )
    with db.session() as s:
        again = items.add_pinned_message(
            db_session=s,
            actor_id="U0LENA",
            channel_id="C0INC42",
            ts="1796047320.000000",
            text="Alert: checkout error rate 12%",
            posted_by="U0TOM",
            link="x",
        )
        count = s.exec(
            select(func.count()).select_from(TimelineEntry).where(TimelineEntry.postmortem_id == pid)
        ).one()
    assert again == [] and count == 2


def test_pinning_adds_at_the_posted_time_and_only_to_open_linked_postmortems(
    db: Database, people: None
) -> None:
    pid = make_complete(db)
    with db.session() as s:
        added = items.add_pinned_message(
            db_session=s,
            actor_id="U0LENA",
            channel_id="C0INC42",
            ts="1796048160.000100",
            text="Rolled back",
            posted_by="U0TOM",
            link="https://acme.slack.com/archives/C0INC42/p1796048160000100",
        )
    ((pm, entry),) = added
    assert pm.id == pid and entry.at == datetime.fromtimestamp(1796048160.0001, tz=UTC)
    assert entry.added_by == "U0LENA" and entry.posted_by == "U0TOM"
    _review(db, pid, "U0PRIYA")
    _publish(db, pid, "U0PRIYA")
    with db.session() as s:
        late = items.add_pinned_message(
            db_session=s,
            actor_id="U0LENA",
            channel_id="C0INC42",
            ts="1796049999.000000",
            text="Late",
            posted_by="U0TOM",
            link="",
        )
        assert late == []
        assert (
            items.add_pinned_message(
                db_session=s,
                actor_id="U0LENA",
                channel_id="C0OTHER",
                ts="1796049999.000000",
                text="Elsewhere",
                posted_by="U0TOM",
                link="",
            )
            == []
        )


def test_action_items_bad_due_dates_and_owners_change_nothing(db: Database, people: None) -> None:
    pid = make_complete(db)
    now_local = datetime(2026, 12, 2, 9, 0)
    with pytest.raises(UserError, match="2026-12-01 is in the past"):
        rules.parse_due("2026-12-01", today=TODAY, now_local=now_local)
    with pytest.raises(UserError, match="`2026-13-01` is not a real date"):
        rules.parse_due("2026-13-01", today=TODAY, now_local=now_local)
    with pytest.raises(UserError, match="I can't read the due date `someday`"):
        rules.parse_due("someday", today=TODAY, now_local=now_local)
    assert rules.parse_due("tomorrow", today=TODAY, now_local=now_local) == date(2026, 12, 3)
    assert rules.parse_due("next friday", today=TODAY, now_local=now_local) == date(2026, 12, 4)
    assert rules.parse_due("2026-12-15", today=TODAY, now_local=now_local) == date(2026, 12, 15)
    with db.session() as s:
        with pytest.raises(UserError, match="is not someone I know"):
            items.add_action_item(
                db_session=s,
                actor_id="U0PRIYA",
                is_admin=False,
                postmortem_id=pid,
                title="x",
                owner_id="@nobody",
                due_on=TODAY,
                today=TODAY,
            )
        with pytest.raises(UserError, match="in the past"):
            items.add_action_item(
                db_session=s,
                actor_id="U0PRIYA",
                is_admin=False,
                postmortem_id=pid,
                title="x",
                owner_id="U0TOM",
                due_on=TODAY - timedelta(days=1),
                today=TODAY,
            )
        with pytest.raises(Forbidden):
            items.add_action_item(
                db_session=s,
                actor_id="U0LENA",
                is_admin=False,
                postmortem_id=pid,
                title="x",
                owner_id="U0TOM",
                due_on=TODAY,
                today=TODAY,
            )
        assert s.exec(select(func.count()).select_from(ActionItem)).one() == 2
    with pytest.raises(UserError, match="not an action item type"):
        rules.parse_kind("urgent")
    assert rules.parse_kind("preventive") == rules.ActionKind.PREVENTATIVE


def test_an_action_item_is_closed_by_its_owner_or_the_postmortem_people(db: Database, people: None) -> None:
    pid = make_complete(db)
    with db.session() as s:
        tom_item = s.exec(select(ActionItem).where(ActionItem.owner_id == "U0TOM")).one()
        with pytest.raises(Forbidden, match=r"Only <@U0TOM> \(its owner\), the people on PM-1 or an admin"):
            items.complete_action_item(
                db_session=s, actor_id="U0LENA", is_admin=False, action_item_id=tom_item.id or 0
            )
    with db.session() as s:
        done = items.complete_action_item(
            db_session=s, actor_id="U0TOM", is_admin=False, action_item_id=tom_item.id or 0
        )
        assert (done.status, done.done_by) == ("done", "U0TOM")
    with db.session() as s, pytest.raises(UserError, match="already done"):
        items.complete_action_item(
            db_session=s, actor_id="U0PRIYA", is_admin=False, action_item_id=tom_item.id or 0
        )
    with db.session() as s, pytest.raises(NotFound, match="There is no action item AI-99"):
        items.complete_action_item(db_session=s, actor_id="U0PRIYA", is_admin=False, action_item_id=99)
    _ = pid


# ---- APIs other features build on ------------------------------------------------------------


def test_the_query_apis_for_digests_and_the_assistant(db: Database, people: None) -> None:
    first = make_complete(db)
    second = make_complete(db, author="U0TOM", participants=())
    _review(db, first, "U0PRIYA")
    with db.session() as s:
        workflow.publish(
            db_session=s, actor_id="U0PRIYA", is_admin=False, postmortem_id=first, confirmed=True, now=NOW
        )
        assert [p.id for p in svc.published_since(db_session=s, since=NOW - timedelta(hours=1))] == [first]
        assert svc.published_since(db_session=s, since=NOW + timedelta(seconds=1)) == []
        overdue = svc.overdue_action_items(db_session=s, today=date(2026, 12, 5))
        assert [(a.title, p.id) for a, p in overdue] == [
            ("Alert on pool saturation", first),
            ("Alert on pool saturation", second),
        ]
        mine, total = svc.action_items_of(db_session=s, owner_id="U0JONAS")
        assert total == 2 and all(a.owner_id == "U0JONAS" for a, _ in mine)
        # Postmortems still being written, of their author or participants (the published one is left out).
        assert [p.id for p in svc.postmortems_of(db_session=s, slack_id="U0TOM")] == [second]
        assert svc.postmortems_of(db_session=s, slack_id="U0JONAS") == []
        text = svc.summary_text(db_session=s, postmortem_id=first)
    assert text.splitlines()[0] == "PM-1 INC-42: checkout errors — SEV2, published"
    assert "Impact: Customers could not pay" in text and "Action items: 2 open of 2" in text


def test_search_ranks_english_and_chinese(db: Database, people: None) -> None:
    make_complete(db)
    with db.session() as s:
        cn = svc.create(
            db_session=s,
            actor_id="U0TOM",
            title="推荐服务超时：缓存未预热",
            fields={"summary": "发布后缓存为空，请求全部打到数据库。"},
        )
        svc.create(
            db_session=s,
            actor_id="U0TOM",
            title="Login outage: expired certificate",
            fields={"summary": "The TLS certificate expired."},
        )
    with db.session() as s:
        hits, total = search.search(db_session=s, words="connection pool")
        assert [h.pm.id for h in hits] == [1] and total == 1 and "pool" in hits[0].snippet
        hits, _ = search.search(db_session=s, words="certificates")  # plural folded
        assert [h.pm.title for h in hits] == ["Login outage: expired certificate"]
        hits, _ = search.search(db_session=s, words="缓存")
        assert [h.pm.id for h in hits] == [cn.id]
        hits, _ = search.search(db_session=s, words="数据库")
        assert [h.pm.id for h in hits] == [cn.id] and hits[0].where == "Summary"
        assert search.search(db_session=s, words="kubernetes") == ([], 0)
        with pytest.raises(UserError):
            search.search(db_session=s, words="   ")
    # The index follows changes: a new word is found after an edit.
    with db.session() as s:
        svc.update(
            db_session=s,
            actor_id="U0TOM",
            is_admin=False,
            postmortem_id=cn.id or 0,
            changes={"went_well": "Rollback by canary"},
        )
    with db.session() as s:
        hits, _ = search.search(db_session=s, words="canary")
        assert [h.pm.id for h in hits] == [cn.id]


def test_unknown_postmortem_is_not_found(db: Database) -> None:
    with db.session() as s, pytest.raises(NotFound, match="There is no postmortem PM-7"):
        svc.detail(db_session=s, postmortem_id=7)


def test_stored_text_cannot_ping_a_channel(db: Database) -> None:
    with db.session() as s:
        pm = svc.create(
            db_session=s, actor_id="U0PRIYA", title="Test", fields={"summary": "Hey <!channel> and @here"}
        )
        stored = s.get(Postmortem, pm.id).summary
    assert "<!channel>" not in stored and "@here" not in stored and "@\u2060here" in stored
