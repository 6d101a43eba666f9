"""The vendor registry. Each folder here is one vendor platform and holds all of it: its
connectors (`connector.CONNECTORS`, one per API), request signing, its emulator (routes,
seed samples, gateway checks), the demo tenant (`demo`) and its notes (`README.md`).
Adding a vendor is a folder and one line below."""

from importlib import import_module
from types import ModuleType

VENDORS = ("enos", "ocp", "dataarts", "airflow")


def parts(name: str) -> dict[str, ModuleType]:
    """Each vendor's `name` module (connector, emulator, demo), by vendor."""
    return {vendor: import_module(f"{__name__}.{vendor}.{name}") for vendor in VENDORS}
