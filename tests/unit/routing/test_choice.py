"""The pure routing rules: candidate order (load, then idle time), the availability key that
stores that order in the index, the wait estimate, and the timer edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from parley.routing.choice import (
    DEFAULT_SECONDS_PER_PLACE,
    AgentStatus,
    Candidate,
    answer_deadline,
    availability_key,
    estimate_wait_seconds,
    is_available,
    is_idle,
    order_candidates,
    routing_teams,
    seconds_per_place,
)

T0 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def cand(agent: str, load: int, idle_minutes_ago: int) -> Candidate:
    return Candidate(agent_id=agent, load=load, idle_since=T0 - timedelta(minutes=idle_minutes_ago))


def test_least_loaded_first_whatever_the_idle_time() -> None:
    ordered = order_candidates([cand("busy", 2, 90), cand("free", 0, 1), cand("some", 1, 60)])
    assert [c.agent_id for c in ordered] == ["free", "some", "busy"]


def test_equal_load_goes_to_the_longest_idle() -> None:
    ordered = order_candidates([cand("recent", 1, 2), cand("longest", 1, 30), cand("middle", 1, 10)])
    assert [c.agent_id for c in ordered] == ["longest", "middle", "recent"]


def test_full_tie_is_broken_by_id_so_every_router_agrees() -> None:
    assert [c.agent_id for c in order_candidates([cand("b", 1, 5), cand("a", 1, 5)])] == ["a", "b"]


def test_excluded_agent_is_never_chosen_and_an_agent_of_two_teams_counts_once() -> None:
    ordered = order_candidates([cand("x", 0, 5), cand("y", 1, 5), cand("y", 1, 5), cand("z", 2, 5)], exclude=["x"])
    assert [c.agent_id for c in ordered] == ["y", "z"]


def test_no_candidates() -> None:
    assert order_candidates([]) == []
    assert order_candidates([cand("only", 0, 1)], exclude=["only"]) == []


def test_availability_key_sorts_as_text_exactly_like_the_rank() -> None:
    candidates = [cand("a", 10, 1), cand("b", 9, 100), cand("c", 9, 3), cand("d", 0, 0), cand("e", 100, 50)]
    by_key = sorted(candidates, key=lambda c: availability_key(c.load, c.idle_since, c.agent_id))
    assert by_key == order_candidates(candidates)
    assert [c.agent_id for c in by_key] == ["d", "b", "c", "a", "e"]


@pytest.mark.parametrize(
    ("status", "load", "cap", "available"),
    [(AgentStatus.ONLINE, 0, 1, True), (AgentStatus.ONLINE, 2, 3, True), (AgentStatus.ONLINE, 3, 3, False),
     (AgentStatus.ONLINE, 4, 3, False), (AgentStatus.AWAY, 0, 3, False), (AgentStatus.OFFLINE, 0, 3, False)],
)
def test_available_means_online_and_under_the_cap(status: AgentStatus, load: int, cap: int, available: bool) -> None:
    assert is_available(status, load, cap) is available


def test_estimate_before_any_departure_is_a_default_per_place() -> None:
    assert seconds_per_place([]) == DEFAULT_SECONDS_PER_PLACE
    assert seconds_per_place([T0]) == DEFAULT_SECONDS_PER_PLACE
    assert estimate_wait_seconds(3, []) == 3 * DEFAULT_SECONDS_PER_PLACE


def test_estimate_is_position_times_mean_interval_between_recent_departures() -> None:
    departures = [T0, T0 + timedelta(seconds=30), T0 + timedelta(seconds=90)]  # mean interval 45 s
    assert seconds_per_place(list(reversed(departures))) == 45
    assert estimate_wait_seconds(1, departures) == 45
    assert estimate_wait_seconds(4, departures) == 180
    assert estimate_wait_seconds(0, departures) == 0


def test_estimate_rounds_up_and_never_counts_below_a_second_per_place() -> None:
    assert estimate_wait_seconds(1, [T0, T0 + timedelta(seconds=10), T0 + timedelta(seconds=21)]) == 11  # 10.5 ↑
    assert estimate_wait_seconds(5, [T0, T0]) == 5  # departures at the same instant: 1 s a place


def test_answer_deadline_edges() -> None:
    assert answer_deadline(T0, 60) == T0 + timedelta(seconds=60)
    assert answer_deadline(T0, 0) is None


def test_idle_at_the_second_of_the_timeout_not_before() -> None:
    last = T0
    assert not is_idle(last, 1800, T0 + timedelta(seconds=1799))
    assert is_idle(last, 1800, T0 + timedelta(seconds=1800))
    assert not is_idle(last, 0, T0 + timedelta(days=30))  # 0 = never closed for idleness


def test_routing_teams_use_teams_or_one_implicit_team_per_client() -> None:
    assert routing_teams(["tm_a", "tm_b", "tm_a"], ["cl_1"]) == ["tm_a", "tm_b"]
    assert routing_teams([], ["cl_1", "cl_2"]) == ["@cl_1", "@cl_2"]
