"""The OpenAPI 3 description of /api/v1, served at /api/v1/schema."""

STATUS = {"type": "string", "enum": ["PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELED",
                                     "SKIPPED", "UNKNOWN"]}  # fmt: skip
NULLABLE_TIME = {"type": "string", "format": "date-time", "nullable": True}
RUN = {
    "type": "object",
    "required": ["id", "external_id", "kind", "name", "status", "backend_id"],
    "properties": {
        "id": {"type": "integer"}, "external_id": {"type": "string"},
        "kind": {"type": "string", "enum": ["flow", "job", "task", "subtask"]},
        "name": {"type": "string"}, "status": STATUS, "vendor_status": {"type": "string"},
        "backend_id": {"type": "integer"}, "parent_id": {"type": "integer", "nullable": True},
        "definition_id": {"type": "string"}, "definition_name": {"type": "string"},
        "owner": {"type": "string"}, "planned_at": NULLABLE_TIME, "started_at": NULLABLE_TIME,
        "finished_at": NULLABLE_TIME, "duration": {"type": "number", "nullable": True},
        "attempts": {"type": "integer", "nullable": True},
        "error_message": {"type": "string"},
    },
}  # fmt: skip
LIST_PARAMS = [
    {"name": "backend", "in": "query", "schema": {"type": "array", "items": {"type": "integer"}},
     "style": "form", "explode": True},
    {"name": "kind", "in": "query", "schema": {"type": "string"}},
    {"name": "status", "in": "query", "schema": STATUS},
    {"name": "not", "in": "query", "schema": STATUS, "description": "exclude this status"},
    {"name": "window", "in": "query", "schema": {"type": "string", "enum": [
        "1h", "24h", "7d", "30d", "all", "custom"]}},
    {"name": "start", "in": "query", "schema": {"type": "string", "format": "date"},
     "description": "first day (UTC) of window=custom"},
    {"name": "end", "in": "query", "schema": {"type": "string", "format": "date"},
     "description": "last day (UTC) of window=custom"},
    {"name": "since", "in": "query", "schema": {"type": "string", "format": "date-time"},
     "description": "window=custom from this moment (instead of start/end)"},
    {"name": "until", "in": "query", "schema": {"type": "string", "format": "date-time"},
     "description": "window=custom up to this moment (open when absent)"},
    {"name": "team", "in": "query", "schema": {"type": "integer"}},
    {"name": "owner", "in": "query", "schema": {"type": "string"}},
    {"name": "definition", "in": "query", "schema": {"type": "string"}},
    {"name": "q", "in": "query", "schema": {"type": "string"},
     "description": "name contains, or a vendor id (steps included)"},
    {"name": "steps", "in": "query", "schema": {"type": "string", "enum": ["1"]},
     "description": "1: steps (tasks, nodes, subtasks) too; top-level runs only otherwise"},
    {"name": "sort", "in": "query", "schema": {"type": "string", "enum": [
        "-run_at", "run_at", "name", "-name", "status", "-status"]}},
    {"name": "after", "in": "query", "schema": {"type": "string"},
     "description": "cursor from `next`"},
]  # fmt: skip
ERROR = {"description": "error", "content": {"application/json": {"schema": {
    "type": "object", "properties": {"error": {"type": "string"}}}}}}  # fmt: skip


def ok(schema: dict) -> dict:
    return {"description": "OK", "content": {"application/json": {"schema": schema}}}


SCHEMA = {
    "openapi": "3.0.3",
    "info": {"title": "Runboard API", "version": "1"},
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                   "schemas": {"Run": RUN}},
    "security": [{"bearer": []}],
    "paths": {
        "/api/v1/runs": {"get": {"summary": "Runs, filtered and keyset-paged like the run list",
            "parameters": LIST_PARAMS, "responses": {"200": ok({"type": "object",
                "required": ["runs", "next"], "properties": {
                    "runs": {"type": "array", "items": {"$ref": "#/components/schemas/Run"}},
                    "next": {"type": "string", "nullable": True}}}), "401": ERROR}}},
        "/api/v1/runs/{id}": {"get": {"summary": "One run with its children and edges",
            "parameters": [{"name": "id", "in": "path", "required": True,
                            "schema": {"type": "integer"}}],
            "responses": {"200": ok({"allOf": [{"$ref": "#/components/schemas/Run"}, {
                "type": "object", "properties": {
                    "children": {"type": "array", "items": {"type": "integer"}},
                    "failing_step": {"type": "integer", "nullable": True,
                                     "description": "the step that failed the run, if any"},
                    "edges": {"type": "array", "items": {"type": "array",
                                                         "items": {"type": "integer"}}}}}]}),
                          "401": ERROR, "404": ERROR}}},
        "/api/v1/summary": {"get": {"summary": "Runs by status and success rate",
            "parameters": [{"name": "window", "in": "query", "schema": {
                "type": "string", "enum": ["24h", "7d", "30d"]}},
                {"name": "backend", "in": "query", "schema": {"type": "integer"}},
                {"name": "team", "in": "query", "schema": {"type": "integer"}}],
            "responses": {"200": ok({"type": "object", "properties": {
                "window": {"type": "string"},
                "by_status": {"type": "object", "additionalProperties": {"type": "integer"}},
                "success_rate": {"type": "number", "nullable": True}}}), "401": ERROR}}},
        "/api/v1/backends": {"get": {"summary": "Backends and their health",
            "responses": {"200": ok({"type": "object", "properties": {"backends": {
                "type": "array", "items": {"type": "object"}}}}), "401": ERROR}}},
    },
}  # fmt: skip
