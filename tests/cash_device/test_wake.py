"""The poll thread's Wake: threading.Event's set / is_set / clear / wait, on one lock."""

from __future__ import annotations

import threading
import time

from cashdevice._poller import Wake


def _wait_in_thread(wake: Wake, timeout: float | None) -> tuple[threading.Thread, list[bool]]:
    result: list[bool] = []
    thread = threading.Thread(target=lambda: result.append(wake.wait(timeout)), daemon=True)
    thread.start()
    return thread, result


def test_wait_times_out_unset_and_returns_at_once_when_set() -> None:
    wake = Wake()
    start = time.monotonic()
    assert wake.wait(0.05) is False
    assert time.monotonic() - start >= 0.04  # it blocked (not at once; a hair of clock rounding allowed)
    assert not wake.is_set() and "clear" in repr(wake)
    wake.set()
    assert wake.is_set() and "set" in repr(wake)
    assert wake.wait(None) is True and wake.wait(0) is True  # stays set until cleared
    assert wake.wait(30) is True


def test_set_from_another_thread_wakes_a_waiter_with_no_timeout() -> None:
    wake = Wake()
    thread, result = _wait_in_thread(wake, None)
    wake.set()
    thread.join(5)
    assert not thread.is_alive() and result == [True]


def test_clear_after_sets_no_wait_took_makes_the_next_wait_block() -> None:
    """Two sets release the lock once; clear takes that release back, so a wait blocks again
    (without it the wait would return at once, unset)."""
    wake = Wake()
    wake.set()
    wake.set()
    wake.clear()
    start = time.monotonic()
    assert wake.wait(0.1) is False
    assert time.monotonic() - start >= 0.08  # it blocked


def test_a_woken_wait_leaves_the_next_wait_blocking_after_clear() -> None:
    wake = Wake()
    for _ in range(3):  # the poll thread's turn: wait, woken, clear, wait again
        thread, result = _wait_in_thread(wake, 10)
        wake.set()
        thread.join(5)
        assert result == [True]
        wake.clear()
        start = time.monotonic()
        assert wake.wait(0.05) is False
        assert time.monotonic() - start >= 0.04  # it blocked (not at once; a hair of clock rounding allowed)


def test_sets_and_clears_racing_leave_the_last_set_standing() -> None:
    """Threads set, clear and set again at once (a second release of the lock is absorbed):
    nothing raises, and the last set stands for the next wait."""
    wake = Wake()
    errors: list[BaseException] = []
    rounds = 300

    def setter() -> None:
        try:
            for _ in range(rounds):
                wake.set()
                wake.clear()
                wake.set()
        except BaseException as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)

    setters = [threading.Thread(target=setter) for _ in range(4)]
    for thread in setters:
        thread.start()
    for thread in setters:
        thread.join(10)
    assert not errors
    assert wake.is_set() and wake.wait(0) is True  # the last thing every setter did was set
    thread, result = _wait_in_thread(wake, 5)
    thread.join(5)
    assert result == [True]
