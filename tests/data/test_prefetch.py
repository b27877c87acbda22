"""Reading ahead on a thread: the same items in order, errors at their item, an early stop closes the reader."""

import threading

import pytest

from mlemap.data.prefetch import prefetched


def test_items_come_in_order_produced_on_another_thread():
    threads = []

    def items():
        for i in range(50):
            threads.append(threading.get_ident())
            yield i

    assert list(prefetched(items(), depth=3)) == list(range(50))
    assert set(threads) == {threads[0]} and threads[0] != threading.get_ident()


def test_an_error_while_producing_is_raised_at_its_item():
    def items():
        yield 1
        yield 2
        raise KeyError("row group 3")

    seen = []
    with pytest.raises(KeyError, match="row group 3"):
        for item in prefetched(items()):
            seen.append(item)
    assert seen == [1, 2]


def test_stopping_early_closes_the_iterator_and_ends_the_thread():
    closed = threading.Event()

    def items():
        try:
            for i in range(10**9):
                yield i
        finally:
            closed.set()

    before = threading.active_count()
    reader = prefetched(items())
    assert [next(reader) for _ in range(3)] == [0, 1, 2]
    reader.close()
    assert closed.is_set() and threading.active_count() == before
