"""A bounded, thread-safe least-recently-used map: one class for the pipeline's encoder codes and fade images
and the renderer's G2G runs.

Not `functools.lru_cache`, which caches a function by its arguments: here the key is computed apart from the
call (an image's content hash, a fade side's rest/identity/α), one computation fills several entries (both
fade sides decoded in one batch), a caller decides whether a result may be kept at all (the renderer drops
a run whose model was removed while it ran), and entries are forgotten selectively (a removed model's or
image's runs). A hit makes its entry the most recent; a put past `size` forgets the least recent.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """At most `size` entries; every method may be called from any thread."""

    def __init__(self, size: int):
        if size < 0:
            raise ValueError(f"cache size must be 0 or more, got {size}")
        self.size = size
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value kept for `key` (now the most recently used), or None."""
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        """Keep `value` as the most recent entry, forgetting the least recent ones beyond `size`."""
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def discard_if(self, stale: Callable[[K], bool]) -> None:
        """Forget every entry whose key `stale` accepts."""
        with self._lock:
            for key in [k for k in self._entries if stale(k)]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[K]:
        """The keys, least recent first, as they were when called (a copy: safe while other threads put)."""
        with self._lock:
            return iter(list(self._entries))
