"""Sessions context: sign-up, sign-in, sign-out; sign-in state as TTL'd DynamoDB items.

`install` is this context's whole wiring, called by the composition root (`app.py`).
"""

from __future__ import annotations

__doc_ja__ = """セッションのコンテキスト: 新規登録、サインイン、サインアウト。サインイン状態は
TTL 付きの DynamoDB 項目。

`install` がこのコンテキストの配線のすべてで、コンポジションルート（`app.py`）
から呼ばれます。
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI


def install(app: FastAPI | None = None) -> None:
    """Tell the kernel how a request's viewer is found; with an app, also the pages and API."""
    from sessions import router, service
    from shared.auth import install_viewer_resolver

    install_viewer_resolver(service.resolve_viewer)
    if app is not None:
        app.include_router(router.router)
        app.include_router(router.api)
