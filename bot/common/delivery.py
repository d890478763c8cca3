"""Once-only effects: claim a delivery key before announcing anything.

An SLA warning, a breach announcement, a reminder, a digest for one period — each has a key
(`ssp:breach:resolution:REQ-12`, `digest:D-3:2026-12-01`, …). `claim` inserts it with
`ON CONFLICT DO NOTHING` inside the caller's own transaction and says whether this caller won,
so the decision to send and the record that it was decided commit together: a restart or a
second replica racing on the same key loses the insert and stays silent.
"""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from storage.models import Delivery
from storage.types import utcnow


def claim(*, db_session: Session, key: str, kind: str, detail: str = "") -> bool:
    """True when this caller is the first to claim `key` (commit the session to make it stick)."""
    dialect = db_session.get_bind().dialect.name
    insert = sqlite_insert if dialect == "sqlite" else pg_insert
    stmt = (
        insert(Delivery)
        .values(key=key[:255], kind=kind[:32], status="claimed", detail=detail[:500], claimed_at=utcnow())
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(Delivery.key)  # rowcount is -1 here under psycopg 3; RETURNING is exact
    )
    return db_session.execute(stmt).first() is not None


def mark(*, db_session: Session, key: str, status: str, detail: str | None = None) -> None:
    """Record how a claimed delivery ended: `sent`, `failed`, `skipped`."""
    row = db_session.get(Delivery, key[:255])
    if row is None:
        return
    row.status = status[:16]
    if status == "sent":
        row.sent_at = utcnow()
    if detail is not None:
        row.detail = detail[:500]
    db_session.add(row)


def claimed(*, db_session: Session, key: str) -> bool:
    return db_session.get(Delivery, key[:255]) is not None
