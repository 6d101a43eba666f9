"""Settings are read from the environment; each case runs in a fresh interpreter."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = (
    "import json; from django.conf import settings as s; "
    "print(json.dumps({'db': s.DATABASES['default'], 'broker': s.CELERY_BROKER_URL, "
    "'cache': s.CACHES['default'], 'tz': s.TIME_ZONE, 'use_tz': s.USE_TZ, "
    "'transport': s.CELERY_BROKER_TRANSPORT_OPTIONS}, default=str))"
)


def load_settings(code: str = PROBE, **env: str) -> subprocess.CompletedProcess:
    ours = {"DATABASE_URL", "REDIS_URL", "RUNBOARD_BROKER_PREFIX", "RUNBOARD_REDIS_PREFIX"}
    clean = {k: v for k, v in os.environ.items() if k not in ours}
    clean.pop("SECRET_KEY", None)
    clean.pop("DEBUG", None)
    clean.update(env, DJANGO_SETTINGS_MODULE="dashboard.settings")
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=False,
    )


def test_nothing_set_gives_sqlite_and_an_embedded_broker():
    result = load_settings(DEBUG="1")
    values = json.loads(result.stdout)
    assert values["db"]["ENGINE"] == "django.db.backends.sqlite3"
    assert values["db"]["NAME"].endswith("var/runboard.sqlite3")
    assert values["broker"] == "filesystem://"
    assert values["tz"] == "UTC" and values["use_tz"] is True


def test_database_url_selects_postgresql():
    result = load_settings(DEBUG="1", DATABASE_URL="postgres://rb:pw@db.example:6543/runs")
    db = json.loads(result.stdout)["db"]
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["HOST"], db["PORT"], db["NAME"], db["USER"]) == ("db.example", 6543, "runs", "rb")


def test_redis_url_selects_redis_broker_and_cache():
    result = load_settings(DEBUG="1", REDIS_URL="redis://cache.example:6380/3")
    values = json.loads(result.stdout)
    assert values["broker"] == "redis://cache.example:6380/3"
    assert values["cache"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert values["cache"]["LOCATION"] == "redis://cache.example:6380/3"
    assert values["transport"]["global_keyprefix"] == ""


def test_a_broker_prefix_keeps_runboards_sharing_a_redis_apart():
    result = load_settings(DEBUG="1", REDIS_URL="redis://r:6379/0", RUNBOARD_BROKER_PREFIX="a:")
    assert json.loads(result.stdout)["transport"]["global_keyprefix"] == "a:"


def test_one_redis_prefix_keeps_both_the_broker_and_the_cache_apart():
    result = load_settings(DEBUG="1", REDIS_URL="redis://r:6379/0", RUNBOARD_REDIS_PREFIX="b:")
    values = json.loads(result.stdout)
    assert values["transport"]["global_keyprefix"] == "b:"
    assert values["cache"]["KEY_PREFIX"] == "b:"


def test_secret_key_is_required_unless_debug():
    result = load_settings()
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr
    assert load_settings(SECRET_KEY="s3cret").returncode == 0
