"""RouteDrive shells: determinism across threads, serial == parallel kernels, spaces, BEV,
rendering, the scenario bank, the route-progress potential."""

from __future__ import annotations

import pickle

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence
from gymnasium.vector import AutoresetMode

import rewardgym  # noqa: F401  (registers the envs)
from rewardgym.envs.driving import RouteDriveEnv, RouteDriveVectorEnv
from rewardgym.envs.driving import kernels as k
from rewardgym.envs.driving.baselines import RouteFollower
from rewardgym.envs.driving.maps import FAMILIES, build_bank
from rewardgym.wrappers import PotentialShaping
from tests.helpers import assert_same, digests_by_thread_count

_THREADS_SCRIPT = """
import hashlib, numba, numpy as np
from rewardgym.envs.driving import RouteDriveVectorEnv
envs = RouteDriveVectorEnv(256, num_threads=numba.config.NUMBA_NUM_THREADS, parallel_threshold=1)
rng = np.random.default_rng(0)
obs, _ = envs.reset(seed=1)
h = hashlib.sha256()
for _ in range(150):
    obs, r, te, tr, info = envs.step(rng.uniform((-1, -0.3), (1, 1), (256, 2)).astype(np.float32))
    for a in (obs, r, te, tr, info["infraction"], info["driving_score"]):
        h.update(np.ascontiguousarray(a).tobytes())
print(numba.get_num_threads(), h.hexdigest())
"""


def test_trajectories_do_not_depend_on_numba_threads():
    digests = digests_by_thread_count(_THREADS_SCRIPT)
    assert digests["1"] == digests["2"]


@pytest.mark.parametrize("obs_mode", ["vector", "bev"])
def test_parallel_kernel_equals_serial_kernel(obs_mode):
    serial = RouteDriveVectorEnv(48, obs_mode=obs_mode, parallel_threshold=10_000,
                                 autoreset_mode="same_step")
    parallel = RouteDriveVectorEnv(48, obs_mode=obs_mode, parallel_threshold=1,
                                   autoreset_mode="same_step")
    rng = np.random.default_rng(3)
    a, _ = serial.reset(seed=7)
    b, _ = parallel.reset(seed=7)
    ends = 0
    for _ in range(200):
        # Random steering while mostly accelerating: cars leave the road and reset often.
        actions = rng.uniform((-1, -0.3), (1, 1), (48, 2)).astype(np.float32)
        a, ra, ta, ua, ia = serial.step(actions)
        b, rb, tb, ub, ib = parallel.step(actions)
        assert data_equivalence((a, ra, ta, ua, ia), (b, rb, tb, ub, ib),
                                                      exact=True)
        ends += int(np.sum(ta | ua))
    assert ends >= 10  # autoresets inside the kernels are compared too


def test_single_env_equals_vector_row_with_a_driving_policy():
    driver = RouteFollower()
    envs = RouteDriveVectorEnv(4, autoreset_mode=AutoresetMode.SAME_STEP)
    singles = [RouteDriveEnv() for _ in range(4)]
    obs, _ = envs.reset(seed=20)
    for i, env in enumerate(singles):
        np.testing.assert_array_equal(env.reset(seed=20 + i)[0], obs[i])
    for _ in range(400):
        actions = driver(obs)
        obs, rewards, term, trunc, infos = envs.step(actions)
        for i, env in enumerate(singles):
            o, r, te, tr, info = env.step(actions[i])
            assert r == rewards[i]
            assert (te, tr) == (term[i], trunc[i])
            if te or tr:
                np.testing.assert_array_equal(o, infos["final_obs"][i])
                assert info["driving_score"] == infos["final_info"]["driving_score"][i]
                o, _ = env.reset()
            np.testing.assert_array_equal(o, obs[i])


def test_observation_layout_and_bounds():
    env = RouteDriveEnv(obs_mode="bev")
    obs, _ = env.reset(seed=0)
    assert set(obs) == {"vec", "bev"}
    assert obs["bev"].shape == (4, 48, 48)
    assert obs["bev"].dtype == np.uint8
    assert env.observation_space.contains(obs)
    driver = RouteFollower()
    for _ in range(100):
        obs, *_ , _info = env.step(driver(obs))
        assert env.observation_space.contains(obs)
    road, route, cars = obs["bev"][0], obs["bev"][1], obs["bev"][2]
    assert road[36, 24] == 255  # the ego sits on the road at 3/4 height
    assert route[:36, :].any()  # the route goes ahead (upwards)
    assert road.mean() < 255  # and not everything is road
    assert cars.max() == 0 or cars.max() >= 127


def test_discrete_actions_map_to_steer_accel_pairs():
    env = gym.make("rewardgym/RouteDrive-Discrete-v1")
    assert env.action_space == gym.spaces.Discrete(15)
    env.reset(seed=0)
    for _ in range(5):
        env.step(14)  # steer +1 (left, counter-clockwise), accelerate
    assert env.unwrapped._world.ef[0, 0, k.E_STEER] > 0
    assert env.unwrapped._world.ef[0, 0, k.E_V] > 0


def test_out_of_range_actions_clip_and_nan_actions_name_the_env():
    env, reference = gym.make("rewardgym/RouteDrive-v1"), gym.make("rewardgym/RouteDrive-v1")
    assert env.unwrapped.metadata["action_policy"] == "clip"
    env.reset(seed=0)
    reference.reset(seed=0)
    clipped = env.unwrapped.step(np.array([1.5, -3.0], np.float32))
    assert_same(clipped, reference.unwrapped.step(np.array([1.0, -1.0], np.float32)))
    with pytest.raises(ValueError, match="finite"):
        env.unwrapped.step(np.array([np.nan, 0.0], np.float32))
    with pytest.raises(ValueError, match="not numeric"):
        env.unwrapped.step("left")


def test_step_after_the_episode_ended_needs_a_reset():
    env = RouteDriveEnv(scenario="road", blocked_s=0.5, init_speed_frac=0.0, num_npcs=0)
    env.reset(seed=0)
    terminated = False
    while not terminated:
        *_, terminated, _, _ = env.step(np.array([0.0, -1.0], np.float32))
    with pytest.raises(gym.error.ResetNeeded):
        env.step(np.array([0.0, 0.0], np.float32))


def test_render_is_an_image_centred_on_the_ego():
    env = gym.make("rewardgym/RouteDrive-v1", render_mode="rgb_array")
    env.reset(seed=0)
    image = env.render()
    assert image.shape == (384, 384, 3)
    assert image.dtype == np.uint8
    assert tuple(image[192, 192]) == (220, 40, 40)  # the ego car, drawn in red at the centre
    envs = gym.make_vec("rewardgym/RouteDrive-v1", 2, vectorization_mode="vector_entry_point",
                        render_mode="rgb_array")
    envs.reset(seed=0)
    assert len(envs.render()) == 2


def test_scenario_bank_is_seeded_cached_and_read_only():
    a, b = build_bank("mixed", 16, 0), build_bank("mixed", 16, 0)
    assert a is b
    c = build_bank("mixed", 16, 1)
    assert not np.array_equal(a.route_xy, c.route_xy)
    with pytest.raises(ValueError, match="read-only"):
        a.lane_xy[0, 0, 0, 0] = 1.0
    assert set(np.unique(a.n_groups)) == {0, 2}  # roads and merges have no lights
    for family in FAMILIES:
        bank = build_bank(family, 8, 0)
        assert (bank.n_routes >= 1).all()
        ends = bank.route_s[np.arange(8)[:, None], np.arange(4)[None], bank.route_n - 1]
        assert (ends[bank.route_n > 0] > 50.0).all()  # every route is at least 50 m long


def test_episodes_visit_every_family_and_the_pickled_env_continues():
    env = RouteDriveEnv()
    families = set()
    for seed in range(30):
        env.reset(seed=seed)
        families.add(int(env._world.wi[0, k.W_TMPL]) % len(FAMILIES))
    assert families == set(range(len(FAMILIES)))
    obs, _ = env.reset(seed=3)
    driver = RouteFollower()
    for _ in range(20):
        obs, *_ = env.step(driver(obs))
    clone = pickle.loads(pickle.dumps(env))
    for _ in range(50):
        action = driver(obs)
        a, b = env.step(action), clone.step(action)
        assert data_equivalence(a, b, exact=True)
        obs = a[0]
        if a[2] or a[3]:
            break


def test_route_progress_potential_shapes_rewards():
    env = PotentialShaping(RouteDriveEnv(reward_mode="sparse"), "route_progress", gamma=0.99)
    obs, _ = env.reset(seed=0)
    driver = RouteFollower()
    total_shaping = 0.0
    for _ in range(50):
        obs, reward, _terminated, _truncated, info = env.step(driver(obs))
        total_shaping += info["reward_terms"]["shaping"]
        assert reward == info["base_reward"] + info["reward_terms"]["shaping"]
    assert total_shaping > 1.0  # driving along the route raises the potential
