from datetime import UTC, datetime

import pytest

from tests.factories import InstanceFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_times_show_in_the_chosen_zone_with_utc_and_vendor_time_on_hover(client):
    run = InstanceFactory(started_at=datetime(2026, 11, 1, 8, 0, tzinfo=UTC))
    run.backend.timezone = "Asia/Shanghai"
    run.backend.save()
    client.force_login(UserFactory(is_superuser=True))
    client.cookies["tz"] = "America/New_York"
    body = client.get(f"/runs/{run.pk}/").content.decode()
    # the zone by its unambiguous name (CST is China's and America's)
    assert "2026-11-01 03:00:00 America/New_York" in body and " EST" not in body
    assert 'title="2026-11-01 08:00:00 UTC · 2026-11-01 16:00:00 Asia/Shanghai"' in body


def test_preferences_are_saved_in_cookies_and_bad_values_ignored(client):
    client.force_login(UserFactory())
    reply = client.post("/preferences/", {"tz": "Europe/Berlin", "theme": "dark", "next": "/runs/"})
    assert reply.status_code == 302 and reply["Location"] == "/runs/"
    assert reply.cookies["tz"].value == "Europe/Berlin" and reply.cookies["theme"].value == "dark"
    bad = client.post(
        "/preferences/", {"tz": "Mars/Olympus", "theme": "neon", "next": "https://evil.example/"}
    )
    assert bad["Location"] == "/" and "tz" not in bad.cookies and "theme" not in bad.cookies
    client.cookies["theme"] = "dark"
    assert b'data-theme="dark"' in client.get("/runs/").content
