"""The design advisor: what is wrong with the design, where, why it matters and the cure.

Rules read three things: the access-pattern registry (which call serves which page), the
measurement of the app's pages (`lens.measure`: every call one view or action made, with its
keys, its consistency and what it scanned) and the census of the seeded tables in it (how many
items, how many distinct partition key values, the largest items and item collections).

Each finding names the model class (or the service function), says why it matters and links
the lab that proves it. A finding the project keeps on purpose is listed in `DELIBERATE` with
its reason: it is still reported, as deliberate, and it does not fail `manage.py lint`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pynamodb.models import Model

from shared.access_patterns import access_patterns
from shared.dynamo import models_by_table
from shared.i18n import N_
from shared.i18n import gettext as _

Severity = Literal["error", "warning", "info"]
LOW_CARDINALITY = 10
"""A partition key with this many distinct values or fewer, in a table or index of at least
`JUDGED_ITEMS` items, concentrates its traffic on as many partitions."""
JUDGED_ITEMS = 100
FILTER_RATIO = 4
FILTER_MIN_SCANNED = 20
AMPLIFICATION_WARNING = 3.0
LARGE_ITEM_WARNING = 100 * 1024
LARGE_ITEM_ERROR = 350 * 1024
ITEM_LIMIT = 400 * 1024
PAGE_STEPS = frozenset({"home", "post_page", "user", "activity", "feed"})

DELIBERATE: dict[tuple[str, str], str] = {
    ("scan-on-request-path", "activity.service.feed_by_scan"): N_(
        "Kept on purpose: the seed's contrast. The Scan feed sits beside the FeedIndex feed on "
        "/feed so the learner can measure both; nothing else reads the feed by Scan."
    ),
}
"""(rule, where) -> why the project keeps it."""

CURES = {
    "scan-on-request-path": "/labs/query-vs-scan",
    "low-cardinality-key": "/labs/hot-partition",
    "filter-heavy-read": "/labs/query-vs-scan",
    "gsi-write-amplification": "/labs/gsi-cost",
    "unbounded-collection": "/tables",
    "large-item": "/design",
    "strong-read-needed": "/design",
    "strong-read-unneeded": "/design",
}


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    where: str
    message_id: str
    params: Mapping[str, Any] = field(default_factory=dict)
    deliberate: str | None = None

    @property
    def message(self) -> str:
        return _(self.message_id).format(**self.params)

    @property
    def cure(self) -> str:
        return CURES[self.rule]

    @property
    def blocks(self) -> bool:
        """An error nobody marked deliberate: `manage.py lint` fails on it."""
        return self.severity == "error" and self.deliberate is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "where": self.where,
            "message": self.message,
            "deliberate": self.deliberate is not None,
            "why_deliberate": _(self.deliberate) if self.deliberate else None,
            "cure": self.cure,
        }


def finding(
    rule: str, severity: Severity, where: str, message_id: str, /, **params: Any
) -> Finding:
    reason = DELIBERATE.get((rule, where))
    return Finding(rule, severity, where, message_id, params, reason)


def _model_path(model: type[Model]) -> str:
    return f"{model.__module__}.{model.__qualname__}"


def _owner(table: str) -> str:
    models = models_by_table().get(table)
    return _model_path(models[0]) if models else table


Measurement = Mapping[str, Any]


# -- the rules ------------------------------------------------------------------------------


def scans_on_request_path(measurement: Measurement) -> Iterator[Finding]:
    """A Scan that serves a page reads the whole table on every view."""
    for pattern in access_patterns():
        if "Scan" not in pattern.operation:
            continue
        if pattern.page:
            yield finding(
                "scan-on-request-path",
                "error",
                pattern.function,
                N_(
                    "{function} serves {page} with a Scan of {table}: every view reads the whole "
                    "table, so its cost and time grow with the table, not with the answer. Query "
                    "a key designed for the question instead (an index if needed)."
                ),
                function=pattern.function,
                page=pattern.page,
                table=pattern.table,
            )
        else:
            yield finding(
                "scan-on-request-path",
                "info",
                pattern.function,
                N_(
                    "{function} scans {table} off the request path (no page): a background job "
                    "may pay for a full read now and then; keep it rare."
                ),
                function=pattern.function,
                table=pattern.table,
            )


def low_cardinality_keys(measurement: Measurement) -> Iterator[Finding]:
    for census in measurement["tables"]:
        for target in census["targets"]:
            distinct = target["distinct_partition_keys"]
            if target["items"] < JUDGED_ITEMS or distinct > LOW_CARDINALITY:
                continue
            top = ", ".join(f"{key} ({count})" for key, count in target["top_partition_keys"])
            yield finding(
                "low-cardinality-key",
                "warning",
                _owner(census["table"]),
                N_(
                    "{target}: partition key {key} has {distinct} distinct values in "
                    "{items} items ({top}). Every request for one value goes to the partition "
                    "that holds that value's item collection, so a few partitions take the whole "
                    "load however large the table grows: a hot partition (each serves at most "
                    "3,000 read and 1,000 write units per second; DynamoDB may split a hot item "
                    "collection by its sort key, never one item). Add a shard suffix to the key, "
                    "or choose a key with many values."
                ),
                target=_target_name(target),
                key=target["partition_key"],
                distinct=distinct,
                items=target["items"],
                top=top,
            )


def _target_name(target: Mapping[str, Any]) -> str:
    return f"{target['table']} / {target['index']}" if target["index"] else target["table"]


def _calls(measurement: Measurement) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for step, calls in measurement["steps"].items():
        for call in calls:
            yield step, call


def filter_heavy_reads(measurement: Measurement) -> Iterator[Finding]:
    seen: set[str] = set()
    for _step, call in _calls(measurement):
        scanned, returned = call.get("scanned"), call.get("returned")
        if scanned is None or returned is None or scanned < FILTER_MIN_SCANNED:
            continue
        where = call["function"] or call["operation"]
        if scanned >= FILTER_RATIO * max(returned, 1) and where not in seen:
            seen.add(where)
            yield finding(
                "filter-heavy-read",
                "warning",
                where,
                N_(
                    "{where} read {scanned} items to return {returned}: a filter expression "
                    "is applied after the read, and every item read is paid for. Put what the "
                    "filter tests into the key (or a sparse index)."
                ),
                where=where,
                scanned=scanned,
                returned=returned,
            )


def gsi_write_amplification(measurement: Measurement) -> Iterator[Finding]:
    for census in measurement["tables"]:
        base, *indexes = census["targets"]
        if not indexes or not base["items"]:
            continue
        shares = {index["index"]: index["items"] / base["items"] for index in indexes}
        amplification = 1 + sum(shares.values())
        yield finding(
            "gsi-write-amplification",
            "warning" if amplification >= AMPLIFICATION_WARNING else "info",
            _owner(census["table"]),
            N_(
                "{table}: every write of an item also writes an entry in each GSI whose key the "
                "item carries, paid in write units like the item itself. Share of items that "
                "carry each index's key: {shares}. One write costs about {amplification} writes "
                "on average. Drop an index nobody queries, make it sparse, or project less."
            ),
            table=census["table"],
            shares=", ".join(f"{name} {share:.0%}" for name, share in shares.items()),
            amplification=f"{amplification:.2f}",
        )


def unbounded_collections(measurement: Measurement) -> Iterator[Finding]:
    """A Query on a page without a Limit reads the whole item collection, which may grow
    without bound; with a Limit the page stays the same size however big it gets."""
    seen: set[str] = set()
    for step, call in _calls(measurement):
        if step not in PAGE_STEPS or call["operation"] != "Query" or call.get("limit"):
            continue
        where = call["function"] or call["operation"]
        if where in seen:
            continue
        seen.add(where)
        yield finding(
            "unbounded-collection",
            "warning",
            where,
            N_(
                "{where} reads a whole item collection of {table} on a page, without a Limit: "
                "the collection grows with use (without a local secondary index, one partition "
                "key value's items have no size limit), and so do the read's units and time. "
                "Page it with Limit and LastEvaluatedKey."
            ),
            where=where,
            table=call["table"],
        )


def large_items(measurement: Measurement) -> Iterator[Finding]:
    for census in measurement["tables"]:
        largest = census["targets"][0]["largest_item_bytes"]
        if largest < LARGE_ITEM_WARNING:
            continue
        yield finding(
            "large-item",
            "error" if largest >= LARGE_ITEM_ERROR else "warning",
            _owner(census["table"]),
            N_(
                "{table} holds an item of {size} KB; DynamoDB refuses items over 400 KB, and "
                "every read of it costs one unit per 4 KB. Keep large values elsewhere (S3) or "
                "split the item."
            ),
            table=census["table"],
            size=f"{largest / 1024:.0f}",
        )


def consistency_audit(measurement: Measurement) -> Iterator[Finding]:
    """Read-your-own-write within one request, from the measured calls and their keys."""
    seen: set[tuple[str, str]] = set()
    for step, calls in measurement["steps"].items():
        written: set[tuple[str, str | None, str]] = set()
        for call in calls:
            keys = {(table, index, key) for table, index, key in call.get("keys", [])}
            if call["wcu"]:
                written |= keys
                continue
            if not call["rcu"]:
                continue
            where = call["function"] or call["operation"]
            own = bool(keys & written)
            rule = _consistency_rule(step, call, own)
            if rule is None or (rule, where) in seen:
                continue
            seen.add((rule, where))
            yield _consistency_finding(rule, where, step)


def _consistency_rule(step: str, call: Mapping[str, Any], own: bool) -> str | None:
    if own and not call["consistent"]:
        return "strong-read-needed"
    if not own and call["consistent"] and step in PAGE_STEPS:
        return "strong-read-unneeded"
    return None


def _consistency_finding(rule: str, where: str, step: str) -> Finding:
    if rule == "strong-read-needed":
        return finding(
            rule,
            "warning",
            where,
            N_(
                "{where} reads back what the same request ({step}) just wrote, eventually "
                "consistently: on AWS it may miss the write. Read strongly from the table "
                "(a GSI cannot), or use the write's own result."
            ),
            where=where,
            step=step,
        )
    return finding(
        rule,
        "info",
        where,
        N_(
            "{where} reads strongly consistently on a page view ({step}) that wrote nothing it "
            "reads: that costs twice the read units. Fine if the viewer must see their own "
            "write made a moment ago; otherwise an eventually consistent read will do."
        ),
        where=where,
        step=step,
    )


RULES = (
    scans_on_request_path,
    low_cardinality_keys,
    filter_heavy_reads,
    gsi_write_amplification,
    unbounded_collections,
    large_items,
    consistency_audit,
)
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def advise(measurement: Measurement) -> list[Finding]:
    """Every rule's findings, errors first."""
    found = [item for rule in RULES for item in rule(measurement)]
    return sorted(found, key=lambda f: (SEVERITY_ORDER[f.severity], f.rule, f.where))


def lint_document(findings: list[Finding]) -> dict[str, Any]:
    return {"findings": [item.as_dict() for item in findings]}
