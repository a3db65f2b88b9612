"""The labs, one line each: the module that declares the lab (its `LAB`), in the order the
index page and `manage.py lab --help` list them. Adding a lab is its module plus one line here."""

from __future__ import annotations

from importlib import import_module

from lens.labs.lab import Lab

LAB_MODULES = (
    "lens.labs.query_vs_scan",
    "lens.labs.counter",
    "lens.labs.hot_partition",
    "lens.labs.ttl",
    "lens.labs.gsi_cost",
    "lens.labs.single_table",
    "lens.labs.consistency",
)

LABS: dict[str, Lab] = {
    lab.name: lab for lab in (import_module(module).LAB for module in LAB_MODULES)
}
