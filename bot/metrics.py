"""Prometheus metrics, on a registry of our own so several apps in one process stay apart."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "flywheel_slack_requests", "Requests from Slack by kind", ["kind"], registry=self.registry
        )
        self.duplicates = Counter(
            "flywheel_duplicate_events", "Event deliveries skipped as already handled", registry=self.registry
        )
        self.latency = Histogram(
            "flywheel_request_seconds",
            "Time to answer a Slack request (the acknowledgement)",
            ["kind"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self.llm_calls = Counter(
            "flywheel_llm_calls", "Model calls by outcome", ["outcome"], registry=self.registry
        )
        self.llm_tokens = Counter(
            "flywheel_llm_tokens",
            "Model tokens by kind (prompt, completion)",
            ["kind"],
            registry=self.registry,
        )
