"""Labs: every lesson proven by an experiment the learner runs, in the browser or the CLI.

Each lab is one module defining a `Lab` (`lab.py`): what it proves, the app model and service
function it mirrors, its options, how it runs and how its result reads. Each run starts a
private in-memory engine (`runner.py`) with the options the lab needs, creates its own tables
with the app's key designs (`tables.py`), and measures every call (`meter.py`).

    query-vs-scan   Query cost stays flat as the table grows; Scan cost grows with it
    counter         read-modify-write loses concurrent updates; ADD and optimistic locking don't
    hot-partition   one hot counter item is throttled at its partition's limit; shards are not
    ttl             TTL deletes late (and free), so reads must filter expired items
    gsi-cost        every GSI an item lands in is paid on its write; a sparse one skips the rest
    consistency     strong reads never miss a fresh write and cost twice; eventual and GSI reads can

`manage.py lab NAME` runs one in a terminal (`cli.py`); `/labs` runs them in the browser
(`router.py`), and `install` links each lab from the lesson of the page it belongs to.
"""

from __future__ import annotations

from fastapi import FastAPI

from lens.labs import consistency, counter, gsi_cost, hot_partition, query_vs_scan, ttl
from lens.labs.lab import Lab
from shared.i18n import N_
from shared.panels import register_lesson_link

LABS: dict[str, Lab] = {
    module.LAB.name: module.LAB
    for module in (query_vs_scan, counter, hot_partition, ttl, gsi_cost, consistency)
}


def install(app: FastAPI) -> None:
    """The /labs pages and their JSON, and a link to each lab from the lessons it proves."""
    from lens.labs import router

    app.include_router(router.router)
    app.include_router(router.api)
    for lab in LABS.values():
        for page in lab.pages:
            register_lesson_link(
                page,
                href=f"/labs/{lab.name}",
                label=N_("the {name} lab"),
                values={"name": lab.name},
            )
