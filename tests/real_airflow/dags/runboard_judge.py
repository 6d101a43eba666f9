"""The judge's DAGs, read by a real Airflow 2 and 3 alike: every shape a run takes that
Runboard must store as Airflow reports it. Runs are only triggered by the tests."""

from datetime import datetime, timedelta

try:  # Airflow 3
    from airflow.sdk import DAG, Variable, task
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.decorators import task
    from airflow.models import Variable

ARGS = {"owner": "data-eng", "retries": 0, "retry_delay": timedelta(seconds=1)}
START = datetime(2024, 1, 1)


def judged(dag_id: str, **kwargs):
    return DAG(
        dag_id,
        start_date=START,
        schedule=None,
        catchup=False,
        default_args=ARGS,
        tags=["runboard", "judge"],
        **kwargs,
    )


with judged("rb_mapped", dag_display_name="Mapped 映射", doc_md="extract, map, load"):

    @task
    def extract():
        return ["a", "b", "c"]

    @task(owner="mapper", map_index_template="{{ task.op_kwargs['part'] }}")
    def transform(part):
        return part.upper()

    @task
    def load(parts):
        print("loaded", sorted(parts))

    load(transform.expand(part=extract()))


with judged("rb_fails"):

    @task
    def prepare():
        print("prepared")

    @task
    def reconcile():
        print("comparing ledgers")
        raise ValueError("ledger total mismatch: 42 != 41")

    @task
    def publish():
        print("published")

    @task
    def notify():
        print("notified")

    prepared = prepare()
    checked = reconcile()
    prepared >> checked >> [publish(), notify()]


with judged("rb_flaky"):

    @task(retries=1)
    def sometimes(ti=None):
        if ti.try_number == 1:
            raise ConnectionError("warehouse unreachable on the first try")
        print("reached the warehouse")

    sometimes()


with judged("rb_always"):

    @task(retries=1)
    def never():
        raise RuntimeError("quota exceeded for project judge")

    never()


with judged("rb_clearable"):

    @task
    def gate():
        try:
            opened = Variable.get("rb_gate") == "open"
        except Exception:  # unset: KeyError in Airflow 2, a runtime error in 3
            opened = False
        if not opened:
            raise PermissionError("gate is closed")
        print("gate is open")

    gate()
