"""The emulated Airflow: its fixed credentials and the demo's backend on it."""

USER = "admin"
PASSWORD = "runboard-demo-pw"  # noqa: S105
CREDENTIALS = f"Airflow    Basic {USER}:{PASSWORD}  (REST API /api/v1)"
BACKENDS = [
    (
        {"name": "Apache Airflow (emulated)", "kind": "airflow"},
        {"username": USER, "password": PASSWORD},
    )
]
