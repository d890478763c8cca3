"""Flywheel: OKRs, shared-service requests, postmortems and review summaries, in Slack."""

__version__ = "0.1.0"
