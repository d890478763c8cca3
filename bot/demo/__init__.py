"""`flywheel demo`: the real bot against the local Slack simulator, with a seeded demo company."""
