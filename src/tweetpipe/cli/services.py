"""`tweetpipe services …` and `tweetpipe db …`."""

from __future__ import annotations

import typer

from tweetpipe import db, services
from tweetpipe.cli import render
from tweetpipe.cli.common import app, console, settings

services_app = typer.Typer(help="Start, stop and inspect the local Kafka and PostgreSQL.")
db_app = typer.Typer(help="Database schema.")
app.add_typer(services_app, name="services")
app.add_typer(db_app, name="db")


@services_app.command("up")
def services_up() -> None:
    """Start Kafka and PostgreSQL (or use those already answering); idempotent."""
    with console.status("starting services (first run downloads jars from Maven Central)…"):
        statuses = services.up(settings())
    render.print_services(statuses)


@services_app.command("down")
def services_down() -> None:
    """Stop what `services up` started, and nothing else."""
    stopped = services.down(settings())
    console.print(f"stopped: {', '.join(stopped)}" if stopped else "nothing of ours was running")
    render.print_services(services.status(settings()))


@services_app.command("status")
def services_status() -> None:
    """Each service, its address and health."""
    render.print_services(services.status(settings()))


@services_app.command("jars")
def services_jars() -> None:
    """Fetch the JVM jars (Kafka broker, JDBC driver, Spark Kafka connector) into the cache."""
    from tweetpipe.services import jars

    for bundle in jars.BUNDLES:
        with console.status(f"resolving {bundle} jars from Maven Central…"):
            folder = jars.resolve(settings(), bundle)
        console.print(f"{bundle}: {len(list(folder.glob('*.jar')))} jars in {folder}")


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply the schema migrations the database lacks."""
    applied = db.migrate(settings())
    names = ", ".join(f"{m.version:04d}_{m.name}" for m in applied)
    console.print(f"applied: {names}" if applied else "schema is up to date")
