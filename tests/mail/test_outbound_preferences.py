"""A person sets the language of their mail beside their notification settings."""
import pytest

from sla import services
from tracker.errors import ValidationFailed

pytestmark = pytest.mark.django_db


def test_an_unknown_language_is_refused_in_place_and_the_next_save_works(cast, client_for):
    client = client_for(cast.requester)

    refused = client.post("/notifications/preferences/", {"language": "fr", "update-email": "on"})

    assert refused.status_code == 400
    assert "Select a valid choice" in refused.content.decode()
    cast.requester.refresh_from_db()
    assert cast.requester.language == ""
    saved = client.post("/notifications/preferences/", {"language": "de", "update-email": "on"})
    assert saved.status_code == 302
    cast.requester.refresh_from_db()
    assert cast.requester.language == "de"
    assert 'value="de" selected' in client.get("/notifications/").content.decode()


def test_the_domain_refuses_a_language_mail_is_not_written_in(cast):
    with pytest.raises(ValidationFailed, match="Unknown language 'fr'"):
        services.mail_language_set(user=cast.requester, language="fr")
    services.mail_language_set(user=cast.requester, language="")
    cast.requester.refresh_from_db()
    assert cast.requester.language == ""
