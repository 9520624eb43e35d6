"""The session engine: Django's database sessions, read with a query compiled once per process.

Every signed-in request reads its session row; building that query with the ORM cost more CPU than the database
spent answering it. The same query reads the configuration's stamp (`tracker.config_cache`), which the request's
pages would otherwise read in a round trip of its own. Writes, expiry and the table are Django's own
(`django.contrib.sessions.backends.db`).
"""
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.db.models.expressions import RawSQL
from django.utils import timezone

from . import config_cache
from .precompiled import Precompiled

# The row of a session key that has not expired (the key is the primary key: one row at most), with the stamp.
_live_session = Precompiled(lambda shape, *, key, now: Session.objects.filter(
    session_key=key, expire_date__gt=now).annotate(config_stamp=RawSQL(config_cache.stamp_columns()[0], ()))[:1])


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self):
        if self.model is not Session:  # a subclass with its own model reads it the ORM's way
            return super()._get_session_from_db()
        found = _live_session(key=self.session_key, now=timezone.now())
        if found:
            config_cache.seen((found[0].config_stamp,))
            return found[0]
        self._session_key = None  # as Django does for an unknown or expired key: the next save makes a new one
        return None
