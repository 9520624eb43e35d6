"""New rows written without Django's per-insert compiling, on PostgreSQL: a few rows of one model with SQL made
once per model and row count (`insert`, ids read back), and a batch whose ids nobody reads back streamed with COPY
(`insert_rows` for instances, `copy_rows` for plain tuples). Elsewhere, `bulk_create`.

`insert_from` writes one such row with values a data-modifying statement gives in the same round trip (a ticket's
number from its kind's counter), and `insert_together` writes several models' small batches in few statements (a
create's clocks, webhook deliveries and timeline rows in two).

`insert`: Django compiles an insert anew each time: for every row and column it asks the field to prepare the value,
and bulk inserts pass each column as an array (UNNEST) for psycopg to adapt. A create writes four small
inserts (the ticket, its clocks, its timeline rows, a webhook delivery), and compiling them was about a third
of the create's Python. Here the statement is made once per (model, rows, conflict rule) and, with the
connection's prepared statements, planned once per connection; values of the plain kinds (text, numbers,
yes/no, ids, aware times) go as they are and any other goes through its field's own preparation, as in
`bulk_create`. The rows written are the ORM's (tests/tracker/test_inserts.py); elsewhere than PostgreSQL, for
models with save signals, and for larger batches it is `bulk_create` itself.
"""
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.models.signals import post_save, pre_save

MAX_ROWS = 10  # larger batches go through bulk_create (UNNEST pays off there)
_TEXT = (models.CharField, models.TextField, models.EmailField, models.URLField, models.SlugField)
_NUMBER = (models.IntegerField, models.PositiveIntegerField, models.PositiveSmallIntegerField,
           models.SmallIntegerField, models.BigIntegerField, models.ForeignKey, models.OneToOneField)
NoneType = type(None)


def _stored_as_is(field) -> frozenset:
    """The exact types of value this field stores unchanged (its preparation returns them as they are)."""
    kind = type(field)
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return frozenset()
    if kind in _TEXT:
        return frozenset({str, NoneType})
    if kind in _NUMBER and type(field.target_field if field.is_relation else field) in _NUMBER + (
            models.BigAutoField, models.AutoField):
        return frozenset({int, NoneType})
    if kind is models.BooleanField:
        return frozenset({bool})
    if kind is models.DateTimeField:
        return frozenset({NoneType})  # and aware datetimes, checked by the caller
    return frozenset()


_plans: dict[tuple, tuple] = {}


def _plan(connection, model: type[models.Model], rows: int, ignore_conflicts: bool) -> tuple | None:
    """(the statement, [(attname, field, the value types stored as they are, an aware time is)]) for this model
    and row count; None when a column is filled by the database (a db_default or another returning field)."""
    key = (model, rows, ignore_conflicts)
    plan = _plans.get(key, False)
    if plan is False:
        meta = model._meta
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        if any(f.db_returning or f.db_default is not models.NOT_PROVIDED for f in fields):
            plan = None
        else:
            quote = connection.ops.quote_name
            one = "(" + ", ".join(["%s"] * len(fields)) + ")"
            sql = (f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
                   f"VALUES {', '.join([one] * rows)}")
            sql += " ON CONFLICT DO NOTHING" if ignore_conflicts else f" RETURNING {quote(meta.pk.column)}"
            plan = (sql, [(f.attname, f, _stored_as_is(f), type(f) is models.DateTimeField
                           and not (f.auto_now or f.auto_now_add)) for f in fields])
        _plans[key] = plan
    return plan


def _plan_for(connection, objs: list[models.Model], ignore_conflicts: bool) -> tuple | None:
    """`_plan` for these instances, or None where `bulk_create` must write them (not PostgreSQL, a larger batch,
    save signals, an instance with its id set or of another model)."""
    model = type(objs[0])
    if (connection.vendor == "postgresql" and len(objs) <= MAX_ROWS and not pre_save.has_listeners(model)
            and not post_save.has_listeners(model) and all(type(o) is model and o.pk is None for o in objs)):
        return _plan(connection, model, len(objs), ignore_conflicts)
    return None


def _params(connection, objs: list[models.Model], prepared: list, params: list) -> list:
    """Append the values of `objs` to `params` in the plan's column order, as the database stores them."""
    append = params.append
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="insert")
        for attname, field, as_is, when in prepared:
            value = getattr(obj, attname)
            kind = type(value)
            if kind in as_is or (when and kind is datetime and value.tzinfo is not None):
                append(value)
            else:
                append(field.get_db_prep_save(field.pre_save(obj, True), connection))
    return params


def _written(connection, objs: list[models.Model], ids) -> None:
    for i, obj in enumerate(objs):
        if ids is not None:
            obj.pk = ids[i]
        obj._state.adding = False
        obj._state.db = connection.alias


def insert(objs: list[models.Model], *, ignore_conflicts: bool = False) -> None:
    """Insert these new instances of one model in one statement and give them their ids (not with
    `ignore_conflicts`, which skips a row whose unique key exists, as `bulk_create` does)."""
    if not objs:
        return
    connection = connections[DEFAULT_DB_ALIAS]
    plan = _plan_for(connection, objs, ignore_conflicts)
    if plan is None:
        type(objs[0]).objects.bulk_create(objs, ignore_conflicts=ignore_conflicts)
        return
    _insert_steps(connection, [(objs, ignore_conflicts, plan)])


def insert_from(obj: models.Model, *, source: str, params: list, attnames: tuple[str, ...]) -> bool:
    """Insert one new instance in one statement with `source`, a data-modifying statement (an `UPDATE ...
    RETURNING`) whose row gives the values of `attnames` (its columns of those names): a ticket takes its number
    and key from its kind's counter in the round trip that writes it. Gives the instance its id and those values;
    False, and nothing written, when `source` gives no row, or the instance is not one `insert` writes with its
    own statement (`_plan_for`: on PostgreSQL). The statement is made once per model, source and attnames."""
    connection = connections[DEFAULT_DB_ALIAS]
    one = _plan_for(connection, [obj], False)
    if one is None:
        return False
    key = (type(obj), source, attnames)
    plan = _plans.get(key)
    if plan is None:
        prepared = one[1]
        meta = obj._meta
        quote = connection.ops.quote_name
        taken = [(a, f) for a, f, *_ in prepared]
        select = ", ".join(f"s.{quote(a)}" if a in attnames else "%s" for a, f in taken)
        columns = ", ".join(quote(f.column) for _, f in taken)
        sql = (f"WITH s AS ({source}) INSERT INTO {quote(meta.db_table)} ({columns}) SELECT {select} FROM s "
               f"RETURNING {quote(meta.pk.column)}, {', '.join(quote(meta.get_field(a).column) for a in attnames)}")
        plan = _plans[key] = (sql, [p for p in prepared if p[0] not in attnames])
    sql, prepared = plan
    with connection.cursor() as cursor:
        cursor.execute(sql, _params(connection, [obj], prepared, list(params)))
        row = cursor.fetchone()
    if row is None:
        return False
    for name, value in zip(attnames, row[1:], strict=True):
        setattr(obj, name, value)
    _written(connection, [obj], [row[0]])
    return True


# psycopg turns a statement's %s into $1, $2, ... anew on every run when it has more parameters than this
# (psycopg._queries.MAX_CACHED_STATEMENT_PARAMS); a statement with fewer is converted once per process.
PARAMS_CACHED = 50


def insert_together(batches: list[tuple[list[models.Model], bool]]) -> None:
    """Insert several batches of new instances, each of one model, as `insert` does each `(objs, ignore_conflicts)`,
    in few statements, each small enough for psycopg to keep its conversion (`PARAMS_CACHED` parameters; the
    batches go in the first statement they fit in, as their tables' order does not matter): each batch's insert is
    a step of one WITH, and the ids come back as one array per batch (a sequence gives a statement's rows
    ascending ids in the order they are written). A create's clocks, webhook delivery and timeline rows cost two
    round trips, not three. Elsewhere than PostgreSQL, or when a batch is not one `insert` writes itself, one
    `insert` per batch."""
    batches = [(objs, ignore) for objs, ignore in batches if objs]
    connection = connections[DEFAULT_DB_ALIAS]
    plans = [_plan_for(connection, objs, ignore) for objs, ignore in batches]
    if None in plans:
        for objs, ignore in batches:
            insert(objs, ignore_conflicts=ignore)
        return
    groups: list[list] = []  # [parameters, batches]: each batch joins the first statement it fits in
    for (objs, ignore), plan in zip(batches, plans, strict=True):
        count = len(objs) * len(plan[1])
        group = next((g for g in groups if g[0] + count <= PARAMS_CACHED), None)
        if group is None:
            groups.append(group := [0, []])
        group[0] += count
        group[1].append((objs, ignore, plan))
    for _, group in groups:
        _insert_steps(connection, group)


def _insert_steps(connection, group: list[tuple[list[models.Model], bool, tuple]]) -> None:
    """One statement for these batches and their plans: the plan's own when there is one batch, else a WITH."""
    if len(group) == 1:
        objs, ignore, (sql, prepared) = group[0]
        with connection.cursor() as cursor:
            cursor.execute(sql, _params(connection, objs, prepared, []))
            ids = None if ignore else [row[0] for row in cursor.fetchall()]
        _written(connection, objs, ids)
        return
    steps, params, answers = [], [], []
    for i, (objs, ignore, (sql, prepared)) in enumerate(group):
        steps.append(f"b{i} AS ({sql})")
        _params(connection, objs, prepared, params)
        if not ignore:
            pk = connection.ops.quote_name(type(objs[0])._meta.pk.column)
            answers.append(f"(SELECT array_agg({pk} ORDER BY {pk}) FROM b{i})")
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(steps)} SELECT {', '.join(answers) or '1'}", params)
        arrays = iter(cursor.fetchone())
    for objs, ignore, _ in group:
        _written(connection, objs, None if ignore else next(arrays))


def insert_rows(objs: list[models.Model], *, ignore_conflicts: bool = False) -> None:
    """`bulk_create` for a batch whose ids nobody reads back: on PostgreSQL the rows' values are streamed with
    COPY (Django's insert spends its time adapting parameters in Python); elsewhere `bulk_create`.
    `ignore_conflicts`: a row whose unique key exists is skipped, as with bulk_create: the rows are copied to a
    temporary table of the transaction and moved with INSERT ... ON CONFLICT DO NOTHING."""
    if not objs:
        return
    model = type(objs[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, ignore_conflicts=ignore_conflicts)
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    plain = (models.CharField, models.TextField, models.IntegerField, models.BooleanField, models.DateTimeField,
             models.ForeignKey)
    prepared = [(f.attname, None if isinstance(f, plain) and not getattr(f, "auto_now_add", False) else f)
                for f in fields]
    _copy(model, [f.column for f in fields], (
        [getattr(o, name) if f is None else f.get_db_prep_save(f.pre_save(o, True), connection)
         for name, f in prepared] for o in objs), ignore_conflicts=ignore_conflicts)


def copy_rows(model: type[models.Model], attnames: list[str], rows: list[tuple], *,
              ignore_conflicts: bool = False) -> None:
    """`insert_rows` for rows given as plain tuples of values (in `attnames` order, as the database stores them:
    ids for foreign keys), so a batch builds no model instances. Every other column takes its field's default.
    On PostgreSQL the rows are streamed with COPY; elsewhere they become instances for `bulk_create`."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**dict(zip(attnames, row, strict=True))) for row in rows],
                                  ignore_conflicts=ignore_conflicts)
        return
    given = set(attnames)
    rest = [f for f in model._meta.concrete_fields if not f.primary_key and f.attname not in given]
    defaults = tuple(f.get_db_prep_save(f.get_default(), connection) for f in rest)
    columns = [model._meta.get_field(name).column for name in attnames] + [f.column for f in rest]
    _copy(model, columns, (row + defaults for row in rows) if defaults else rows, ignore_conflicts=ignore_conflicts)


def _copy(model: type[models.Model], columns: list[str], rows, *, ignore_conflicts: bool) -> None:
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(c) for c in columns)
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        target = table
        if ignore_conflicts:
            target = quote(f"{model._meta.db_table}_incoming")
            # Dropped at commit: a table kept by a pooled connection would miss a column a later migration adds.
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {target} ON COMMIT DROP AS "
                           f"SELECT {columns} FROM {table} WITH NO DATA")
        with cursor.copy(f"COPY {target} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        if ignore_conflicts:  # moved, not copied: a later batch of the same transaction starts empty
            cursor.execute(f"WITH moved AS (DELETE FROM {target} RETURNING {columns}) "
                           f"INSERT INTO {table} ({columns}) SELECT {columns} FROM moved ON CONFLICT DO NOTHING")
