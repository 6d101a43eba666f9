"""Alert tests' shared fixtures: a scripted backend, and local receivers for webhooks and mail."""

import pytest

from tests.alerts.receivers import http_receiver, smtp_receiver
from tests.factories import BackendFactory


@pytest.fixture
def receivers(settings):
    with http_receiver() as web, smtp_receiver() as smtp:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = smtp.host, smtp.port
        settings.RUNBOARD_BASE_URL = "https://runboard.example"
        yield web, smtp


@pytest.fixture
def backend(fake):
    return BackendFactory(kind="fake", name="EnOS prod")
