"""Many vendor calls side by side: a poll's detail reads, a few at a time."""

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

# Detail calls in flight per poll: vendor APIs list runs without their steps, so a first poll
# makes thousands of calls, and at a 100 ms round trip one at a time they take minutes.
DETAIL_CONCURRENCY = 8


def in_parallel[T, R](
    fetch: Callable[[T], list[R]], items: Iterable[T], concurrency: int | None = None
) -> list[R]:
    """fetch(item) for every item, `concurrency` (default DETAIL_CONCURRENCY) at a time,
    records in item order. The first error is raised and the calls not yet started are
    dropped."""
    failed = threading.Event()

    def unless_failed(item: T) -> list[R]:
        if failed.is_set():
            return []
        try:
            return fetch(item)
        except BaseException:
            failed.set()
            raise

    pool = ThreadPoolExecutor(concurrency or DETAIL_CONCURRENCY, thread_name_prefix="detail")
    try:
        return [record for records in pool.map(unless_failed, items) for record in records]
    finally:
        pool.shutdown(cancel_futures=True)
