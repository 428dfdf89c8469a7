"""RouteDriveParallelEnv: PettingZoo API, multi-step determinism, ego-ego collisions, rewards."""

from __future__ import annotations

import doctest
import math
import pickle
import warnings

import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test

import rewardgym
from rewardgym.envs import PARALLEL_ENVS
from rewardgym.envs.driving import (
    DriveConfig,
    RouteDriveParallelEnv,
    routedrive_intersection_v1,
)
from rewardgym.envs.driving import kernels as k
from rewardgym.envs.driving import multi_agent as multi_agent_module
from rewardgym.envs.driving.maps import build_bank
from rewardgym.wrappers.driving import infraction_table
from rewardgym.wrappers.infractions import InfractionPenaltyParallel
from tests.helpers import assert_same

ROUTE = k.EGO_FEATURES  # observation layout: ego, route points, actors, light, RC, timers
ACTOR = ROUTE + 2 * k.LOOKAHEAD
LIGHT = ACTOR + k.ACTORS * k.ACTOR_FEATURES
HARD = ("collision", "red_light", "off_road", "off_route", "wrong_way", "blocked")


def drive(obs: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    """A scripted driver: pure pursuit on the route, stops for lights and cars ahead, + noise.

    Without noise it finishes most routes (so episodes last ~300 steps and see every kind of
    ending); the noise adds infractions.
    """
    x, y = 40.0 * obs[ROUTE + 2], 40.0 * obs[ROUTE + 3]  # the route point 8 m ahead (ego frame)
    steer = math.atan(2.7 * 2.0 * y / max(x * x + y * y, 1.0)) / 0.6
    target = 0.7  # fraction of the speed limit
    if obs[LIGHT + k.RED] or obs[LIGHT + k.YELLOW]:
        target = min(target, max(50.0 * obs[LIGHT + 3] - 2.0, 0.0) / 30.0)
    for m in range(k.ACTORS):
        a = obs[ACTOR + m * k.ACTOR_FEATURES: ACTOR + (m + 1) * k.ACTOR_FEATURES]
        if a[5] and 0.0 < 50.0 * a[0] < 12.0 and abs(50.0 * a[1]) < 2.5:
            target = 0.0
    action = np.array([steer, 2.0 * (target - obs[0])]) + noise * rng.normal(size=2)
    return np.clip(action, -1.0, 1.0).astype(np.float32)


def rollout(env, seed: int, steps: int, noise: float = 0.3, action_seed: int = 0) -> list:
    """``steps`` steps of scripted driving, resetting (stream continued) when all cars end."""
    rng = np.random.default_rng(action_seed)
    obs, infos = env.reset(seed=seed)
    trace = [("reset", obs, infos)]
    for _ in range(steps):
        if not env.agents:
            obs, infos = env.reset()
            trace.append(("reset", obs, infos))
        result = env.step({a: drive(obs[a], rng, noise) for a in env.agents})
        obs = result[0]
        trace.append(("step", *result, list(env.agents)))
    return trace


@pytest.fixture(scope="module")
def env() -> RouteDriveParallelEnv:
    return RouteDriveParallelEnv()


# ---------------------------------------------------------------------------------------------
# Map family


def test_crossing_routes_start_one_per_arm_in_arm_order():
    bank = build_bank("crossing", 64, 0)
    assert (bank.n_routes == 4).all()
    for t in range(64):
        starts = bank.route_xy[t, :, 0]
        for r in range(4):
            angle = math.degrees(math.atan2(starts[r, 1], starts[r, 0]))
            assert abs((angle - 90.0 * r + 180.0) % 360.0 - 180.0) < 10.0, (t, r, angle)
        gaps = np.linalg.norm(starts[:, None] - starts[None], axis=-1)[np.triu_indices(4, 1)]
        assert gaps.min() > 50.0
    # The exit is drawn per template: over the bank, each arm sees more than one turn.
    ends = bank.route_xy[np.arange(64)[:, None], np.arange(4)[None], bank.route_n - 1]
    exits = np.round(np.degrees(np.arctan2(ends[..., 1], ends[..., 0])) / 90.0) % 4
    assert all(len(set(exits[:, r].tolist())) == 3 for r in range(4))


def test_egos_spawn_on_their_own_arm_apart(env):
    for seed in range(20):
        env.reset(seed=seed)
        xy = env._world.ef[0, :, [k.E_X, k.E_Y]].T
        for e in range(4):
            angle = math.degrees(math.atan2(xy[e, 1], xy[e, 0]))
            assert abs((angle - 90.0 * e + 180.0) % 360.0 - 180.0) < 15.0
        gaps = np.linalg.norm(xy[:, None] - xy[None], axis=-1)[np.triu_indices(4, 1)]
        assert gaps.min() > 40.0


# ---------------------------------------------------------------------------------------------
# PettingZoo API


@pytest.mark.parametrize("overrides", [{}, {"num_egos": 2, "action_mode": "discrete"},
                                       {"num_egos": 3, "obs_mode": "bev", "num_npcs": 3}])
def test_parallel_api_test(overrides):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # its mismatched-key checks only warn
        parallel_api_test(RouteDriveParallelEnv(**overrides), num_cycles=400)


def test_aec_env_passes_api_test():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        api_test(routedrive_intersection_v1.env(num_egos=3), num_cycles=300)


def test_module_functions_and_metadata():
    par = routedrive_intersection_v1.parallel_env(num_egos=2)
    assert isinstance(par, RouteDriveParallelEnv)
    assert par.metadata["name"] == "routedrive_intersection_v1"
    assert par.metadata["is_parallelizable"] is True
    assert par.possible_agents == ["car_0", "car_1"]
    assert RouteDriveParallelEnv().possible_agents == [f"car_{i}" for i in range(4)]
    raw = routedrive_intersection_v1.raw_env(num_egos=2)
    assert raw.unwrapped.possible_agents == ["car_0", "car_1"]
    aec = routedrive_intersection_v1.env(num_egos=2, num_npcs=0)
    aec.reset(seed=3)
    observation, reward, termination, truncation, info = aec.last()
    assert observation.shape == (80,)
    assert (reward, termination, truncation) == (0, False, False)
    assert info["route_completion"] == 0.0


def test_spaces_cached_and_per_agent(env):
    for agent in env.possible_agents:
        assert env.observation_space(agent) is env.observation_space(agent)
        assert env.action_space(agent) is env.action_space(agent)
    assert env.action_space("car_0") is not env.action_space("car_1")  # seeded separately
    obs, infos = env.reset(seed=0)
    assert set(obs) == set(infos) == set(env.possible_agents) == set(env.agents)
    for agent in env.agents:
        assert env.observation_space(agent).contains(obs[agent])
        assert infos[agent]["route_completion"] == 0.0


def test_make_parallel_and_unknown_id():
    assert set(PARALLEL_ENVS) == {"rewardgym/RouteDriveIntersection-v1"}
    par = rewardgym.make_parallel("rewardgym/RouteDriveIntersection-v1", num_egos=3,
                                  reward_mode="roach")
    assert isinstance(par, RouteDriveParallelEnv)
    assert par.possible_agents == ["car_0", "car_1", "car_2"]
    assert par.config.reward_mode == "roach"
    with pytest.raises(ValueError, match=r"RouteDriveIntersection-v1"):
        rewardgym.make_parallel("rewardgym/RouteDriveIntersection-v9")



def test_registered_in_pettingzoos_registry():
    import pettingzoo
    from pettingzoo.utils.env import AECEnv

    for env_id in PARALLEL_ENVS:
        assert pettingzoo.spec("parallel", env_id).entry_point == PARALLEL_ENVS[env_id]
        par = pettingzoo.make("parallel", env_id, num_egos=2, num_npcs=0)
        assert isinstance(par, RouteDriveParallelEnv)
        assert par.possible_agents == ["car_0", "car_1"]
        aec = pettingzoo.make("aec", env_id, num_egos=2, num_npcs=0)
        assert isinstance(aec, AECEnv)
        aec.reset(seed=0)
        assert aec.agent_selection == "car_0"
        # make_parallel is an alias: the same env, step for step.
        ours = rewardgym.make_parallel(env_id, num_egos=2, num_npcs=0)
        a, _ = par.reset(seed=4)
        b, _ = ours.reset(seed=4)
        for _ in range(5):
            assert_same(a, b)
            actions = {agent: np.array([0.1, 0.5]) for agent in par.agents}
            a = par.step(actions)[0]
            b = ours.step(actions)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # registering again is a no-op: no override warning
        rewardgym.register_envs()
    assert len([i for i in pettingzoo.parallel_registry if i.startswith("rewardgym/")]) == 1

def test_config_validation():
    with pytest.raises(ValueError, match="scenario='crossing'"):
        RouteDriveParallelEnv(scenario="intersection")
    for n in (1, 5):
        with pytest.raises(ValueError, match=rf"num_egos must be in \[2, 4\].*got {n}"):
            RouteDriveParallelEnv(num_egos=n)
    for bad in (0, True, 2.5):
        with pytest.raises(ValueError, match="max_cycles"):
            RouteDriveParallelEnv(max_cycles=bad)
    with pytest.raises(ValueError, match="render_mode"):
        RouteDriveParallelEnv(render_mode="human")
    with pytest.raises(ValueError, match=r"DriveConfig\.reward_mode"):
        RouteDriveParallelEnv(reward_mode="nope")
    cfg = DriveConfig(scenario="crossing", num_egos=2, num_npcs=1)
    assert RouteDriveParallelEnv(cfg, reward_mode="sparse").config == DriveConfig(
        scenario="crossing", num_egos=2, num_npcs=1, reward_mode="sparse")


def test_bad_actions_raise_naming_env_and_agent():
    env = RouteDriveParallelEnv(num_egos=3)
    with pytest.raises(Exception, match="reset"):
        env.step({})
    env.reset(seed=1)
    good = {a: np.zeros(2, np.float32) for a in env.agents}
    t0 = int(env._world.wi[0, k.W_T])
    bad_cases = [
        ({**good, "car_1": np.array([np.nan, 0.0])}, r"routedrive_intersection_v1 agent 'car_1'.*"
                                                     "not finite"),
        ({**good, "car_2": np.array(["a", "b"])}, r"agent 'car_2'.*not numeric"),
        ({**good, "car_0": np.zeros(3)}, r"agent 'car_0'.*shape"),
        ({a: v for a, v in good.items() if a != "car_2"}, r"no action for live agent.*car_2"),
        ({**good, "car_7": np.zeros(2)}, r"\['car_7'\] that are not live"),
        ([np.zeros(2)] * 3, "dict keyed by agent"),
    ]
    for actions, message in bad_cases:
        with pytest.raises(ValueError, match=message):
            env.step(actions)
    assert int(env._world.wi[0, k.W_T]) == t0  # nothing moved
    # Finite out-of-range continuous actions are clipped (the suite's Box policy).
    assert env.metadata["action_policy"] == "clip"
    twin = RouteDriveParallelEnv(num_egos=3)
    twin.reset(seed=1)
    wild = {**good, "car_2": np.array([0.0, 7.5])}
    assert_same(env.step(wild), twin.step({**good, "car_2": np.array([0.0, 1.0])}))
    discrete = RouteDriveParallelEnv(num_egos=2, action_mode="discrete")
    discrete.reset(seed=0)
    with pytest.raises(ValueError, match=r"agent 'car_1'.*out of range"):
        discrete.step({"car_0": 0, "car_1": 15})
    discrete.step({"car_0": 14, "car_1": np.int64(7)})


def test_action_for_a_finished_agent_is_rejected():
    env = RouteDriveParallelEnv(num_egos=2, num_npcs=0)
    env.reset(seed=0)
    _teleport_to_route_end(env, 0)
    _, _, terminations, _, _ = env.step({a: np.zeros(2, np.float32) for a in env.agents})
    assert terminations["car_0"]
    assert env.agents == ["car_1"]
    with pytest.raises(ValueError, match=r"\['car_0'\] that are not live"):
        env.step({"car_0": np.zeros(2), "car_1": np.zeros(2)})


# ---------------------------------------------------------------------------------------------
# Determinism


def test_multi_step_seed_determinism():
    """PettingZoo's parallel_seed_test compares one step; this compares 450, across resets."""
    cfg = DriveConfig(scenario="crossing", num_egos=4, num_npcs=8)
    n = 450
    # Sloppy driving (noise 0.8) ends the first episode within n steps, so the run crosses a
    # reset without a seed (the world's stream continues).
    first = rollout(RouteDriveParallelEnv(cfg), seed=123, steps=n, noise=0.8)
    second = rollout(RouteDriveParallelEnv(cfg), seed=123, steps=n, noise=0.8)
    assert len(first) == len(second)
    steps = [entry for entry in first if entry[0] == "step"]
    assert len(steps) == n
    assert sum(entry[0] == "reset" for entry in first) >= 2
    assert sum(sum(entry[3].values()) for entry in steps) >= 4  # cars terminated on the way
    for a, b in zip(first, second, strict=True):
        assert data_equivalence(a, b, exact=True)
    other = rollout(RouteDriveParallelEnv(cfg), seed=124, steps=n, noise=0.8)
    assert not data_equivalence(first[0], other[0])
    assert not data_equivalence(first[1:], other[1:])
    parallel_seed_test(lambda: RouteDriveParallelEnv(cfg))  # PettingZoo's own (one step)


def test_agents_match_the_worlds_active_egos_and_dicts_are_keyed_by_acting_agents(env):
    rng = np.random.default_rng(5)
    obs, _ = env.reset(seed=5)
    ended = 0
    while env.agents:
        acting = list(env.agents)
        obs, rewards, terminations, truncations, infos = env.step(
            {a: drive(obs[a], rng, 0.5) for a in acting})
        for d in (obs, rewards, terminations, truncations, infos):
            assert list(d) == acting
        assert env.agents == [a for a in acting if not (terminations[a] or truncations[a])]
        active = [env.possible_agents[e] for e in range(4) if env._world.ei[0, e, k.E_ACTIVE]]
        assert env.agents == active
        for agent in acting:
            assert isinstance(rewards[agent], float)
            assert math.isclose(sum(infos[agent]["reward_terms"].values()), rewards[agent],
                                abs_tol=1e-9)
            ended += terminations[agent] or truncations[agent]
    assert ended == 4


def test_max_cycles_truncates_every_agent():
    env = RouteDriveParallelEnv(num_egos=2, num_npcs=0, max_cycles=5)
    env.reset(seed=0)
    for step in range(5):
        _, _, terminations, truncations, _ = env.step({a: np.array([0.0, 0.2]) for a in
                                                       env.agents})
        assert not any(terminations.values())
        assert all(truncations.values()) == (step == 4)
    assert env.agents == []


# ---------------------------------------------------------------------------------------------
# Ego-ego collisions and agents leaving


def _segment_at(env, e: int, s: float) -> int:
    tm = int(env._world.wi[0, k.W_TMPL])
    r = int(env._world.ei[0, e, k.E_ROUTE])
    n = int(env._bank.route_n[tm, r])
    return int(np.clip(np.searchsorted(env._bank.route_s[tm, r, :n], s, "right") - 1, 0, n - 2))


def _place(env, e: int, s: float, speed: float) -> None:
    """Put ego ``e`` on its own route at arc ``s``, heading along it (past its stop lines)."""
    tm = int(env._world.wi[0, k.W_TMPL])
    r = int(env._world.ei[0, e, k.E_ROUTE])
    seg = _segment_at(env, e, s)
    xy, arc = env._bank.route_xy[tm, r], env._bank.route_s[tm, r]
    f = (s - arc[seg]) / (arc[seg + 1] - arc[seg])
    point = xy[seg] + f * (xy[seg + 1] - xy[seg])
    d = xy[seg + 1] - xy[seg]
    ef, ei = env._world.ef, env._world.ei
    ef[0, e, k.E_X], ef[0, e, k.E_Y] = point
    ef[0, e, k.E_YAW] = math.atan2(d[1], d[0])
    ef[0, e, k.E_V], ef[0, e, k.E_STEER] = speed, 0.0
    ef[0, e, k.E_S] = s
    ef[0, e, k.E_FRONT] = s + 0.5 * env.config.car_length  # already past any stop line behind
    # Completion so far = where it now is, so the jump is not paid as progress.
    ef[0, e, k.E_RCMAX] = 100.0 * (s - ef[0, e, k.E_S0]) / ef[0, e, k.E_LEN]
    ei[0, e, k.E_SEG] = seg


def _teleport_to_route_end(env, e: int) -> None:
    tm = int(env._world.wi[0, k.W_TMPL])
    r = int(env._world.ei[0, e, k.E_ROUTE])
    end = env._bank.route_s[tm, r, env._bank.route_n[tm, r] - 1]
    _place(env, e, end - 0.5, 1.0)


def _crossing_pair(env) -> tuple[int, int, float, float] | None:
    """Two egos whose routes cross inside the junction, both crossing points past their stops."""
    tm = int(env._world.wi[0, k.W_TMPL])
    bank = env._bank
    half = 0.5 * env.config.car_length
    for a in range(4):
        for b in range(a + 1, 4):
            ra, rb = (int(env._world.ei[0, e, k.E_ROUTE]) for e in (a, b))
            pa = bank.route_xy[tm, ra, :bank.route_n[tm, ra]]
            pb = bank.route_xy[tm, rb, :bank.route_n[tm, rb]]
            dist = np.linalg.norm(pa[:, None] - pb[None], axis=-1)
            dist[~bank.route_junction[tm, ra, :len(pa)], :] = np.inf
            dist[:, ~bank.route_junction[tm, rb, :len(pb)]] = np.inf
            i, j = np.unravel_index(np.argmin(dist), dist.shape)
            if dist[i, j] > 1.5:
                continue
            sa, sb = bank.route_s[tm, ra, i] - 4.0, bank.route_s[tm, rb, j] - 4.0
            ha = pa[min(i + 1, len(pa) - 1)] - pa[i - 1]
            hb = pb[min(j + 1, len(pb) - 1)] - pb[j - 1]
            cos = ha @ hb / (np.linalg.norm(ha) * np.linalg.norm(hb))
            if (abs(cos) < 0.8 and sa + half > bank.route_stop_s[tm, ra].max()
                    and sb + half > bank.route_stop_s[tm, rb].max()):
                return a, b, sa, sb
    return None


def test_ego_ego_collision_ends_both_and_only_them():
    env = RouteDriveParallelEnv(num_npcs=0)
    for seed in range(50):
        env.reset(seed=seed)
        pair = _crossing_pair(env)
        if pair is not None:
            break
    assert pair is not None, "no template with crossing routes in 50 seeds"
    a, b, sa, sb = pair
    _place(env, a, sa, 5.0)
    _place(env, b, sb, 5.0)
    car_a, car_b = f"car_{a}", f"car_{b}"
    others = [agent for agent in env.possible_agents if agent not in (car_a, car_b)]
    zero = np.array([0.0, 0.0], np.float32)  # coast: both reach the crossing at ~0.8 s
    for _ in range(12):
        obs, rewards, terminations, truncations, infos = env.step(
            {agent: zero for agent in env.agents})
        if terminations[car_a] or terminations[car_b]:
            break
    assert terminations[car_a]
    assert terminations[car_b]
    assert infos[car_a]["collision"]
    assert infos[car_b]["collision"]
    for car in (car_a, car_b):  # nothing else went wrong: the collision alone ended them
        assert [name for name in HARD if infos[car][name]] == ["collision"]
        assert infos[car]["reward_terms"]["terminal"] == -env.config.terminal_penalty
        assert rewards[car] < 0.0
    for car in others:
        assert not terminations[car]
        assert not truncations[car]
        assert not infos[car]["collision"]
    assert env.agents == others
    # The crashed cars left the world: the others step on, and nothing sees them any more.
    assert not env._world.ei[0, a, k.E_ACTIVE]
    assert not env._world.ei[0, b, k.E_ACTIVE]
    obs, rewards, terminations, _, _ = env.step({agent: zero for agent in env.agents})
    assert set(obs) == set(others)
    state = env.state().reshape(4, -1)
    assert not state[a].any()
    assert not state[b].any()
    assert state[int(others[0][-1])].any()


def test_a_car_that_finishes_leaves_while_the_others_continue():
    env = RouteDriveParallelEnv(num_npcs=0)
    obs, _ = env.reset(seed=2)
    _teleport_to_route_end(env, 2)
    rng = np.random.default_rng(0)
    obs, rewards, terminations, _, infos = env.step({a: drive(obs[a], rng, 0.0)
                                                     for a in env.agents})
    assert terminations["car_2"]
    assert infos["car_2"]["is_success"]
    assert infos["car_2"]["route_completion"] >= 99.0
    assert env.agents == ["car_0", "car_1", "car_3"]
    assert not any(terminations[a] for a in env.agents)
    completion = {a: infos[a]["route_completion"] for a in env.agents}
    for _ in range(30):
        obs, rewards, terminations, _, infos = env.step({a: drive(obs[a], rng, 0.0)
                                                         for a in env.agents})
        assert "car_2" not in obs
        assert "car_2" not in rewards
    assert env.agents == ["car_0", "car_1", "car_3"]
    for agent in env.agents:  # still driving their routes
        assert infos[agent]["route_completion"] > completion[agent]


# ---------------------------------------------------------------------------------------------
# Rewards


@pytest.mark.parametrize("mode", ["carl", "roach", "progress", "sparse"])
def test_reward_modes_per_agent(mode):
    env = RouteDriveParallelEnv(num_egos=2, reward_mode=mode)
    obs, _ = env.reset(seed=7)
    rng = np.random.default_rng(0)
    for _ in range(20):
        obs, rewards, _, _, infos = env.step({a: drive(obs[a], rng, 0.1) for a in env.agents})
        for agent, reward in rewards.items():
            assert list(infos[agent]["reward_terms"]) == list(k.TERM_NAMES[
                ("carl", "roach", "progress", "sparse").index(mode)])
            assert math.isclose(sum(infos[agent]["reward_terms"].values()), reward,
                                abs_tol=1e-9)


def test_progress_plus_infraction_penalty_equals_carl_per_agent():
    carl_cfg = DriveConfig(scenario="crossing", num_egos=4, num_npcs=8, reward_mode="carl")
    progress_cfg = DriveConfig(scenario="crossing", num_egos=4, num_npcs=8,
                               reward_mode="progress")
    carl = RouteDriveParallelEnv(carl_cfg)
    wrapped = InfractionPenaltyParallel(RouteDriveParallelEnv(progress_cfg),
                                        infraction_table(progress_cfg))
    rng = np.random.default_rng(0)
    steps = terminal_steps = penalised_steps = 0
    for episode in range(5):
        obs_c, _ = carl.reset(seed=episode)
        obs_w, _ = wrapped.reset(seed=episode)
        noise = 0.1 * episode  # from clean driving to sloppy driving
        while carl.agents:
            actions = {a: drive(obs_c[a], rng, noise) for a in carl.agents}
            obs_c, rew_c, term_c, trunc_c, info_c = carl.step(actions)
            obs_w, rew_w, term_w, trunc_w, info_w = wrapped.step(actions)
            assert data_equivalence(obs_c, obs_w, exact=True)
            assert term_c == term_w
            assert trunc_c == trunc_w
            for agent in rew_c:  # bit for bit: both apply the factors in the table's order
                assert rew_w[agent] == rew_c[agent]
                assert info_w[agent]["reward_terms"] == info_c[agent]["reward_terms"]
                assert info_w[agent]["base_reward"] == info_c[agent]["progress"]
                terminal_steps += info_c[agent]["reward_terms"]["terminal"] != 0.0
                penalised_steps += info_c[agent]["reward_terms"]["progress"] < (
                    info_c[agent]["progress"] - 1e-9)
                steps += 1
        assert wrapped.agents == []
    # The comparison covered terminal penalties and soft factors, not just raw progress.
    assert terminal_steps >= 2
    assert penalised_steps >= 100
    assert steps >= 3000


# ---------------------------------------------------------------------------------------------
# Render, state, pickling, docs


def test_render():
    env = RouteDriveParallelEnv(num_egos=2, render_mode="rgb_array")
    env.reset(seed=0)
    image = env.render()
    assert image.shape == (384, 384, 3)
    assert image.dtype == np.uint8
    assert ((image == (220, 40, 40)).all(axis=-1)).sum() > 50  # the ego car is drawn
    silent = RouteDriveParallelEnv(num_egos=2)
    silent.reset(seed=0)
    with pytest.warns(UserWarning, match="render_mode"):
        assert silent.render() is None


def test_state_is_every_cars_observation():
    env = RouteDriveParallelEnv(num_egos=3)
    obs, _ = env.reset(seed=4)
    assert env.state_space.contains(env.state())
    np.testing.assert_array_equal(env.state(), np.concatenate([obs[a] for a in env.agents]))


def test_pickle_round_trip_continues_identically():
    env = RouteDriveParallelEnv(num_egos=3)
    obs, _ = env.reset(seed=9)
    rng = np.random.default_rng(0)
    for _ in range(10):
        obs = env.step({a: drive(obs[a], rng, 0.2) for a in env.agents})[0]
    clone = pickle.loads(pickle.dumps(env))
    for _ in range(40):
        if not env.agents:
            break
        actions = {a: drive(obs[a], rng, 0.2) for a in env.agents}
        result = env.step(actions)
        assert data_equivalence(result, clone.step(actions), exact=True)
        obs = result[0]
    assert clone.agents == env.agents


def test_docstring_examples():
    for module in (multi_agent_module, routedrive_intersection_v1, rewardgym.envs):
        assert doctest.testmod(module, raise_on_error=False).failed == 0
