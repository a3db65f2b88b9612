#!/usr/bin/env python
"""DynamoDB Lab's command line: run the app, create tables, seed, describe, snapshot.

python manage.py run            # embedded engine + tables + seed-if-empty + server
python manage.py create-tables  # every registered table, its GSIs and TTL; the RDB tables
python manage.py seed           # demo users, posts, likes, comments, activities
python manage.py describe       # the table design, read from the model classes
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

cli = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
console = Console()
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
            progress.update(task, description=f"{seeder.label} ({written} new)")
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


@cli.command()
def describe() -> None:
    """Print every DynamoDB table as declared by its model class."""
    from shared.dynamo import registered_models, ttl_attribute_name

    _wire()
    for model in registered_models():
        table = Table(title=f"{model.Meta.table_name}  ({model.__name__})", show_lines=False)
        for column in ("attribute", "type", "role"):
            table.add_column(column)
        for name, attr in model.get_attributes().items():
            role = "PK" if attr.is_hash_key else "SK" if attr.is_range_key else ""
            if name == ttl_attribute_name(model):
                role = "TTL"
            table.add_row(attr.attr_name or name, attr.attr_type, role)
        console.print(table)
        console.print((model.__doc__ or "").strip(), style="dim")


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
    from shared.dynamo import boto3_client
    from shared.snapshot import export_tables

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
    from shared.dynamo import boto3_client
    from shared.snapshot import import_tables

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


@cli.command()
def run(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PORT")] = 8000,
    seed_if_empty: Annotated[bool, typer.Option(help="Seed when there are no users.")] = True,
) -> None:
    """Serve the app. Without DYNAMODB_ENDPOINT, start the embedded engine with data on disk."""
    import uvicorn

    from shared.settings import get_settings

    settings = get_settings()
    engine = keeper = watchdog = None
    snapshot_dir = settings.data_dir / "dynamodb"
    if not settings.dynamodb_endpoint:
        from shared.local_engine import LocalEngine

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
        if seed_if_empty:
            from blog.service import user_count

            if user_count() == 0:
                console.print("Empty database: seeding demo data")
                _run_seed()
        console.print(f"Serving on [bold]http://{host}:{port}[/]  (Ctrl-C stops everything)")
        from app import create_app

        uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
    finally:
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


def _start_snapshots(settings, directory: Path):  # type: ignore[no-untyped-def]
    from shared.dynamo import boto3_client
    from shared.snapshot import PeriodicSnapshot

    keeper = PeriodicSnapshot(
        lambda: boto3_client(settings), _table_names(), directory, SNAPSHOT_INTERVAL_SECONDS
    )
    keeper.start()
    return keeper


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    cli()
