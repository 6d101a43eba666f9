"""The calls that act on an Airflow run, as each major takes them ("v1": Airflow 2, "v2":
Airflow 3): clearing task instances (a retry in the same run), setting one's state."""

from urllib.parse import quote

from instances.connectors.acting import Target, VendorCall


def logical_now(api: str) -> dict:
    """Airflow 3 asks for the logical date of a triggered run (None: now); 2 takes none."""
    return {"logical_date": None} if api == "v2" else {}


def set_state(api: str, run_path: str, target: Target, dry_run: bool) -> VendorCall:
    """A task instance set successful. Airflow 2 takes dry_run (true unless said); Airflow
    3 commits at once, its preview is a path of its own."""
    map_index = (target.step_raw or {}).get("map_index")
    mapped = f"/{map_index}" if isinstance(map_index, int) and map_index >= 0 else ""
    path = f"{run_path}/taskInstances/{quote(target.step_definition_id)}{mapped}"
    if api == "v2":
        path += "/dry_run" if dry_run else ""
        return VendorCall("PATCH", path, body={"new_state": "success"})
    return VendorCall("PATCH", path, body={"dry_run": dry_run, "new_state": "success"})


def clear(api: str, dag_id: str, run_id: str, target: Target, dry_run: bool) -> VendorCall:
    """Clear the run's failed task instances (or one task's), so the scheduler runs them
    again in the same run. Every default is sent: dry_run's is true, and reset_dag_runs's
    differs between the majors."""
    body = {
        "dry_run": dry_run,
        "dag_run_id": run_id,
        "only_failed": True,
        "only_running": False,
        "include_upstream": False,
        "include_downstream": False,
        "include_future": False,
        "include_past": False,
        "reset_dag_runs": True,
    }
    if target.step_id:
        task_id = target.step_definition_id
        map_index = (target.step_raw or {}).get("map_index")
        mapped = api == "v2" and isinstance(map_index, int) and map_index >= 0
        body["task_ids"] = [[task_id, map_index]] if mapped else [task_id]
    return VendorCall("POST", f"/api/{api}/dags/{quote(dag_id)}/clearTaskInstances", body=body)
