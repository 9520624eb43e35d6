"""Configuration read once per change, not per request.

Every ticket change reads the same small tables: the priority matrix, the assignment groups, the services, the
SLA policies and their calendars, the webhook subscriptions. Each of them is kept per process in a `Cached`
value, loaded again only when one **stamp** changes: the number in the one row of `tracker_config_version`,
which database triggers on every watched table change with each write. A write in any process, raw SQL
included, changes the stamp, so the next reader in every process reloads; a save in this process also drops
the value at once (signals connected by `watch`).

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

_tables: set[str] = set()  # the watched db tables (each has the triggers `bump_triggers` makes)
_values: list["Cached"] = []
_local = threading.local()  # .stamp: the stamp read in the current scope; .depth: nested scopes
_MISSING = object()


VERSION_TABLE = "tracker_config_version"
# The stamp: one row's number, changed by database triggers on every write to a watched table (the migrations
# install them with `bump_triggers`), so a write in any process, raw SQL included, changes it. On PostgreSQL the
# number comes from a sequence, which a rollback does not give back: a number once seen never names other rows.
# On SQLite it is random() (no sequences), for the same reason.
_STAMP_SQL = f"(SELECT n FROM {VERSION_TABLE} WHERE id = 1)"


def version_table_sql(vendor: str) -> list[str]:
    """The statements creating the version row (and, on PostgreSQL, its sequence and trigger function)."""
    if vendor == "postgresql":
        return [
            f"CREATE SEQUENCE {VERSION_TABLE}_seq",
            f"CREATE TABLE {VERSION_TABLE} (id smallint PRIMARY KEY CHECK (id = 1), n bigint NOT NULL)",
            f"INSERT INTO {VERSION_TABLE} (id, n) VALUES (1, nextval('{VERSION_TABLE}_seq'))",
            f"""CREATE FUNCTION {VERSION_TABLE}_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {VERSION_TABLE} (id, n) VALUES (1, nextval('{VERSION_TABLE}_seq'))
    ON CONFLICT (id) DO UPDATE SET n = EXCLUDED.n;
    RETURN NULL;
END $$""",
        ]
    return [
        f"CREATE TABLE {VERSION_TABLE} (id smallint PRIMARY KEY CHECK (id = 1), n bigint NOT NULL)",
        f"INSERT INTO {VERSION_TABLE} (id, n) VALUES (1, random())",
    ]


def version_table_drop_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [f"DROP FUNCTION {VERSION_TABLE}_bump() CASCADE", f"DROP TABLE {VERSION_TABLE}",
                f"DROP SEQUENCE {VERSION_TABLE}_seq"]
    return [f"DROP TABLE {VERSION_TABLE}"]


def bump_triggers(vendor: str, table: str) -> list[str]:
    """The statements making every write to `table` (insert, update, delete; truncate on PostgreSQL, which a
    test flush uses) change the stamp: one statement-level trigger on PostgreSQL, a row trigger per write on
    SQLite."""
    name = f"{table}_config_bump"
    if vendor == "postgresql":
        return [f"CREATE TRIGGER {name} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {VERSION_TABLE}_bump()"]
    return [f"CREATE TRIGGER {name}_{op.lower()} AFTER {op} ON {table} BEGIN "
            f"INSERT OR REPLACE INTO {VERSION_TABLE} (id, n) VALUES (1, random()); END"
            for op in ("INSERT", "UPDATE", "DELETE")]


def bump_triggers_drop(vendor: str, table: str) -> list[str]:
    name = f"{table}_config_bump"
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {name} ON {table}"]
    return [f"DROP TRIGGER IF EXISTS {name}_{op}" for op in ("insert", "update", "delete")]


def stamp_columns() -> list[str]:
    """The stamp as scalar subqueries: a query of its own may select them too (`seen`)."""
    return [_STAMP_SQL]


def seen(stamp: tuple) -> None:
    """The stamp as another query of this scope read it along (`stamp_columns`): the scope's uses need no read."""
    if getattr(_local, "depth", 0):
        _local.stamp = tuple(stamp)


def read_stamp() -> tuple:
    """The configuration's stamp, in one query (the scope's, if one is open and has read it)."""
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
    """Register the models' tables as configuration (a migration gives each the triggers of `bump_triggers`;
    a test checks that every watched table has them), and drop the cached values when this process saves or
    deletes one of their rows."""
    for model in models:
        _tables.add(model._meta.db_table)
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
