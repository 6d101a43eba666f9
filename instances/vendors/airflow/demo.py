"""The emulated Airflow 2 and 3: their fixed credentials and the demo's backends on them."""

USER = "admin"
PASSWORD = "runboard-demo-pw"  # noqa: S105
CREDENTIALS = (
    f"Airflow    Basic {USER}:{PASSWORD}  (Airflow 2, /api/v1; "
    f"Airflow 3 under /airflow3, /api/v2, JWT from POST /airflow3/auth/token)"
)
BACKENDS = [
    (
        {"name": "Apache Airflow (emulated)", "kind": "airflow"},
        {"username": USER, "password": PASSWORD},
    ),
    (
        # base_url: the path of the emulated Airflow 3 on the emulator
        {"name": "Apache Airflow 3 (emulated)", "kind": "airflow", "base_url": "/airflow3"},
        {"username": USER, "password": PASSWORD},
    ),
]
