"""What every feature's listeners and jobs are handed: settings, the database, the executor.

One object instead of module globals, so the tests and the demo can run several bots side by side.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from bot.clock import Clock
from bot.config import Settings
from storage.db import Database

# A contributor to the App Home: (ctx, user_id) -> Block Kit blocks for that user's section.
HomeSection = Callable[["AppContext", str], list[dict[str, Any]]]


@dataclass
class AppContext:
    settings: Settings
    db: Database
    executor: ThreadPoolExecutor
    llm: Any = None
    home_sections: list[tuple[int, HomeSection]] = field(default_factory=list)
    clock: Clock = field(default_factory=Clock)
    jobs: list[Any] = field(default_factory=list)  # bot.jobs.Job, registered by features

    def is_admin(self, user_id: str) -> bool:
        return user_id in self.settings.admins

    def add_home_section(self, order: int, section: HomeSection) -> None:
        """Features add their part of the App Home; `order` sorts them top to bottom."""
        self.home_sections.append((order, section))
        self.home_sections.sort(key=lambda pair: pair[0])

    def add_job(self, job: Any) -> None:
        """Features register periodic work here (a `bot.jobs.Job`); names are unique."""
        self.jobs = [j for j in self.jobs if j.name != job.name] + [job]
