"""Offset paging as vendors do it, bounded: a vendor that miscounts can't loop a poll."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from .base import BadPayload


def offset_pages(
    fetch: Callable[[int, int], tuple[list, int]], size: int, start: int = 0
) -> Iterator[list]:
    """Offset/limit paging: fetch(offset, limit) → (items, total). Stops on a short page or
    when the total is reached, so a vendor that miscounts can't loop us forever."""
    offset = start
    while True:
        items, total = page_of(fetch, offset, size)
        if items:
            yield items
        offset += len(items)
        if len(items) < size or offset >= total:
            return


def page_of(
    fetch: Callable[[int, int], tuple[list, int]], offset: int, size: int
) -> tuple[list, int]:
    items, total = fetch(offset, size)
    if not isinstance(items, list):
        raise BadPayload(f"page at offset {offset} has no list of items")
    return items, total


def ambiguous_offset_pages(
    fetch: Callable[[int, int], tuple[list, int]], size: int
) -> Iterator[list]:
    """Offset paging where the document does not say whether `offset` counts records or
    pages (DataArts). Asked again from offset 1, a server that counts records answers the
    first page shifted by one; one that counts pages answers the second page."""
    first, total = page_of(fetch, 0, size)
    if first:
        yield first
    if len(first) < size or len(first) >= total:
        return
    probe, total = page_of(fetch, 1, size)
    if probe and len(first) > 1 and probe[0] == first[1]:  # records
        yield from offset_pages(fetch, size, start=len(first))
        return
    seen, page, items = len(first), 1, probe
    while items:
        yield items
        seen += len(items)
        if len(items) < size or seen >= total:
            return
        page += 1
        items, total = page_of(fetch, page, size)
