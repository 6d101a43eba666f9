"""The vendor registry. Each folder here is one vendor API, named as it is everywhere (backend
kind, emulator, fault settings, samples), and holds all of it: its connector
(`connector.CONNECTORS`), request signing, its emulator (routes, seed samples, gateway
checks, `PATHS` for faults), its demo backend (`demo`) and its notes (`README.md`). An API
that extends another of its vendor's (EnOS v2.0 of v2.1, Data Map of Factory's auth) imports
what they share from that folder. Adding an API is a folder and one line below."""

from importlib import import_module
from types import ModuleType

VENDORS = (
    "enos_batch_v21",
    "enos_dataflow_v20",
    "ocp",
    "dataarts_factory",
    "dataarts_datamap",
    "airflow",
)


def parts(name: str) -> dict[str, ModuleType]:
    """Each API's `name` module (connector, emulator, demo), by API."""
    return {vendor: import_module(f"{__name__}.{vendor}.{name}") for vendor in VENDORS}
