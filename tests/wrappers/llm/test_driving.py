"""LLM reward programs, captions and cards on RouteDrive's reward view (envs/driving/view.py)."""

import gymnasium as gym
import numpy as np
import pytest

import rewardgym  # noqa: F401  (registers the envs)
from rewardgym.envs.driving import RouteDriveParallelEnv, RouteDriveVectorEnv
from rewardgym.envs.driving import view as driving_view
from rewardgym.envs.driving.baselines import RouteFollower
from rewardgym.wrappers.llm import LLMReward, LLMRewardParallel, LLMRewardVector, States, view_of
from rewardgym.wrappers.llm.oni import captioner_for, driving_captioner

PROGRAM = '''
def compute_reward(obs, action, next_obs):
    progress = next_obs.progress
    close = -0.1 if next_obs.lead_ttc < 2.0 else 0.0
    gas = 0.01 * action[1]
    return progress + close + gas, {"progress": progress, "close": close, "gas": gas}
'''
ENV = "rewardgym/RouteDrive-v1"


def test_view_of_routedrive_is_the_driving_layout():
    view = view_of(gym.make(ENV))
    assert view.family == "driving"
    assert view.names == driving_view.LAYOUT.names
    assert (view.discrete_actions, view.action_size) == (False, 2)
    discrete = view_of(gym.make("rewardgym/RouteDrive-Discrete-v1"))
    assert (discrete.discrete_actions, discrete.action_size) == (True, 1)
    assert view.describe() == driving_view.describe()


def test_program_reads_the_driving_view_by_name():
    env = LLMReward(gym.make(ENV), PROGRAM, n_states=16)
    assert env.report.ok
    obs, _ = env.reset(seed=0)
    driver = RouteFollower(speed_frac=1.0)
    for _ in range(60):
        action = driver(obs)
        obs, reward, terminated, truncated, info = env.step(action)
        after = driving_view.features(env)
        close = -0.1 if after.lead_ttc < 2.0 else 0.0
        expected = after.progress + close + 0.01 * float(action[1])
        assert reward == pytest.approx(expected, abs=1e-12)
        assert info["reward_terms"]["progress"] == info["progress"]
        if terminated or truncated:
            break


def test_vector_program_pays_every_car():
    envs = LLMRewardVector(RouteDriveVectorEnv(3), PROGRAM, n_states=16)
    obs, _ = envs.reset(seed=0)
    driver = RouteFollower(speed_frac=1.0)
    for _ in range(20):
        obs, rewards, _, _, infos = envs.step(driver(obs))
        assert rewards.shape == (3,)
        np.testing.assert_allclose(infos["reward_terms"]["progress"], infos["progress"])


def test_driving_captions():
    view = view_of(gym.make(ENV))
    assert captioner_for(view)(np.zeros(view.size), np.zeros(view.size)) == ""
    cap = driving_captioner(view)
    before = np.zeros(view.size)
    after = before.copy()
    after[view["route_completion"].start] = 30.0
    assert cap(before, after) == "completed 25% of the route"
    after[view["collision"].start] = 1.0
    assert cap(before, after) == "collided with another car"
    after = before.copy()
    after[view["red_light"].start] = 1.0
    assert cap(before, after) == "ran a red light"
    moving = before.copy()
    moving[view["speed"].start] = 3.0
    moving[view["light_red"].start] = 1.0
    stopped = moving.copy()
    stopped[view["speed"].start] = 0.0
    assert cap(moving, stopped) == "stopped at a red light"
    assert cap(stopped, stopped) == ""


def test_parallel_program_pays_each_car_from_its_own_row():
    env = RouteDriveParallelEnv(num_egos=2, num_npcs=0)
    view = view_of(gym.make(ENV))
    rng = np.random.default_rng(0)
    env.reset(seed=1)
    before, acts, after = [], [], []
    for _ in range(8):
        actions = {a: rng.uniform(-1, 1, 2) for a in env.agents}
        rows = {a: driving_view.agent_features(env, a) for a in env.agents}
        env.step(actions)
        for a in actions:
            before.append(rows[a])
            acts.append(actions[a])
            after.append(driving_view.agent_features(env, a))
    states = States(np.array(before), np.array(acts), np.array(after))
    wrapped = LLMRewardParallel(RouteDriveParallelEnv(num_egos=2, num_npcs=0), PROGRAM,
                                view=view, features=driving_view.agent_features, states=states)
    wrapped.reset(seed=2)
    for _ in range(5):
        actions = {a: np.array([0.0, 0.8]) for a in wrapped.agents}
        _, rewards, _, _, infos = wrapped.step(actions)
        for agent, reward in rewards.items():
            row = driving_view.agent_features(wrapped.env, agent)
            close = -0.1 if row[view["lead_ttc"].start] < 2.0 else 0.0
            assert reward == pytest.approx(row[view["progress"].start] + close + 0.008,
                                           abs=1e-12)
            assert infos[agent]["reward_terms"]["progress"] == infos[agent]["progress"]


@pytest.mark.slow
def test_same_step_pays_what_per_env_wrappers_pay_through_the_sb3_adapter():
    # SAME_STEP RouteDrive under LLMRewardVector, seen through VectorEnvToSB3, equals one
    # LLMReward per car. Car 0 steers hard left at full throttle, so its episodes end by a hard
    # infraction (terminated); the others drive gently ahead until the time limit (truncated).
    # The finishing step is paid on the replayed last tick (its progress), not the reset scene.
    from gymnasium.vector import AutoresetMode

    from rewardgym.agents.sb3_adapter import VectorEnvToSB3

    n, seed, limit = 3, 2, 40
    vec = LLMRewardVector(gym.make_vec(ENV, n, vectorization_mode="vector_entry_point",
                                       autoreset_mode=AutoresetMode.SAME_STEP,
                                       max_episode_steps=limit), PROGRAM, n_states=16)
    sb3 = VectorEnvToSB3(vec)
    sb3.seed(seed)
    sb3.reset()
    singles = [LLMReward(gym.make(ENV, max_episode_steps=limit), PROGRAM, n_states=16)
               for _ in range(n)]
    for i, s in enumerate(singles):
        s.reset(seed=seed + i)
    rng = np.random.default_rng(0)
    ends = {"terminated": 0, "truncated": 0}
    for _ in range(2 * limit + 1):
        actions = np.column_stack([rng.uniform(-0.2, 0.2, n),
                                   rng.uniform(0.5, 1.0, n)]).astype(np.float32)
        actions[0] = (1.0, 1.0)
        expected, done, progress, cut = [], [], [], []
        for i, s in enumerate(singles):
            _, r, term, trunc, info = s.step(actions[i])
            expected.append(r)
            done.append(term or trunc)
            cut.append(trunc and not term)
            progress.append(info["progress"])
            if term or trunc:
                s.reset()
        sb3.step_async(actions)
        _, rewards, dones, infos = sb3.step_wait()
        np.testing.assert_array_equal(rewards, np.asarray(expected, dtype=np.float32))
        assert dones.tolist() == done
        for i in np.flatnonzero(dones):
            assert infos[i]["TimeLimit.truncated"] == cut[i]
            assert infos[i]["reward_terms"]["progress"] == progress[i]
            ends["truncated" if cut[i] else "terminated"] += 1
    assert ends["terminated"] >= 2, ends
    assert ends["truncated"] >= n - 1, ends


def test_reader_computes_the_asked_features_exactly():
    # Each group the reader can skip (the two scans over the other cars, Roach's target speed, the
    # lane-centre search, the light), asked alone, equals the full view's column; the other
    # columns stay NaN.
    envs = gym.make_vec(ENV, 6, vectorization_mode="vector_entry_point")
    envs.reset(seed=3)
    view = view_of(envs)
    groups = (("lead_ttc", "lead_speed"), ("nearest_distance", "nearest_ttc"), ("target_speed",),
              ("lane_centre_distance",),
              ("light_red", "light_distance", "light_time_left"), ("progress", "collision"))
    readers = [(names, view.reader(envs, names)) for names in groups]
    rng = np.random.default_rng(0)
    for _ in range(40):
        envs.step(rng.uniform(-1.0, 1.0, size=(6, 2)))
        full = driving_view.features_batch(envs).values
        for names, reader in readers:
            rows = reader.read()
            cols = [view[n].start for n in names]
            np.testing.assert_array_equal(rows[:, cols], full[:, cols])
            assert np.isnan(np.delete(rows, cols, axis=1)).all()
