"""The demo company: people, teams and channels. Plain data, used by the demo seed and the tests."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DemoUser:
    id: str
    name: str
    real_name: str
    title: str
    tz: str = "Europe/Berlin"
    is_admin: bool = False

    @property
    def email(self) -> str:
        return f"{self.name}@flywheel-demo.example"


@dataclass(frozen=True)
class DemoTeam:
    key: str
    name: str
    kind: str  # product | service
    lead: str
    members: tuple[str, ...]
    channel: str
    description: str = ""


@dataclass(frozen=True)
class DemoChannel:
    id: str
    name: str
    members: tuple[str, ...] = field(default_factory=tuple)
    is_private: bool = False


USERS: tuple[DemoUser, ...] = (
    DemoUser("U0MAYA", "maya", "Maya Chen", "CEO", is_admin=True),
    DemoUser("U0LENA", "lena", "Lena Park", "Growth lead"),
    DemoUser("U0OMAR", "omar", "Omar Haddad", "Growth engineer"),
    DemoUser("U0PRIYA", "priya", "Priya Nair", "Payments lead", tz="Asia/Singapore"),
    DemoUser("U0JONAS", "jonas", "Jonas Weber", "Payments engineer"),
    DemoUser("U0SOFIA", "sofia", "Sofia Rossi", "Analytics lead"),
    DemoUser("U0KENJI", "kenji", "Kenji Sato", "Analyst", tz="Asia/Tokyo"),
    DemoUser("U0AMARA", "amara", "Amara Okafor", "Legal counsel"),
    DemoUser("U0LUCAS", "lucas", "Lucas Martin", "HR partner"),
    DemoUser("U0NINA", "nina", "Nina Ivanova", "User researcher"),
    DemoUser("U0TOM", "tom", "Tom Becker", "SRE", tz="America/New_York"),
)

# Product teams. The central service teams (analytics, legal, hr, research) are in
# bot/demo/data/teams.yaml, loaded through `flywheel import teams`' own code.
TEAMS: tuple[DemoTeam, ...] = (
    DemoTeam("company", "Company", "product", "U0MAYA", ("U0MAYA",), "C0GENERAL", "Company-level objectives"),
    DemoTeam(
        "growth",
        "Growth",
        "product",
        "U0LENA",
        ("U0LENA", "U0OMAR"),
        "C0GROWTH",
        "Acquisition and activation",
    ),
    DemoTeam(
        "payments",
        "Payments",
        "product",
        "U0PRIYA",
        ("U0PRIYA", "U0JONAS", "U0TOM"),
        "C0PAYMENTS",
        "Checkout and payouts",
    ),
)

ALL = tuple(u.id for u in USERS)

CHANNELS: tuple[DemoChannel, ...] = (
    DemoChannel("C0GENERAL", "general", ALL),
    DemoChannel("C0GROWTH", "growth", ("U0LENA", "U0OMAR", "U0MAYA")),
    DemoChannel("C0PAYMENTS", "payments", ("U0PRIYA", "U0JONAS", "U0TOM", "U0MAYA")),
    DemoChannel("C0ANALYTICS", "analytics-requests", ("U0SOFIA", "U0KENJI")),
    DemoChannel("C0LEGAL", "legal-requests", ("U0AMARA",), is_private=True),
    DemoChannel("C0HR", "hr-requests", ("U0LUCAS",), is_private=True),
    DemoChannel("C0RESEARCH", "research-requests", ("U0NINA",)),
    # A product-review channel with a long thread (seeded by bot/demo/seed.py), and one that
    # Lena is not in, to show the membership refusal.
    DemoChannel(
        "C0REVIEW",
        "product-review",
        ("U0MAYA", "U0LENA", "U0OMAR", "U0PRIYA", "U0JONAS", "U0SOFIA", "U0NINA"),
    ),
    DemoChannel("C0LEADS", "leads-only", ("U0MAYA", "U0PRIYA"), is_private=True),
    # The Chinese product-review thread (新用户引导改版评审), for summaries in Chinese.
    DemoChannel(
        "C0REVIEWZH",
        "product-review-zh",
        ("U0MAYA", "U0LENA", "U0OMAR", "U0PRIYA", "U0KENJI", "U0SOFIA", "U0NINA"),
    ),
    DemoChannel("C0INC42", "inc-42-checkout-errors", ("U0PRIYA", "U0JONAS", "U0TOM", "U0MAYA")),
    # Published postmortems are announced here (FLYWHEEL_POSTMORTEM_CHANNEL in the demo).
    DemoChannel("C0POSTMORTEMS", "postmortems", ALL),
)
POSTMORTEM_CHANNEL = "C0POSTMORTEMS"


def user(name_or_id: str) -> DemoUser:
    for u in USERS:
        if name_or_id in (u.id, u.name):
            return u
    raise KeyError(name_or_id)
