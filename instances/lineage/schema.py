"""Is it an OpenLineage run event? Checked against the vendored spec (spec/): the event as a
RunEvent of OpenLineage 2-0-2, and the run facets Runboard reads against their own schemas."""

import json
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SPEC = Path(__file__).parent / "spec"
FACETS = (
    "ParentRunFacet",
    "ErrorMessageRunFacet",
    "NominalTimeRunFacet",
    "JobDependenciesRunFacet",
)
MAX_PROBLEMS = 5  # said back of one event


@cache
def validators() -> tuple[Draft202012Validator, list[Draft202012Validator]]:
    documents = [
        json.loads((SPEC / f"{name}.json").read_text()) for name in ("OpenLineage", *FACETS)
    ]
    registry = Registry().with_resources(
        (document["$id"], Resource.from_contents(document)) for document in documents
    )
    main, facets = documents[0], documents[1:]
    event = {"$ref": f"{main['$id']}#/$defs/RunEvent"}
    return (
        Draft202012Validator(event, registry=registry),
        [Draft202012Validator(facet, registry=registry) for facet in facets],
    )


def problems(event) -> list[str]:
    """What makes `event` no OpenLineage run event (empty: it is one), in a few lines."""
    if not isinstance(event, dict):
        return ["an event is a JSON object"]
    whole, facets = validators()
    found = [error for error in whole.iter_errors(event)]
    run_facets = event.get("run", {}).get("facets") if isinstance(event.get("run"), dict) else None
    if isinstance(run_facets, dict):
        found += [error for facet in facets for error in facet.iter_errors(run_facets)]
    return [where(error) for error in found[:MAX_PROBLEMS]]


def where(error) -> str:
    path = "/".join(str(part) for part in error.absolute_path) or "(the event)"
    return f"{path}: {error.message[:200]}"
