"""The registry of vendor APIs, one folder each under instances/vendors/, and of their
connectors: Backend.kind choices derive from it. It imports the folders by name, so nothing
below it (connectors, the vendor folders, the emulator) imports upward."""

from importlib import import_module
from types import ModuleType

from instances.connectors.base import Connector

VENDORS = (
    "enos_batch_v21",
    "enos_dataflow_v20",
    "ocp",
    "dataarts_factory",
    "dataarts_datamap",
    "airflow",
)

# APIs that push their runs to Runboard: a connector, no emulator, no demo, never polled
PUSHED = ("openlineage",)


def parts(name: str) -> dict[str, ModuleType]:
    """Each API's `name` module (connector, emulator, demo), by API."""
    return {vendor: import_module(f"instances.vendors.{vendor}.{name}") for vendor in VENDORS}


CONNECTORS: dict[str, type[Connector]] = {
    cls.kind: cls
    for module in [
        *parts("connector").values(),
        *(import_module(f"instances.vendors.{api}.connector") for api in PUSHED),
    ]
    for cls in module.CONNECTORS
}
PUSHED_KINDS = frozenset(kind for kind, cls in CONNECTORS.items() if cls.pushed)


def kind_choices() -> list[tuple[str, str]]:
    return [(kind, cls.label) for kind, cls in sorted(CONNECTORS.items())]
