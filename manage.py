#!/usr/bin/env python
"""DynamoDB Lab's command line: run the app, create tables, seed, describe, snapshot.

Start with `python manage.py run`: it starts the embedded engine, creates the tables, seeds
them when they are empty and serves the app. `python manage.py COMMAND --help` says more about
each command.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
import threading
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from shared.settings import Settings

cli = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
console = Console()
err_console = Console(stderr=True)
LEGACY_MANIFEST_NAME = ".manifest.imported.json"  # hidden: importers skip it
RESTARTS_PER_MINUTE = 3  # an engine that dies more often than this is not restarted again
# The embedded engine's lag (GSIs, replica) under `make run`: long enough for a learner to see a
# GSI or an eventually consistent read miss a write just made, short enough not to be in the way.
RUN_LAG_MS = 300.0


def _settings():  # type: ignore[no-untyped-def]
    from shared.settings import get_settings

    return get_settings()


def _wire():  # type: ignore[no-untyped-def]
    import app as composition_root
    from shared.process import settle_start_up_heap

    settings = _settings()
    composition_root.wire(settings)
    settle_start_up_heap()
    return settings


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def _create_all(settings, recreate: bool = False) -> None:  # type: ignore[no-untyped-def]
    from shared.database import create_rdb_tables, drop_rdb_tables
    from shared.dynamo import create_tables

    for name, what in create_tables(settings, recreate=recreate):
        console.print(f"  DynamoDB table [cyan]{name}[/]: {what}")
    if recreate:
        drop_rdb_tables()
    create_rdb_tables()
    console.print(f"  RDB tables ready in {settings.database_url.split('@')[-1]}")


@cli.command("create-tables", short_help="Create the DynamoDB and RDB tables.")
def create_tables_command(
    recreate: Annotated[bool, typer.Option(help="Delete and recreate (loses all data).")] = False,
) -> None:
    """Create every DynamoDB table (keys, GSIs, TTL, on-demand) and the RDB tables. Idempotent."""
    _create_all(_wire(), recreate=recreate)


def _run_seed(**sizes: int) -> None:
    from shared.seeding import SeedPlan, seeders

    plan = SeedPlan(**sizes)
    with _progress() as progress:
        for seeder in seeders():
            task = progress.add_task(seeder.label, total=seeder.total(plan))
            written = seeder.run(plan, lambda n, t=task: progress.advance(t, n))
            progress.update(task, description=f"{seeder.label} ({written} items written)")
    from blog.seed import DEMO_PASSWORD

    names = ", ".join(v.username for v in plan.viewers)
    console.print(f"Demo users: {names}  (password: [bold]{DEMO_PASSWORD}[/])")


@cli.command(short_help="Write the demo data (idempotent).")
def seed(
    users: Annotated[
        int, typer.Option(min=1, max=500, help="Demo users; the first (alice) has liked few posts.")
    ] = 8,
    posts: Annotated[int, typer.Option(min=0, max=100_000, help="Demo posts.")] = 40,
    likes_per_post: Annotated[
        int,
        typer.Option(
            min=0, max=1_000, help="Most likes of a post; counts vary, and one hot post gets more."
        ),
    ] = 5,
    comments_per_post: Annotated[
        int,
        typer.Option(
            min=0,
            max=1_000,
            help="Comments of a post; the hot post's thread is three times longer.",
        ),
    ] = 4,
    activities: Annotated[
        int,
        typer.Option(
            min=0,
            max=1_000_000,
            help="Size of the activity log: one activity per like and comment, then views.",
        ),
    ] = 2_000,
) -> None:
    """Write demo data (idempotent: a second run adds nothing it already wrote)."""
    _wire()
    _run_seed(
        users=users,
        posts=posts,
        likes_per_post=likes_per_post,
        comments_per_post=comments_per_post,
        activities=activities,
    )


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


@cli.command(short_help="Print the table design.")
def describe(
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="text (tables) or json (for tools).")
    ] = OutputFormat.text,
) -> None:
    """Print the design read from the model classes and the declared access patterns."""
    from lens.design import describe_design

    _wire()
    design = describe_design()
    if output_format is OutputFormat.json:
        sys.stdout.write(json.dumps(design.to_dict(), indent=2, ensure_ascii=False) + "\n")
        return
    _print_design(design)


def _cells(*values: object) -> list[Text]:
    """Plain text cells: keys like `[#1]` or `Limit N+1` must not be read as rich markup."""
    return [Text("" if value is None else str(value)) for value in values]


def _print_design(design) -> None:  # type: ignore[no-untyped-def]
    for table in design.tables:
        _print_table_design(table)
    for rdb in design.rdb_tables:
        _print_rdb_table(rdb)
    for problem in design.all_problems:
        console.print(Text(f"warning: {problem}", style="yellow"))


def _unwrapped(text: str) -> str:
    """Docstring paragraphs as single lines, so the terminal wraps them at its own width."""
    paragraphs = text.split("\n\n")
    return "\n".join(" ".join(line.strip() for line in p.splitlines()) for p in paragraphs)


def _yes(flag: bool) -> str:
    return "yes" if flag else ""


def _print_table_design(table) -> None:  # type: ignore[no-untyped-def]
    console.rule(Text(f"{table.base_name}  (table {table.table_name})"))
    keys = " + ".join(key for key in (table.hash_key, table.range_key) if key)
    ttl = table.ttl_attribute or "none"
    console.print(Text(f"key {keys}; billing {table.billing_mode}; TTL {ttl}"))
    for item in table.item_types:
        version = f"; version attribute {item.version_attribute}" if item.version_attribute else ""
        console.print(Text(f"items: {item.model}{version}", style="bold"))
        console.print(Text(_unwrapped(item.summary), style="dim"))
    several = len(table.item_types) > 1
    columns = ["attribute", "DynamoDB type", "PynamoDB class", "null", "role"]
    attributes = Table(*columns, *(["item types"] if several else []))
    for a in table.attributes:
        cells = [a.name, a.dynamodb_type, a.pynamodb_type, _yes(a.nullable), ", ".join(a.roles)]
        attributes.add_row(*_cells(*cells, *([", ".join(a.item_types)] if several else [])))
    console.print(attributes)
    if table.indexes:
        indexes = Table("index", "kind", "partition key", "sort key", "projection")
        for i in table.indexes:
            projection = " ".join([i.projection, *i.non_key_attributes])
            indexes.add_row(*_cells(i.name, i.kind, i.hash_key, i.range_key, projection))
        console.print(indexes)
    patterns = Table("access pattern", "DynamoDB call and key", "served by", show_lines=True)
    for p in [*table.patterns, *(p for i in table.indexes for p in i.patterns)]:
        read = f" ({p.consistency} read, {p.rcu_per_4kb:g} RCU per 4 KB)" if p.consistency else ""
        call = f"{p.operation} on {p.index or 'the table'}{read}\n{p.key}"
        served = f"{p.function}\n{p.source or ''}\n{p.page or ''}".strip()
        patterns.add_row(*_cells(p.name, call, served))
    console.print(patterns)


def _print_rdb_table(rdb) -> None:  # type: ignore[no-untyped-def]
    columns = Table("column", "type", "null", "unique", "indexed", "references")
    columns.title = f"RDB table {rdb.table_name} ({rdb.model})"
    for c in rdb.columns:
        flags = _yes(c.nullable), _yes(c.unique), _yes(c.indexed)
        columns.add_row(*_cells(c.name, c.type, *flags, c.references))
    console.print(columns)


export_cli = typer.Typer(
    help="Write the tables for other tools, generated from the model classes.",
    no_args_is_help=True,
)
cli.add_typer(
    export_cli, name="export", short_help="Write the tables for CloudFormation or Workbench."
)
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="File to write (default: standard output).")
]


def _write_output(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    err_console.print(f"wrote {output}")


@export_cli.command("cloudformation")
def export_cloudformation(
    output: OutputOption = None,
    prefix: Annotated[
        str | None, typer.Option(help="Default of the TablePrefix parameter (TABLE_PREFIX).")
    ] = None,
) -> None:
    """A CloudFormation template (YAML): every table, its keys, GSIs, TTL, on-demand billing."""
    from lens.design import describe_design
    from lens.exports import cloudformation_yaml

    settings = _wire()
    default_prefix = settings.table_prefix if prefix is None else prefix
    _write_output(cloudformation_yaml(describe_design(), default_prefix=default_prefix), output)


@export_cli.command("workbench")
def export_workbench(
    output: OutputOption = None,
    sample: Annotated[int, typer.Option(min=0, max=1000, help="Items per table (0: none).")] = 25,
) -> None:
    """A NoSQL Workbench data model (JSON): tables, indexes and a sample of their items.

    Items come from DYNAMODB_ENDPOINT when it is set, else from the embedded engine's snapshot
    under data/dynamodb (what `make run` saved).
    """
    from datetime import UTC, datetime

    from lens.design import describe_design
    from lens.exports import workbench_json

    settings = _wire()
    design = describe_design()
    samples = _workbench_samples(settings, design, sample) if sample else {}
    _write_output(workbench_json(design, samples, now=datetime.now(UTC)), output)


def _workbench_samples(settings, design, limit: int) -> dict[str, list[dict]]:  # type: ignore[no-untyped-def,type-arg]
    from botocore.exceptions import BotoCoreError

    from lens.exports import sample_from_engine, sample_from_snapshot
    from shared.dynamo import boto3_client

    names = [table.table_name for table in design.tables]
    if not settings.dynamodb_endpoint:
        directory = engine_data_dir(settings)
        err_console.print(f"sample items from the embedded engine's snapshot in {directory}")
        return {name: sample_from_snapshot(directory, name, limit) for name in names}
    client = boto3_client(settings)
    try:
        return {name: sample_from_engine(client, name, limit) for name in names}
    except BotoCoreError as error:
        message = f"Cannot read from DynamoDB at {settings.dynamodb_endpoint}: {error}"
        err_console.print(Text(message, style="red"))
        raise typer.Exit(1) from error


def _lab_cli() -> typer.Typer:
    from lens.labs.cli import build_lab_cli

    return build_lab_cli(_wire)


cli.add_typer(_lab_cli(), name="lab", short_help="Run a lab that proves one lesson.")


def _table_names() -> list[str]:
    from shared.dynamo import registered_models

    return [m.Meta.table_name for m in registered_models()]


@cli.command("export-data", short_help="Export every table as DynamoDB JSON.")
def export_data(
    directory: Annotated[Path, typer.Option(help="Where to write the export.")] = Path(
        "data/export"
    ),
) -> None:
    """Export every table to DynamoDB JSON files (the format of AWS's table export)."""
    from engine.export_format import read_manifest
    from engine.snapshots import export_tables
    from shared.dynamo import boto3_client

    if "engine" in (read_manifest(directory) or {}):
        err_console.print(
            f"[red]{directory} is the embedded engine's own data:[/] export elsewhere."
        )
        raise typer.Exit(2)
    settings = _wire()
    counts = export_tables(boto3_client(settings), _table_names(), directory)
    for name, count in counts.items():
        console.print(f"  {name}: {count} items -> {directory / (name + '.json')}")


@cli.command("import-data", short_help="Load a snapshot back.")
def import_data(
    directory: Annotated[Path, typer.Option(help="A snapshot written by export-data.")] = Path(
        "data/dynamodb"
    ),
) -> None:
    """Load a snapshot back (tables are created first when missing)."""
    settings = _wire()
    _create_all(settings)
    _restore(settings, directory)


def _restore(settings, directory: Path) -> None:  # type: ignore[no-untyped-def]
    from engine.snapshots import MANIFEST_NAME, import_tables
    from shared.dynamo import boto3_client

    if not (directory / MANIFEST_NAME).exists():
        return
    with _progress() as progress:
        tasks: dict[str, int] = {}

        def report(table: str, done: int) -> None:
            if table not in tasks:
                tasks[table] = progress.add_task(f"restore {table}", total=None)
            progress.update(tasks[table], completed=done)

        counts = import_tables(boto3_client(settings), directory, _table_names(), progress=report)
    console.print(f"  restored {sum(c for c in counts.values() if c > 0)} items from {directory}")


def _import_legacy_snapshot(settings, directory: Path) -> None:  # type: ignore[no-untyped-def]
    """A snapshot that `make run` wrote before the engine kept its own data has no table
    definitions, so the engine left it alone: import it into the tables just created, once.
    The engine journals the import; its manifest is then set aside so it is not imported again
    (the engine's first snapshot replaces the table files)."""
    from engine.export_format import MANIFEST_NAME, read_manifest

    manifest = read_manifest(directory)
    if manifest is None or "engine" in manifest:
        return
    console.print(f"Importing the snapshot in {directory} (written before the engine's journal)")
    _restore(settings, directory)
    (directory / MANIFEST_NAME).rename(directory / LEGACY_MANIFEST_NAME)


@cli.command("relay-outbox", short_help="Deliver the outbox's pending events.")
def relay_outbox() -> None:
    """Deliver events still pending in the outbox (their DynamoDB side failed earlier)."""
    from shared import events

    _wire()
    total = _deliver_pending_events()
    console.print(f"delivered {total}; still pending {events.pending_count()}")


def _deliver_pending_events() -> int:
    """Deliver pending events, oldest first, until none is left or one fails again."""
    from shared import events

    total = 0
    while True:
        delivered, failed = events.deliver_pending()
        total += delivered
        if failed or delivered == 0:
            return total


@cli.command("shard-post", short_help="Spread a hot post's like counter.")
def shard_post(
    post_id: Annotated[int, typer.Argument(help="The post whose like counter is hot.")],
    shards: Annotated[int, typer.Option(min=2, help="How many partition keys to spread over.")] = 8,
) -> None:
    """Spread a popular post's like counter over several partition keys (write sharding)."""
    from blog import service as blog_service
    from engagement.likes import service as likes

    _wire()
    blog_service.get_post(post_id=post_id)
    now = likes.promote_hot_post(post_id=post_id, shards=shards)
    console.print(f"post {post_id}: like counter spread over {now} shards")


@cli.command("settle-likes", short_help="Finish likes stopped between writes.")
def settle_likes(
    post_id: Annotated[int, typer.Argument(help="The post whose stale pending likes to finish.")],
) -> None:
    """Finish likes whose request died between its writes (each is counted exactly once)."""
    from engagement import cleanup

    _wire()
    settled = cleanup.settle_pending_likes(post_id=post_id)
    console.print(f"post {post_id}: {settled} pending like changes finished")


def _measurement(remeasure: bool):  # type: ignore[no-untyped-def]
    from lens.measure import kept_measurement, new_measurement

    data_dir = _wire().data_dir
    kept = None if remeasure else kept_measurement(data_dir)
    if kept is not None:
        return kept
    with console.status("Measuring every page and action once on a private engine..."):
        return new_measurement(data_dir)


@cli.command(short_help="Price the design per month at a traffic profile.")
def cost(
    users: Annotated[int, typer.Option(min=1, help="Daily active users.")] = 10_000,
    region: Annotated[str, typer.Option(help="us-east-1 or ap-northeast-1.")] = "us-east-1",
    mode: Annotated[str, typer.Option(help="on-demand or provisioned.")] = "on-demand",
    per_day: Annotated[
        list[str] | None,
        typer.Option(
            "--per-day",
            help="NAME=VALUE per user per day: home_views, post_views, user_views, "
            "activity_views, feed_views, likes, comments, posts, sign_ins (repeatable).",
        ),
    ] = None,
    remeasure: Annotated[bool, typer.Option(help="Measure again, ignoring the kept one.")] = False,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="text (tables) or json (for tools).")
    ] = OutputFormat.text,
) -> None:
    """What the design costs per month at a traffic profile, per table and access pattern."""
    from pydantic import ValidationError

    from lens.cost import TrafficProfile, cost_document

    values: dict[str, object] = {"users": users, "region": region, "mode": mode}
    for pair in per_day or []:
        name, _, value = pair.partition("=")
        values[name.strip()] = value.strip()
    try:
        profile = TrafficProfile.model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        err_console.print(f"[red]{'.'.join(map(str, first['loc']))}: {first['msg']}[/]")
        raise typer.Exit(2) from error
    doc = cost_document(_measurement(remeasure), profile)
    if output_format is OutputFormat.json:
        print(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    _print_cost(doc)


def _print_cost(doc) -> None:  # type: ignore[no-untyped-def]
    console.print(
        f"[bold]${doc['monthly_usd']:,.2f}[/] a month at {doc['users']:,} daily active users "
        f"({doc['region']}, {doc['mode']}; calls measured {doc['measured_at']})"
    )
    tables = Table("table", "reads", "writes", "GSI writes", "storage", "per month")
    for t in doc["tables"]:
        tables.add_row(
            t["table"],
            *(f"${t[k]:,.2f}" for k in ("read_usd", "write_usd", "gsi_write_usd", "storage_usd")),
            f"${t['monthly_usd']:,.2f}",
        )
    console.print(tables)
    patterns = Table("access pattern", "operation", "RCU/call", "WCU/call", "calls/month", "$")
    for p in doc["access_patterns"]:
        patterns.add_row(
            p["name"] + (" (grows with the table)" if p["grows_with_table"] else ""),
            p["operation"],
            f"{p['rcu_per_call']:,.4g}",
            f"{p['wcu_per_call']:,.4g}",
            f"{p['calls_per_month']:,}",
            f"{p['usd']:,.2f} ({p['source']})",
        )
    console.print(patterns)
    what_if = Table("what if", "per month", "difference")
    for w in doc["what_if"]:
        what_if.add_row(w["title"], f"${w['monthly_usd']:,.2f}", f"{w['difference_usd']:+,.2f}")
    console.print(what_if)
    console.print(
        f"Prices read {doc['prices']['read_on']} from {', '.join(doc['prices']['sources'])}"
    )


@cli.command(short_help="Check the design; exits 1 on an error not deliberate.")
def lint(
    remeasure: Annotated[bool, typer.Option(help="Measure again, ignoring the kept one.")] = False,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="text or json (for tools).")
    ] = OutputFormat.text,
) -> None:
    """The design advisor: exits 1 when a finding is an error not marked deliberate (for CI)."""
    from lens.advisor import advise, lint_document

    findings = advise(_measurement(remeasure))
    if output_format is OutputFormat.json:
        print(json.dumps(lint_document(findings), indent=2, ensure_ascii=False))
    else:
        for item in findings:
            mark = " (deliberate)" if item.deliberate else ""
            console.print(f"[bold]{item.severity}[/] {item.rule}{mark}  [cyan]{item.where}[/]")
            console.print(f"  {item.message}", highlight=False)
            console.print(f"  cure: {item.cure}")
    if any(item.blocks for item in findings):
        raise typer.Exit(1)


@cli.command("measure", hidden=True)
def measure_command(
    output: Annotated[Path, typer.Option(help="Where to write the measurement (JSON).")],
) -> None:
    """Drive every page and action once on a private engine and write what each call cost
    (the cost model's input; the cost page and `cost` start it in a process of its own)."""
    from app import create_app
    from lens.measure import measure

    result = measure(create_app, _settings())
    output.write_text(json.dumps(result, indent=1), encoding="utf-8")


@cli.command(short_help="Serve the app (and the embedded engine).")
def run(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PORT")] = 8000,
    seed_if_empty: Annotated[bool, typer.Option(help="Seed when there are no users.")] = True,
    ttl_interval: Annotated[
        float | None, typer.Option(min=0.1, help="Seconds between the engine's TTL sweeps.")
    ] = None,
    partition_limit: Annotated[
        float | None,
        typer.Option(min=0.1, help="Write units per second per partition (default: none)."),
    ] = None,
    admin_gui_port: Annotated[
        int, typer.Option(help="dynamodb-admin's port beside the embedded engine; 0: none.")
    ] = 4567,
    gsi_lag_ms: Annotated[
        float,
        typer.Option(
            min=0,
            envvar="GSI_LAG_MS",
            help="Milliseconds (at most) before a write shows in a global secondary index; "
            "0: at once.",
        ),
    ] = RUN_LAG_MS,
    replica_lag_ms: Annotated[
        float,
        typer.Option(
            min=0,
            envvar="REPLICA_LAG_MS",
            help="Milliseconds (at most) during which about one eventually consistent read in "
            "three misses a write; 0: never.",
        ),
    ] = RUN_LAG_MS,
) -> None:
    """Serve the app. Without DYNAMODB_ENDPOINT, start the embedded engine with data on disk
    (and, where Node.js is installed, dynamodb-admin on :4567 to look inside it)."""
    import uvicorn

    from shared.settings import get_settings

    settings = get_settings()
    engine = watchdog = gui = None
    data_dir = engine_data_dir(settings)
    if not settings.dynamodb_endpoint:
        lag = {"gsi_lag_ms": gsi_lag_ms, "replica_lag_ms": replica_lag_ms}
        engine = _start_engine(settings, data_dir, ttl_interval, partition_limit, lag)
    else:
        _wait_for_dynamodb(settings)
    try:
        settings = _wire()
        _create_all(settings)
        if engine is not None:
            _import_legacy_snapshot(settings, data_dir)
            watchdog = _watch_engine(engine)
            gui = _start_admin_gui(settings, admin_gui_port) if admin_gui_port else None
        if seed_if_empty:
            from blog.service import user_count

            if user_count() == 0:
                console.print("Empty database: seeding demo data")
                _run_seed()
        _finish_interrupted_work()
        console.print(f"Serving on [bold]http://{host}:{port}[/]  (Ctrl-C stops everything)")
        from app import create_app
        from shared.serving import server_options

        # uvicorn re-raises the signal that stopped it; as an exception, SIGTERM (docker stop,
        # kill) and SIGHUP (a closed terminal) then run the clean-up below just as Ctrl-C does,
        # instead of ending the process with the engine still running.
        signal.signal(signal.SIGTERM, _interrupt)
        signal.signal(signal.SIGHUP, _interrupt)
        with contextlib.suppress(KeyboardInterrupt):
            uvicorn.run(
                create_app(settings),
                host=host,
                port=port,
                log_level="info",
                **server_options(settings),
            )
    finally:
        if gui is not None:
            gui.stop()
        if watchdog is not None:
            watchdog.set()
        if engine is not None:
            engine.stop()
            console.print(f"Engine stopped; its data is in {data_dir}")


def _start_engine(settings, data_dir: Path, ttl_interval, partition_limit, lag):  # type: ignore[no-untyped-def]
    from engine.launcher import LocalEngine
    from shared.settings import get_settings

    engine = LocalEngine(
        settings.data_dir / "engine.log",
        data_dir=data_dir,
        ttl_interval=ttl_interval,
        partition_limit=partition_limit,
        region=settings.aws_region,
        **lag,
    )
    endpoint = engine.start()
    os.environ["DYNAMODB_ENDPOINT"] = endpoint
    get_settings.cache_clear()
    console.print(f"Embedded DynamoDB engine at [cyan]{endpoint}[/] (data in {data_dir})")
    return engine


def _finish_interrupted_work() -> None:
    """After a restart: deliver the events the last run left pending, and finish like changes
    whose request died midway, now and again once such changes are old enough to be settled
    (until then their request could, in principle, still be running elsewhere)."""
    from engagement.likes import service as likes

    delivered = _deliver_pending_events()
    if delivered:
        console.print(f"Delivered {delivered} events left pending by the last run")
    wait = likes.in_flight_limit().total_seconds()
    threading.Thread(
        target=_settle_pending_likes, args=((0.0, wait + 1.0),), name="settle-likes", daemon=True
    ).start()


def _settle_pending_likes(delays: tuple[float, ...]) -> None:
    from engagement import cleanup

    for delay in delays:
        time.sleep(delay)
        try:
            settled = cleanup.settle_all_pending_likes()
        except Exception as error:  # noqa: BLE001 - a repair must never stop the app
            console.print(f"[yellow]Settling pending likes failed:[/] {error}")
            continue
        if settled:
            console.print(f"Finished {settled} like changes left midway by the last run")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _wait_for_dynamodb(settings, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    """A DynamoDB container may still be starting: wait for it instead of failing at once."""
    from botocore.exceptions import BotoCoreError, ClientError

    from shared.dynamo import boto3_client

    deadline = time.monotonic() + timeout
    client = boto3_client(settings)
    while True:
        try:
            client.list_tables(Limit=1)
            return
        except (BotoCoreError, ClientError) as exc:
            if time.monotonic() > deadline:
                console.print(
                    f"[red]DynamoDB at {settings.dynamodb_endpoint} does not answer:[/] {exc}"
                )
                raise typer.Exit(1) from exc
            console.print(f"waiting for DynamoDB at {settings.dynamodb_endpoint} ...")
            time.sleep(2)


def _watch_engine(engine, interval: float = 2.0) -> threading.Event:  # type: ignore[no-untyped-def]
    """Tell a busy engine from a dead one. Busy (running, but no answer within three tries of
    5 s): say so and wait. Dead: restart it on the same port, where its journal brings back
    every acknowledged write, and finish what the app left midway; if it keeps dying, stop.

    Returns the event to set before stopping the engine on purpose. The restarted engine is a
    child of this thread, and Linux sends it SIGTERM when the thread ends, so the thread lives
    as long as the app.
    """
    from engine.launcher import EngineError, EngineState

    stopping = threading.Event()
    restarts: list[float] = []

    def restart() -> bool:
        now = time.monotonic()
        restarts[:] = [t for t in restarts if now - t < 60.0] + [now]
        if len(restarts) > RESTARTS_PER_MINUTE:
            console.print("[red bold]The engine keeps dying.[/] Stopping the app.")
            return False
        console.print(
            "[red bold]The embedded DynamoDB engine died.[/] Restarting it; its journal "
            f"brings back every acknowledged write. Log: {engine.log_path}"
        )
        try:
            engine.restart()
        except EngineError as error:
            console.print(f"[red]The engine did not restart:[/] {error}\nStopping the app.")
            return False
        _finish_interrupted_work()
        return True

    def watch() -> None:
        busy = False
        while not stopping.wait(interval):
            state = engine.state()
            if stopping.is_set():
                return
            if state is EngineState.BUSY and not busy:
                console.print("[yellow]The engine is busy: no answer for 15 s. Waiting.[/]")
            busy = state is EngineState.BUSY
            if state is EngineState.DEAD and not restart():
                os.kill(os.getpid(), signal.SIGINT)
                return

    threading.Thread(target=watch, name="engine-watchdog", daemon=True).start()
    return stopping


def _start_admin_gui(settings, port: int):  # type: ignore[no-untyped-def]
    from engine.admin_gui import start_admin_gui

    gui = start_admin_gui(
        settings.dynamodb_endpoint,
        settings.aws_region,
        port=port,
        log_path=settings.data_dir / "dynamodb-admin.log",
    )
    console.print(gui.message)
    return gui


EngineDataDir = Annotated[
    Path | None,
    typer.Option(
        help="Journal and snapshots (unset: DATA_DIR/dynamodb, where run keeps them).",
        show_default=False,
    ),
]


def engine_data_dir(settings: Settings, chosen: Path | None = None) -> Path:
    """The engine's data directory: `--data-dir` where given, else DATA_DIR/dynamodb, where
    `run` keeps it."""
    return chosen or settings.data_dir / "dynamodb"


@cli.command("engine", short_help="Serve only the DynamoDB engine.")
def engine_command(
    port: Annotated[int, typer.Option()] = 8001,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    data_dir: EngineDataDir = None,
    ttl_interval: Annotated[
        float, typer.Option(min=0.1, help="Seconds between TTL sweeps.")
    ] = 60.0,
    partition_limit: Annotated[
        float | None, typer.Option(min=0.1, help="Write units per second per partition.")
    ] = None,
    partitions: Annotated[
        int, typer.Option(min=1, help="Partitions an on-demand table or index starts with.")
    ] = 4,
    split_after_s: Annotated[
        float,
        typer.Option(min=0.1, help="Seconds a partition refuses writes before it splits."),
    ] = 300.0,
    in_memory: Annotated[bool, typer.Option(help="Keep nothing on disk.")] = False,
    gsi_lag_ms: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="Milliseconds (at most) before a write shows in a global secondary index "
            "(default: 300; 0 with --in-memory).",
        ),
    ] = None,
    replica_lag_ms: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="Milliseconds (at most) during which about one eventually consistent read in "
            "three misses a write (default: 300; 0 with --in-memory).",
        ),
    ] = None,
) -> None:
    """Serve only the DynamoDB engine, like DynamoDB Local: for the AWS CLI, NoSQL Workbench or
    dynamodb-admin (`--endpoint-url http://127.0.0.1:8001`). Do not share a data directory with
    a running `make run`."""
    from engine.server import main as serve

    argv = ["--host", host, "--port", str(port), "--ttl-interval", str(ttl_interval)]
    directory = engine_data_dir(_settings(), data_dir)
    argv += ["--in-memory"] if in_memory else ["--data-dir", str(directory)]
    if partition_limit is not None:
        argv += ["--partition-limit", str(partition_limit)]
        argv += ["--partitions", str(partitions), "--split-after-s", str(split_after_s)]
    default_lag = 0.0 if in_memory else RUN_LAG_MS
    argv += ["--gsi-lag-ms", str(default_lag if gsi_lag_ms is None else gsi_lag_ms)]
    argv += ["--replica-lag-ms", str(default_lag if replica_lag_ms is None else replica_lag_ms)]
    raise typer.Exit(serve(argv))


@cli.command("engine-check", short_help="Check the engine's journal (--repair mends it).")
def engine_check(
    data_dir: EngineDataDir = None,
    repair: Annotated[
        bool,
        typer.Option(
            help="Copy damaged journal files aside, then keep only their readable records."
        ),
    ] = False,
) -> None:
    """Check the engine's journal for damaged records, and with --repair recover what can be
    recovered. Stop the engine first. Exits 1 while damage remains."""
    from engine import repair as journal_repair
    from shared.i18n import gettext as _

    data_dir = engine_data_dir(_settings(), data_dir)
    try:
        if repair:
            outcome = journal_repair.repair(data_dir)
            found, backup = outcome.examination, outcome.backup
        else:
            found, backup = journal_repair.examine(data_dir), None
    except (OSError, RuntimeError) as error:
        err_console.print(f"[red]{error}[/]")
        raise typer.Exit(2) from None
    console.print(_("{count} readable journal records").format(count=found.readable))
    for damage in found.damaged:
        console.print(
            _("damaged: {file} at byte {offset} ({length} bytes)").format(
                file=damage.file, offset=damage.offset, length=damage.length
            )
        )
    if not found.damaged:
        console.print(_("no damage found"))
    elif backup is not None:
        console.print(
            _(
                "repaired: the damaged files are copied to {backup}; the engine now starts "
                "without the records above, and the writes they held are lost"
            ).format(backup=backup)
        )
    else:
        console.print(_("run again with --repair to keep a copy and recover the rest"))
        raise typer.Exit(1)


def localized_cli():  # type: ignore[no-untyped-def]
    """The CLI as click runs it, its help in the language of LC_ALL / LC_MESSAGES / LANG."""
    from shared.i18n import (
        cli_width,
        language_from_environment,
        localize_cli,
        set_language,
        translate_command_help,
    )

    language = language_from_environment()
    set_language(language)
    localize_cli(language)
    command = typer.main.get_command(cli)
    translate_command_help(command, width=cli_width())
    return command


def main() -> None:
    """Help and domain errors in the language of LANG; a domain error (a missing post, bad input)
    is a message, not a traceback."""
    from shared.errors import DomainError
    from shared.i18n import gettext

    logging.basicConfig(level=logging.WARNING)
    command = localized_cli()
    try:
        command()
    except DomainError as error:
        err_console.print(f"[red]{gettext(error.title)}:[/] {error.detail}")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
