"""The connector registry, from the vendor folders: Backend.kind choices derive from it."""

from instances.vendors import parts

from .base import Connector

CONNECTORS: dict[str, type[Connector]] = {
    cls.kind: cls for module in parts("connector").values() for cls in module.CONNECTORS
}


def kind_choices() -> list[tuple[str, str]]:
    return [(kind, cls.label) for kind, cls in sorted(CONNECTORS.items())]
