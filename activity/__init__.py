"""Activity context: the activity log, its two GSIs, TTL'd view logs and the global feed."""
