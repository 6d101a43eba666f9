"""The emulated EnOS tenant (both batch APIs): its fixed credentials, and the demo's v2.1
backend on it."""

# UUID-shaped, as EnOS issues them (its poseidon client reads the second group as hex)
APP_KEY = "7f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f"
APP_SECRET = "0f9e8d7c-6b5a-4938-a7b6-c5d4e3f2a1b0"  # noqa: S105 - published demo secret
ORG_ID = "o15475503235781"
USER_ID = "u15475503235782"
SCOPE = {"orgId": ORG_ID, "userId": USER_ID}
SECRETS = {"app_key": APP_KEY, "app_secret": APP_SECRET}
CREDENTIALS = (
    f"EnOS       app_key {APP_KEY}  app_secret {APP_SECRET}  orgId {ORG_ID}  userId {USER_ID}"
)
BACKENDS = [({"name": "EnOS batch (emulated)", "kind": "enos_batch_v21", "scope": SCOPE}, SECRETS)]
