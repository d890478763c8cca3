"""The audit log: every change a user makes, in the same transaction as the change."""

from __future__ import annotations

from sqlmodel import Session

from storage.models import AuditLog


def record(
    *, db_session: Session, actor_id: str, action: str, record_type: str, record_id: str, detail: str = ""
) -> AuditLog:
    entry = AuditLog(
        actor_id=actor_id, action=action, record_type=record_type, record_id=record_id, detail=detail[:4000]
    )
    db_session.add(entry)
    return entry
