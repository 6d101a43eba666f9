import pytest

from tests.factories import BackendFactory


@pytest.fixture
def backend(fake):
    return BackendFactory(kind="fake")
