"""The emulated Huawei Cloud tenant (IAM, DataArts Factory and Data Map): its fixed
credentials, and the demo's Factory backend on it."""

USER = "runboard-demo"
PASSWORD = "runboard-demo-pw"  # noqa: S105
DOMAIN = "runboard-domain"
PROJECT_ID = "0833a5737480d53b2f25c010dc1a7b88"
INSTANCE = "a1b2c3d4e5f6"
AK = "RUNBOARDDEMOAK000001"  # the shape of a Huawei access key: 20 capitals and digits
SK = "runboardDemoSecretAccessKey0000000000000"
CREDENTIALS = (
    f"Huawei     ak {AK}  sk {SK}, or username {USER}  password {PASSWORD}  "
    f"domain {DOMAIN};  project_id {PROJECT_ID}  instance/workspace {INSTANCE}"
)
BACKENDS = [  # signing with AK/SK; the Data Map demo backend shows an IAM token instead
    (
        {
            "name": "DataArts Factory (emulated)",
            "kind": "dataarts_factory",
            "scope": {"project_id": PROJECT_ID, "workspace": INSTANCE},
        },
        {"ak": AK, "sk": SK},
    ),
]
