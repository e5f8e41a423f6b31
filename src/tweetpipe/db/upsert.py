"""The one set-based upsert: rows of a staging table into a target table, newest copy wins.

    INSERT INTO target AS t (columns..., computed...)
    SELECT DISTINCT ON (key...) columns..., computed-values... FROM source
    ORDER BY key..., newest DESC
    ON CONFLICT (key...) DO UPDATE SET column = EXCLUDED.column, ..., touched = value, ...
    WHERE t.newest <= EXCLUDED.newest [AND t.unchanged IS DISTINCT FROM EXCLUDED.unchanged]

Duplicates of a key in the source collapse to the newest copy first (PostgreSQL refuses to
update one row twice in a statement), and an older copy never overwrites a newer row. Every
name is a `psycopg.sql.Identifier`; values are SQL expressions the caller composes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql


@dataclass(frozen=True)
class Upsert:
    table: str
    key: str | Sequence[str]  # the primary key: one column or several
    columns: Sequence[str]  # copied from the source, key included
    newest: str  # of two copies of a key, the one with the greater value wins
    computed: Mapping[str, sql.Composable] = field(default_factory=dict)  # set on insert+update
    touched: Mapping[str, sql.Composable] = field(default_factory=dict)  # set on update only
    unless_same: str | None = None  # skip the update when this column did not change

    def statement(self, source: sql.Composable) -> sql.Composed:
        keys = [self.key] if isinstance(self.key, str) else list(self.key)
        names = [*self.columns, *self.computed]
        values = [*map(sql.Identifier, self.columns), *self.computed.values()]
        updates = [sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c))
                   for c in names if c not in keys]
        updates += [sql.SQL("{} = {}").format(sql.Identifier(c), v)
                    for c, v in self.touched.items()]
        key, newest = _join(map(sql.Identifier, keys)), sql.Identifier(self.newest)
        condition = sql.SQL("t.{n} <= EXCLUDED.{n}").format(n=newest)
        if self.unless_same:
            condition = sql.SQL("{} AND t.{u} IS DISTINCT FROM EXCLUDED.{u}").format(
                condition, u=sql.Identifier(self.unless_same))
        return sql.SQL(
            "INSERT INTO {target} AS t ({names}) "
            "SELECT DISTINCT ON ({key}) {values} FROM {source} ORDER BY {key}, {newest} DESC "
            "ON CONFLICT ({key}) DO UPDATE SET {updates} WHERE {condition}"
        ).format(target=sql.Identifier(self.table), names=_join(map(sql.Identifier, names)),
                 key=key, values=_join(values), source=source, newest=newest,
                 updates=_join(updates), condition=condition)

    def run(self, conn: psycopg.Connection[Any], source: sql.Composable) -> int:
        """Upsert the rows of `source`; the number of rows inserted or updated."""
        return conn.execute(self.statement(source)).rowcount


def _join(parts: Iterable[sql.Composable]) -> sql.Composed:
    return sql.SQL(", ").join(parts)
