"""Ranking the answers offered before a request is filed: a team's FAQ and its resolved requests.

BM25 by `bm25s` over tokens we make ourselves, so Chinese matches as well as English: Latin
words are lowercased and stripped of a few stop words; a run of CJK characters becomes its single
characters and its character bigrams ("合同审核" → 合 同 审 核 合同 同审 审核), which is how
Chinese full-text search works without a dictionary. The same ranking runs on SQLite and
PostgreSQL because it does not depend on either.

Each team's index (its FAQ entries and up to `MAX_RESOLVED` recent resolved requests) is built on
first use and kept until the team's FAQ or resolved requests change (a cheap count-and-max query
tells) or `TTL` passes. The caller filters hits by who may see them: a confidential team's
requests are only ever offered to the people who may see them.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass

import bm25s
from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.models.requests import ServiceRequest, TeamFaq

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG

MAX_RESOLVED = 2000
TTL = 300.0
CANDIDATES = 20
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
_TOKEN = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+", re.UNICODE)
_IS_CJK = re.compile(rf"^[{_CJK}]")
STOP = frozenset(
    "a an and are as at be by can do does for from have how i if in is it me my of on or our "
    "please so that the this to us we what when where which who why will with you your".split()
)


def tokens(text: str) -> list[str]:
    """Search tokens of mixed English and Chinese text."""
    out: list[str] = []
    for run in _TOKEN.findall((text or "").lower()):
        if _IS_CJK.match(run):
            out.extend(run)
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
        elif run not in STOP:
            out.append(run)
    return out


@dataclass(frozen=True)
class Doc:
    kind: str  # faq | request
    id: int
    requester_id: str | None = None


@dataclass
class _Index:
    version: tuple[object, ...]
    built: float
    docs: list[Doc]
    retriever: bm25s.BM25 | None


_CACHE: dict[tuple[str, int], _Index] = {}
_LOCK = threading.Lock()


def _version(db_session: Session, team_id: int) -> tuple[object, ...]:
    faq = db_session.exec(select(func.count(), func.max(TeamFaq.id)).where(TeamFaq.team_id == team_id)).one()
    resolved = db_session.exec(
        select(func.count(), func.max(ServiceRequest.resolved_at)).where(
            ServiceRequest.team_id == team_id, col(ServiceRequest.status).in_(("resolved", "closed"))
        )
    ).one()
    return (*faq, *resolved)


def _build(db_session: Session, team_id: int, version: tuple[object, ...]) -> _Index:
    docs: list[Doc] = []
    corpus: list[list[str]] = []
    for faq in db_session.exec(select(TeamFaq).where(TeamFaq.team_id == team_id)).all():
        docs.append(Doc("faq", faq.id or 0))
        corpus.append(tokens(f"{faq.question} {faq.question} {faq.answer}"))
    rows = db_session.exec(
        select(ServiceRequest.id, ServiceRequest.requester_id, ServiceRequest.summary, ServiceRequest.details)
        .where(ServiceRequest.team_id == team_id, col(ServiceRequest.status).in_(("resolved", "closed")))
        .order_by(col(ServiceRequest.resolved_at).desc())
        .limit(MAX_RESOLVED)
    ).all()
    for rid, requester, summary, details in rows:
        docs.append(Doc("request", rid or 0, requester))
        corpus.append(tokens(f"{summary} {summary} {(details or '')[:1000]}"))
    retriever = None
    if any(corpus):
        retriever = bm25s.BM25()
        retriever.index([c or ["\u0000"] for c in corpus], show_progress=False)
    return _Index(version=version, built=time.monotonic(), docs=docs, retriever=retriever)


def _index(db_session: Session, team_id: int) -> _Index:
    key = (str(db_session.get_bind().url), team_id)
    version = _version(db_session, team_id)
    with _LOCK:
        cached = _CACHE.get(key)
        if cached and cached.version == version and time.monotonic() - cached.built < TTL:
            return cached
    index = _build(db_session, team_id, version)
    with _LOCK:
        _CACHE[key] = index
    return index


def invalidate(team_id: int | None = None) -> None:
    """Forget cached indexes (all, or one team's) — after a write whose version may not show."""
    with _LOCK:
        for key in [k for k in _CACHE if team_id is None or k[1] == team_id]:
            _CACHE.pop(key, None)


def rank(*, db_session: Session, team_id: int, text: str, k: int = CANDIDATES) -> list[tuple[Doc, float]]:
    """The team's FAQ entries and resolved requests closest to `text`, best first (score > 0)."""
    query = tokens(text)
    if not query:
        return []
    index = _index(db_session, team_id)
    if index.retriever is None or not index.docs:
        return []
    found, scores = index.retriever.retrieve([query], k=min(k, len(index.docs)), show_progress=False)
    return [(index.docs[int(i)], float(s)) for i, s in zip(found[0], scores[0], strict=True) if s > 0]
