"""Helpers for the /ssp tests: a migrated database with the teams file's teams in it."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.teams import service as teams
from bot.teams import yaml_io
from storage.db import Database
from storage.models import Team

TEAMS = """\
teams:
  - key: legal
    name: Legal
    channel: C0LEGAL
    lead: U0AMARA
    members: [U0AMARA, U0LAW2]
    first_response: 4h
    resolution: 3d
    hours: "Mon-Fri 09:00-18:00 Asia/Singapore"
    confidential: true
    faq:
      - q: How long does a contract review take?
        a: Standard NDAs in 1 business day.
      - q: 合同审核需要多长时间？
        a: 标准保密协议一个工作日内完成。
  - key: analytics
    name: Analytics
    channel: C0ANALYTICS
    lead: U0SOFIA
    members: [U0SOFIA, U0KENJI]
    first_response: 4h
    resolution: 2d
    hours: "Mon-Fri 09:00-18:00 Europe/Berlin"
    faq:
      - q: How do I get access to the dashboards?
        a: Ask your lead to add you to analytics-viewers.
  - key: research
    name: User research
    channel: C0RESEARCH
    lead: U0NINA
    first_response: 2h
    resolution: 1d
"""

# Monday 2026-12-07 09:00 in Singapore (01:00 UTC) and in Berlin (08:00 UTC).
MONDAY_SGT = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
MONDAY_BERLIN = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def load_teams(db: Database, text: str = TEAMS) -> None:
    with db.session() as s:
        report = yaml_io.import_teams(db_session=s, text=text, actor_id="test")
    assert report.ok, report.errors


def team(db: Database, key: str) -> Team:
    with db.session() as s:
        return teams.find(db_session=s, name=key)
