"""gunicorn's own settings (`gunicorn -c python:dashboard.gunicorn_conf …`): its error and
access lines on stdout, formatted as the rest of Runboard's (JSON with LOG_FORMAT=json)."""

from dashboard.log_formats import CONSOLE, FORMATTERS

accesslog = "-"
errorlog = "-"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": FORMATTERS,
    "handlers": {"console": CONSOLE},
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
