"""Likes: the `likes` table (models), the like protocol and counts (service), the like button,
badges and API (router), the API's bodies (schemas)."""
