"""Configuration read once per change, not per request.

Every ticket change reads the same small tables: the priority matrix, the assignment groups, the SLA policies
and their calendars, the webhook subscriptions. Each of them is kept per process in a `Cached` value, loaded
again only when one **stamp** changes: a fingerprint of every row of every registered table, read in one round
trip. A write in any process changes the stamp, so the next reader in every process reloads; a save in this
process also drops the value at once (signals connected by `watch`).

Within one `scope()` (a request, a ticket create) the stamp is read at most once, however many values are
used; outside a scope every use reads it.
"""
import threading
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from django.db import connection
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save

T = TypeVar("T")

_tables: dict[str, list[str]] = {}  # db table -> its columns, in the stamp
_values: list["Cached"] = []
_local = threading.local()  # .stamp: the stamp read in the current scope; .depth: nested scopes
_MISSING = object()


def _fingerprint(table: str, columns: list[str]) -> str:
    """One scalar subquery that changes whenever a row of `table` is written."""
    q = connection.ops.quote_name
    if connection.vendor == "postgresql":
        # The rows as text, hashed (planning the subqueries costs more than reading these few rows).
        return f"(SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t.{q('id')}), '')) FROM {q(table)} t)"
    row = " || '|' || ".join(f"quote({q(c)})" for c in columns)
    return f"(SELECT group_concat(r, ',') FROM (SELECT {row} AS r FROM {q(table)} ORDER BY {q('id')}))"


_sql: dict[tuple, list[str]] = {}  # (vendor, tables) -> the stamp's subqueries, built once


def stamp_columns() -> list[str]:
    """The stamp's scalar subqueries, one per watched table: a query of its own may select them too (`seen`)."""
    key = (connection.vendor, len(_tables))
    columns = _sql.get(key)
    if columns is None:
        columns = _sql[key] = [_fingerprint(t, cols) for t, cols in sorted(_tables.items())]
    return columns


def seen(stamp: tuple) -> None:
    """The stamp as another query of this scope read it along (`stamp_columns`): the scope's uses need no read."""
    if getattr(_local, "depth", 0):
        _local.stamp = tuple(stamp)


def read_stamp() -> tuple:
    """The stamp of every registered table, in one query (the scope's, if one is open and has read it)."""
    stamp = getattr(_local, "stamp", None)
    if stamp is not None:
        return stamp
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(stamp_columns()))
        stamp = tuple(cursor.fetchone())
    seen(stamp)
    return stamp


@contextmanager
def scope():
    """Read the stamp at most once inside: a request, or one domain function's run outside a request."""
    _local.depth = getattr(_local, "depth", 0) + 1
    try:
        yield
    finally:
        _local.depth -= 1
        if not _local.depth:
            _local.stamp = None


def _forget_stamp() -> None:
    """A write in this scope: the next use reads the stamp again."""
    _local.stamp = None


def forget_all(**_signal_kwargs) -> None:
    """Drop every cached value and this scope's stamp (connected to saves of the watched models)."""
    _forget_stamp()
    for value in _values:
        value.forget()


def watch(*models: type[Model]) -> None:
    """Put the models' tables (and, for a many-to-many through model, its rows) into the stamp, and drop the
    cached values when this process saves or deletes one of their rows."""
    for model in models:
        _tables[model._meta.db_table] = [f.column for f in model._meta.concrete_fields]
        uid = f"config-cache-{model._meta.label_lower}"
        if model._meta.auto_created:  # a many-to-many table: its rows change through m2m_changed
            m2m_changed.connect(forget_all, sender=model, dispatch_uid=uid)
        post_save.connect(forget_all, sender=model, dispatch_uid=f"{uid}-save")
        post_delete.connect(forget_all, sender=model, dispatch_uid=f"{uid}-delete")


class Cached(Generic[T]):
    """A value built by `load()` from watched tables, kept until the stamp changes (or `forget()`)."""

    def __init__(self, load: Callable[[], T]):
        self.load = load
        self._entry: tuple[tuple, T] | None = None
        _values.append(self)

    def get(self) -> T:
        stamp = read_stamp()  # read before the rows: a change committed in between only costs a reload
        entry = self._entry
        if entry is not None and entry[0] == stamp:
            return entry[1]
        value = self.load()
        self._entry = (stamp, value)
        return value

    def forget(self) -> None:
        self._entry = None


def cached(load: Callable[[], Any]) -> Cached:
    """Decorator form: `@cached def groups(): ...` then `groups.get()`."""
    return Cached(load)
