"""EnOS Dataflow Batch Service v2.0 (seed 004): Batch Processing v2.1's emulator with v2.0's
envelope (status, " Success"), its graph key names and no task detail, behind the same APIM."""

from instances.emulator.common import by_run_id
from instances.vendors.enos_batch_v21.emulator import service
from instances.vendors.enos_batch_v21.emulator_records import Version

API = "enos_dataflow_v20"
PATHS = ("/dataflow-batch-service/", "/apim-token-service/")
runs_by_id = by_run_id
routes = service(
    Version(
        prefix="dataflow-batch-service/v2.0",
        api=API,
        result_key="status",
        success=" Success",
        graph_keys={"doAs": "doAs", "appId": "appId"},
        task_detail=False,
        # the document prints the graph unescaped: not valid JSON, served as printed
        samples=(
            ("flowInstances", "flow_instance_seed004.txt", True),
            ("flowInstances", "flow_instance_seed004_data.txt", False),
        ),
    )
)
