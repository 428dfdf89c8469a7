"""PotentialShaping and its vector twin: the PBRS rules of shaping_theory.md §0 and §6 A."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode
from hypothesis import given, settings
from hypothesis import strategies as st
from pettingzoo import ParallelEnv
from pettingzoo.test import parallel_api_test

from rewardgym.agents import check_shaping_gamma
from rewardgym.wrappers.potential import (
    PotentialShaping,
    PotentialShapingParallel,
    PotentialShapingVector,
    shape_rewards,
    shaped_reward_tensor,
)

ENV_ID = "rewardgym/Empty-Random-5x5-v0"  # random walks reach the goal: both endings occur


def facing_potential(obs, info):
    """A picklable test potential: distance-like value from the view and the direction."""
    image = np.asarray(obs["image"])
    goal_seen = (image[..., 0] == 8).any(axis=(-1, -2)).astype(np.float64)
    return 3.0 * goal_seen + np.asarray(obs["direction"], dtype=np.float64)


def other_potential(obs, info):
    return -2.0 * np.asarray(obs["direction"], dtype=np.float64)


@settings(max_examples=200, deadline=None)
@given(
    rewards=st.lists(st.floats(-10, 10), min_size=1, max_size=30),
    phis=st.lists(st.floats(-100, 100), min_size=31, max_size=31),
    gamma=st.floats(0.0, 1.0),
    scale=st.floats(0.1, 5.0),
    terminated=st.booleans(),
)
def test_discounted_shaping_telescopes(rewards, phis, gamma, scale, terminated):
    steps = len(rewards)
    total, phi = 0.0, phis[0]
    for t in range(steps):
        last = t == steps - 1
        shaped, shaping = np.empty(1), np.empty(1)
        shape_rewards(np.array([rewards[t]]), np.array([phi]), np.array([phis[t + 1]]),
                      np.array([terminated and last]), np.ones(1, dtype=np.bool_), gamma, scale,
                      shaped, shaping)
        assert shaped[0] == pytest.approx(rewards[t] + shaping[0])
        total += gamma**t * shaping[0]
        phi = phis[t + 1]
    end = 0.0 if terminated else gamma**steps * phis[steps]
    assert total == pytest.approx(scale * (end - phis[0]), abs=1e-6 * (1 + abs(phis[0])) * steps)


class _Scripted(gym.Env):
    """Emits scripted (terminated, truncated) flags; the observation is the step index."""

    observation_space = gym.spaces.Box(0, 100, (1,), dtype=np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, flags):
        self.flags, self.t = flags, 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.0], dtype=np.float32), {}

    def step(self, action):
        term, trunc = self.flags[self.t]
        self.t += 1
        return np.array([float(self.t)], dtype=np.float32), 1.0, term, trunc, {}


def _step_potential(obs, info):
    return 10.0 + float(obs[0])


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ((True, False), -10.0),  # terminated: Φ(s') := 0
        ((True, True), -10.0),  # terminated and truncated together: still 0
        ((False, True), 0.5 * 11.0 - 10.0),  # truncated only: γΦ(s') kept
        ((False, False), 0.5 * 11.0 - 10.0),
    ],
)
def test_terminal_and_truncated_steps(flags, expected):
    env = PotentialShaping(_Scripted([flags]), _step_potential, gamma=0.5)
    env.reset(seed=0)
    _, reward, *_, info = env.step(0)
    assert info["reward_terms"]["shaping"] == pytest.approx(expected)
    assert reward == pytest.approx(1.0 + expected)
    assert info["base_reward"] == 1.0


def _episode_returns(env, seed, steps, potential_switch=None):
    """Per-episode (Σγ^t F_t, Φ(s_0), Φ(s_T), terminated) for a single shaped env."""
    obs, info = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    episodes, total, t = [], 0.0, 0
    phi0 = float(env.potential(obs, info))
    for step in range(steps):
        if potential_switch is not None and step == potential_switch:
            env.potential = other_potential  # dynamic potential: Φ(s) must stay cached
        obs, _, terminated, truncated, info = env.step(int(rng.integers(0, 3)))
        total += env.shaping_gamma**t * info["reward_terms"]["shaping"]
        t += 1
        if terminated or truncated:
            episodes.append((total, phi0, float(env.potential(obs, info)), terminated, t))
            obs, info = env.reset()
            phi0, total, t = float(env.potential(obs, info)), 0.0, 0
    return episodes


@pytest.mark.parametrize("switch", [None, 37])
def test_telescoping_on_real_episodes_both_endings(switch):
    env = PotentialShaping(gym.make(ENV_ID, max_episode_steps=12), facing_potential, gamma=0.9,
                           scale=2.0)
    episodes = _episode_returns(env, seed=1, steps=600, potential_switch=switch)
    endings = {terminated for *_, terminated, _ in episodes}
    assert endings == {True, False}
    for total, phi0, phi_t, terminated, length in episodes:
        end = 0.0 if terminated else 0.9**length * phi_t
        assert total == pytest.approx(2.0 * (end - phi0), abs=1e-9)


def _shaped_rollout(envs, steps, seed=3):
    envs.action_space.seed(0)
    envs.reset(seed=seed)
    out = []
    for _ in range(steps):
        _, rewards, term, trunc, _ = envs.step(envs.action_space.sample())
        out.append((rewards.copy(), term.copy(), trunc.copy()))
    return out


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
@pytest.mark.parametrize(("gamma", "scale", "potential"),
                         [(0.9, 1.0, facing_potential), (0.5, 3.0, other_potential)])
def test_vector_twin_equals_single_wrapper(mode, gamma, scale, potential):
    kwargs = {"max_episode_steps": 9}
    sync = gym.make_vec(ENV_ID, 4, vectorization_mode="sync",
                        vector_kwargs={"autoreset_mode": mode},
                        wrappers=[lambda e: PotentialShaping(e, potential, gamma=gamma,
                                                             scale=scale)], **kwargs)
    native = PotentialShapingVector(
        gym.make_vec(ENV_ID, 4, vectorization_mode="vector_entry_point", autoreset_mode=mode,
                     **kwargs), potential, gamma=gamma, scale=scale)
    a, b = _shaped_rollout(sync, 300), _shaped_rollout(native, 300)
    assert sum(int(t.sum() + u.sum()) for _, t, u in a) > 50  # many episode ends
    for (ra, ta, ua), (rb, tb, ub) in zip(a, b, strict=True):
        np.testing.assert_array_equal(ta, tb)
        np.testing.assert_array_equal(ua, ub)
        np.testing.assert_allclose(ra, rb, rtol=0, atol=1e-12)


def test_next_step_reset_steps_carry_no_shaping():
    envs = PotentialShapingVector(
        gym.make_vec(ENV_ID, 3, vectorization_mode="vector_entry_point", max_episode_steps=4),
        facing_potential, gamma=0.9)
    envs.reset(seed=0)
    pending = np.zeros(3, dtype=bool)
    for _ in range(20):
        _, rewards, term, trunc, infos = envs.step(envs.action_space.sample())
        assert np.all(infos["reward_terms"]["shaping"][pending] == 0.0)
        assert np.all(rewards[pending] == 0.0)
        pending = term | trunc


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_finishing_steps_are_decomposed_where_their_info_lives(mode):
    """SAME_STEP: a finished env's base reward and shaping are in ``final_info`` (masked to the
    finished rows), its other rows carry the reset; NEXT_STEP: the step's own info holds them and
    the wrapper adds no ``final_info``."""
    envs = PotentialShapingVector(
        gym.make_vec(ENV_ID, 3, vectorization_mode="vector_entry_point", autoreset_mode=mode,
                     max_episode_steps=4), facing_potential, gamma=0.9)
    envs.reset(seed=0)
    rng = np.random.default_rng(0)
    finished = quiet = 0
    for _ in range(30):
        _, rewards, term, trunc, infos = envs.step(rng.integers(0, 3, 3))
        done = term | trunc
        if mode == AutoresetMode.NEXT_STEP or not done.any():
            assert "final_info" not in infos
            quiet += not done.any()
            continue
        final = infos["final_info"]
        np.testing.assert_array_equal(final["_base_reward"], done)
        np.testing.assert_array_equal(final["reward_terms"]["_shaping"], done)
        shaping = infos["reward_terms"]["shaping"]
        np.testing.assert_array_equal(final["reward_terms"]["shaping"][done], shaping[done])
        np.testing.assert_array_equal(final["base_reward"][done], infos["base_reward"][done])
        np.testing.assert_array_equal(rewards[done], (final["base_reward"] + shaping)[done])
        finished += int(done.sum())
    assert quiet >= 5
    assert finished >= 5 or mode == AutoresetMode.NEXT_STEP


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_vector_twin_ends_an_episode_that_terminates_and_truncates_at_once(mode):
    """A step flagged both terminated and truncated (a time limit on the goal's step) ends the
    episode: NEXT_STEP's reset step is not shaped, SAME_STEP's step is decomposed in final_info."""
    envs = PotentialShapingVector(
        gym.vector.SyncVectorEnv([lambda: _Scripted([(True, True), (False, False)])],
                                 autoreset_mode=mode),
        lambda obs, infos: 10.0 + obs[:, 0].astype(np.float64), gamma=0.5)
    envs.reset(seed=0)
    obs, rewards, term, trunc, infos = envs.step(np.array([0]))
    assert term[0]
    assert trunc[0]
    assert infos["reward_terms"]["shaping"][0] == -10.0  # Φ(s_T) := 0, Φ(s_0) = 10
    if mode == AutoresetMode.SAME_STEP:
        assert obs[0, 0] == 0.0  # the reset observation, the final one only in final_obs
        assert infos["final_obs"][0][0] == 1.0
        assert infos["final_info"]["reward_terms"]["_shaping"][0]
        assert infos["final_info"]["reward_terms"]["shaping"][0] == -10.0
        return
    _, rewards, _, _, infos = envs.step(np.array([0]))  # the reset step
    assert rewards[0] == 0.0
    assert infos["reward_terms"]["shaping"][0] == 0.0


def test_shaped_reward_tensor_scale_by_keyword_and_zero_terminal_keyword_only():
    rewards = np.arange(8.0).reshape(2, 2, 2)
    potential = np.array([1.0, 3.0])
    terminal = np.array([False, True])
    shaped = shaped_reward_tensor(rewards, potential, terminal, 0.5, scale=2.0)
    # s=0 -> s'=0: 2 * (0.5 * 1 - 1) = -1; s=0 -> s'=1 (terminal, Φ := 0): 2 * (0 - 1) = -2.
    np.testing.assert_array_equal(shaped[0], rewards[0] + np.array([[-1.0, -2.0], [-1.0, -2.0]]))
    with pytest.raises(TypeError):
        shaped_reward_tensor(rewards, potential, terminal, 0.5, 2.0, False)


@pytest.mark.parametrize("change", [{"gamma": 0.5}, {"scale": 2.0}, {"potential": other_potential}])
def test_every_argument_changes_the_output(change):
    base = {"potential": facing_potential, "gamma": 0.9, "scale": 1.0}

    def rewards(kwargs):
        env = PotentialShaping(gym.make(ENV_ID), **kwargs)
        env.reset(seed=5)
        return [env.step(a)[1] for a in [1, 1, 2, 0, 2, 1]]

    assert rewards(base) != rewards({**base, **change})


def test_builtin_potential_by_name_rebuilds_from_spec():
    env = gym.make("rewardgym/DoorKey-5x5-v0", subgoal_distance_in_info=True)
    env = PotentialShaping(env, "grid_subgoal_distance", gamma=0.99)
    rebuilt = gym.make(env.spec)
    assert isinstance(rebuilt, PotentialShaping)
    assert rebuilt.shaping_gamma == 0.99
    for e in (env, rebuilt):
        e.reset(seed=2)
    for action in [2, 1, 2, 3, 5]:
        assert env.step(action)[1] == rebuilt.step(action)[1]


def test_shaping_gamma_is_visible_to_the_training_guard():
    env = PotentialShaping(gym.make(ENV_ID), facing_potential, gamma=0.9)
    with pytest.raises(ValueError, match="gamma"):
        check_shaping_gamma(env, 0.99)
    assert check_shaping_gamma(env, 0.9) == pytest.approx(0.9)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="gamma"):
        PotentialShaping(gym.make(ENV_ID), facing_potential, gamma=1.5)
    with pytest.raises(ValueError, match="built-in"):
        PotentialShaping(gym.make(ENV_ID), "no_such_potential", gamma=0.9)
    env = PotentialShaping(gym.make(ENV_ID), lambda obs, info: float("nan"), gamma=0.9)
    with pytest.raises(ValueError, match="finite"):
        env.reset(seed=0)
    disabled = gym.make_vec(ENV_ID, 2, vectorization_mode="vector_entry_point",
                            autoreset_mode=AutoresetMode.DISABLED)
    with pytest.raises(ValueError, match="DISABLED"):
        PotentialShapingVector(disabled, facing_potential, gamma=0.9)


class _Race(ParallelEnv):
    """Two agents walk towards 5; one stops at 5 (terminates), the other runs out of time."""

    metadata = {"name": "race_v0"}

    def __init__(self):
        self.possible_agents = ["fast", "slow"]
        self._obs_space = gym.spaces.Box(0, 10, (1,), dtype=np.float32)
        self._act_space = gym.spaces.Discrete(2)

    def observation_space(self, agent):
        return self._obs_space

    def action_space(self, agent):
        return self._act_space

    def reset(self, seed=None, options=None):
        self.agents = list(self.possible_agents)
        self.pos = {"fast": 0, "slow": 0}
        self.t = 0
        return {a: np.array([0.0], np.float32) for a in self.agents}, {a: {} for a in self.agents}

    def step(self, actions):
        self.t += 1
        for a, act in actions.items():
            self.pos[a] += (2 if a == "fast" else 1) * int(act)
        obs = {a: np.array([float(self.pos[a])], np.float32) for a in self.agents}
        rewards = {a: 1.0 for a in self.agents}
        term = {a: self.pos[a] >= 5 for a in self.agents}
        trunc = {a: self.t >= 4 and not term[a] for a in self.agents}
        infos = {a: {} for a in self.agents}
        self.agents = [a for a in self.agents if not (term[a] or trunc[a])]
        return obs, rewards, term, trunc, infos


def _agent_potential(agent, obs, info):
    return float(obs[0])


def test_parallel_twin_shapes_each_agent_with_terminal_rules():
    env = PotentialShapingParallel(_Race(), _agent_potential, gamma=0.5)
    env.reset(seed=0)
    totals = {"fast": 0.0, "slow": 0.0}
    t = 0
    last = {}
    while env.agents:
        _, rewards, term, _, infos = env.step({a: 1 for a in env.agents})
        for a, r in rewards.items():
            assert r == pytest.approx(1.0 + infos[a]["reward_terms"]["shaping"])
            totals[a] += 0.5**t * infos[a]["reward_terms"]["shaping"]
            last[a] = (term[a], t + 1)
        t += 1
    # fast terminates at step 3 (Φ(s_T) := 0); slow is truncated at step 4 at position 4
    assert last["fast"] == (True, 3)
    assert totals["fast"] == pytest.approx(0.0 - 0.0)
    assert last["slow"] == (False, 4)
    assert totals["slow"] == pytest.approx(0.5**4 * 4.0 - 0.0)
    with pytest.raises(ValueError, match="callable"):
        PotentialShapingParallel(_Race(), "nope", gamma=0.5)


class _LostSight(_Race):
    """``slow`` is paid on step 2 but gets no observation (PettingZoo warns, but allows it)."""

    def step(self, actions):
        obs, rewards, term, trunc, infos = super().step(actions)
        if self.t == 2:
            del obs["slow"]
        return obs, rewards, term, trunc, infos


def test_parallel_twin_takes_potential_zero_without_an_observation():
    env = PotentialShapingParallel(_LostSight(), _agent_potential, gamma=0.5, scale=2.0)
    env.reset(seed=0)
    env.step({"fast": 1, "slow": 1})  # slow at position 1: Φ = 1
    _, _, term, trunc, infos = env.step({"fast": 1, "slow": 1})
    assert not term["slow"]
    assert not trunc["slow"]
    # No observation, no potential: Φ(s') = 0, so the shaping is 2 * (0.5 * 0 - 1).
    assert infos["slow"]["reward_terms"]["shaping"] == -2.0
    _, _, _, _, infos = env.step({"fast": 1, "slow": 1})  # back in sight at position 3
    assert infos["slow"]["reward_terms"]["shaping"] == 2.0 * (0.5 * 3.0 - 0.0)


class _LateJoiner(_Race):
    """``slow`` is not there at reset; it joins on step 2 at position 3 and is paid at once."""

    def reset(self, seed=None, options=None):
        obs, infos = super().reset(seed=seed, options=options)
        self.agents = ["fast"]
        return {"fast": obs["fast"]}, {"fast": infos["fast"]}

    def step(self, actions):
        if self.t == 1:
            self.agents = [*self.agents, "slow"]
            self.pos["slow"] = 3
        return super().step(actions)


def test_parallel_twin_takes_potential_zero_before_an_agent_joins():
    env = PotentialShapingParallel(_LateJoiner(), _agent_potential, gamma=0.5, scale=2.0)
    obs, _ = env.reset(seed=0)
    assert list(obs) == ["fast"]
    _, rewards, _, _, _ = env.step({"fast": 1})
    assert list(rewards) == ["fast"]
    _, rewards, _, _, infos = env.step({"fast": 1})  # slow joins at position 3
    # Never observed before: Φ(s) = 0, so the shaping is 2 * (0.5 * 3 - 0).
    assert infos["slow"]["reward_terms"]["shaping"] == 3.0
    assert rewards["slow"] == 1.0 + 3.0
    _, _, _, _, infos = env.step({"fast": 1, "slow": 1})  # slow at 4, its Φ(s) = 3 cached
    assert infos["slow"]["reward_terms"]["shaping"] == 2.0 * (0.5 * 4.0 - 3.0)


def test_parallel_twin_passes_pettingzoo_api_test():
    parallel_api_test(PotentialShapingParallel(_Race(), _agent_potential, gamma=0.9),
                      num_cycles=50)


def test_parallel_twin_equals_single_wrapper_on_the_same_data():
    """Many episodes of both endings: shaping, rewards and the terminal rule agree step by step."""
    from tests.wrappers.test_infractions import _OneAgent

    single = PotentialShaping(gym.make(ENV_ID, max_episode_steps=12), facing_potential,
                              gamma=0.9, scale=2.0)
    parallel = PotentialShapingParallel(_OneAgent(gym.make(ENV_ID, max_episode_steps=12)),
                                        lambda agent, obs, info: float(facing_potential(obs, info)),
                                        gamma=0.9, scale=2.0)
    prev, _ = single.reset(seed=4)
    parallel.reset(seed=4)
    rng = np.random.default_rng(0)
    endings = {"terminated": 0, "truncated": 0}
    steps = 0
    for _ in range(400):
        action = int(rng.integers(0, 3))
        obs, r, term, trunc, info = single.step(action)
        _, pr, pterm, ptrunc, pinfo = parallel.step({"a": action})
        steps += 1
        assert pr["a"] == r
        assert (pterm["a"], ptrunc["a"]) == (term, trunc)
        assert pinfo["a"]["reward_terms"]["shaping"] == info["reward_terms"]["shaping"]
        assert pinfo["a"]["base_reward"] == info["base_reward"]
        phi_next = 0.0 if term else 0.9 * float(facing_potential(obs, info))  # Φ(s_T) := 0
        expected = 2.0 * (phi_next - float(facing_potential(prev, None)))
        assert info["reward_terms"]["shaping"] == pytest.approx(expected, abs=1e-12)
        prev = obs
        if term or trunc:
            endings["terminated" if term else "truncated"] += 1
            prev, _ = single.reset()
            parallel.reset()
    assert steps == 400
    assert endings["terminated"] >= 5
    assert endings["truncated"] >= 5


def test_episode_statistics_inside_log_base_return_outside_shaped():
    from gymnasium.wrappers import RecordEpisodeStatistics

    inside = PotentialShaping(RecordEpisodeStatistics(gym.make(ENV_ID, max_episode_steps=8)),
                              facing_potential, gamma=0.9)
    outside = RecordEpisodeStatistics(PotentialShaping(gym.make(ENV_ID, max_episode_steps=8),
                                                       facing_potential, gamma=0.9))
    for env, key in ((inside, "base_reward"), (outside, None)):
        env.reset(seed=0)
        total = 0.0
        for _ in range(8):
            _, reward, terminated, truncated, info = env.step(2)
            total += info["base_reward"] if key else reward
            if terminated or truncated:
                break
        assert info["episode"]["r"] == pytest.approx(total)
