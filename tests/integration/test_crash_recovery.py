"""`kill -9` in the middle of 16 users writing: first of the engine, then of the app.

`manage.py run` runs as a subprocess with its own data directory and port, exactly as `make run`
starts it. Sixteen signed-in users post, comment and like over HTTP on sixteen threads; every
write the app acknowledged (a 2xx answer) is remembered. After each crash, every acknowledged
write must be there, and every post written before the crash must have its "post" activity.

- The engine is killed: the app's watchdog sees it dead and restarts it on the same port, where
  it replays its journal; posts acknowledged meanwhile wait in the outbox and are delivered.
- The app is killed: the engine (told by the kernel) shuts down cleanly; `manage.py run` is
  started again, delivers the events left pending and serves everything as before.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.app_server import AppServer

pytestmark = pytest.mark.integration

USERS = 16
WRITES_BEFORE_CRASH = 24  # the crash comes while all sixteen are still writing
RECOVERY_TIMEOUT = 30.0


@dataclass
class Acknowledged:
    """Writes the app answered with success, as (user, ids)."""

    posts: set[int] = field(default_factory=set)
    comments: set[tuple[int, str]] = field(default_factory=set)
    likes: set[tuple[int, int]] = field(default_factory=set)  # (user index, post id)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self) -> int:
        with self.lock:
            return len(self.posts) + len(self.comments) + len(self.likes)


class User:
    """A signed-in API client with its own cookies and CSRF token."""

    def __init__(self, base_url: str, index: int) -> None:
        self.index = index
        self.http = httpx.Client(base_url=base_url, timeout=15)
        anonymous = self.http.get("/api/v1/auth/session").json()["csrf_token"]
        credentials = {"username": f"crash{uuid.uuid4().hex[:8]}", "password": "password-123"}
        headers = {"X-CSRF-Token": anonymous}
        signed_up = self.http.post("/api/v1/auth/signup", json=credentials, headers=headers)
        assert signed_up.status_code == 201, signed_up.text
        self.csrf = self.http.get("/api/v1/auth/session").json()["csrf_token"]

    @classmethod
    def sign_up(cls, base_url: str, count: int) -> list[User]:
        """In parallel: hashing a password is slow on purpose."""
        with ThreadPoolExecutor(count) as pool:
            return list(pool.map(lambda index: cls(base_url, index), range(count)))

    def moved_to(self, base_url: str) -> None:
        """The restarted app listens on another port; the session cookie stays valid."""
        self.http = httpx.Client(base_url=base_url, timeout=15, cookies=self.http.cookies)

    def write(self, step: int, seen: Acknowledged) -> None:
        """One write: a post, a comment or a like, in turn. A 5xx (the engine is down) is not
        acknowledged; a broken connection (the app is gone) ends the writer."""
        with seen.lock:
            known = sorted(seen.posts)
        kind = step % 3 if known else 0
        headers = {"X-CSRF-Token": self.csrf}
        if kind == 0:
            body = {"title": f"post {self.index}.{step}", "body": "written under fire"}
            response = self.http.post("/api/v1/posts", json=body, headers=headers)
            if response.status_code == 201:
                with seen.lock:
                    seen.posts.add(int(response.json()["id"]))
            return
        post_id = known[(self.index * 7 + step) % len(known)]
        if kind == 1:
            url = f"/api/v1/posts/{post_id}/comments"
            response = self.http.post(url, json={"body": f"comment {step}"}, headers=headers)
            if response.status_code == 201:
                with seen.lock:
                    seen.comments.add((post_id, response.json()["comment_id"]))
            return
        response = self.http.put(f"/api/v1/posts/{post_id}/like", headers=headers)
        if response.status_code == 200:
            with seen.lock:
                seen.likes.add((self.index, post_id))


def write_until(
    users: list[User], seen: Acknowledged, stop: threading.Event
) -> list[threading.Thread]:
    def loop(user: User) -> None:
        step = 0
        while not stop.is_set():
            try:
                user.write(step, seen)
            except httpx.TransportError:
                return
            step += 1

    threads = [threading.Thread(target=loop, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    return threads


def crash_mid_writes(users: list[User], seen: Acknowledged, crash: Callable[[], None]) -> None:
    stop = threading.Event()
    target = seen.count() + WRITES_BEFORE_CRASH
    threads = write_until(users, seen, stop)
    wait_for(lambda: seen.count() >= target, f"{WRITES_BEFORE_CRASH} writes before the crash")
    crash()
    time.sleep(0.5)  # writers meet the crash
    stop.set()
    for thread in threads:
        thread.join()


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + RECOVERY_TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, f"not within {RECOVERY_TIMEOUT:g}s: {what}"
        time.sleep(0.5)


def missing_writes(user: User, seen: Acknowledged, users: list[User]) -> list[str]:
    """Every acknowledged write that the app does not return now."""
    missing = []
    for post_id in sorted(seen.posts):
        if user.http.get(f"/api/v1/posts/{post_id}").status_code != 200:
            missing.append(f"post {post_id}")
    for post_id, comment_id in sorted(seen.comments):
        if user.http.get(f"/api/v1/posts/{post_id}/comments/{comment_id}").status_code != 200:
            missing.append(f"comment {comment_id} on post {post_id}")
    for index, post_id in sorted(seen.likes):
        likes = users[index].http.get(f"/api/v1/posts/{post_id}/likes").json()
        if not likes["liked_by_me"]:
            missing.append(f"like of post {post_id} by user {index}")
    return missing


def posts_without_activity(user: User, seen: Acknowledged) -> list[int]:
    def has_post_activity(post_id: int) -> bool:
        page = user.http.get(f"/api/v1/posts/{post_id}/activities", params={"limit": 50})
        return any(item["activity_type"] == "post" for item in page.json()["items"])

    return [post_id for post_id in sorted(seen.posts) if not has_post_activity(post_id)]


def engine_answers(server: AppServer) -> bool:
    try:
        return httpx.get(server.engine_endpoint() + "/_engine/health", timeout=2).is_success
    except httpx.HTTPError:
        return False


def test_kill_9_of_the_engine_then_of_the_app_mid_writes_loses_no_acknowledged_write(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "app"
    server = AppServer(data_dir, seed=False).start()
    try:
        users = User.sign_up(server.url, USERS)
        seen = Acknowledged()

        engine_pid = server.engine_pid()
        crash_mid_writes(users, seen, lambda: os.kill(engine_pid, signal.SIGKILL))
        wait_for(lambda: engine_answers(server), "the watchdog restarts the engine")
        assert server.engine_pid() != engine_pid
        assert missing_writes(users[0], seen, users) == []
        wait_for(lambda: not posts_without_activity(users[0], seen), "posts get their activity")
        after_engine_crash = seen.count()

        crash_mid_writes(users, seen, server.kill)
        server = AppServer(data_dir, seed=False).start()
        for user in users:
            user.moved_to(server.url)
        assert missing_writes(users[0], seen, users) == []
        wait_for(lambda: not posts_without_activity(users[0], seen), "posts get their activity")
    finally:
        server.stop()

    assert seen.count() >= after_engine_crash + WRITES_BEFORE_CRASH
    assert "The embedded DynamoDB engine died. Restarting it" in server.log.read_text()
