"""Read queries compiled to SQL once per process and shape, then run with each call's values.

The ticket page reads ~15 small queries; turning each QuerySet into SQL (joins, columns, WHERE) cost more CPU
than the database spent answering them. A `Precompiled` query is written as an ordinary QuerySet built from
named values; the first call of a shape builds it with marker values, compiles it, and remembers where each
value lands among the SQL parameters. Later calls put their values there and run the same SQL through
Django's own iterables, so rows become the same model instances (select_related, annotations, prefetches)
as the QuerySet would give.

A prefetch of one reverse foreign key with its own queryset (`Prefetch("sla_clocks", queryset=...)`) is compiled
once too, per number of rows (`prefetch_compiled`: the ticket page's ticket, a queue page's tickets): the related
rows are read with the compiled SQL and given to the rows as Django's prefetch gives them. Any other prefetch goes
through Django's `prefetch_related_objects` as before.

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
from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.db.models.fields.related_descriptors import ReverseManyToOneDescriptor
from django.db.models.query import ModelIterable


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
        # Whether a column is a composite key's pair: Django asks it of every column on every run.
        self.composite = self.sql is not None and compiler.has_composite_fields(
            [s[0] for s in compiler.select[0:compiler.col_count]])
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

    def _params(self, values: dict) -> tuple:
        params = self.params[:]
        for pos, name, adapt in self.slots:
            params[pos] = values[name] if adapt is None else adapt(values[name])
        return tuple(params)

    def count(self, using: str, values: dict) -> int:
        """How many rows `run` would give, counted by the database: one row comes back, not each of them."""
        if self.sql is None:
            return 0
        with connections[using].cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({self.sql}) counted", self._params(values))
            return cursor.fetchone()[0]

    def run(self, using: str, values: dict) -> list:
        if self.sql is None:
            return []
        sql, params = self.sql, self._params(values)
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
        composite = self.composite
        compiler.has_composite_fields = lambda expressions: composite
        qs = QuerySet(model=self.model, query=_ReplayQuery(self.query, compiler), using=using)
        qs._iterable_class = self.iterable_class
        qs._fields = self.fields
        rows = list(qs)
        if rows and self.prefetch and (later := prefetch_compiled(rows, self.prefetch)):
            prefetch_related_objects(rows, *later)
        return rows


# --- prefetches of a reverse foreign key -----------------------------------------------------------------------

PREFETCH_MAX_PARENTS = 100  # rows whose related rows one compiled prefetch reads (a queue page has 50)
_prefetches: dict = {}  # what decides a prefetch's SQL -> its Precompiled query (shape: the number of parents)


def _prefetch_key(model, lookup) -> tuple | None:
    """What decides the SQL of `lookup` on `model`'s rows, or None where Django's own prefetch must do it: a
    `Prefetch(name, queryset)` of a reverse foreign key whose queryset only picks columns, joins (select_related)
    and an order. A filter of its own may hold a value of its time (now, say), so it is not compiled."""
    if not isinstance(lookup, Prefetch) or lookup.queryset is None or "__" in lookup.prefetch_through:
        return None
    descriptor = getattr(model, lookup.prefetch_through, None)
    if type(descriptor) is not ReverseManyToOneDescriptor:
        return None
    qs, query = lookup.queryset, lookup.queryset.query
    if (qs._db is not None or qs._iterable_class is not ModelIterable or qs._prefetch_related_lookups
            or query.where or query.annotations or query.extra or query.extra_order_by or query.distinct
            or query.is_sliced or query.combinator or not query.default_ordering
            or not all(isinstance(order, str) for order in query.order_by)):
        return None
    fields, defer = query.deferred_loading
    return (model._meta.label, lookup.prefetch_through, lookup.to_attr, qs.model._meta.label, tuple(query.order_by),
            tuple(sorted(fields)), defer, repr(query.select_related))


def _related_of(queryset: QuerySet, fk_in: str) -> Callable[..., QuerySet]:
    """The build of a prefetch's query for `count` parents, as Django's prefetch writes it (`<fk> IN (...)`)."""
    return lambda count, **ids: queryset.filter(**{fk_in: [ids[f"id{i}"] for i in range(count)]})


def prefetch_compiled(rows: list, lookups) -> list:
    """Do the prefetches of `lookups` on `rows` that can be compiled (`_prefetch_key`) with SQL compiled once per
    process, shape of prefetch and number of rows, and give each row its related rows as Django's prefetch gives
    them (the prefetch cache or `to_attr`, each related row knowing its parent). Returns the lookups left for
    Django's `prefetch_related_objects`. Building a prefetch's SQL cost more than running it."""
    if not rows or len(rows) > PREFETCH_MAX_PARENTS:
        return list(lookups)
    model = type(rows[0])
    left = []
    for lookup in lookups:
        key = _prefetch_key(model, lookup)
        if key is None or any(type(row) is not model for row in rows):
            left.append(lookup)
            continue
        field = getattr(model, lookup.prefetch_through).field  # the foreign key on the related rows
        query = _prefetches.get(key)
        if query is None:
            query = _prefetches[key] = Precompiled(_related_of(lookup.queryset, f"{field.name}__in"))
        parents = [field.get_foreign_related_value(row)[0] for row in rows]
        ids = [parent for parent in parents if parent is not None]
        related = query(len(ids), **{f"id{i}": parent for i, parent in enumerate(ids)}) if ids else []
        by_parent: dict = {}
        for obj in related:
            by_parent.setdefault(getattr(obj, field.attname), []).append(obj)
        for row, parent in zip(rows, parents, strict=True):
            children = by_parent.get(parent, []) if parent is not None else []
            for obj in children:  # as the related manager's prefetch does: each related row knows its parent
                if not field.is_cached(obj):
                    field.set_cached_value(obj, row)
            if lookup.to_attr:
                setattr(row, lookup.to_attr, children)
                continue
            cached = _RelatedRows.holding(row, lookup.prefetch_through, lookup.queryset, children)
            row.__dict__.setdefault("_prefetched_objects_cache", {})[field.remote_field.cache_name] = cached
    return left


class _RelatedRows(QuerySet):
    """One row's prefetched related rows, as the relation's queryset holding them (what `row.<relation>.all()`
    returns). Django's prefetch gives every row a clone of the prefetch's query filtered on the row, and a page
    only reads the rows (a queue page: 50 clones, ~5% of its time); here that query is built when something asks
    for it (a later `.filter()`, `.exists()` ...), by the relation itself, so it is the one Django would build."""

    @classmethod
    def holding(cls, row, attr: str, queryset: QuerySet, rows: list) -> "_RelatedRows":
        held = cls(model=queryset.model, query=queryset.query, hints={"instance": row})  # shared until built
        held._result_cache, held._prefetch_done = rows, True
        held._unbuilt = (row, attr, queryset)
        return held

    @property
    def query(self):
        unbuilt = self.__dict__.pop("_unbuilt", None)
        if unbuilt is not None:
            row, attr, queryset = unbuilt
            built = getattr(row, attr)._apply_rel_filters(queryset)
            self._query, self._db, self._hints = built.query, built._db, built._hints
            self._known_related_objects = built._known_related_objects
        return QuerySet.query.fget(self)

    @query.setter
    def query(self, value):
        self.__dict__.pop("_unbuilt", None)
        QuerySet.query.fset(self, value)


class Precompiled:
    """`Precompiled(build)(shape, **values)`: the rows of `build(**values)`, compiled once per shape."""

    def __init__(self, build: Callable[..., QuerySet]):
        self.build = build
        self._compiled: dict = {}
        self._lock = Lock()

    def __call__(self, shape=(), /, **values) -> list:
        return self._compiled_for(shape, values).run(DEFAULT_DB_ALIAS, values)

    def count(self, shape=(), /, **values) -> int:
        """The number of rows `self(shape, **values)` gives (a sliced build counts up to its slice), without
        reading them."""
        return self._compiled_for(shape, values).count(DEFAULT_DB_ALIAS, values)

    def _compiled_for(self, shape, values: dict) -> _Compiled:
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
        return compiled
