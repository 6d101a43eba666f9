"""The one seam between writing runs and reacting to them. A stored page's top-level
transitions are told to every observer (alerting registers itself in its AppConfig), each in a
savepoint of the page's transaction: what an observer writes commits with the runs, and
whatever it raises is rolled back alone, logged and counted on the backend's health. An
observer can never fail the write, nor the poll."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from django.db import DatabaseError, transaction
from django.db.models import F

from .models import Backend
from .writing import Transition

log = logging.getLogger(__name__)

type Observer = Callable[[Backend, list[Transition], datetime], None]
OBSERVERS: list[Observer] = []


def register(observer: Observer) -> None:
    if observer not in OBSERVERS:
        OBSERVERS.append(observer)


def tell(backend: Backend, transitions: list[Transition], now: datetime) -> None:
    for observer in OBSERVERS:
        try:
            with transaction.atomic():
                observer(backend, transitions, now)
        except Exception as exc:  # contained: the page is stored all the same
            log.exception("backend %s: observer %s failed", backend.pk, observer.__qualname__)
            count_failure(backend, f"{observer.__module__}: {type(exc).__name__}: {exc}")


def count_failure(backend: Backend, error: str) -> None:
    try:
        with transaction.atomic():
            Backend.objects.filter(pk=backend.pk).update(
                observer_failures=F("observer_failures") + 1, last_observer_error=error[:2000]
            )
    except DatabaseError:  # the count is a courtesy; the page must still commit
        log.exception("backend %s: could not count an observer failure", backend.pk)
