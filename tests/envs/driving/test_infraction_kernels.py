"""RouteDrive's ``detect_infractions`` and ``driving_score`` called on hand-made world states.

One ego on route 0 of a straight road template, placed by hand (no env, no step kernel): each
njit function is compiled on its own, so these run in seconds; they are the tests ``make
mutation`` runs against every mutant of ``envs/driving/infractions.py`` (the env-level tests in
``test_infractions.py`` drive into the same situations through the step kernel).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from rewardgym.envs.driving.config import DriveConfig
from rewardgym.envs.driving.infractions import (
    LEADERBOARD_COLLISION,
    LEADERBOARD_RED_LIGHT,
    detect_infractions,
    driving_score,
    lane_centre_distance,
)
from rewardgym.envs.driving.maps import LANE_WIDTH, build_bank
from rewardgym.envs.driving.state import (
    E_ACTIVE,
    E_BLOCKED,
    E_COS,
    E_FRONT,
    E_LAT,
    E_LEN,
    E_OUTSIDE,
    E_PENALTY,
    E_PSI,
    E_RCMAX,
    E_S,
    E_SIN,
    E_V,
    E_WRONG,
    E_X,
    E_Y,
    E_YAW,
    E_YR,
    EF_COLS,
    GREEN,
    N_ACTIVE,
    N_COS,
    N_SIN,
    N_V,
    N_X,
    N_Y,
    RED,
    SIGNALS,
    W_LIMIT,
    W_T,
    YELLOW,
    new_world,
)

HARD_SIGNALS = ("collision", "red_light", "off_road", "off_route", "wrong_way", "blocked",
                "route_done", "timeout", "ttc", "outside_route_lanes")
P = DriveConfig().kernel_params()  # off_route 6 m, blocked below 0.1 m/s, route done at 99 %
S = 30.0  # the ego's arc on route 0 (a straight stretch along +x at y = -1.75)
HALF = 0.5 * P.car_length


@pytest.fixture(scope="module")
def bank():
    bank = build_bank("road", 1, 0)
    route = bank.route_xy[0, 0, :bank.route_n[0, 0]]
    assert np.allclose(route[:20, 1], -1.75)
    assert np.all(np.diff(route[:20, 0]) > 0)
    return bank


def _world(bank, speed=5.0, lateral=0.0, npcs=()):
    """The ego at arc S, ``lateral`` metres left of the route, heading +x at ``speed``;
    ``npcs``: (metres ahead, metres left, speed, active) of traffic cars heading +x."""
    wd = new_world(1, 1, max(len(npcs), 1))
    ef = wd.ef[0, 0]
    x0 = bank.route_xy[0, 0, 0, 0] + (S - bank.route_s[0, 0, 0])
    ef[E_X], ef[E_Y], ef[E_YAW], ef[E_COS], ef[E_SIN] = x0, -1.75 + lateral, 0.0, 1.0, 0.0
    ef[E_V], ef[E_S], ef[E_LAT], ef[E_PSI] = speed, S, lateral, 0.0
    ef[E_FRONT] = S + HALF - speed * P.dt  # the front bumper's arc one tick earlier
    ef[E_LEN], ef[E_PENALTY] = 100.0, 1.0
    wd.ei[0, 0, E_ACTIVE] = 1
    wd.wi[0, W_LIMIT] = 1000
    for j, (ahead, left, v, active) in enumerate(npcs):
        wd.nf[0, j, N_X], wd.nf[0, j, N_Y] = x0 + ahead, -1.75 + left
        wd.nf[0, j, N_COS], wd.nf[0, j, N_SIN], wd.nf[0, j, N_V] = 1.0, 0.0, v
        wd.ni[0, j, N_ACTIVE] = active
    return wd


def _detect(bank, wd, p=P, rc=30.0, lights=(GREEN, GREEN), stops=()):
    """Run ``detect_infractions``; returns ``(flags, {signal: value} of the nonzero ones)``.

    ``stops``: (arc, light group) stop lines written into route 0.
    """
    stop_s = np.full_like(bank.route_stop_s, -1.0)
    group = np.zeros_like(bank.route_stop_group)
    for m, (arc, g) in enumerate(stops):
        stop_s[0, 0, m], group[0, 0, m] = arc, g
    b = bank._replace(route_stop_s=stop_s, route_stop_group=group)
    sig = np.full(len(SIGNALS), 7.0)  # every slot is written
    flags = detect_infractions(b, wd, p, sig, 0, 0, rc, *lights)
    # Signals are severities in [0, 1] and the hard ones flags (exactly 0 or 1): the reward
    # view, the factors and the infraction wrappers read them so.
    assert np.all((sig >= 0.0) & (sig <= 1.0)), sig
    hard = [SIGNALS.index(name) for name in HARD_SIGNALS]
    assert set(sig[hard].tolist()) <= {0.0, 1.0}, sig
    return flags, {name: float(v) for name, v in zip(SIGNALS, sig, strict=True) if v}


def test_driving_along_the_route_centre_is_clean(bank):
    wd = _world(bank)
    flags, sig = _detect(bank, wd)
    assert flags == 0
    assert set(sig) <= {"lane_center"}
    assert sig.get("lane_center", 0.0) < 1e-9
    assert wd.ef[0, 0, E_FRONT] == S + HALF  # the front bumper's arc, for the next tick
    assert (wd.ei[0, 0, E_WRONG], wd.ei[0, 0, E_BLOCKED], wd.ef[0, 0, E_OUTSIDE]) == (0, 0, 0.0)


@pytest.mark.parametrize(("npcs", "expected", "flags"), [
    (((3.0, 0.0, 0.0, 1),), {"collision"}, 2),  # overlapping boxes end the episode
    (((3.0, 0.0, 0.0, 0),), set(), 0),  # an inactive car is not there
    (((-3.0, 0.5, 5.0, 1),), {"collision"}, 2),  # from behind, offset
    (((6.0, 0.0, 0.0, 1),), {"ttc"}, 0),  # 6 m ahead, standing: hit within 0.9 s at 5 m/s
    (((6.0, 0.0, 5.0, 1),), set(), 0),  # driving away as fast as the ego
    (((30.0, 0.0, 0.0, 1),), set(), 0),
    (((6.0, 3.5, 0.0, 1),), set(), 0),  # in the next lane
    (((6.0, 0.0, 0.0, 1), (3.0, 0.0, 0.0, 1)), {"collision", "ttc"}, 2),
])
def test_collisions_and_time_to_collision(bank, npcs, expected, flags):
    got_flags, sig = _detect(bank, _world(bank, npcs=npcs))
    assert (got_flags, set(sig) - {"lane_center"}) == (flags, expected)
    assert all(sig[name] == 1.0 for name in expected)


def test_time_to_collision_with_an_oncoming_car_counts_both_speeds(bank):
    """A car 10 m ahead in the ego's lane, coming the other way at 5 m/s: at 5 m/s each the gap
    closes by 9 m within the 0.9 s horizon, so the boxes meet (the pre-filter's reach must add
    the two speeds, not subtract them)."""
    wd = _world(bank, npcs=((10.0, 0.0, 5.0, 1),))
    wd.nf[0, 0, N_COS] = -1.0
    flags, sig = _detect(bank, wd)
    assert (flags, set(sig) - {"lane_center"}) == (0, {"ttc"})
    wd.nf[0, 0, N_X] += 20.0  # 30 m away: out of reach
    assert "ttc" not in _detect(bank, wd)[1]


def test_no_time_to_collision_at_a_standstill(bank):
    # A car 4.62 m ahead (centre to centre; the boxes touch at 4.6 m) is hit within 0.9 s by
    # any forward speed above 0.023 m/s, but below 0.1 m/s the ego counts as stopped.
    wd = _world(bank, speed=0.05, npcs=((4.62, 0.0, 0.0, 1),))
    assert "ttc" not in _detect(bank, wd)[1]
    wd = _world(bank, speed=0.1, npcs=((4.62, 0.0, 0.0, 1),))
    assert "ttc" in _detect(bank, wd)[1]


@pytest.mark.parametrize(("stop", "group", "lights", "red"), [
    (S + HALF - 0.25, 0, (RED, GREEN), True),  # the bumper crossed it this tick
    (S + HALF, 0, (RED, GREEN), True),  # reached it exactly
    (S + HALF - 0.5, 0, (RED, GREEN), False),  # the bumper was on it last tick
    (S - 10.0, 0, (RED, GREEN), False),  # passed long ago
    (S + HALF + 0.01, 0, (RED, GREEN), False),  # not yet
    (S + HALF - 0.25, 0, (YELLOW, GREEN), False),
    (S + HALF - 0.25, 0, (GREEN, RED), False),  # its own group's light decides
    (S + HALF - 0.25, 1, (GREEN, RED), True),
])
def test_red_light_when_the_front_bumper_crosses_the_stop_line(bank, stop, group, lights, red):
    flags, sig = _detect(bank, _world(bank), lights=lights, stops=((-1.0, 0), (stop, group)))
    assert ("red_light" in sig, flags) == (red, 2 if red else 0)


def test_off_road_off_route_and_outside_the_route_lanes(bank):
    wd = _world(bank, speed=4.0)
    wd.ef[0, 0, E_Y] = 500.0  # far from every road
    flags, sig = _detect(bank, wd)
    assert flags == 2
    assert sig == {"off_road": 1.0, "outside_route_lanes": 1.0, "lane_center": 1.0}
    assert wd.ef[0, 0, E_OUTSIDE] == pytest.approx(4.0 * P.dt, abs=1e-15)  # metres driven
    wd.ef[0, 0, E_Y] = 500.0
    assert "off_road" in _detect(bank, wd, p=P._replace(off_road_corners=4))[1]  # all 4 off
    assert "off_road" not in _detect(bank, wd, p=P._replace(off_road_corners=5))[1]


@pytest.mark.parametrize(("lateral", "off_route"), [(6.5, True), (-6.5, True), (6.0, False),
                                                    (-5.9, False)])
def test_off_route_beyond_the_lateral_limit(bank, lateral, off_route):
    wd = _world(bank)
    wd.ef[0, 0, E_LAT] = lateral  # the tracker's lateral offset (the pose stays on the route)
    flags, sig = _detect(bank, wd)
    assert ("off_route" in sig, flags) == (off_route, 2 if off_route else 0)
    assert sig.get("off_route", 1.0) == 1.0  # a flag: exactly 1 (the view reads it as 0/1)


def test_lane_centre_severity_is_the_offset_over_half_a_lane(bank):
    sig = _detect(bank, _world(bank, lateral=0.4375))[1]
    assert sig["lane_center"] == pytest.approx(0.4375 / (0.5 * LANE_WIDTH), abs=1e-9)


def test_no_lane_centre_signal_inside_a_junction():
    """CaRL measures the lane-centre distance outside junctions only: in a junction lane's
    cells ``lane_centre_distance`` answers -1, and the signal stays 0 (never negative)."""
    junction = build_bank("intersection", 1, 0)
    r = 0
    n = junction.route_n[0, r]
    inside = [q for q in range(n) if junction.route_junction[0, r, q]]
    b = junction
    checked = 0
    for q in inside:
        x, y = junction.route_xy[0, r, q]
        if lane_centre_distance(b.near_lane, b.near_seg, b.lane_xy, b.lane_n, b.lane_junction,
                                b.origin, 0, x, y) != -1.0:
            continue  # a cell whose nearest centre line is an arm's lane, not the junction's
        wd = new_world(1, 1, 1)
        ef = wd.ef[0, 0]
        dx, dy = junction.route_xy[0, r, q + 1] - junction.route_xy[0, r, q]
        yaw = math.atan2(dy, dx)
        ef[E_X], ef[E_Y], ef[E_YAW], ef[E_COS], ef[E_SIN] = x, y, yaw, math.cos(yaw), math.sin(yaw)
        ef[E_V], ef[E_S], ef[E_LEN], ef[E_PENALTY] = 5.0, junction.route_s[0, r, q], 100.0, 1.0
        ef[E_FRONT] = ef[E_S] + HALF
        wd.ei[0, 0, E_ACTIVE] = 1
        wd.wi[0, W_LIMIT] = 1000
        sig = np.full(len(SIGNALS), 7.0)
        detect_infractions(junction, wd, P, sig, 0, 0, 30.0, GREEN, GREEN)
        assert sig[SIGNALS.index("lane_center")] == 0.0
        assert np.all((sig >= 0.0) & (sig <= 1.0))
        checked += 1
    assert checked >= 3  # the route crosses the junction through cells of its own lanes


@pytest.mark.parametrize(("yaw_rate", "violated"), [(2.0, 1), (1.6, 0), (-2.0, 1)])
def test_comfort_lateral_acceleration_is_speed_times_yaw_rate(bank, yaw_rate, violated):
    """At 5 m/s, a yaw rate of 2 rad/s is 10 m/s² sideways (above the 9 m/s² limit), 1.6 rad/s
    is 8; the comfort check starts once 8 frames are in its history."""
    wd = _world(bank, speed=5.0)
    wd.ef[0, 0, E_YR] = yaw_rate
    seen = [_detect(bank, wd)[1].get("comfort", 0.0) for _ in range(8)]
    assert seen == [0.0] * 7 + [violated / 6.0]


def test_wrong_way_after_its_step_count(bank):
    p = P._replace(wrong_way_steps=3)
    wd = _world(bank)
    wd.ef[0, 0, E_PSI] = np.pi
    seen = [_detect(bank, wd, p=p) for _ in range(3)]
    assert wd.ei[0, 0, E_WRONG] == 3
    assert [("wrong_way" in sig, flags) for flags, sig in seen] == [
        (False, 0), (False, 0), (True, 2)]
    wd.ef[0, 0, E_PSI] = 0.5  # back within 135 degrees: the count restarts
    flags, sig = _detect(bank, wd, p=p)
    assert (flags, "wrong_way" in sig, wd.ei[0, 0, E_WRONG]) == (0, False, 0)


def test_blocked_after_its_step_count(bank):
    p = P._replace(blocked_steps=2)
    wd = _world(bank, speed=0.05)
    seen = [_detect(bank, wd, p=p) for _ in range(2)]
    assert [("blocked" in sig, flags) for flags, sig in seen] == [(False, 0), (True, 2)]
    assert seen[1][1]["blocked"] == 1.0  # a flag: exactly 1 (the view reads it as 0/1)
    assert wd.ei[0, 0, E_BLOCKED] == 2
    wd.ef[0, 0, E_V] = 0.1  # at the threshold speed: moving
    _detect(bank, wd, p=p)
    assert wd.ei[0, 0, E_BLOCKED] == 0


def test_speeding_severity_is_the_excess_over_the_margin(bank):
    vlim = bank.route_vlim[0, 0, 0]
    for excess, severity in ((0.0, None), (P.overspeed_margin / 2, 0.5), (5.0, 1.0)):
        sig = _detect(bank, _world(bank, speed=vlim + excess))[1]
        if severity is None:
            assert "speeding" not in sig
        else:
            assert sig["speeding"] == pytest.approx(severity, abs=1e-12)


def test_route_done_terminates(bank):
    assert _detect(bank, _world(bank), rc=P.route_done_pct) == (2, {"route_done": 1.0})
    assert _detect(bank, _world(bank), rc=100.0) == (2, {"route_done": 1.0})
    assert _detect(bank, _world(bank), rc=P.route_done_pct - 0.01) == (0, {})


def _at_step(bank, t, limit=100, npcs=(), **params):
    wd = _world(bank, npcs=npcs)
    wd.wi[0, W_T], wd.wi[0, W_LIMIT] = t, limit
    return _detect(bank, wd, p=P._replace(**params))


def test_timeout_truncates_unless_configured_terminal(bank):
    assert _at_step(bank, 100) == (1, {"timeout": 1.0})
    assert _at_step(bank, 101) == (1, {"timeout": 1.0})
    assert _at_step(bank, 99) == (0, {})
    assert _at_step(bank, 100, timeout_is_terminal=True) == (2, {"timeout": 1.0})
    # A hard infraction on the last step is no timeout: it terminates.
    assert _at_step(bank, 100, npcs=((3.0, 0.0, 0.0, 1),)) == (2, {"collision": 1.0})


def test_an_outside_time_limit_truncates_even_a_terminating_step(bank):
    assert _at_step(bank, 50, time_limit=50) == (1, {})
    assert _at_step(bank, 49, time_limit=50) == (0, {})
    assert _at_step(bank, 50, time_limit=0) == (0, {})  # 0: no outside limit
    assert _at_step(bank, 1, time_limit=1) == (1, {})  # a limit of one step
    assert _at_step(bank, 50, time_limit=50, npcs=((3.0, 0.0, 0.0, 1),)) == (
        3, {"collision": 1.0})


def _score(collision=0.0, red_light=0.0, outside=0.0, penalty=1.0):
    ef = np.zeros((1, 1, EF_COLS))
    ef[0, 0, E_RCMAX], ef[0, 0, E_PENALTY], ef[0, 0, E_LEN] = 80.0, penalty, 100.0
    ef[0, 0, E_OUTSIDE] = outside
    sig = np.zeros(len(SIGNALS))
    sig[SIGNALS.index("collision")], sig[SIGNALS.index("red_light")] = collision, red_light
    return driving_score(ef, sig, 0, 0), ef[0, 0, E_PENALTY]


def test_driving_score_is_completion_times_penalties_times_share_inside():
    assert _score() == (80.0, 1.0)
    assert _score(collision=1.0) == pytest.approx((80.0 * 0.6, 0.6), abs=1e-12)
    assert _score(red_light=1.0) == pytest.approx((80.0 * 0.7, 0.7), abs=1e-12)
    assert _score(collision=1.0, red_light=1.0) == pytest.approx((80.0 * 0.42, 0.42), abs=1e-12)
    assert _score(collision=1.0, penalty=0.5) == pytest.approx((80.0 * 0.3, 0.3), abs=1e-12)
    assert _score(outside=25.0) == (60.0, 1.0)  # 25 of 100 m outside the route lanes
    assert _score(outside=150.0) == (0.0, 1.0)  # never negative
    assert (LEADERBOARD_COLLISION, LEADERBOARD_RED_LIGHT) == (0.6, 0.7)
