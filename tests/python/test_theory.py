"""M/M/1 and M/M/c from Python: the queue model's means against queueing theory (Erlang C).

The parameters come from the shipped scenario files, so a change there changes the theory too. Tolerance:
four standard errors of the mean sojourn of N customers, from the M/M/1 asymptotic variance at the same
utilization rho, sigma^2 = rho (rho^3 - 4 rho^2 + 5 rho + 2) / (mu^2 (1 - rho)^4) (conservative for c > 1).
At rho = 0.9 the relative standard error is 19 / sqrt(N): 1.9 % at N = 10^6, so the bound is 7.6 %.
"""

from __future__ import annotations

import math

import pytest

import toron
from conftest import load
from units import erlang_c, per_second, seconds


def theory_of(scenario: toron.Scenario) -> tuple[int, float, float, float, int]:
    spec = scenario.to_dict()
    (node,) = spec["node"]
    params = node["params"]
    assert params["service"]["dist"] == "exponential"
    servers = int(params["servers"])
    arrival = per_second(spec["load"]["rate"])
    service = 1 / seconds(params["service"]["mean"])
    _, wait, sojourn = erlang_c(servers, arrival, service)
    return servers, arrival / (servers * service), wait, sojourn, int(spec["stop"]["requests"])


def relative_standard_error(rho: float, customers: int) -> float:
    """Standard error of the M/M/1 mean sojourn over `customers` customers, relative to the mean."""
    return math.sqrt(rho * (rho**3 - 4 * rho**2 + 5 * rho + 2)) / (1 - rho) / math.sqrt(customers)


@pytest.mark.parametrize("name", ["mm1", "mm3"])
def test_queue_means_match_erlang_c(name: str) -> None:
    scenario = load(name)
    servers, rho, wait, sojourn, customers = theory_of(scenario)
    outcome = toron.simulate(scenario)
    server = outcome.output["server"]
    assert server["servers"] == servers
    tolerance = 4 * relative_standard_error(rho, customers)
    assert server["mean_sojourn"] == pytest.approx(sojourn, rel=tolerance)
    assert server["mean_wait"] == pytest.approx(wait, rel=tolerance * sojourn / wait)
    assert server["utilization"] == pytest.approx(rho, rel=0.02)
    # With a zero-latency network the clients see the sojourn as the request latency.
    assert outcome.latency["mean"] == pytest.approx(server["mean_sojourn"], rel=1e-3)
    assert outcome.latency["count"] == outcome.stats["requests_ok"]


def test_erlang_c_helper_against_textbook_values() -> None:
    # M/M/1 at 0.9: wait 9 s, sojourn 10 s; M/M/3 at 2.4/s: P(wait) 0.6472, wait 1.0787 s.
    assert erlang_c(1, 0.9, 1.0)[1:] == pytest.approx((9.0, 10.0))
    p, w, s = erlang_c(3, 2.4, 1.0)
    assert (p, w, s) == pytest.approx((0.6472, 1.0787, 2.0787), abs=1e-4)
