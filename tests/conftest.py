import os

import pytest

# Alert receivers in tests listen on loopback, which production refuses as a target
# (instances/alerts/egress.py); allowed here as an administrator would allow an intranet
# network: in this process (below) and in the workers tests start (the environment).
# tests/alerts/test_egress.py allows nothing, to check the refusals.
LOOPBACK = ["127.0.0.0/8", "::1/128"]
os.environ.setdefault("RUNBOARD_ALERT_ALLOWED_NETWORKS", ",".join(LOOPBACK))


@pytest.fixture(autouse=True)
def _loopback_receivers(settings):
    settings.RUNBOARD_ALERT_ALLOWED_NETWORKS = LOOPBACK


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    """Tests do not run collectstatic; the hashed-manifest storage is for production."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def emulator():
    """The vendor emulator on a free port, its clock frozen so tests decide when runs move."""
    from instances.emulator.runner import run_emulator

    with run_emulator(seed=7, speed=0) as emu:
        yield emu


@pytest.fixture
def fake(monkeypatch):
    """A scripted vendor (tests/pipeline/fake.py) registered as backend kind "fake"."""
    from instances.registry import CONNECTORS
    from tests.pipeline.fake import FakeConnector

    monkeypatch.setitem(CONNECTORS, "fake", FakeConnector)
    monkeypatch.setattr(FakeConnector, "vendor", {})
    monkeypatch.setattr(FakeConnector, "calls", [])
    monkeypatch.setattr(FakeConnector, "fail_on_page", None)
    monkeypatch.setattr(FakeConnector, "error", None)
    return FakeConnector
