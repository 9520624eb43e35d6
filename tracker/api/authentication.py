"""How an API call says who it is: `Authorization: Token <key>` (or the browser's session)."""
from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from tracker import config_cache

_sql: dict[str, tuple] = {}  # vendor -> (the query, the user's field names in it, the columns' converters)


def _token_query(connection) -> tuple:
    """SELECT the user's columns, the token's creation time and the configuration stamp, by the token's key;
    with the converters the ORM applies to those columns on this database (dates on SQLite, say)."""
    found = _sql.get(connection.vendor)
    if found is None:
        user_model = get_user_model()
        q = connection.ops.quote_name
        fields = user_model._meta.concrete_fields
        columns = ", ".join(f"u.{q(f.column)}" for f in fields)
        token = Token._meta
        sql = (f"SELECT {columns}, t.{q(token.get_field('created').column)}, {config_cache.stamp_columns()[0]} "
               f"FROM {q(token.db_table)} t JOIN {q(user_model._meta.db_table)} u "
               f"ON u.{q(user_model._meta.pk.column)} = t.{q(token.get_field('user').column)} "
               f"WHERE t.{q(token.pk.column)} = %s")
        cols = [f.get_col(user_model._meta.db_table) for f in fields]
        cols.append(token.get_field("created").get_col(token.db_table))
        converters = [(i, col, fns) for i, col in enumerate(cols)
                      if (fns := connection.ops.get_db_converters(col) + col.get_db_converters(connection))]
        found = _sql[connection.vendor] = (sql, [f.attname for f in fields], converters)
    return found


class StampedTokenAuthentication(TokenAuthentication):
    """The token's user, read fresh on every request (a deactivated user is refused at once), with the
    configuration's stamp (`tracker.config_cache`) selected in the same round trip: the request's cached
    configuration then costs no query of its own. One statement, no queryset built."""

    def authenticate_credentials(self, key):
        connection = connections[DEFAULT_DB_ALIAS]
        sql, names, converters = _token_query(connection)
        with connection.cursor() as cursor:
            cursor.execute(sql, [key])
            row = cursor.fetchone()
        if row is None:
            raise AuthenticationFailed("Invalid token.")
        if converters:
            row = list(row)
            for i, col, fns in converters:
                for fn in fns:
                    row[i] = fn(row[i], col, connection)
        user = get_user_model().from_db(DEFAULT_DB_ALIAS, names, row[:len(names)])
        if not user.is_active:
            raise AuthenticationFailed("User inactive or deleted.")
        config_cache.seen((row[-1],))
        token = Token(key=key, user_id=user.pk, created=row[len(names)])
        token.user = user
        return user, token
