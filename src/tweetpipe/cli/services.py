"""`tweetpipe services …` and `tweetpipe db …`."""

from __future__ import annotations

from typing import Annotated

import typer

from tweetpipe import progress
from tweetpipe.api import Pipeline
from tweetpipe.cli import render
from tweetpipe.cli.common import State, app, console, settings
from tweetpipe.settings import load_settings

services_app = typer.Typer(help="Start, stop and inspect the local Kafka and PostgreSQL.")
db_app = typer.Typer(help="Database schema.")
app.add_typer(services_app, name="services")
app.add_typer(db_app, name="db")


@services_app.command("up")
def services_up(
    brokers: Annotated[int | None, typer.Option(
        "--brokers", min=1, max=9, help="Kafka brokers to start (default KAFKA_BROKERS, 1); 3 "
        "make a KRaft cluster that survives the loss of one, on the bootstrap port and the "
        "next two")] = None,
    secure: Annotated[bool, typer.Option(
        "--secure", help="TLS and authentication: a local CA and certificates, Kafka on "
        "SASL_SSL with SCRAM-SHA-512 users, PostgreSQL with TLS only (hostssl); random "
        "passwords in files under TWEETPIPE_HOME/tls; prints the settings clients need")] = False,
) -> None:
    """Start Kafka and PostgreSQL (or use those already answering); idempotent."""
    if brokers is not None:  # beats KAFKA_BROKERS, as a keyword beats the environment
        State.settings = load_settings(KAFKA_BROKERS=brokers)
    if secure:
        from tweetpipe.services import tls

        State.settings = tls.secure_settings(settings())
    starting = progress.Phase("starting services (first run downloads jars from Maven Central)…")
    with progress.show(console, starting, final=False):
        statuses = Pipeline(settings()).services_up()
    render.print_services(statuses)
    if secure:
        client_env = tls.material(settings()).client_env
        console.print(f"\nclients need these settings (also in {client_env}; paths only, "
                      f"the passwords stay in their files):", highlight=False)
        console.print(client_env.read_text().rstrip(), highlight=False, markup=False)


@services_app.command("down")
def services_down() -> None:
    """Stop what `services up` started (every node of a cluster), and nothing else."""
    pipeline = Pipeline(settings())
    stopped = pipeline.services_down()
    console.print(f"stopped: {', '.join(stopped)}" if stopped else "nothing of ours was running")
    render.print_services(pipeline.services_status())


@services_app.command("status")
def services_status() -> None:
    """Each service (each Kafka broker), its address, health and pid; under-replicated
    partitions of a Kafka cluster."""
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
