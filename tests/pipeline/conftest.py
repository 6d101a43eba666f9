import pytest

from instances.connectors import CONNECTORS
from tests.factories import BackendFactory
from tests.pipeline.fake import FakeConnector


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setitem(CONNECTORS, "fake", FakeConnector)
    monkeypatch.setattr(FakeConnector, "vendor", {})
    monkeypatch.setattr(FakeConnector, "calls", [])
    monkeypatch.setattr(FakeConnector, "fail_on_page", None)
    monkeypatch.setattr(FakeConnector, "error", None)
    return FakeConnector


@pytest.fixture
def backend(fake):
    return BackendFactory(kind="fake")
