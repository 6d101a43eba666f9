"""OpenLineage: a backend its schedulers push run events to (POST /api/v1/lineage), never
polled. Its connector only says so; instances/lineage receives and folds the events."""

from instances.connectors.base import Connector, ConnectorError, LogChunk


class PushedConnector(Connector):
    kind = "openlineage"
    label = "OpenLineage (pushed)"
    pushed = True
    finished_rereads = 0

    def iter_pages(self, since):
        return iter(())

    def refresh(self, external_ids):
        return []  # nothing to ask: the scheduler tells

    def fetch_log(self, external_id, log_locator, max_bytes) -> LogChunk:
        raise ConnectorError("A pushed run's log stays with the scheduler that ran it.")


CONNECTORS = (PushedConnector,)
