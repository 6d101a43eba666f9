"""What differs between the emulated Airflow 2 and 3 over the same runs: paths, record shapes,
error documents, and signing in (Basic auth; JWTs from POST /auth/token)."""

import base64
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from starlette.requests import Request
from starlette.responses import Response

from instances.emulator import scenario as sc
from instances.emulator.common import json_response, world

from . import demo
from .emulator_records import dag, dag_run, task_instance
from .emulator_records_v2 import dag_run_v2, dag_v2, task_instance_v2

DOCS = "https://airflow.apache.org/docs/apache-airflow/2.10.4/stable-rest-api-ref.html"
AIRFLOW3_PATH = "/airflow3"  # where the emulated Airflow 3 lives (its base URL's path)
TOKEN_SECONDS = 86400  # [api_auth] jwt_expiration_time
SECRET = secrets.token_bytes(64)  # [api_auth] jwt_secret (HS512 wants 64 bytes)


@dataclass(frozen=True)
class Major:
    """What differs between the emulated Airflow 2 and Airflow 3 over the same runs."""

    version: str
    prefix: str  # the API's path
    dag_run: Callable[[sc.Run, datetime], dict]
    task_instance: Callable[[sc.Run, int, sc.Step, datetime], dict]
    dag: Callable[[sc.Run], dict]

    @property
    def v2(self) -> bool:
        return self.prefix.endswith("/v2")

    def listed(self, answer: dict) -> dict:
        """A list's answer: Airflow 3.3 adds cursor paging's fields (null on offset pages)."""
        cursors = {"total_entries_limit": None, "next_cursor": None, "previous_cursor": None}
        return answer | cursors if self.v2 else answer

    def refuse(self, status: int, title: str, detail: str) -> Response:
        """Airflow 2: connexion's problem document; Airflow 3: FastAPI's {"detail": …}."""
        if self.v2:
            return json_response({"detail": detail}, status)
        kind = {400: "BadRequest", 401: "Unauthenticated", 404: "NotFound"}.get(status, title)
        body = {
            "detail": detail,
            "status": status,
            "title": title,
            "type": f"{DOCS}#section/Errors/{kind}",
        }
        response = json_response(body, status)
        response.headers["content-type"] = "application/problem+json"
        return response

    def invalid(self, name: str, text: str, why: str) -> Response:
        """A query parameter that is not what the API takes: 400, or Airflow 3's 422."""
        if not self.v2:
            return self.refuse(400, "Bad Request", f"{name}: {why}")
        problem = {"type": "value_error", "loc": ["query", name], "msg": why, "input": text}
        return json_response({"detail": [problem]}, 422)


AIRFLOW_2 = Major("2.10.5", "/api/v1", dag_run, task_instance, dag)
AIRFLOW_3 = Major("3.3.2", f"{AIRFLOW3_PATH}/api/v2", dag_run_v2, task_instance_v2, dag_v2)


def signed_in(major: Major, request: Request) -> Response | None:
    """None when the request may pass; else the refusal. Airflow 2: Basic auth as its
    basic_auth backend checks it. Airflow 3: a JWT this server issued, unexpired, not revoked
    (POST /_emulator/tokens/expire revokes every token)."""
    header = request.headers.get("authorization", "")
    if not major.v2:
        expected = base64.b64encode(f"{demo.USER}:{demo.PASSWORD}".encode()).decode()
        if hmac.compare_digest(header, f"Basic {expected}"):
            return None
        return major.refuse(401, "Unauthorized", "Unauthenticated")
    if not header.startswith("Bearer "):
        return major.refuse(401, "Unauthorized", "Not authenticated")
    token = header.removeprefix("Bearer ")
    try:  # signed here, unexpired (PyJWT checks exp), and not revoked
        jwt.decode(token, SECRET, algorithms=["HS512"], audience="apache-airflow")
    except jwt.InvalidTokenError:
        return major.refuse(401, "Unauthorized", "Invalid JWT token")
    if token not in world(request).tokens:
        return major.refuse(401, "Unauthorized", "Invalid JWT token")
    return None


Handler = Callable[[Request, "Major"], Awaitable[Response]]


def endpoint(handler: Handler, major: Major, public: bool = False):
    """The handler as a route's endpoint on one major, behind its sign-in unless public."""

    async def answer(request: Request) -> Response:
        if not public and (refused := signed_in(major, request)):
            return refused
        return await handler(request, major)

    return answer


async def issue_token(request: Request):
    """Airflow 3's simple auth manager: POST /auth/token {username, password} → a JWT."""
    try:
        given = await request.json()
    except ValueError:
        given = None
    if not isinstance(given, dict) or (given.get("username"), given.get("password")) != (
        demo.USER,
        demo.PASSWORD,
    ):
        return json_response({"detail": "Invalid credentials"}, 401)
    now = time.time()
    claims = {"sub": demo.USER, "role": "admin", "aud": "apache-airflow", "iat": int(now)}
    claims |= {"nbf": int(now), "exp": int(now + TOKEN_SECONDS)}
    token = jwt.encode(claims, SECRET, algorithm="HS512")
    state = world(request)
    state.tokens[token] = state.scenario.now() + timedelta(days=3650)  # until revoked
    return json_response({"access_token": token}, 201)
