"""Engagement context: likes (atomic, idempotent, shardable counters) and threaded comments."""
