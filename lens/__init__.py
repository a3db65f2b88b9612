"""The lens: what makes DynamoDB visible.

The operation inspector (every DynamoDB call and SQL statement a request made, with its cost by
AWS's rules), the /design page (read from the access-pattern registry), the exports and the
explorer (/tables: the items themselves, and an operation builder that writes the code), the
labs (`lens.labs`: experiments the learner runs at /labs or with `manage.py lab`), the architect's
desk (/cost: the design priced per month from measured calls; /design/advice: the design
advisor; /insights: the busiest partition keys) and the guided tour (/tour), which walks the
learner through all of them. Neither the kernel (`shared/`) nor a context imports this package:
it observes them, and the composition root plugs it in last with `install`.
"""

from __future__ import annotations

__doc_ja__ = """レンズ: DynamoDB の動きを目に見えるようにするもの。

オペレーションインスペクター（リクエストが行った DynamoDB の呼び出しと SQL
文のすべてと、AWS のルールによるそのコスト）、/design
ページ（アクセスパターンの登録簿から読む）、エクスポート、
アーキテクトの机（/cost: 計測した呼び出しから求める月額、/design/advice:
設計アドバイザー、/insights: トラフィックの多いパーティションキー）、
そしてそれらを順にたどるガイドツアー（/tour）。カーネル（`shared/`）も
コンテキストもこのパッケージを import しません。レンズはそれらを観察する側で、
コンポジションルートが最後に `install` で組み込みます。
"""

import logging

from fastapi import FastAPI
from markupsafe import Markup

from lens import (
    advisor_router,
    cost_router,
    design_router,
    explorer_router,
    insights,
    insights_router,
    inspector,
    labs,
    links,
    tour_router,
)
from lens.attribute_values import pretty_json
from lens.capacity import format_units
from lens.docstrings import docstring_html, markdown_inline
from shared import web
from shared.settings import Settings

log = logging.getLogger(__name__)


def inspector_panel(oob: bool) -> Markup:
    """The current request's DynamoDB calls and SQL statements; empty when nothing records."""
    rec = inspector.current()
    if rec is None:
        return Markup("")
    try:
        template = web.templates.env.get_template("lens/inspector.html")
        return Markup(template.render(rec=rec, oob=oob))
    except Exception:  # noqa: BLE001 - the lens must never break the page it describes
        log.exception("the inspector panel could not be rendered")
        return Markup("")


def install(app: FastAPI, settings: Settings) -> None:
    """/design and /tables with their JSON (the source views and /tables only when enabled, as
    they are outside production), the /labs pages, the guided tour, the architect's desk
    (/cost, /design/advice, /insights with its JSON); the inspector's middleware and its panel
    on every page, and the counting of partition keys behind /insights."""
    app.include_router(advisor_router.router)
    app.include_router(design_router.router)
    if settings.code_views_enabled:
        app.include_router(design_router.code_router)
    app.include_router(design_router.api)
    if settings.explorer_enabled:
        app.include_router(explorer_router.router)
        app.include_router(explorer_router.api)
    app.include_router(tour_router.router)
    app.include_router(cost_router.router)
    app.include_router(insights_router.router)
    app.include_router(insights_router.api)
    labs.install(app)
    web.templates.env.filters["units"] = format_units
    web.templates.env.globals["partition_url"] = links.partition_url
    web.templates.env.filters["pretty_json"] = pretty_json
    web.templates.env.filters["docstring"] = docstring_html
    web.templates.env.filters["markdown_inline"] = markdown_inline
    web.set_instrument_panel(inspector_panel)
    inspector.install_inspector(app, settings)
    insights.install_counting()
