"""What a reader may read and what they asked for, in one object: (user, query string) →
every read of the read side. The run list, its CSV and the API list runs through `runs()`;
the inbox too, narrowed to failures; the overview, the top bar and the API summary count the
rollups of `counted()`. Visibility and filters are parsed and applied here only."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone

from dashboard import summaries
from dashboard.filters import RunFilter
from instances.models import Backend, Instance, InstanceQuerySet
from instances.rollups import hour_of


@dataclass(frozen=True)
class ReadScope:
    user: Any
    filter: RunFilter

    @classmethod
    def of(cls, user, query: QueryDict, **chosen) -> ReadScope:
        """The reader's scope from a query string; `chosen` fixes filter fields a page
        decides itself (the inbox: failed top-level runs)."""
        return cls(user, replace(RunFilter.from_query(query), **chosen))

    def runs(self) -> InstanceQuerySet:
        """The visible runs the filter keeps."""
        return self.filter.apply(Instance.objects.visible_to(self.user))

    def page(self) -> tuple[list[Instance], str | None]:
        """One page of the run list (and the API's): the filtered runs, searched newest
        first."""
        return self.filter.page(
            self.filter.apply(Instance.objects.visible_to(self.user), search=False)
        )

    def backends(self) -> QuerySet[Backend]:
        """The visible backends, narrowed to the filter's backends and team."""
        backends = Backend.objects.visible_to(self.user)
        if self.filter.backends:
            backends = backends.filter(pk__in=self.filter.backends)
        if self.filter.team:
            backends = backends.filter(team=self.filter.team)
        return backends

    def counted(self) -> summaries.Scope:
        """The same backends over the window in whole hours, as the rollups count runs (a
        custom window as given): the overview's numbers link to exactly the runs listed."""
        now = timezone.now()
        if self.filter.window == "custom" and self.filter.span:
            start, end = self.filter.span
            return summaries.Scope(self.backends(), start, end or now)
        span = summaries.WINDOWS.get(self.filter.window, summaries.WINDOWS["24h"])
        return summaries.Scope(self.backends(), hour_of(now - span), now)
