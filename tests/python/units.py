"""Reading the scenario files' duration and rate strings, and queueing theory, for the tests and examples."""

from __future__ import annotations

import math
import re

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def seconds(text: str) -> float:
    """``"250ms"`` → 0.25."""
    match = re.fullmatch(r"\s*([0-9.eE+-]+)\s*([a-zµ]+)\s*", text)
    assert match, f"not a duration: {text!r}"
    return float(match.group(1)) * _UNITS[match.group(2)]


def per_second(text: str) -> float:
    """``"0.9/s"`` → 0.9."""
    number, _, unit = text.partition("/")
    return float(number) / seconds("1" + unit)


def erlang_c(servers: int, arrival_rate: float, service_rate: float) -> tuple[float, float, float]:
    """M/M/c: (probability of waiting, mean wait, mean sojourn), in seconds."""
    a = arrival_rate / service_rate
    rho = a / servers
    assert rho < 1, "unstable queue"
    head = sum(a**k / math.factorial(k) for k in range(servers))
    tail = a**servers / math.factorial(servers) / (1 - rho)
    p_wait = tail / (head + tail)
    wait = p_wait / (servers * service_rate - arrival_rate)
    return p_wait, wait, wait + 1 / service_rate
