"""Sessions are Django's database sessions, read with a query compiled once per process."""
from datetime import timedelta

from django.contrib.sessions.models import Session
from django.utils import timezone

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
