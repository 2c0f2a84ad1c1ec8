"""The in-memory caps: a sliding window per key, and open voice connections."""

from __future__ import annotations

import pytest

from server.errors import TooManyRequests
from server.services.quotas import RateWindow, SocketCaps


def test_a_window_admits_its_limit_then_says_how_long_to_wait() -> None:
    now = [0.0]
    window = RateWindow(3, 60.0, clock=lambda: now[0])
    assert [window.take("a") for _ in range(3)] == [None, None, None]
    assert window.take("a") == pytest.approx(60.0)
    assert window.take("b") is None  # per key
    now[0] = 30.0
    assert window.take("a") == pytest.approx(30.0)
    now[0] = 60.5
    assert window.take("a") is None


def test_over_the_window_is_a_429_with_retry_after() -> None:
    window = RateWindow(1, 60.0, clock=lambda: 0.0)
    window.check("a", "new interviews")
    with pytest.raises(TooManyRequests) as refused:
        window.check("a", "new interviews")
    assert refused.value.status_code == 429 and refused.value.headers["Retry-After"] == "60"


def test_socket_caps_per_visitor_and_in_all() -> None:
    caps = SocketCaps(per_owner=2, total=3)
    assert caps.open("a") is None and caps.open("a") is None
    assert caps.open("a") is not None  # a third for the same visitor
    assert caps.open("b") is None
    assert "as many" in (caps.open("c") or "")  # the server is full
    caps.close("a")
    assert caps.open("c") is None
