"""The emulator's HTTP app: every vendor under its own paths, plus a control API under
/_emulator/ (ground truth, status changes, clock, faults) for tests and demos."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from instances.registry import parts

from . import scenario as sc
from .common import RunsById, World, json_response
from .faults import Fault, FaultMiddleware

EMULATORS = parts("emulator")  # API → its emulator module


def runs_by_vendor_id(scenario: sc.Scenario, api: str) -> RunsById:
    """Every run of one API under the id the API gives it."""
    return EMULATORS[api].runs_by_id(scenario, api)


def control_target(scenario: sc.Scenario, api: str, wanted: str) -> sc.Run | None:
    """The run a control call names: by the API's own id, or by Runboard's external id where
    that prefixes it (DataArts Factory's job/instance: the instance id alone here)."""
    runs = runs_by_vendor_id(scenario, api)
    run, _ = runs.get(wanted) or runs.get(wanted.rsplit("/", 1)[-1]) or (None, None)
    return run


def truth(request: Request):
    """Ground truth for tests: every run of one API, by its id there → our scenario status."""
    scenario = request.app.state.world.scenario
    now = scenario.now()
    if (api := request.path_params["api"]) not in EMULATORS:
        return json_response({"error": "no such API"}, 404)
    found = runs_by_vendor_id(scenario, api)
    return json_response(
        {
            vendor_id: (step.status(now, run) if step else run.status(now))
            for vendor_id, (run, step) in found.items()
        }
    )


async def force_status(request: Request):
    """POST {"status": "failed"} forces one run into a state (tests' "status change")."""
    scenario = request.app.state.world.scenario
    api, wanted = request.path_params["api"], request.path_params["run_id"]
    if api not in EMULATORS:
        return json_response({"error": "no such API"}, 404)
    run = control_target(scenario, api, wanted)
    if run is None:
        return json_response({"error": "no such run"}, 404)
    run.forced = (await request.json())["status"]
    return json_response({"id": wanted, "status": run.status(scenario.now())})


async def change_run(request: Request):
    """POST …/delete removes one run from its vendor; POST …/patch {"record": {…}, "steps":
    {"0": {…}}} overwrites fields of its record and its steps' (hostile records)."""
    scenario = request.app.state.world.scenario
    api, wanted = request.path_params["api"], request.path_params["run_id"]
    if api not in EMULATORS or request.path_params["change"] not in ("delete", "patch"):
        return json_response({"error": "no such API or change"}, 404)
    run = control_target(scenario, api, wanted)
    if run is None:
        return json_response({"error": "no such run"}, 404)
    if request.path_params["change"] == "delete":
        scenario.delete(run)
    else:
        run.patch = await request.json()
    return json_response({"id": wanted, request.path_params["change"]: True})


async def advance(request: Request):
    request.app.state.world.scenario.advance(float((await request.json())["seconds"]))
    return json_response({"now": request.app.state.world.scenario.now().isoformat()})


async def faults(request: Request):
    table: dict[str, Fault] = request.app.state.faults
    if request.method == "POST":
        for vendor, settings in (await request.json()).items():
            if settings is None:
                table.pop(vendor, None)
            else:
                table[vendor] = Fault(**settings)
    return json_response({vendor: fault.as_dict() for vendor, fault in table.items()})


async def expire_tokens(request: Request):
    request.app.state.world.tokens.clear()
    return json_response({"expired": True})


def build_app(
    scenario: sc.Scenario,
    fault_table: dict[str, Fault] | None = None,
    vendors: tuple[str, ...] = tuple(EMULATORS),
):
    """One Starlette app serving `vendors` (all by default) plus the control API."""
    for vendor in vendors:
        if add_samples := getattr(EMULATORS[vendor], "add_samples", None):
            add_samples(scenario)
    app = Starlette(
        routes=[
            Route("/_emulator/truth/{api}", truth),
            # vendor ids may hold "/" (DataArts job/instance, Airflow dag/run), as is or %2F
            Route("/_emulator/runs/{api}/{run_id:path}/status", force_status, methods=["POST"]),
            Route("/_emulator/runs/{api}/{run_id:path}/{change:str}", change_run, methods=["POST"]),
            Route("/_emulator/clock", advance, methods=["POST"]),
            Route("/_emulator/faults", faults, methods=["GET", "POST"]),
            Route("/_emulator/tokens/expire", expire_tokens, methods=["POST"]),
            *(route for vendor in vendors for route in EMULATORS[vendor].routes),
        ]
    )
    app.state.world = World(scenario=scenario, tokens={})
    app.state.faults = fault_table if fault_table is not None else {}
    return FaultMiddleware(app, app.state.faults, seed=scenario.seed), app
