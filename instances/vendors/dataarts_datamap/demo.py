"""The demo's Data Map backend, on the Huawei tenant Factory's demo describes, with an IAM
password token (Factory's demo signs with AK/SK: both ways are shown)."""

from instances.vendors.dataarts_factory.demo import DOMAIN, INSTANCE, PASSWORD, PROJECT_ID, USER

CREDENTIALS = ""
BACKENDS = [
    (
        {
            "name": "DataArts Data Map (emulated)",
            "kind": "dataarts_datamap",
            "scope": {"project_id": PROJECT_ID, "instance": INSTANCE, "table_guid": "orders"},
        },
        {"username": USER, "password": PASSWORD, "domain_name": DOMAIN},
    )
]
