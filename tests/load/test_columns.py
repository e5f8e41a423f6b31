"""The column specs are the tables: names, order and types match the migrated schema."""

from __future__ import annotations

import pytest

from tweetpipe import db
from tweetpipe.load.columns import TABLES, TableSpec
from tweetpipe.settings import Settings

pytestmark = pytest.mark.integration
PG_NAMES = {"timestamptz": "timestamp with time zone"}


def schema_columns(settings: Settings, table: str) -> list[tuple[str, str]]:
    with db.connect(settings, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
            " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped"
            " ORDER BY attnum", (table,)).fetchall()
    return [(str(name), str(kind)) for name, kind in rows]


def spec_columns(spec: TableSpec) -> list[tuple[str, str]]:
    def pg(kind: str) -> str:
        scalar = kind.removesuffix("[]")
        return PG_NAMES.get(scalar, scalar) + kind[len(scalar):]

    return [(c.name, pg(c.pg_type)) for c in spec.all_columns]


@pytest.mark.parametrize("spec", TABLES, ids=[t.name for t in TABLES])
def test_spec_matches_the_migrated_table(pipeline: Settings, spec: TableSpec) -> None:
    assert spec_columns(spec) == schema_columns(pipeline, spec.name)
    assert set(spec.keys) <= set(spec.columns) and spec.newest in spec.columns
