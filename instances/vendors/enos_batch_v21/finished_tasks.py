"""Task instance details that will not change again, kept between polls: a running flow is
read again every poll, and its finished tasks need not be."""

import threading
from collections import OrderedDict


class FinishedTasks:
    """Task instance details that will not change again, shared by every poll of this
    process, newest kept (a bounded LRU)."""

    def __init__(self, size: int):
        self.size = size
        self.items: OrderedDict[tuple, dict] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple) -> dict | None:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
            return self.items.get(key)

    def put(self, key: tuple, detail: dict) -> None:
        with self.lock:
            self.items[key] = detail
            self.items.move_to_end(key)
            if len(self.items) > self.size:
                self.items.popitem(last=False)
