"""The demo's v2.0 backend, on the same emulated EnOS tenant as v2.1 (credentials said there)."""

from instances.vendors.enos_batch_v21.demo import SCOPE, SECRETS

CREDENTIALS = ""
BACKENDS = [
    ({"name": "EnOS dataflow (emulated)", "kind": "enos_dataflow_v20", "scope": SCOPE}, SECRETS)
]
