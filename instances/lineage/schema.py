"""Is it an OpenLineage run event? Checked against the vendored spec (spec/): the event as a
RunEvent of OpenLineage 2-0-2, and the run facets Runboard reads against their own schemas.
fastjsonschema compiles them once into Python (a batch of 500 events is checked in ~15 ms)."""

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

import fastjsonschema

SPEC = Path(__file__).parent / "spec"
FACETS = (
    "ParentRunFacet",
    "ErrorMessageRunFacet",
    "NominalTimeRunFacet",
    "JobDependenciesRunFacet",
)


@cache
def validators() -> list[tuple[Callable[[dict], object], bool]]:
    """(validate, of the run's facets alone) for the event and each facet Runboard reads."""
    documents = {
        name: json.loads((SPEC / f"{name}.json").read_text()) for name in ("OpenLineage", *FACETS)
    }
    by_id = {document["$id"]: document for document in documents.values()}
    # the facets' schemas name the main spec by its URL: it is answered from the vendored copy
    handlers = {"https": lambda uri: by_id[uri.split("#")[0]]}
    event = {**documents["OpenLineage"], "$ref": "#/$defs/RunEvent"}
    return [(fastjsonschema.compile(event, handlers=handlers), False)] + [
        (fastjsonschema.compile(documents[name], handlers=handlers), True) for name in FACETS
    ]


def problems(event) -> list[str]:
    """What makes `event` no OpenLineage run event (empty: it is one)."""
    if not isinstance(event, dict):
        return ["an event is a JSON object"]
    run = event.get("run")
    facets = run.get("facets") if isinstance(run, dict) else None
    for validate, of_facets in validators():
        try:
            if not of_facets:
                validate(event)
            elif isinstance(facets, dict):
                validate(facets)
        except fastjsonschema.JsonSchemaException as exc:
            where = "run.facets." if of_facets else ""
            return [f"{where}{str(exc).removeprefix('data.')[:300]}"]
    return []
