"""RouteDrive's reward functions (``envs/driving/rewards.py``) called on hand-made inputs.

Each njit function is compiled on its own, not inside the env's step kernel, so these run in
seconds; they are the test ``make mutation`` runs against every mutant of the reward code
(the env-level tests in ``test_rewards.py`` check that the step kernel uses them).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from rewardgym.envs.driving import rewards as rw
from rewardgym.envs.driving.config import DriveConfig
from rewardgym.envs.driving.maps import MAX_STOPS, MapBank
from rewardgym.envs.driving.state import (
    E_ACT0,
    E_ACTIVE,
    E_COS,
    E_LAT,
    E_PSI,
    E_S,
    E_SIN,
    E_TTC_CD,
    E_TTC_HELD,
    E_V,
    E_X,
    E_Y,
    EF_COLS,
    EI_COLS,
    GREEN,
    MAX_TERMS,
    N_ACTIVE,
    N_COS,
    N_SIN,
    N_X,
    N_Y,
    RED,
    SIGNALS,
    YELLOW,
    new_world,
)

P = DriveConfig().kernel_params()  # terminal_penalty 1, roach_vmax 6, ttc 0.5 held 50 steps


def _sig(**values: float) -> np.ndarray:
    sig = np.zeros(len(SIGNALS))
    for name, value in values.items():
        sig[SIGNALS.index(name)] = value
    return sig


def _terms() -> np.ndarray:
    return np.full(MAX_TERMS, 0.0)


# held_factor: InfractionPenalty's hold rule


def test_held_factor_holds_the_factor_for_hold_steps_then_lets_go():
    # (severity, factor if active, hold, countdown, held) -> (factor, countdown, held)
    assert rw.held_factor(1.0, 0.5, 3, 0, 1.0) == (0.5, 2, 0.5)  # the violation sets the hold
    assert rw.held_factor(0.0, 0.5, 3, 2, 0.5) == (0.5, 1, 0.5)  # held without a violation
    assert rw.held_factor(0.0, 0.5, 3, 1, 0.5) == (0.5, 0, 0.5)  # the third step: still held
    assert rw.held_factor(0.0, 0.5, 3, 0, 0.5) == (1.0, 0, 0.5)  # the hold is over
    assert rw.held_factor(1.0, 0.5, 3, 1, 0.5) == (0.5, 2, 0.5)  # a new violation renews it
    assert rw.held_factor(0.0, 0.5, 3, 0, 1.0) == (1.0, 0, 1.0)  # nothing happened


def test_held_factor_without_a_hold_applies_only_on_the_step_itself():
    assert rw.held_factor(1.0, 0.25, 0, 0, 1.0) == (0.25, 0, 1.0)
    assert rw.held_factor(0.0, 0.25, 0, 0, 1.0) == (1.0, 0, 1.0)
    assert rw.held_factor(1.0, 0.25, 1, 0, 1.0) == (0.25, 0, 0.25)  # hold 1: this step only
    assert rw.held_factor(0.0, 0.25, 1, 0, 0.25) == (1.0, 0, 0.25)


# soft_factor: CaRL's product of soft factors


def _soft(p=P, **signals: float) -> tuple[float, np.ndarray, np.ndarray]:
    ef, ei = np.zeros((1, 1, EF_COLS)), np.zeros((1, 1, EI_COLS), np.int64)
    ef[0, 0, E_TTC_HELD] = 1.0
    return rw.soft_factor(p, _sig(**signals), ef, ei, 0, 0), ef, ei


@pytest.mark.parametrize(("signals", "factor"), [
    ({}, 1.0),
    ({"speeding": 0.25}, 0.75),
    ({"speeding": 1.5}, 0.0),  # severities are clamped to 1: never a negative factor
    ({"comfort": 0.5}, 0.75),  # 1 - comfort_weight (0.5) x share
    ({"comfort": 2.0}, 0.5),
    ({"lane_center": 0.25}, 0.75),
    ({"lane_center": 3.0}, 0.0),
    ({"outside_route_lanes": 1.0}, 0.0),
    ({"outside_route_lanes": 0.5}, 0.0),
    ({"ttc": 1.0}, 0.5),
    ({"speeding": 0.5, "comfort": 0.5, "lane_center": 0.5}, 0.5 * 0.75 * 0.5),
    ({"speeding": 0.5, "ttc": 1.0, "lane_center": 0.75}, 0.5 * 0.5 * 0.25),
    # hard infractions and the route's end are not soft factors
    ({"collision": 1.0, "red_light": 1.0, "off_road": 1.0, "timeout": 1.0, "route_done": 1.0},
     1.0),
])
def test_soft_factor_is_the_product_of_the_soft_rules(signals, factor):
    # Every factor here is a short binary fraction: the products are exact.
    assert _soft(**signals)[0] == factor


def test_soft_factor_comfort_uses_the_configured_weight():
    assert _soft(P._replace(comfort_weight=0.25), comfort=1.0)[0] == 0.75


def test_soft_factor_holds_the_ttc_factor_in_the_egos_state():
    p = P._replace(ttc_hold_steps=3, ttc_factor=0.25)
    ef, ei = np.zeros((1, 1, EF_COLS)), np.zeros((1, 1, EI_COLS), np.int64)
    ef[0, 0, E_TTC_HELD] = 1.0
    factors = []
    for ttc in (1.0, 0.0, 0.0, 0.0, 0.0):
        factors.append(rw.soft_factor(p, _sig(ttc=ttc), ef, ei, 0, 0))
        if ttc:
            assert (ei[0, 0, E_TTC_CD], ef[0, 0, E_TTC_HELD]) == (2, 0.25)
    assert factors == [0.25, 0.25, 0.25, 1.0, 1.0]
    assert ei[0, 0, E_TTC_CD] == 0


# The reward modes


@pytest.mark.parametrize(("signals", "reward", "terms"), [
    ({}, 1.0, (1.0, 0.0)),
    ({"collision": 1.0}, -1.0, (1.0, -2.0)),
    ({"red_light": 1.0}, -1.0, (1.0, -2.0)),
    ({"collision": 1.0, "red_light": 1.0}, -1.0, (1.0, -2.0)),  # the penalty is paid once
    ({"off_road": 1.0, "blocked": 1.0, "timeout": 1.0}, 1.0, (1.0, 0.0)),  # no penalty for these
])
def test_carl_reward_is_progress_times_factor_plus_the_terminal_penalty(signals, reward, terms):
    out = _terms()
    p = P._replace(terminal_penalty=2.0)
    assert rw.carl_reward(p, _sig(**signals), 2.0, 0.5, out) == reward
    np.testing.assert_array_equal(out, [*terms, 0.0, 0.0, 0.0])


def test_progress_and_sparse_rewards():
    out = _terms()
    assert rw.progress_reward(1.5, out) == 1.5
    np.testing.assert_array_equal(out, [1.5, 0, 0, 0, 0])
    assert rw.progress_reward(-0.25, out) == -0.25  # progress lost is paid back
    assert out[0] == -0.25
    out[:] = 7.0
    assert rw.sparse_reward(_sig(route_done=1.0), out) == 100.0
    np.testing.assert_array_equal(out, [100.0, 7, 7, 7, 7])
    assert rw.sparse_reward(_sig(collision=1.0, speeding=1.0), out) == 0.0
    assert out[0] == 0.0


def _roach(signals=None, speed=4.0, target=6.0, lateral=-1.0, heading=-0.25, steer=0.5,
           ended=False):
    out = _terms()
    reward = rw.roach_reward(P, _sig(**(signals or {})), speed, target, lateral, heading, steer,
                             ended, out)
    return reward, out


def test_roach_reward_terms():
    reward, out = _roach()
    speed = 1.0 - 2.0 / 6.0  # 1 - |v - v_des| / roach_vmax
    np.testing.assert_allclose(out, [speed, -0.5, -0.25, -0.1, 0.0], rtol=0, atol=1e-15)
    assert reward == pytest.approx(speed - 0.5 - 0.25 - 0.1, abs=1e-15)
    # |v - v_des| either way; |lateral| and |heading| either side
    mirrored = _roach(speed=6.0, target=4.0, lateral=1.0, heading=0.25)
    assert mirrored[0] == reward
    np.testing.assert_array_equal(mirrored[1], out)


def test_roach_action_term_needs_a_steering_change_above_one_hundredth():
    assert _roach(steer=0.01)[1][rw.ROACH_ACTION] == 0.0
    assert _roach(steer=0.0)[1][rw.ROACH_ACTION] == 0.0
    assert _roach(steer=0.0100001)[1][rw.ROACH_ACTION] == -0.1


@pytest.mark.parametrize(("signals", "terminal"), [
    ({}, -1.0),  # any end, truncation included
    ({"off_road": 1.0}, -1.0),
    ({"collision": 1.0}, -1.0 - 4.0),  # less the speed on a crash
    ({"red_light": 1.0}, -1.0 - 4.0),
    ({"collision": 1.0, "red_light": 1.0}, -1.0 - 4.0),
])
def test_roach_terminal_term(signals, terminal):
    reward, out = _roach(signals, ended=True)
    assert out[rw.ROACH_TERMINAL] == terminal
    assert reward == pytest.approx(_roach()[0] + terminal, abs=1e-14)
    assert _roach(signals, ended=False)[1][rw.ROACH_TERMINAL] == 0.0


# roach_target_speed and mode_reward read the world: one ego at (0, 0) heading +x at route
# arc 100 m, traffic cars placed by hand; stop lines written into the bank's route 0.


@pytest.fixture(scope="module")
def bank():
    """A one-template bank: the reward functions read only its stop lines (set per test).

    Built by hand rather than by ``build_bank``, whose raster kernels would be compiled too.
    """
    fields = dict.fromkeys(MapBank._fields, np.zeros((1, 1, 1)))
    fields["route_stop_s"] = np.full((1, 1, MAX_STOPS), -1.0)
    fields["route_stop_group"] = np.zeros((1, 1, MAX_STOPS), np.int64)
    return MapBank(**fields)


def _world(npcs=(), stops=(), egos=1):
    """``npcs``: (x, y, heading cos, heading sin, active); ``stops``: (arc, light group)."""
    wd = new_world(1, egos, max(len(npcs), 1))
    wd.ef[0, :, E_COS] = 1.0
    wd.ef[0, 0, E_S] = 100.0
    wd.ei[0, :, E_ACTIVE] = 1
    wd.ef[0, 1:, E_Y] = 50.0  # other egos far away
    for j, (x, y, c, s, active) in enumerate(npcs):
        wd.nf[0, j, N_X], wd.nf[0, j, N_Y], wd.nf[0, j, N_COS], wd.nf[0, j, N_SIN] = x, y, c, s
        wd.ni[0, j, N_ACTIVE] = active
    return wd, stops


def _target_speed(bank, npcs=(), stops=(), light0=RED, light1=GREEN, egos=1):
    wd, _ = _world(npcs, egos=egos)
    stop_s = np.full_like(bank.route_stop_s, -1.0)
    group = np.zeros_like(bank.route_stop_group)
    for m, (arc, g) in enumerate(stops):
        stop_s[0, 0, m], group[0, 0, m] = arc, g
    b = bank._replace(route_stop_s=stop_s, route_stop_group=group)
    return rw.roach_target_speed(b, wd, P, 0, 0, light0, light1)


def _deg(angle: float) -> tuple[float, float]:
    # math (libm), as the kernel computes its cone cosines: the 150 deg edge is then exact.
    return math.cos(math.radians(angle)), math.sin(math.radians(angle))


@pytest.mark.parametrize(("npcs", "speed"), [
    ((), 6.0),  # no hazard (the ego itself is not one): roach_vmax
    (((9.0, 0.0, 1.0, 0.0, 1),), 6.0 * 1.0 / 5.0),  # vmax * clip(d - 8, 0, 5) / 5
    (((9.0, 0.0, 1.0, 0.0, 0),), 6.0),  # an inactive car is no hazard
    (((9.6, 0.0, 1.0, 0.0, 1),), 6.0),  # beyond 9.5 m
    (((8.5, 0.0, -1.0, 0.0, 1),), 6.0),  # oncoming: headings more than 150 deg apart
    (((8.5, 0.0, *_deg(140.0), 1),), 6.0 * 0.5 / 5.0),  # 140 deg apart: still a hazard
    (((8.5, 0.0, *_deg(150.0), 1),), 6.0 * 0.5 / 5.0),  # "at most 150 deg": the edge counts
    (((9.0 * _deg(40.0)[0], 9.0 * _deg(40.0)[1], 1.0, 0.0, 1),), 6.0 / 5.0),  # 40 deg off
    (((9.0 * _deg(50.0)[0], 9.0 * _deg(50.0)[1], 1.0, 0.0, 1),), 6.0),  # outside the 45 deg cone
    (((-7.0, 0.0, 1.0, 0.0, 1),), 6.0),  # behind
    (((0.0, 0.0, 1.0, 0.0, 1),), 0.0),  # on top of the ego
    (((-0.5, 0.0, 1.0, 0.0, 1),), 6.0),  # overlapping but behind: only d < 1 mm counts as ahead
    (((9.0, 0.0, 1.0, 0.0, 1), (8.5, 0.0, 1.0, 0.0, 1)), 6.0 * 0.5 / 5.0),  # the nearest
])
def test_roach_target_speed_slows_for_vehicles_ahead(bank, npcs, speed):
    assert _target_speed(bank, npcs=npcs) == pytest.approx(speed, abs=1e-12)


def test_roach_target_speed_measures_from_the_ego_along_its_heading(bank):
    """The ego off the origin and heading +y: the hazard geometry uses both coordinates."""
    stops = bank._replace(route_stop_s=np.full_like(bank.route_stop_s, -1.0))
    for car_y, speed in ((5.0, 6.0 / 5.0), (-13.0, 6.0)):  # 9 m ahead; 9 m behind
        wd, _ = _world([(3.0, car_y, 0.0, 1.0, 1)])
        wd.ef[0, 0, E_X], wd.ef[0, 0, E_Y] = 3.0, -4.0
        wd.ef[0, 0, E_COS], wd.ef[0, 0, E_SIN] = 0.0, 1.0
        assert rw.roach_target_speed(stops, wd, P, 0, 0, GREEN, GREEN) == pytest.approx(
            speed, abs=1e-12)


@pytest.mark.parametrize(("ego_deg", "car_deg", "speed"), [
    (90.0, 190.0, 6.0 / 5.0),  # 100 deg apart: a hazard, whichever way the ego faces
    (90.0, 90.0 + 140.0, 6.0 / 5.0),
    (-90.0, 90.0, 6.0),  # oncoming (180 deg apart) with the ego heading -y
    (-90.0, -90.0 + 155.0, 6.0),  # 155 deg apart: not "at most 150"
    (200.0, 200.0 - 100.0, 6.0 / 5.0),
])
def test_roach_target_speed_same_heading_test_rotates_with_the_ego(bank, ego_deg, car_deg, speed):
    """The heading difference is ``cos(ego - car)`` from both sines and cosines: a car 9 m
    straight ahead of an ego that does not head +x, at a heading 100-155 deg from the ego's."""
    stops = bank._replace(route_stop_s=np.full_like(bank.route_stop_s, -1.0))
    c, s = _deg(ego_deg)
    wd, _ = _world([(3.0 + 9.0 * c, -4.0 + 9.0 * s, *_deg(car_deg), 1)])
    wd.ef[0, 0, E_X], wd.ef[0, 0, E_Y] = 3.0, -4.0
    wd.ef[0, 0, E_COS], wd.ef[0, 0, E_SIN] = c, s
    assert rw.roach_target_speed(stops, wd, P, 0, 0, GREEN, GREEN) == pytest.approx(
        speed, abs=1e-12)


def test_roach_target_speed_sees_other_egos_but_not_itself(bank):
    wd, _ = _world(egos=2)
    wd.ef[0, 1, E_X], wd.ef[0, 1, E_Y] = 9.0, 0.0  # ego 1 is 9 m ahead of ego 0
    stops = bank._replace(route_stop_s=np.full_like(bank.route_stop_s, -1.0))
    assert rw.roach_target_speed(stops, wd, P, 0, 0, GREEN, GREEN) == pytest.approx(1.2)
    assert rw.roach_target_speed(stops, wd, P, 0, 1, GREEN, GREEN) == 6.0  # ego 0 is behind


HIT = 100.0 + rw.ROACH_TL_OFFSET * 0.5 * P.car_length  # the light's reference point (98.16)


@pytest.mark.parametrize(("stops", "lights", "speed"), [
    (((108.0, 0),), (RED, GREEN), 6.0 * 3.0 / 5.0),  # vmax * clip(|stop - s| - 5, 0, 5) / 5
    (((108.0, 0),), (YELLOW, GREEN), 6.0 * 3.0 / 5.0),
    (((108.0, 0),), (GREEN, RED), 6.0),  # its own group's light decides
    (((108.0, 1),), (GREEN, RED), 6.0 * 3.0 / 5.0),
    (((111.0, 0),), (RED, GREEN), 6.0),  # 11 m: clip(6, 0, 5) = 5
    (((99.0, 0),), (RED, GREEN), 0.0),  # right at the line
    (((HIT, 0),), (RED, GREEN), 6.0),  # passed
    (((HIT + 0.01, 0),), (RED, GREEN), 0.0),
    (((HIT - 1.0, 0),), (RED, GREEN), 6.0),  # passed a metre ago: behind the reference point
    (((120.0, 0), (107.0, 0)), (RED, GREEN), 6.0 * 2.0 / 5.0),  # the nearest, whatever slot
    (((-1.0, 0), (107.0, 0)), (RED, GREEN), 6.0 * 2.0 / 5.0),  # -1: an empty slot, skipped
])
def test_roach_target_speed_slows_for_red_and_yellow_lights(bank, stops, lights, speed):
    assert _target_speed(bank, stops=stops, light0=lights[0], light1=lights[1]) == (
        pytest.approx(speed, abs=1e-12))


def test_roach_target_speed_at_the_route_start_skips_only_empty_stop_slots(bank):
    """-1 marks an empty slot; a stop line at arc 0 is a real one. The ego at arc 0 puts both
    inside the light's window (its reference point is 1.84 m behind the ego)."""
    wd, _ = _world()
    wd.ef[0, 0, E_S] = 0.0
    for arcs, speed in (((-1.0, -1.0), 6.0), ((0.0, -1.0), 0.0), ((-1.0, 0.5), 0.0)):
        stop_s = np.full_like(bank.route_stop_s, -1.0)
        stop_s[0, 0, :2] = arcs
        b = bank._replace(route_stop_s=stop_s,
                          route_stop_group=np.zeros_like(bank.route_stop_group))
        assert rw.roach_target_speed(b, wd, P, 0, 0, RED, RED) == pytest.approx(
            speed, abs=1e-12)


def _mode(bank, mode, signals, steer=0.75, ended=False, progress=2.0, mult=0.5):
    wd, _ = _world(npcs=((9.0, 0.0, 1.0, 0.0, 1),))
    wd.ef[0, 0, E_V], wd.ef[0, 0, E_LAT], wd.ef[0, 0, E_PSI] = 3.0, 0.5, 0.125
    wd.ef[0, 0, E_ACT0] = 0.25
    p = P._replace(reward_mode=mode)
    b = bank._replace(route_stop_s=np.full_like(bank.route_stop_s, -1.0))
    out = np.full(MAX_TERMS, 9.0)
    reward = rw.mode_reward(b, wd, p, steer, _sig(**signals), out, progress, mult, ended, 0, 0,
                            GREEN, GREEN)
    return reward, out


def test_mode_reward_dispatches_on_the_mode_and_zeroes_the_other_slots(bank):
    assert _mode(bank, rw.CARL, {"collision": 1.0})[0] == 1.0 - 1.0
    np.testing.assert_array_equal(_mode(bank, rw.CARL, {"collision": 1.0})[1], [1, -1, 0, 0, 0])
    reward, out = _mode(bank, rw.PROGRESS, {"collision": 1.0})
    assert reward == 2.0
    np.testing.assert_array_equal(out, [2, 0, 0, 0, 0])
    reward, out = _mode(bank, rw.SPARSE, {"route_done": 1.0})
    assert reward == 100.0
    np.testing.assert_array_equal(out, [100, 0, 0, 0, 0])
    # Roach reads the ego's speed, lateral and heading errors, the change from its previous
    # steering and the hazard-lowered target speed (a car 9 m ahead: 1.2 m/s).
    reward, out = _mode(bank, rw.ROACH, {"collision": 1.0}, ended=True)
    expected = [1.0 - 1.8 / 6.0, -0.25, -0.125, -0.1, -1.0 - 3.0]
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-12)
    assert reward == pytest.approx(sum(expected), abs=1e-12)
    _, out = _mode(bank, rw.ROACH, {}, steer=0.255)  # a change of 0.005: no action term
    np.testing.assert_allclose(out, [*expected[:3], 0.0, 0.0], rtol=0, atol=1e-12)


def test_term_names_follow_the_slots():
    assert rw.TERM_NAMES[rw.CARL] == ("progress", "terminal")
    assert rw.TERM_NAMES[rw.ROACH][rw.ROACH_ACTION] == "action"
    assert rw.TERM_NAMES[rw.SPARSE] == ("route_done",)
