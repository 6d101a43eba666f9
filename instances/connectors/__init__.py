"""The connector registry: Backend.kind choices derive from it."""

from .base import Connector
from .dataarts import DataArtsDataMap, DataArtsFactory
from .enos import EnosBatchV21, EnosDataflowV20
from .ocp import OcpConnector

CONNECTORS: dict[str, type[Connector]] = {
    cls.kind: cls
    for cls in (EnosBatchV21, EnosDataflowV20, DataArtsFactory, DataArtsDataMap, OcpConnector)
}


def kind_choices() -> list[tuple[str, str]]:
    return [(kind, cls.label) for kind, cls in sorted(CONNECTORS.items())]
