"""All tables, imported here so Alembic's autogenerate and `alembic check` see every one.

Each feature adds its own module and one import line below.
"""

from storage.models.core import AuditLog, Delivery, Person, ProcessedEvent, Team, TeamMember
from storage.models.digests import DigestSubscription, OutboxMessage, SchedulerLeader  # noqa: F401
from storage.models.okrs import CheckIn, KeyResult, Objective, OkrCycle  # noqa: F401
from storage.models.postmortems import ActionItem, Postmortem, PostmortemParticipant, TimelineEntry  # noqa: F401
from storage.models.requests import RequestEvent, RequestOffer, ServiceRequest, TeamFaq  # noqa: F401
from storage.models.reviews import LLMUsage, ReviewChannel, ThreadSummary  # noqa: F401

__all__ = ["AuditLog", "Delivery", "Person", "ProcessedEvent", "Team", "TeamMember"]
