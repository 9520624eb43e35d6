"""How an API call says who it is: `Authorization: Token <key>` (or the browser's session)."""
from django.db.models.expressions import RawSQL
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from tracker import config_cache


class StampedTokenAuthentication(TokenAuthentication):
    """The token's user, read fresh on every request (a deactivated user is refused at once), with the
    configuration's stamp (`tracker.config_cache`) selected in the same round trip: the request's cached
    configuration then costs no query of its own."""

    def authenticate_credentials(self, key):
        stamped = {f"_config_{i}": RawSQL(sql, ()) for i, sql in enumerate(config_cache.stamp_columns())}
        try:
            token = Token.objects.select_related("user").annotate(**stamped).get(key=key)
        except Token.DoesNotExist:
            raise AuthenticationFailed("Invalid token.") from None
        if not token.user.is_active:
            raise AuthenticationFailed("User inactive or deleted.")
        config_cache.seen(tuple(getattr(token, name) for name in stamped))
        return token.user, token
