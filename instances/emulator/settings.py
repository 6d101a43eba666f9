"""Settings for `manage.py emulate` alone. The emulator is a development and test tool: it
keeps no state in a database and signs nothing with Django's key, so it runs with no
SECRET_KEY, DEBUG or DATABASE_URL set, as the README shows."""

SECRET_KEY = "emulator-only-it-signs-nothing"  # noqa: S105 - never used to sign
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "instances"]
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
