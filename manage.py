#!/usr/bin/env python
"""DynamoDB Lab's command line: run the app, create tables, seed, describe, snapshot.

python manage.py run            # embedded engine + tables + seed-if-empty + server
python manage.py create-tables  # every registered table, its GSIs and TTL; the RDB tables
python manage.py seed           # demo users, posts, likes, comments, activities
python manage.py describe       # the table design, read from the model classes (--format json)
python manage.py export cloudformation|workbench  # the tables for CloudFormation / NoSQL Workbench
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
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

cli = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
console = Console()
err_console = Console(stderr=True)
SNAPSHOT_INTERVAL_SECONDS = 30.0


def _settings():  # type: ignore[no-untyped-def]
    from shared.settings import get_settings

    return get_settings()


def _wire():  # type: ignore[no-untyped-def]
    import app as composition_root

    settings = _settings()
    composition_root.wire(settings)
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


@cli.command("create-tables")
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
    from blog.service import DEMO_PASSWORD

    names = ", ".join(v.username for v in plan.viewers)
    console.print(f"Demo users: {names}  (password: [bold]{DEMO_PASSWORD}[/])")


@cli.command()
def seed(
    users: Annotated[int, typer.Option(min=1, max=500)] = 8,
    posts: Annotated[int, typer.Option(min=0, max=100_000)] = 40,
    likes_per_post: Annotated[int, typer.Option(min=0, max=1_000)] = 5,
    comments_per_post: Annotated[int, typer.Option(min=0, max=1_000)] = 4,
    activities: Annotated[int, typer.Option(min=0, max=1_000_000)] = 2_000,
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


@cli.command()
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
        call = f"{p.operation} on {p.index or 'the table'}\n{p.key}"
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
cli.add_typer(export_cli, name="export")
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
        directory = settings.data_dir / "dynamodb"
        err_console.print(f"sample items from the embedded engine's snapshot in {directory}")
        return {name: sample_from_snapshot(directory, name, limit) for name in names}
    client = boto3_client(settings)
    try:
        return {name: sample_from_engine(client, name, limit) for name in names}
    except BotoCoreError as error:
        message = f"Cannot read from DynamoDB at {settings.dynamodb_endpoint}: {error}"
        err_console.print(Text(message, style="red"))
        raise typer.Exit(1) from error


def _table_names() -> list[str]:
    from shared.dynamo import registered_models

    return [m.Meta.table_name for m in registered_models()]


@cli.command("export-data")
def export_data(
    directory: Annotated[Path, typer.Option(help="Where to write the snapshot.")] = Path(
        "data/dynamodb"
    ),
) -> None:
    """Snapshot every table to DynamoDB JSON files (the format of AWS's table export)."""
    from engine.snapshots import export_tables
    from shared.dynamo import boto3_client

    settings = _wire()
    counts = export_tables(boto3_client(settings), _table_names(), directory)
    for name, count in counts.items():
        console.print(f"  {name}: {count} items -> {directory / (name + '.json')}")


@cli.command("import-data")
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
    from engine.snapshots import import_tables
    from shared.dynamo import boto3_client

    if not (directory / "manifest.json").exists():
        return
    with _progress() as progress:
        tasks: dict[str, int] = {}

        def report(table: str, done: int) -> None:
            if table not in tasks:
                tasks[table] = progress.add_task(f"restore {table}", total=None)
            progress.update(tasks[table], completed=done)

        counts = import_tables(boto3_client(settings), directory, _table_names(), progress=report)
    console.print(f"  restored {sum(c for c in counts.values() if c > 0)} items from {directory}")


@cli.command("relay-outbox")
def relay_outbox() -> None:
    """Deliver events still pending in the outbox (their DynamoDB side failed earlier)."""
    from shared import events

    _wire()
    total = 0
    while True:
        delivered, failed = events.deliver_pending()
        total += delivered
        if failed or delivered == 0:
            break
    console.print(f"delivered {total}; still pending {events.pending_count()}")


@cli.command("shard-post")
def shard_post(
    post_id: Annotated[int, typer.Argument(help="The post whose like counter is hot.")],
    shards: Annotated[int, typer.Option(min=2, help="How many partition keys to spread over.")] = 8,
) -> None:
    """Spread a popular post's like counter over several partition keys (write sharding)."""
    from blog import service as blog_service
    from engagement import likes

    _wire()
    blog_service.get_post(post_id=post_id)
    now = likes.promote_hot_post(post_id=post_id, shards=shards)
    console.print(f"post {post_id}: like counter spread over {now} shards")


@cli.command("settle-likes")
def settle_likes(
    post_id: Annotated[int, typer.Argument(help="The post whose stale pending likes to finish.")],
) -> None:
    """Finish likes whose request died between its writes (each is counted exactly once)."""
    from engagement import cleanup

    _wire()
    settled = cleanup.settle_pending_likes(post_id=post_id)
    console.print(f"post {post_id}: {settled} pending like changes finished")


@cli.command()
def run(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PORT")] = 8000,
    seed_if_empty: Annotated[bool, typer.Option(help="Seed when there are no users.")] = True,
    admin_gui_port: Annotated[
        int, typer.Option(help="dynamodb-admin's port beside the embedded engine; 0: none.")
    ] = 4567,
) -> None:
    """Serve the app. Without DYNAMODB_ENDPOINT, start the embedded engine with data on disk
    (and, where Node.js is installed, dynamodb-admin on :4567 to look inside it)."""
    import uvicorn

    from shared.settings import get_settings

    settings = get_settings()
    engine = keeper = watchdog = gui = None
    snapshot_dir = settings.data_dir / "dynamodb"
    if not settings.dynamodb_endpoint:
        from engine.launcher import LocalEngine

        engine_log = settings.data_dir / "engine.log"
        engine = LocalEngine(log_path=engine_log)
        endpoint = engine.start()
        os.environ["DYNAMODB_ENDPOINT"] = endpoint
        get_settings.cache_clear()
        console.print(f"Embedded DynamoDB engine (moto server) at [cyan]{endpoint}[/]")
    else:
        _wait_for_dynamodb(settings)
    try:
        settings = _wire()
        _create_all(settings)
        if engine is not None:
            watchdog = _watch_engine(engine, engine_log)
            _restore(settings, snapshot_dir)
            keeper = _start_snapshots(settings, snapshot_dir)
            gui = _start_admin_gui(settings, admin_gui_port) if admin_gui_port else None
        if seed_if_empty:
            from blog.service import user_count

            if user_count() == 0:
                console.print("Empty database: seeding demo data")
                _run_seed()
        console.print(f"Serving on [bold]http://{host}:{port}[/]  (Ctrl-C stops everything)")
        from app import create_app

        # uvicorn re-raises the signal that stopped it; as an exception, SIGTERM (docker stop,
        # kill) and SIGHUP (a closed terminal) then run the clean-up below just as Ctrl-C does,
        # instead of ending the process with the engine still running.
        signal.signal(signal.SIGTERM, _interrupt)
        signal.signal(signal.SIGHUP, _interrupt)
        with contextlib.suppress(KeyboardInterrupt):
            uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
    finally:
        if gui is not None:
            gui.stop()
        if watchdog is not None:
            watchdog.set()
        if keeper is not None:
            saved = keeper.stop(final_snapshot=True)
            if saved is None:
                console.print("[red]No final snapshot: the engine did not answer.[/]")
            else:
                console.print(f"Snapshot of {sum(saved.values())} items saved to {snapshot_dir}")
        if engine is not None:
            engine.stop()


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


def _watch_engine(engine, log_path: Path, interval: float = 5.0) -> threading.Event:  # type: ignore[no-untyped-def]
    """If the embedded engine dies, say so plainly and stop, rather than serve 503s silently.

    Returns the event to set before stopping the engine on purpose.
    """
    stopping = threading.Event()

    def watch() -> None:
        while not stopping.wait(interval):
            if not engine.alive() and not stopping.is_set():
                console.print(
                    "[red bold]The embedded DynamoDB engine stopped answering.[/] "
                    f"Its log: {log_path}. Stopping the app; run `make run` again."
                )
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


def _start_snapshots(settings, directory: Path):  # type: ignore[no-untyped-def]
    from engine.snapshots import PeriodicSnapshot
    from shared.dynamo import boto3_client

    keeper = PeriodicSnapshot(
        lambda: boto3_client(settings), _table_names(), directory, SNAPSHOT_INTERVAL_SECONDS
    )
    keeper.start()
    return keeper


def localized_cli():  # type: ignore[no-untyped-def]
    """The CLI as click runs it, its help in the language of LC_ALL / LC_MESSAGES / LANG."""
    from shared.i18n import language_from_environment, set_language, translate_command_help

    set_language(language_from_environment())
    command = typer.main.get_command(cli)
    translate_command_help(command)
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
