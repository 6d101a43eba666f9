"""EnOS Dataflow Batch Service v2.0: the Batch Processing v2.1 connector with v2.0's envelope
and without task detail (seed 004)."""

from instances.vendors.enos_batch_v21.connector import EnosBatchV21


class EnosDataflowV20(EnosBatchV21):
    """Same shape; its envelope says status/' Success', and there is no task detail API."""

    kind = "enos_dataflow_v20"
    label = "EnOS Dataflow Batch v2.0"
    prefix = "/dataflow-batch-service/v2.0"
    task_detail = False
    moves = {name: move for name, move in EnosBatchV21.moves.items() if not move.on_step}


CONNECTORS = (EnosDataflowV20,)
