"""Labs: every lesson proven by an experiment the learner runs, in the browser or the CLI.

Each lab is one module defining a `Lab` (`lab.py`): what it proves, the app model and service
function it mirrors, its options (one pydantic model, from which the form, the CLI command, the
JSON API and their checks are generated), how it runs and how its result reads; `registry.py`
lists the modules, one line each. Each run starts a
private in-memory engine (`runner.py`) with the options the lab needs, creates its own tables
with the app's key designs (`tables.py`), and measures every call (`meter.py`).

    query-vs-scan   Query cost stays flat as the table grows; Scan cost grows with it
    counter         read-modify-write loses concurrent updates; ADD and optimistic locking don't
    hot-partition   a split relieves keys sharing a hot partition, never one hot item; shards
                    on partitions of their own are not throttled
    ttl             TTL deletes late (and free), so reads must filter expired items
    gsi-cost        every GSI an item lands in is paid on its write; a sparse one skips the rest
    consistency     strong reads never miss a fresh write and cost twice; eventual and GSI reads can

`manage.py lab NAME` runs one in a terminal (`cli.py`); `/labs` runs them in the browser and
`/api/v1/labs/NAME/runs` from a script (`router.py`), and `install` links each lab from the
lesson of the page it belongs to.
"""

from __future__ import annotations

from fastapi import FastAPI

from lens.labs.registry import LABS
from shared.i18n import N_
from shared.panels import register_lesson_link

__all__ = ["LABS", "install"]


def install(app: FastAPI) -> None:
    """The /labs pages and their JSON, and a link to each lab from the lessons it proves."""
    from lens.labs import router

    app.include_router(router.router)
    app.include_router(router.api_router(LABS))
    for lab in LABS.values():
        for page in lab.pages:
            register_lesson_link(
                page,
                href=f"/labs/{lab.name}",
                label=N_("the {name} lab"),
                values={"name": lab.name},
            )
