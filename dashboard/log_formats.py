"""How Runboard's log lines look, shared by Django's LOGGING and gunicorn's own logging:
readable lines by default, one JSON object per line with LOG_FORMAT=json."""

import os

FORMAT = "json" if os.environ.get("LOG_FORMAT") == "json" else "line"
FORMATTERS = {
    "line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    "json": {
        "()": "pythonjsonlogger.json.JsonFormatter",
        "fmt": ["asctime", "levelname", "name", "message"],
    },
}
CONSOLE = {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": FORMAT}
