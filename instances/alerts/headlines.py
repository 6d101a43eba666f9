"""An alert's title in the reader's (or the channel's) language, from what it is about: the
stored title is written once, in English, when the alert opens."""

from __future__ import annotations

from django.utils.translation import gettext as _

NOT_POLLING = "runboard:not-polling"  # the key of Runboard's own "not polling" alert


def headline(alert) -> str:
    """ "nightly load failed on OCP prod", or in Chinese, from the alert's run and backend;
    its stored title when what named it is gone."""
    run, backend, kind = alert.run, alert.backend, alert.rule.kind
    if alert.key == NOT_POLLING:
        return _("Runboard is not polling")
    if backend is None:
        return alert.title
    if kind == "stale":
        return _("{backend} is stale").format(backend=backend.name)
    if run is None:
        return alert.title
    name = run.definition_name or run.name
    if kind == "failed":
        return _("{name} failed on {backend}").format(name=name, backend=backend.name)
    if kind == "stuck":
        return _("{name} is stuck on {backend}").format(name=run.name, backend=backend.name)
    if kind == "late":
        return _("{name} missed its deadline on {backend}").format(name=name, backend=backend.name)
    if kind == "late_soon":
        return _("{name} will miss its deadline on {backend}").format(
            name=name, backend=backend.name
        )
    if kind == "missing":
        return _("{name} did not start on {backend}").format(name=name, backend=backend.name)
    return alert.title
