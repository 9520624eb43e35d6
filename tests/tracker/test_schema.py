"""The OpenAPI 3 document is valid and describes the ticket contract."""
import yaml
from openapi_spec_validator import validate


def test_the_openapi_schema_validates_and_lists_the_ticket_endpoints(cast, client):
    client.force_login(cast.agent1)
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    validate(schema)
    paths = schema["paths"]
    for path in ("/api/v1/tickets/", "/api/v1/tickets/{key}/", "/api/v1/tickets/{key}/transition/",
                 "/api/v1/tickets/{key}/escalate/", "/api/v1/tickets/{key}/comments/",
                 "/api/v1/tickets/{key}/links/", "/api/v1/tickets/{key}/history/"):
        assert path in paths, path
    patch = paths["/api/v1/tickets/{key}/"]["patch"]
    assert any(p["name"] == "If-Match" and p["in"] == "header" for p in patch["parameters"])


def test_interactive_docs_are_served_without_a_cdn(cast, client):
    client.force_login(cast.agent1)
    html = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/" in html and "cdn" not in html.lower()


def test_the_assign_body_documents_take_over(cast, client):
    client.force_login(cast.agent1)
    schema = yaml.safe_load(client.get("/api/schema/").content)
    take_over = schema["components"]["schemas"]["AssignRequest"]["properties"]["take_over"]
    assert take_over["type"] == "boolean" and take_over["default"] is False
    assert "holds it" in take_over["description"]


def test_blank_choice_fields_and_the_unpaginated_history_match_the_schema(cast, client):
    client.force_login(cast.agent1)
    schema = yaml.safe_load(client.get("/api/schema/").content)
    ticket = schema["components"]["schemas"]["Ticket"]["properties"]
    for name in ("risk", "change_type", "severity", "implementation_result"):
        assert {"$ref": "#/components/schemas/BlankEnum"} in ticket[name]["oneOf"], name
    history = schema["paths"]["/api/v1/tickets/{key}/history/"]["get"]["responses"]["200"]
    assert history["content"]["application/json"]["schema"]["type"] == "array"
