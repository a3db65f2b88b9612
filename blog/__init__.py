"""Blog context: users and posts, normalised business data in the RDB (Peewee)."""
