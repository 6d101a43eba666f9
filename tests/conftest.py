import pytest


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
