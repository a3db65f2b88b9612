"""Comments: the `comments` table (models), threads, idempotent posts, edits and deletes
(service), the thread's pages and API (router), the API's bodies (schemas)."""
