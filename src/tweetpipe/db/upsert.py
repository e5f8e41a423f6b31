"""The one set-based upsert: rows of a staging table into a target table, newest copy wins.

    INSERT INTO target AS t (columns..., computed...)
    SELECT DISTINCT ON (key...) columns..., computed-values... FROM source
    ORDER BY key..., newest DESC
    ON CONFLICT (key...) DO UPDATE SET column = EXCLUDED.column, ..., touched = value, ...
    WHERE t.newest <= EXCLUDED.newest
      [AND (t.same IS DISTINCT FROM EXCLUDED.same OR t.newest < EXCLUDED.newest)]

With `unless_same`, a copy whose `same` column did not change updates the row only when it is
newer, and then keeps the computed and touched columns as they were.

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
                   for c in self.columns if c not in keys]
        updates += [self._on_change(c, sql.SQL("EXCLUDED.{}").format(sql.Identifier(c)))
                    for c in self.computed]
        updates += [self._on_change(c, v) for c, v in self.touched.items()]
        key, newest = _join(map(sql.Identifier, keys)), sql.Identifier(self.newest)
        condition = sql.SQL("t.{n} <= EXCLUDED.{n}").format(n=newest)
        if self.unless_same:
            # an unchanged copy updates only when it is newer: it advances `newest`, so an
            # older copy that differs, loaded after it, loses (copies A, then C = A, then B)
            condition = sql.SQL("{} AND ({} OR t.{n} < EXCLUDED.{n})").format(
                condition, self._changed(), n=newest)
        return sql.SQL(
            "INSERT INTO {target} AS t ({names}) "
            "SELECT DISTINCT ON ({key}) {values} FROM {source} ORDER BY {key}, {newest} DESC "
            "ON CONFLICT ({key}) DO UPDATE SET {updates} WHERE {condition}"
        ).format(target=sql.Identifier(self.table), names=_join(map(sql.Identifier, names)),
                 key=key, values=_join(values), source=source, newest=newest,
                 updates=_join(updates), condition=condition)

    def _changed(self) -> sql.Composed:
        return sql.SQL("t.{u} IS DISTINCT FROM EXCLUDED.{u}").format(
            u=sql.Identifier(self.unless_same or ""))

    def _on_change(self, column: str, value: sql.Composable) -> sql.Composed:
        """`column = value`; with `unless_same`, only when that column changed (an unchanged
        newer copy keeps the computed and touched columns, e.g. its load sequence number)."""
        if not self.unless_same:
            return sql.SQL("{} = {}").format(sql.Identifier(column), value)
        return sql.SQL("{c} = CASE WHEN {changed} THEN {v} ELSE t.{c} END").format(
            c=sql.Identifier(column), changed=self._changed(), v=value)

    def run(self, conn: psycopg.Connection[Any], source: sql.Composable) -> int:
        """Upsert the rows of `source`; the number of rows inserted or updated."""
        return conn.execute(self.statement(source)).rowcount


def _join(parts: Iterable[sql.Composable]) -> sql.Composed:
    return sql.SQL(", ").join(parts)
