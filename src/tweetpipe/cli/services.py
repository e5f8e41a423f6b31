"""`tweetpipe services …` and `tweetpipe db …`."""

from __future__ import annotations

import typer

from tweetpipe import progress
from tweetpipe.api import Pipeline
from tweetpipe.cli import render
from tweetpipe.cli.common import app, console, settings

services_app = typer.Typer(help="Start, stop and inspect the local Kafka and PostgreSQL.")
db_app = typer.Typer(help="Database schema.")
app.add_typer(services_app, name="services")
app.add_typer(db_app, name="db")


@services_app.command("up")
def services_up() -> None:
    """Start Kafka and PostgreSQL (or use those already answering); idempotent."""
    starting = progress.Phase("starting services (first run downloads jars from Maven Central)…")
    with progress.show(console, starting, final=False):
        statuses = Pipeline(settings()).services_up()
    render.print_services(statuses)


@services_app.command("down")
def services_down() -> None:
    """Stop what `services up` started, and nothing else."""
    pipeline = Pipeline(settings())
    stopped = pipeline.services_down()
    console.print(f"stopped: {', '.join(stopped)}" if stopped else "nothing of ours was running")
    render.print_services(pipeline.services_status())


@services_app.command("status")
def services_status() -> None:
    """Each service, its address and health."""
    render.print_services(Pipeline(settings()).services_status())


@services_app.command("jars")
def services_jars() -> None:
    """Fetch the JVM jars (Kafka broker, JDBC driver, Spark Kafka connector) into the cache."""
    from tweetpipe.services import jars

    for bundle in jars.BUNDLES:
        resolving = progress.Phase(f"resolving {bundle} jars from Maven Central…")
        with progress.show(console, resolving, final=False):
            folder = jars.resolve(settings(), bundle)
        console.print(f"{bundle}: {len(list(folder.glob('*.jar')))} jars in {folder}")


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply the schema migrations the database lacks."""
    applied = Pipeline(settings()).migrate()
    console.print(f"applied: {', '.join(applied)}" if applied else "schema is up to date")
