"""Digest subscriptions over a database session: add, remove, list, and what is due. No Slack.

Who may add or remove: any member of the channel — the one a `/digest` command comes from, which
Slack only lets its members use. A subscription is only ever changed from its own channel, so
removing another channel's `D-n` answers "not found" and reveals nothing about it. At most
`MAX_PER_CHANNEL` subscriptions per channel, and no two alike.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.common import audit
from bot.common.errors import NotFound, UserError
from bot.common.ids import Kind, format_id
from bot.digests.parse import DigestKind
from bot.digests.schedule import Rule
from storage.models.digests import DigestSubscription

MAX_PER_CHANNEL = 20
_SUBS = DigestSubscription.__table__  # type: ignore[attr-defined]


def ref(sub: DigestSubscription) -> str:
    return format_id(Kind.DIGEST, sub.id or 0)


def rule_of(sub: DigestSubscription) -> Rule:
    hour, minute = (int(x) for x in sub.at_time.split(":"))
    return Rule(cadence=sub.cadence, at=time(hour, minute), tz=ZoneInfo(sub.tz), weekday=sub.weekday)


def list_channel(*, db_session: Session, channel_id: str) -> list[DigestSubscription]:
    return list(
        db_session.exec(
            select(DigestSubscription)
            .where(DigestSubscription.channel_id == channel_id)
            .order_by(col(DigestSubscription.id))
        ).all()
    )


def add(
    *,
    db_session: Session,
    channel_id: str,
    kind: DigestKind,
    rule: Rule,
    actor_id: str,
    now: datetime,
) -> DigestSubscription:
    """A new subscription whose first run is the rule's next fire time after `now`."""
    if channel_id[:1] not in ("C", "G"):
        raise UserError(
            "Digests are posted in channels — run `/digest add` in the channel that should get it."
        )
    at_time = f"{rule.at:%H:%M}"
    same = db_session.exec(
        select(DigestSubscription).where(
            DigestSubscription.channel_id == channel_id,
            DigestSubscription.kind == kind.value,
            DigestSubscription.cadence == rule.cadence,
            DigestSubscription.weekday == rule.weekday,
            DigestSubscription.at_time == at_time,
            DigestSubscription.tz == rule.tz.key,
        )
    ).first()
    if same is not None:
        raise UserError(
            f"This channel already gets that digest: `{ref(same)}` ({kind.value}, {rule.describe()})."
        )
    if _count(db_session, channel_id) >= MAX_PER_CHANNEL:
        raise UserError(
            f"This channel already has {MAX_PER_CHANNEL} digests, the most one channel can have. "
            "Remove one first: `/digest remove D-n` (`/digest` lists them)."
        )
    sub = DigestSubscription(
        channel_id=channel_id,
        kind=kind.value,
        cadence=rule.cadence,
        weekday=rule.weekday,
        at_time=at_time,
        tz=rule.tz.key,
        created_by=actor_id,
        created_at=now,
        next_run_at=rule.first_at_or_after(now),
    )
    db_session.add(sub)
    db_session.flush()
    if _count(db_session, channel_id) > MAX_PER_CHANNEL:  # a concurrent add won the last place
        raise UserError(f"This channel already has {MAX_PER_CHANNEL} digests; remove one first.")
    audit.record(
        db_session=db_session,
        actor_id=actor_id,
        action="add",
        record_type="digest",
        record_id=ref(sub),
        detail=f"{kind.value} {rule.describe()} in {channel_id}",
    )
    return sub


def _count(db_session: Session, channel_id: str) -> int:
    return int(
        db_session.exec(
            select(func.count())
            .select_from(DigestSubscription)
            .where(DigestSubscription.channel_id == channel_id)
        ).one()
    )


def remove(*, db_session: Session, channel_id: str, sub_id: int, actor_id: str) -> DigestSubscription:
    sub = db_session.get(DigestSubscription, sub_id)
    if sub is None or sub.channel_id != channel_id:
        raise NotFound(
            f"There is no digest `{format_id(Kind.DIGEST, sub_id)}` in this channel. "
            "`/digest` lists this channel's digests."
        )
    db_session.delete(sub)
    audit.record(
        db_session=db_session,
        actor_id=actor_id,
        action="remove",
        record_type="digest",
        record_id=ref(sub),
        detail=f"{sub.kind} {rule_of(sub).describe()} in {channel_id}",
    )
    return sub


def due(*, db_session: Session, now: datetime, limit: int) -> list[DigestSubscription]:
    """Subscriptions whose next fire time has come (oldest first)."""
    return list(
        db_session.exec(
            select(DigestSubscription)
            .where(col(DigestSubscription.next_run_at) <= now)
            .order_by(col(DigestSubscription.next_run_at), col(DigestSubscription.id))
            .limit(limit)
        ).all()
    )


def advance(
    *, db_session: Session, sub: DigestSubscription, next_run_at: datetime, covered_until: datetime | None
) -> bool:
    """Move the subscription to its next fire time if nobody did since we read it (compare-and-set
    on `version`); `covered_until` (the end of the digest just sent) is the next one's "since"."""
    values: dict[str, object] = {"next_run_at": next_run_at, "version": sub.version + 1}
    if covered_until is not None:
        values["covered_until"] = covered_until
    row = (
        db_session.connection()
        .execute(
            _SUBS.update()
            .where(_SUBS.c.id == sub.id, _SUBS.c.version == sub.version)
            .values(**values)
            .returning(_SUBS.c.id)
        )
        .first()
    )
    return row is not None


def set_covered(*, db_session: Session, sub_id: int, until: datetime) -> None:
    """The digest just claimed covers up to `until`: the next one starts there."""
    db_session.connection().execute(_SUBS.update().where(_SUBS.c.id == sub_id).values(covered_until=until))
