"""The emulator's HTTP app: every vendor under its own paths, plus a control API under
/_emulator/ (ground truth, status changes, clock, faults) for tests and demos."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from . import enos, huawei, ocp
from . import scenario as sc
from .common import World, json_response
from .faults import Fault, FaultMiddleware
from .samples import add_seed_samples


def runs_by_vendor_id(
    scenario: sc.Scenario, vendor: str
) -> dict[str, tuple[sc.Run, sc.Step | None]]:
    """Every run of one vendor under the id its API gives it; Data Map lists operator runs."""
    runs = scenario.visible(vendor)
    if vendor == "datamap":
        return {step.id: (run, step) for run in runs for step in run.steps}
    if vendor in ("ocp", "dataarts_factory"):
        return {str(run.seq): (run, None) for run in runs}
    return {run.id: (run, None) for run in runs}


def truth(request: Request):
    """Ground truth for tests: every run of one vendor, by vendor id → our scenario status."""
    scenario = request.app.state.world.scenario
    now = scenario.now()
    found = runs_by_vendor_id(scenario, request.path_params["vendor"])
    return json_response({vendor_id: (step.status(now, run) if step else run.status(now))
                          for vendor_id, (run, step) in found.items()})  # fmt: skip


async def force_status(request: Request):
    """POST {"status": "failed"} forces one run into a state (tests' "status change")."""
    scenario = request.app.state.world.scenario
    vendor, wanted = request.path_params["vendor"], request.path_params["run_id"]
    run, _ = runs_by_vendor_id(scenario, vendor).get(wanted, (None, None))
    if run is None:
        return json_response({"error": "no such run"}, 404)
    run.forced = (await request.json())["status"]
    return json_response({"id": wanted, "status": run.status(scenario.now())})


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


VENDOR_ROUTES = {"enos": enos.routes, "huawei": huawei.routes, "ocp": ocp.routes}


def build_app(scenario: sc.Scenario, fault_table: dict[str, Fault] | None = None,
              vendors: tuple[str, ...] = tuple(VENDOR_ROUTES)):  # fmt: skip
    """One Starlette app serving `vendors` (all by default) plus the control API."""
    add_seed_samples(scenario)
    app = Starlette(routes=[
        Route("/_emulator/truth/{vendor}", truth),
        Route("/_emulator/runs/{vendor}/{run_id}/status", force_status, methods=["POST"]),
        Route("/_emulator/clock", advance, methods=["POST"]),
        Route("/_emulator/faults", faults, methods=["GET", "POST"]),
        Route("/_emulator/tokens/expire", expire_tokens, methods=["POST"]),
        *(route for vendor in vendors for route in VENDOR_ROUTES[vendor]),
    ])  # fmt: skip
    app.state.world = World(scenario=scenario, tokens={})
    app.state.faults = fault_table if fault_table is not None else {}
    return FaultMiddleware(app, app.state.faults, seed=scenario.seed), app
