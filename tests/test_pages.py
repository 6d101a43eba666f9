import pytest

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_login_page_renders_with_csp(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_logged_in_user_gets_the_dashboard_shell(admin_client):
    response = admin_client.get("/")
    assert response.status_code == 200
    assert b"Overview" in response.content
