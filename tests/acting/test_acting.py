"""Acting on every API that documents an action, through the pages, against the emulator:
preview, confirm, one request, followed until the vendor's state confirms it, the audit row
complete; and what is refused (role, team, state, a second click) or fails at the vendor."""

import httpx
import pytest
from django.test import Client

from instances.acting import perform
from instances.acting.models import Action
from instances.connectors import http
from instances.models import ApiToken, Instance, Status
from tests.factories import GroupFactory, UserFactory

from .conftest import follow, poll

pytestmark = pytest.mark.django_db

# per API: the demo backend, the move nearest to "retry", and whether it names a step
NEAREST_RETRY = [
    ("airflow", "Airflow (", "retry", False),
    ("airflow", "Airflow 3", "retry_step", True),
    ("ocp", "", "retry", False),
    ("dataarts_factory", "", "retry", False),
    ("enos_batch_v21", "", "retry_step", True),
    ("enos_dataflow_v20", "", "rerun", False),
]


def failed_run(backend) -> Instance:
    return (
        Instance.objects.filter(backend=backend, parent__isnull=True, status=Status.FAILED)
        .exclude(children__isnull=True)
        .order_by("-run_at")
        .first()
    )


def target_of(run: Instance, on_step: bool) -> Instance:
    if not on_step:
        return run
    return run.children.filter(status=Status.FAILED).order_by("started_at").first()


def ask(client, target: Instance, move: str, **form):
    url = f"/runs/{target.pk}/act/{move}/"
    return client.post(url, {"reason": "INC-42: upstream fixed", "key": "k-" + move, **form})


@pytest.mark.parametrize(("kind", "name", "move", "on_step"), NEAREST_RETRY)
def test_an_operator_retries_from_the_culprit_and_sees_it_confirmed(
    client, on_emulator, people, emulator, kind, name, move, on_step
):
    backend = on_emulator(kind, name)
    run = failed_run(backend)
    assert run is not None, "the scenario has a failed run on every API"
    target = target_of(run, on_step)
    client.force_login(people["operator"])

    page = client.get(f"/runs/{run.pk}/").content.decode()
    assert f"/runs/{target.pk}/act/{move}/" in page  # offered on the run or its failing step
    preview = client.get(f"/runs/{target.pk}/act/{move}/").content.decode()
    assert "The request Runboard will send, once" in preview and "Why" in preview

    answered = ask(client, target, move)
    assert answered.status_code == 302
    action = Action.objects.get(run=target)
    assert action.state == Action.State.ACCEPTED, action.vendor_message
    assert 200 <= action.vendor_status < 300
    assert action.method == "POST" and action.url.startswith(backend.base_url.split("/air")[0])
    assert action.person_name == "operator-person" and action.role == "operator"
    assert action.team_name == "Data ops" and action.credential.endswith(")")
    assert action.reason == "INC-42: upstream fixed" and action.before["status"] == "FAILED"
    assert action.preview, "the steps it touches"

    emulator.scenario.advance(1)
    action = follow(action)
    assert action.state == Action.State.CONFIRMED, action.outcome
    if action.new_run_id:  # EnOS starts a new instance: the run it started is followed
        new = Instance.objects.get(backend=backend, external_id=action.new_run_id)
        assert new.parent_id is None
    else:
        run.refresh_from_db()
        assert run.status == Status.RUNNING
    emulator.scenario.advance(3600)
    poll(backend)
    followed = Instance.objects.get(
        backend=backend, external_id=action.new_run_id or run.external_id
    )
    assert followed.status == Status.SUCCEEDED
    shown = client.get(f"/runs/{run.pk}/").content.decode()
    assert "confirmed" in shown and "INC-42: upstream fixed" in shown


def test_a_viewer_sees_no_action_and_a_forged_post_is_refused_and_audited(
    client, on_emulator, people
):
    backend = on_emulator("ocp")
    run = failed_run(backend)
    client.force_login(people["viewer"])
    assert "/act/" not in client.get(f"/runs/{run.pk}/").content.decode()
    assert ask(client, run, "retry").status_code == 403
    denied = Action.objects.get(run=run)
    assert (denied.state, denied.person_name, denied.role) == ("denied", "viewer-person", "viewer")
    assert denied.method == "" and denied.vendor_status is None  # the vendor was not called
    run.refresh_from_db()
    assert run.status == Status.FAILED


def test_another_teams_operator_cannot_even_find_the_run(client, on_emulator):
    backend = on_emulator("ocp")
    run = failed_run(backend)
    stranger = UserFactory()
    perform.roles.place(stranger, GroupFactory(), "operator")
    client.force_login(stranger)
    assert ask(client, run, "retry").status_code == 404
    assert client.get(f"/runs/{run.pk}/act/retry/").status_code == 404
    assert not Action.objects.exists()


def test_a_double_click_sends_one_request(client, on_emulator, people, monkeypatch):
    backend = on_emulator("ocp")
    run = failed_run(backend)
    sent = []
    real_send = perform.send
    monkeypatch.setattr(perform, "send", lambda *a: sent.append(a) or real_send(*a))
    client.force_login(people["operator"])
    assert ask(client, run, "retry").status_code == 302
    assert ask(client, run, "retry").status_code == 302  # the same form, submitted again
    assert len(sent) == 1 and Action.objects.count() == 1
    # a second action while the first is in flight is refused, and says so
    refused = ask(client, run, "retry", key="another-form")
    assert refused.status_code == 409 and "in flight" in refused.content.decode()
    assert len(sent) == 1


def test_an_action_the_state_does_not_allow_is_greyed_with_its_reason(client, on_emulator, people):
    backend = on_emulator("ocp")
    ok = Instance.objects.filter(backend=backend, parent__isnull=True, status="SUCCEEDED").first()
    client.force_login(people["operator"])
    page = client.get(f"/runs/{ok.pk}/").content.decode()
    assert "Retry failed steps" in page and "Only when failed; this is succeeded." in page
    assert f"/runs/{ok.pk}/act/retry/" not in page
    assert ask(client, ok, "retry").status_code == 409
    assert Action.objects.get().state == "denied"


def test_a_careful_action_needs_an_admin_or_the_run_name_typed(client, on_emulator, people):
    backend = on_emulator("ocp")
    run = failed_run(backend)
    client.force_login(people["operator"])
    assert "type the run" in client.get(f"/runs/{run.pk}/act/rollback/").content.decode()
    assert ask(client, run, "rollback").status_code == 403
    assert ask(client, run, "rollback", key="typed", typed=run.name).status_code == 302
    action = Action.objects.get(state__in=["accepted", "failed"])
    assert action.move == "rollback" and action.role == "operator"


def test_vendor_refusals_end_the_action_failed_with_the_vendors_words(client, on_emulator, people):
    backend = on_emulator("ocp")
    backend.acting_credentials = {"username": "task-viewer", "password": "runboard-demo-pw"}
    backend.save()
    run = failed_run(backend)
    client.force_login(people["operator"])
    assert ask(client, run, "retry").status_code == 302
    action = Action.objects.get()
    assert action.state == "failed" and action.vendor_status == 403
    assert "TASK_MANAGER" in action.vendor_message and action.request_id
    assert action.credential == "acting credential (task-viewer)"
    run.refresh_from_db()
    assert run.status == Status.FAILED


def test_enos_refuses_a_second_trigger_from_a_task_within_a_minute(client, on_emulator, people):
    backend = on_emulator("enos_batch_v21")
    run = failed_run(backend)
    step = target_of(run, on_step=True)
    client.force_login(people["operator"])
    assert ask(client, step, "retry_step").status_code == 302
    Action.objects.update(state="confirmed")  # followed and done
    assert ask(client, step, "retry_step", key="again").status_code == 302
    again = Action.objects.get(key="again")
    assert again.state == "failed" and "1 minute" in again.vendor_message


@pytest.mark.parametrize(
    ("answer", "state", "said"),
    [
        (httpx.Response(401, json={"detail": "Unauthenticated"}), "failed", "Unauthenticated"),
        (httpx.Response(409, json={"detail": "busy"}), "failed", "busy"),
        (httpx.Response(429, json={"detail": "Too many requests"}), "failed", "Too many"),
        (httpx.ReadTimeout("timed out"), "unconfirmed", "ReadTimeout"),
    ],
)
def test_an_airflow_error_or_silence_ends_the_action_and_nothing_is_retried(
    client, on_emulator, people, answer, state, said
):
    backend = on_emulator("airflow", "Airflow (")
    backend.scope = {"api_version": "v1"}  # no probe: the one request is the action's
    backend.save()
    run = failed_run(backend)
    calls = []

    def vendor(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if isinstance(answer, Exception):
            raise answer
        return answer

    client.force_login(people["operator"])
    with http.use_transport(httpx.MockTransport(vendor)):
        assert ask(client, run, "retry").status_code == 302
    action = Action.objects.get()
    assert action.state == state and said in action.vendor_message
    assert len(calls) == 1  # sent once: only a person asks again


def test_the_team_audit_log_lists_actions_and_exports_them_inert(client, on_emulator, people):
    backend = on_emulator("ocp")
    run = failed_run(backend)
    client.force_login(people["operator"])
    ask(client, run, "retry", reason='=HYPERLINK("http://evil")')
    page = client.get(f"/teams/{backend.team_id}/actions/").content.decode()
    assert "Retry failed steps" in page and "operator-person" in page
    exported = client.get(f"/teams/{backend.team_id}/actions/?format=csv").content.decode()
    assert "'=HYPERLINK" in exported and "POST" in exported
    assert client.get("/admin/acting/action/").status_code in (200, 302, 403)


def test_the_api_acts_as_the_pages_do(on_emulator, people):
    backend = on_emulator("ocp")
    run = failed_run(backend)
    viewer = Client(headers={"Authorization": f"Bearer {ApiToken.issue(people['viewer'], 'v')}"})
    operator = Client(
        headers={"Authorization": f"Bearer {ApiToken.issue(people['operator'], 'o')}"}
    )
    url = f"/api/v1/runs/{run.pk}/actions"
    asked = {"move": "retry", "reason": "INC-9", "key": "once"}
    assert viewer.post(url, asked, content_type="application/json").status_code == 403
    first = operator.post(url, asked, content_type="application/json")
    again = operator.post(url, asked, content_type="application/json")
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"] and first.json()["state"] == "accepted"
    listed = operator.get(url).json()["actions"]
    assert [(a["move"], a["state"]) for a in listed] == [("retry", "accepted"), ("retry", "denied")]


def test_the_inbox_offers_each_failures_retry_to_operators_only(
    client, on_emulator, people, django_assert_max_num_queries
):
    backend = on_emulator("ocp")
    failed = Instance.objects.filter(backend=backend, parent__isnull=True, status="FAILED")
    client.force_login(people["operator"])
    page = client.get("/failures/").content.decode()
    offered = {pk for pk in failed.values_list("pk", flat=True) if f"/runs/{pk}/act/retry/" in page}
    assert offered, "each group's newest failure offers its retry"
    with django_assert_max_num_queries(30):  # however many groups (two for the offers)
        client.get("/failures/")
    client.force_login(people["viewer"])
    assert "/act/" not in client.get("/failures/").content.decode()


def test_ocp_refuses_to_roll_back_a_task_that_prohibits_it(client, on_emulator, people, emulator):
    backend = on_emulator("ocp")
    run = failed_run(backend)
    patch = {"record": {"prohibitRollback": True}}
    url = f"{emulator.base_url}/_emulator/runs/ocp/{run.external_id}/patch"
    httpx.post(url, json=patch).raise_for_status()
    client.force_login(people["admin"])  # a team admin needs no typed name
    assert ask(client, run, "rollback").status_code == 302
    action = Action.objects.get()
    assert action.state == "failed" and "prohibit rollback" in action.vendor_message
    assert action.role == "admin"


def test_beats_sweep_ends_an_action_whose_following_was_lost(client, on_emulator, people):
    from datetime import timedelta

    from django.utils import timezone

    from instances.acting.tasks import sweep_actions

    backend = on_emulator("ocp")
    run = failed_run(backend)
    client.force_login(people["operator"])
    ask(client, run, "retry")  # accepted; its follow-up never ran (a worker died)
    Action.objects.update(deadline=timezone.now() - timedelta(seconds=1))
    emulator_moved = Action.objects.get()
    assert emulator_moved.state == "accepted"
    assert sweep_actions() == 1
    ended = Action.objects.get()
    assert ended.state in ("confirmed", "unconfirmed") and ended.ended_at
    assert not Action.objects.filter(state="accepted").exists()


@pytest.mark.parametrize(("kind", "name"), [("airflow", "Airflow 3"), ("dataarts_factory", "")])
def test_run_again_starts_a_new_run_and_follows_it(client, on_emulator, people, kind, name):
    backend = on_emulator(kind, name)
    run = failed_run(backend)
    client.force_login(people["operator"])
    assert ask(client, run, "rerun").status_code == 302
    action = follow(Action.objects.get())
    assert action.state == "confirmed" and action.new_run_id, action.outcome
    new = Instance.objects.get(backend=backend, external_id=action.new_run_id)
    assert new.parent_id is None and new.definition_id == run.definition_id


def test_marking_an_airflow_step_successful_is_careful_and_previewed_by_airflow(
    client, on_emulator, people
):
    backend = on_emulator("airflow", "Airflow 3")
    step = target_of(failed_run(backend), on_step=True)
    client.force_login(people["operator"])
    preview = client.get(f"/runs/{step.pk}/act/succeed_step/").content.decode()
    assert "the vendor&#x27;s dry run" in preview and step.definition_id in preview
    assert ask(client, step, "succeed_step").status_code == 403  # no name typed
    typed = ask(client, step, "succeed_step", key="typed", typed=step.parent.name)
    assert typed.status_code == 302
    action = follow(Action.objects.get(key="typed"))
    assert action.state == "confirmed" and "succeeded" in action.outcome


@pytest.mark.parametrize("name", ["Airflow (", "Airflow 3"])
def test_an_admin_pauses_and_resumes_a_dags_schedule_read_back_from_airflow(
    client, on_emulator, people, emulator, name
):
    backend = on_emulator("airflow", name)
    run = failed_run(backend)
    client.force_login(people["admin"])
    preview = client.get(f"/runs/{run.pk}/act/pause/").content.decode()
    assert "The schedule is <strong>running</strong> now" in preview
    assert ask(client, run, "pause").status_code == 302
    paused = follow(Action.objects.get())
    assert paused.state == "confirmed" and paused.outcome == "Its schedule is paused."
    assert ("airflow", run.definition_id.removeprefix("etl_")) in emulator.scenario.paused
    assert ask(client, run, "resume", key="resume").status_code == 302
    resumed = follow(Action.objects.get(key="resume"))
    assert resumed.outcome == "Its schedule is running." and not emulator.scenario.paused


def test_a_preview_the_vendor_cannot_prepare_says_so(client, on_emulator, people):
    backend = on_emulator("airflow", "Airflow (")
    run = failed_run(backend)
    client.force_login(people["operator"])
    refusing = httpx.MockTransport(lambda request: httpx.Response(401, json={"detail": "no"}))
    with http.use_transport(refusing):  # which Airflow it is cannot be told
        answered = client.get(f"/runs/{run.pk}/act/retry/")
    assert answered.status_code == 502 and "could not be reached" in answered.content.decode()
