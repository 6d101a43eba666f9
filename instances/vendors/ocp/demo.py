"""The emulated OCP: its fixed credentials and the demo's backend on it."""

USER = "admin"
PASSWORD = "runboard-demo-pw"  # noqa: S105
# a user with TASK_VIEWER only: reads, and is refused every action (TASK_MANAGER)
VIEWER = "task-viewer"
ACCESS_KEY_ID = "runboard-demo-ocp-ak"
ACCESS_KEY_SECRET = "runboard-demo-ocp-sk"  # noqa: S105
CREDENTIALS = (
    f"OCP        Basic {USER}:{PASSWORD}  or access key {ACCESS_KEY_ID} / {ACCESS_KEY_SECRET}"
)
BACKENDS = [
    ({"name": "OceanBase OCP (emulated)", "kind": "ocp"}, {"username": USER, "password": PASSWORD})
]
