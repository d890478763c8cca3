"""Pieces every feature shares: human IDs, errors, audit, permissions, Slack plumbing."""
