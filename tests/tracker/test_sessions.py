"""Sessions are Django's database sessions, read with a query compiled once per process."""
from datetime import timedelta

from django.contrib import auth
from django.contrib.sessions.models import Session
from django.utils import timezone

from tracker.middleware import get_user
from tracker.models import User
from tracker.sessions import SessionStore


def test_a_stored_session_reads_back_and_an_unknown_key_reads_empty(db):
    store = SessionStore()
    store["seen"] = 42
    store.save()
    assert SessionStore(store.session_key).load() == {"seen": 42}
    unknown = SessionStore("x" * 32)
    assert unknown.load() == {} and unknown.session_key is None


def test_an_expired_session_signs_the_person_out(cast, client_for):
    client = client_for(cast.agent1)
    assert client.get("/queue/").status_code == 200
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/queue/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


# --- the signed-in person, read with a compiled query (tracker.middleware.get_user) ----------------------------

def _request_signed_in_as(user, rf, *, backend="django.contrib.auth.backends.ModelBackend"):
    request = rf.get("/queue/")
    request.session = SessionStore()
    request.session[auth.SESSION_KEY] = str(user.pk)
    request.session[auth.BACKEND_SESSION_KEY] = backend
    request.session[auth.HASH_SESSION_KEY] = user.get_session_auth_hash()
    request.session.save()
    return request


def _fields(user):
    return {k: v for k, v in vars(user).items() if k != "_state"}


def test_the_signed_in_person_is_the_row_django_reads_in_one_query(cast, rf, django_assert_num_queries):
    request = _request_signed_in_as(cast.agent1, rf)
    request.session = SessionStore(request.session.session_key)
    assert request.session[auth.SESSION_KEY] == str(cast.agent1.pk)  # the session read, before the user's
    with django_assert_num_queries(1):
        user = get_user(request)
    assert type(user) is type(cast.agent1) and user.pk == cast.agent1.pk
    assert _fields(user) == _fields(auth.get_user(request))


def test_a_changed_password_signs_the_person_out_and_empties_the_session(cast, rf):
    request = _request_signed_in_as(cast.agent1, rf)
    cast.agent1.set_password("a new one, somewhere else")
    cast.agent1.save()
    assert get_user(request).is_anonymous
    assert auth.SESSION_KEY not in request.session


def test_an_inactive_unknown_or_foreign_backend_person_is_anonymous(cast, rf):
    inactive = _request_signed_in_as(cast.agent2, rf)
    User.objects.filter(pk=cast.agent2.pk).update(is_active=False)
    assert get_user(inactive).is_anonymous
    unknown = _request_signed_in_as(cast.agent1, rf)
    unknown.session[auth.SESSION_KEY] = "987654"
    assert get_user(unknown).is_anonymous
    foreign = _request_signed_in_as(cast.agent1, rf, backend="somewhere.else.Backend")
    assert get_user(foreign).is_anonymous


def test_a_session_signed_with_the_previous_secret_stays_signed_in_and_takes_the_new_hash(cast, rf, settings):
    request = _request_signed_in_as(cast.agent1, rf)
    old_key = request.session.session_key
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    user = get_user(request)
    assert user.pk == cast.agent1.pk
    assert request.session[auth.HASH_SESSION_KEY] == user.get_session_auth_hash()
    assert request.session.session_key != old_key


def test_pages_read_the_person_through_the_compiled_read(cast, client_for):
    client = client_for(cast.agent1)
    response = client.get("/queue/")
    assert response.status_code == 200 and response.wsgi_request.user.pk == cast.agent1.pk
    assert response.wsgi_request._cached_user.pk == cast.agent1.pk


def test_the_session_read_brings_the_configurations_stamp_along(db, django_assert_num_queries):
    from tracker import config_cache

    store = SessionStore()
    store["seen"] = 1
    store.save()
    with config_cache.scope():
        with django_assert_num_queries(1):
            assert SessionStore(store.session_key).load() == {"seen": 1}
            stamp = config_cache.read_stamp()  # no query of its own: the session's brought it
    with django_assert_num_queries(1):
        assert config_cache.read_stamp() == stamp  # outside a scope, read again: the same number
