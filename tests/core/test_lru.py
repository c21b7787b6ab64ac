"""The shared LRU cache behind the pipeline's codes and fades and the renderer's runs."""

from __future__ import annotations

import threading

import pytest

from g2g_desktop.core.lru import LruCache


def test_a_put_past_the_size_forgets_the_least_recently_used_entry():
    cache: LruCache[str, int] = LruCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a hit makes "a" the most recent, so "b" goes first
    cache.put("c", 3)
    assert list(cache) == ["a", "c"] and cache.get("b") is None and len(cache) == 2


def test_putting_a_kept_key_again_replaces_its_value_and_makes_it_recent():
    cache: LruCache[str, int] = LruCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 10)
    cache.put("c", 3)
    assert list(cache) == ["a", "c"] and cache.get("a") == 10


def test_discard_if_and_clear_forget_what_they_are_asked_to():
    cache: LruCache[tuple[int, str], str] = LruCache(8)
    for model in (1, 2):
        for image in ("x", "y"):
            cache.put((model, image), f"{model}{image}")
    cache.discard_if(lambda key: key[0] == 1)
    assert list(cache) == [(2, "x"), (2, "y")]
    cache.clear()
    assert len(cache) == 0 and cache.get((2, "x")) is None


def test_a_size_of_zero_keeps_nothing_and_a_negative_size_is_refused():
    cache: LruCache[str, int] = LruCache(0)
    cache.put("a", 1)
    assert cache.get("a") is None
    with pytest.raises(ValueError, match="cache size"):
        LruCache(-1)


def test_threads_putting_and_iterating_at_once_never_overfill_it():
    cache: LruCache[int, int] = LruCache(16)
    errors: list[Exception] = []

    def work(offset: int) -> None:
        try:
            for i in range(2000):
                cache.put(offset + i, i)
                cache.get(offset + i // 2)
                assert len(list(cache)) <= 16
        except Exception as exc:  # reported by the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n * 10_000,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(cache) == 16
