from portal.extensions import db
from tests.conftest import log_in


def test_healthz_is_alive_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_reports_each_dependency_with_latency(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    for name in ("database", "redis"):
        assert response.json["checks"][name]["status"] == "ok"
        assert isinstance(response.json["checks"][name]["latency_ms"], float)


def test_readyz_is_503_when_redis_is_down(app, client):
    from tests.servers import refusing_port

    app.config["REDIS_URL"] = f"redis://127.0.0.1:{refusing_port()}/0"
    app.extensions.pop("pier_redis", None)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["redis"]["status"] == "down"
    assert response.json["checks"]["database"]["status"] == "ok"


def test_unknown_route_gets_the_styled_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert b"Page not found" in response.data
    assert b"<nav" in response.data


def test_oversized_body_gets_413(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post("/login", data={"email": "x" * 5000, "password": "y"})
    assert response.status_code == 413
    assert b"larger than Pier accepts" in response.data


def test_an_unexpected_error_shows_no_trace(app, client, make_person):
    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = client.get("/boom")
    assert response.status_code == 500
    assert b"Something went wrong" in response.data
    assert b"secret internals" not in response.data and b"Traceback" not in response.data
    assert response.headers["X-Request-ID"].encode() in response.data


def test_json_clients_get_json_errors(client):
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json["error"] == "Page not found"


def test_security_headers(client):
    response = client.get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_platform_admin_dashboard_and_audit_filters(app, as_role, make_person):
    admin, _ = as_role("admin")
    owner, _ = as_role("owner")
    owner.submit(
        "/account/", {"name": "Renamed", "email": "renamed@example.com", "timezone": "UTC"}
    )
    page = admin.get("/admin/")
    assert page.status_code == 200 and b"Tenants" in page.data
    audit = admin.get("/admin/audit?action=user.")
    assert b"user.profile_updated" in audit.data
    none = admin.get("/admin/audit?action=nothing.")
    assert b"Nothing matches." in none.data
    fragment = admin.get(
        "/admin/audit?actor=renamed", headers={"HX-Request": "true", "HX-Target": "audit-table"}
    )
    assert fragment.get_data(as_text=True).lstrip().startswith('<div id="audit-table"')
    with app.app_context():
        db.session.remove()


def test_a_person_without_a_tenant_sees_a_clear_page(app, client, make_person):
    log_in(client, make_person(None))
    response = client.get("/")
    assert response.status_code == 200
    assert b"You are not in an organisation" in response.data
