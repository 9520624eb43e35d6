"""Read queries compiled to SQL once per process and shape, then run with each call's values.

The ticket page reads ~15 small queries; turning each QuerySet into SQL (joins, columns, WHERE) cost more CPU
than the database spent answering them. A `Precompiled` query is written as an ordinary QuerySet built from
named values; the first call of a shape builds it with marker values, compiles it, and remembers where each
value lands among the SQL parameters. Later calls put their values there and run the same SQL through
Django's own iterables, so rows become the same model instances (select_related, annotations, prefetches)
as the QuerySet would give.

What may change the SQL's text goes in `shape` (a user's kind of visibility, which parts a UNION has); the
values (ids, keys, times) must reach the SQL as parameters unchanged, and never be None (`= NULL` compiles to
`IS NULL`). A value the built query does not use as a parameter is refused on the first call.
"""

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from threading import Lock
from weakref import WeakKeyDictionary

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet


def _marker(i: int, value):
    """A stand-in of the value's type that no real query parameter equals."""
    if isinstance(value, bool):
        raise TypeError("a boolean changes a query's shape: put it in `shape`")
    if isinstance(value, int):
        return -(7_340_000_000_001 + i * 7_919)
    if isinstance(value, str):
        return f"\x1fM{i}\x1f"
    if isinstance(value, datetime):
        return datetime(1903, 3, 3, 3, 3, 3, 100_003 + i, tzinfo=UTC)
    raise TypeError(f"no marker for a {type(value).__name__}: put it in `shape` or pass an id")


class _ReplayQuery:
    """The built query, whose compiler answers with the SQL compiled the first time and this call's params."""

    def __init__(self, query, compiler):
        self._query, self._compiler = query, compiler

    def __getattr__(self, name):
        return getattr(self._query, name)

    def get_compiler(self, using=None, connection=None, elide_empty=True):
        return self._compiler


class _Compiled:
    def __init__(self, qs: QuerySet, markers: dict):
        self.model = qs.model
        self.query = qs.query
        self.iterable_class = qs._iterable_class
        self.fields = qs._fields
        self.prefetch = qs._prefetch_related_lookups
        compiler = qs.query.get_compiler(using=qs.db)
        try:
            self.sql, params = compiler.as_sql()  # also sets compiler.select, klass_info, annotation_col_map
        except EmptyResultSet:
            self.sql, params = None, ()
        self.compiler = compiler
        self.converters = WeakKeyDictionary()  # per connection (one per thread): converters may be bound to it
        self.params = list(params)
        ops = connections[qs.db].ops
        self.slots = []  # (position, name, how the value becomes the parameter)
        found = set()
        for pos, param in enumerate(self.params):
            for name, mark in markers.items():
                if type(param) is type(mark) and param == mark:
                    self.slots.append((pos, name, None))
                elif isinstance(mark, datetime) and param == ops.adapt_datetimefield_value(mark):
                    self.slots.append((pos, name, ops.adapt_datetimefield_value))
                else:
                    continue
                found.add(name)
        if self.sql is not None and found != set(markers):
            raise ValueError(f"values not among the query's parameters: {sorted(set(markers) - found)}")

    def run(self, using: str, values: dict) -> list:
        if self.sql is None:
            return []
        params = self.params[:]
        for pos, name, adapt in self.slots:
            params[pos] = values[name] if adapt is None else adapt(values[name])
        sql, params = self.sql, tuple(params)
        connection = connections[using]  # this thread's connection, not the one that compiled
        compiler = copy.copy(self.compiler)
        compiler.connection = connection
        compiler.using = using
        compiler.as_sql = lambda *args, **kwargs: (sql, params)
        converters = self.converters.get(connection)
        if converters is None:  # how each column's value is read: the same for every row of every call
            converters = self.converters[connection] = compiler.get_converters(
                [s[0] for s in compiler.select[0:compiler.col_count]])
        compiler.get_converters = lambda expressions: converters
        qs = QuerySet(model=self.model, query=_ReplayQuery(self.query, compiler), using=using)
        qs._iterable_class = self.iterable_class
        qs._fields = self.fields
        qs._prefetch_related_lookups = self.prefetch
        return list(qs)


class Precompiled:
    """`Precompiled(build)(shape, **values)`: the rows of `build(**values)`, compiled once per shape."""

    def __init__(self, build: Callable[..., QuerySet]):
        self.build = build
        self._compiled: dict = {}
        self._lock = Lock()

    def __call__(self, shape=(), /, **values) -> list:
        using = DEFAULT_DB_ALIAS
        key = (using, connections[using].vendor, shape)
        compiled = self._compiled.get(key)
        if compiled is None:
            for name, value in values.items():
                if value is None:
                    raise TypeError(f"{name} is None: a None changes the query's shape")
            markers = {name: _marker(i, value) for i, (name, value) in enumerate(values.items())}
            compiled = _Compiled(self.build(shape, **markers), markers)
            with self._lock:
                self._compiled[key] = compiled
        return compiled.run(using, values)
