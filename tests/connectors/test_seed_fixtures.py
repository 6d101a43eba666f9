"""Every sample record of the seed documents, as printed there, normalizes field by field."""

from datetime import UTC, date, datetime

import pytest

from instances.connectors.base import BackendConfig, BadPayload
from instances.status import Kind, Status
from instances.vendors.dataarts_datamap.connector import DataArtsDataMap
from instances.vendors.enos_batch_v21.connector import EnosBatchV21
from instances.vendors.enos_batch_v21.payloads import parse_json
from instances.vendors.enos_dataflow_v20.connector import EnosDataflowV20
from instances.vendors.ocp.connector import OcpConnector
from tests.connectors.conftest import fixture_json, fixture_text

ENOS = BackendConfig(
    base_url="http://enos.test",
    scope={"orgId": "o1", "userId": "u1"},
    credentials={"app_key": "ak", "app_secret": "sk"},
    timezone="Asia/Shanghai",
)


def at(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_ocp_seed_task_becomes_a_task_with_a_subtask_chain_from_upstreams(vendor_replies):
    vendor_replies[("/api/v2/tasks/instances/35000312", None)] = fixture_json(
        "ocp/samples/task_detail_seed003.json"
    )
    config = BackendConfig(
        base_url="http://ocp.test", credentials={"username": "u", "password": "x"}
    )
    connector = OcpConnector(config)
    task, *subtasks = connector.refresh(["35000312"])
    assert (task.external_id, task.kind, task.status) == ("35000312", Kind.TASK, Status.SUCCEEDED)
    assert task.name == "Reinstall OCP agent" and task.owner == "admin"
    assert task.vendor_status == "SUCCESSFUL (EXECUTE)"
    # taskDefinitionId -1 is any ad-hoc task, not one definition: such tasks group by name
    assert task.definition_id == "manual:Reinstall OCP agent"
    assert task.planned_at == at(2021, 8, 25, 7, 9, 31)
    assert task.started_at == at(2021, 8, 25, 7, 9, 31, 740000)
    assert task.finished_at == at(2021, 8, 25, 7, 9, 54, 67000)
    assert task.has_children
    # the chain by upstreams is 13000335 → 13000333 → 13000336 → 13000334 (seriesId 3, 2, 0, 1)
    assert set(task.edges) == {
        ("13000335", "13000333"),
        ("13000333", "13000336"),
        ("13000336", "13000334"),
    }
    by_id = {s.external_id: s for s in subtasks}
    assert set(by_id) == {"13000333", "13000334", "13000335", "13000336"}
    install = by_id["13000336"]
    assert (install.kind, install.parent_id, install.status) == (
        Kind.SUBTASK,
        "35000312",
        Status.SUCCEEDED,
    )
    assert install.started_at == at(2021, 8, 25, 7, 9, 36, 821000)
    assert install.finished_at == at(2021, 8, 25, 7, 9, 52, 182000)
    assert install.attempts == 1 and install.log_locator == "35000312/subtasks/13000336"


def test_enos_v21_seed_flow_and_task_normalize_in_the_backend_zone(vendor_replies):
    prefix = "/batch-processing-service/v2.1"
    vendor_replies[(f"{prefix}/flowInstances", "get")] = fixture_json(
        "enos_batch_v21/samples/flow_instance_seed001.json"
    )
    vendor_replies[(f"{prefix}/taskInstances", "get")] = fixture_json(
        "enos_batch_v21/samples/task_instance_seed000.json"
    )
    flow, task = EnosBatchV21(ENOS).refresh(["2809-20190808093200"])
    assert (flow.external_id, flow.kind, flow.status) == (
        "2809-20190808093200",
        Kind.FLOW,
        Status.SUCCEEDED,
    )
    assert flow.planned_at == at(2019, 8, 8, 1, 32, 12)  # 09:32:12 Asia/Shanghai
    assert flow.started_at == at(2019, 8, 8, 1, 32, 30)
    assert flow.finished_at == at(2019, 8, 8, 1, 32, 32)
    assert flow.business_date == date(2019, 8, 7) and flow.definition_id == "2809"
    assert flow.edges == ()
    # the sample's graph was copied from another flow (vendor-apis.md quirk 5): kept as sent
    assert task.external_id == "104452-201907261239"
    assert (task.parent_id, task.kind) == (flow.external_id, Kind.TASK)
    # the task detail (seed 000) says SUCCESS, code 1
    assert task.status == Status.SUCCEEDED and task.vendor_status == "1 SUCCESS"
    assert task.started_at == at(2021, 2, 2, 11, 35, 24)
    assert task.finished_at == at(2021, 2, 2, 11, 38, 7) and task.attempts == 1


def test_enos_v21_seed_init_sample_is_pending_whatever_its_times_say():
    flow = fixture_json("enos_batch_v21/samples/flow_instance_seed001_data.json")
    record = EnosBatchV21(ENOS).flow_record(flow, with_tasks=False)[0]
    assert record.status == Status.PENDING and record.vendor_status == "0 INIT"
    assert record.started_at == at(2019, 7, 26, 4, 39, 37)


def test_enos_v20_seed_with_its_unescaped_graph_is_parsed_by_the_fallback(vendor_replies):
    prefix = "/dataflow-batch-service/v2.0"
    vendor_replies[(f"{prefix}/flowInstances", "get")] = fixture_text(
        "enos_dataflow_v20/samples/flow_instance_seed004.txt"
    )
    flow, task = EnosDataflowV20(ENOS).refresh(["2809-20190808093200"])
    assert flow.status == Status.SUCCEEDED and flow.planned_at == at(2019, 8, 8, 1, 32, 12)
    # v2.0 has no task detail: the task comes from the graph alone
    assert (task.external_id, task.status, task.started_at) == (
        "104890-20190808093200",
        Status.SUCCEEDED,
        None,
    )
    first = parse_json(fixture_text("enos_dataflow_v20/samples/flow_instance_seed004_data.txt"))
    assert first["instanceId"] == "2438-201907261239" and '"taskId":104452' in first["graph"]


def test_a_graph_that_is_not_json_keeps_the_flow_with_the_error_noted():
    flow = fixture_json("enos_batch_v21/samples/flow_instance_seed001_data.json") | {
        "graph": "{broken"
    }
    record, *children = EnosBatchV21(ENOS).flow_record(flow, with_tasks=True)
    assert record.external_id == "2438-201907261239" and children == []
    assert "graph is not valid JSON" in record.error_message


def test_datamap_seed_row_is_decoded_through_its_three_levels_of_json():
    envelope = fixture_json("dataarts_datamap/samples/operator_instances_seed002.json")
    connector = DataArtsDataMap(BackendConfig(base_url="http://dayu.test"))
    (record,) = [connector.row_record(row) for row in connector.unwrap(envelope)["rows"]]
    assert (record.external_id, record.kind, record.status) == (
        "126074594",
        Kind.TASK,
        Status.RUNNING,
    )
    assert record.definition_id == "937987"
    assert record.definition_name == "ETL_Job_dli2dws / etl-dli2dws"
    assert record.planned_at == at(2024, 1, 11, 1, 1, 47)
    assert record.started_at == at(2024, 1, 11, 1, 1, 56)
    assert record.finished_at is None  # endTime 0 means "not yet"
    assert record.attempts == 1 and record.owner == "username"
    assert record.log_locator.startswith("obs://dlf-log-0833a5737480d53b2f25c010dc1a7b88/")
    assert record.error_message == ""  # runningData and runningParam parse


def test_datamap_row_with_broken_nested_json_is_kept_with_the_error_noted():
    envelope = fixture_json("dataarts_datamap/samples/operator_instances_seed002.json")
    connector = DataArtsDataMap(BackendConfig(base_url="http://dayu.test"))
    row = connector.unwrap(envelope)["rows"][0] | {"runningData": '{"obsDataPath": '}
    record = connector.row_record(row)
    assert (
        record.external_id == "126074594"
        and "runningData is not valid JSON" in record.error_message
    )


def test_a_zone_the_vendor_cannot_tell_fails_the_poll_once_not_every_record(vendor_replies):
    prefix = "/batch-processing-service/v2.1"
    vendor_replies[(f"{prefix}/time", "getTimeZone")] = {"code": 0, "data": {"timezone": "CST"}}
    flows = [fixture_json("enos_batch_v21/samples/flow_instance_seed001.json")["data"]] * 3
    vendor_replies[(f"{prefix}/flowInstances", "search")] = {
        "code": 0,
        "data": {"flowInsts": flows, "count": 3},
    }
    connector = EnosBatchV21(
        BackendConfig(base_url="http://enos.test", scope=ENOS.scope, credentials=ENOS.credentials)
    )  # no zone named
    with pytest.raises(BadPayload, match="getTimeZone said 'CST'"):
        list(connector.iter_pages(None))
    assert connector.skipped == []  # no record was read, so none was skipped for it
