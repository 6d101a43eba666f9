from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import pytest

from .server import JUDGED_DAGS, metadata_database, prepare, running


@pytest.fixture(scope="module")
def airflows(tmp_path_factory, live_server):
    """A real Airflow 2 and 3, started side by side, each given one run of every judged DAG
    (and a second rb_mapped run, to delete) as soon as it is up; their OpenLineage events go
    to this Runboard."""
    homes = {major: tmp_path_factory.mktemp(f"airflow{major}") for major in (2, 3)}
    with ExitStack() as stack:
        databases = [stack.enter_context(metadata_database(major)) for major in homes]
        with ThreadPoolExecutor(2) as pool:
            runboard = [live_server.url] * len(homes)
            made = pool.map(prepare, homes, homes.values(), runboard, databases)
            prepared = dict(zip(homes, made, strict=True))
        started = {m: stack.enter_context(running(m, homes[m], prepared[m])) for m in homes}
        for airflow in started.values():
            with airflow.client() as client:
                for dag_id in (*JUDGED_DAGS, "rb_mapped"):
                    # Airflow 3 asks for the logical date; None is a run "now"
                    body = {"logical_date": None} if airflow.major == 3 else {}
                    client.post(f"dags/{dag_id}/dagRuns", json=body).raise_for_status()
        yield started
