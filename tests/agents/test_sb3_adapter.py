"""VectorEnvToSB3 against SB3's DummyVecEnv, autoreset modes, native envs, attributes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import minigrid  # noqa: F401  (registers the MiniGrid ids)
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv, VectorEnv
from gymnasium.wrappers import FilterObservation, TimeLimit
from gymnasium.wrappers.vector import RecordEpisodeStatistics
from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor

from rewardgym.agents import VectorEnvToSB3, make_sb3_vec_env
from rewardgym.wrappers.terms import RecordRewardTermsVector


def make_cartpole() -> gym.Env:
    return gym.make("CartPole-v1", max_episode_steps=50)


def make_minigrid() -> gym.Env:
    # max_steps=20: most random episodes truncate, some reach the goal (terminate).
    env = gym.make("MiniGrid-Empty-5x5-v0", max_steps=20)
    return FilterObservation(env, ["image", "direction"])


def assert_obs_equal(a: Any, b: Any) -> None:
    if isinstance(b, dict):
        assert set(a) == set(b)
        for key in b:
            np.testing.assert_array_equal(a[key], b[key])
            assert np.asarray(a[key]).dtype == np.asarray(b[key]).dtype, key
    else:
        np.testing.assert_array_equal(a, b)
        assert a.dtype == np.asarray(b).dtype


def run_against_dummy(
    make_env: Callable[[], gym.Env],
    vector_cls: type[VectorEnv],
    mode: AutoresetMode,
    n_envs: int,
    steps: int,
    seed: int,
) -> tuple[int, int]:
    """Step both with the same random actions; return (#terminations, #truncations) seen."""
    ours = VectorEnvToSB3(vector_cls([make_env] * n_envs, autoreset_mode=mode))
    ref = DummyVecEnv([make_env] * n_envs)
    ours.seed(seed)
    ref.seed(seed)
    assert_obs_equal(ours.reset(), ref.reset())
    rng = np.random.default_rng(seed)
    n_term = n_trunc = 0
    try:
        for _ in range(steps):
            actions = rng.integers(0, ref.action_space.n, size=n_envs)
            obs, rewards, dones, infos = ours.step(actions)
            ref_obs, ref_rewards, ref_dones, ref_infos = ref.step(actions)
            assert_obs_equal(obs, ref_obs)
            np.testing.assert_array_equal(rewards, ref_rewards)
            assert rewards.dtype == ref_rewards.dtype
            np.testing.assert_array_equal(dones, ref_dones)
            for i in range(n_envs):
                if not ref_dones[i]:
                    assert "terminal_observation" not in infos[i]
                    continue
                assert_obs_equal(
                    infos[i]["terminal_observation"], ref_infos[i]["terminal_observation"]
                )
                truncated = ref_infos[i]["TimeLimit.truncated"]
                assert infos[i]["TimeLimit.truncated"] is truncated
                n_trunc += truncated
                n_term += not truncated
    finally:
        ours.close()
        ref.close()
    return n_term, n_trunc


@pytest.mark.parametrize("mode", [AutoresetMode.SAME_STEP, AutoresetMode.DISABLED])
def test_cartpole_matches_dummy_vec_env(mode: AutoresetMode) -> None:
    n_term, n_trunc = run_against_dummy(make_cartpole, SyncVectorEnv, mode, 4, 1000, seed=7)
    assert n_term > 10
    assert n_trunc > 3  # max_episode_steps=50 truncates the longer random episodes


def test_dict_obs_minigrid_matches_dummy_vec_env() -> None:
    n_term, n_trunc = run_against_dummy(
        make_minigrid, SyncVectorEnv, AutoresetMode.SAME_STEP, 3, 1000, seed=3
    )
    assert n_term > 0
    assert n_trunc > 10


def test_async_matches_dummy_vec_env() -> None:
    n_term, _ = run_against_dummy(
        make_cartpole, AsyncVectorEnv, AutoresetMode.SAME_STEP, 2, 200, seed=11
    )
    assert n_term > 0


@pytest.mark.parametrize(
    "make_venv",
    [
        pytest.param(
            lambda: gym.make_vec("CartPole-v1", 2, vectorization_mode="vector_entry_point"),
            id="native-cartpole",
        ),
        pytest.param(lambda: gym.make_vec("CartPole-v1", 2, vectorization_mode="sync"), id="sync"),
    ],
)
def test_next_step_is_refused_with_fix(make_venv: Callable[[], VectorEnv]) -> None:
    venv = make_venv()
    with pytest.raises(ValueError, match="NEXT_STEP") as excinfo:
        VectorEnvToSB3(venv)
    message = str(excinfo.value)
    assert "autoreset_mode=gymnasium.vector.AutoresetMode.SAME_STEP" in message
    assert "vector_kwargs=" in message
    venv.close()


def test_missing_autoreset_metadata_is_refused() -> None:
    venv = CountdownVectorEnv(2)
    venv.metadata = {"render_modes": []}
    with pytest.raises(ValueError, match="no `autoreset_mode`"):
        VectorEnvToSB3(venv)


def test_rejects_non_vector_env() -> None:
    with pytest.raises(TypeError, match=r"gymnasium\.vector\.VectorEnv"):
        VectorEnvToSB3(gym.make("CartPole-v1"))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- a native env


class CountdownVectorEnv(VectorEnv):
    """A minimal native SAME_STEP vector env with Dict obs and batched ``final_obs``.

    Env i counts ``t`` down from ``start[i]``; action 1 at ``t == 1`` succeeds (terminates),
    reaching ``t == 0`` otherwise truncates. It returns its internal buffers on purpose, to check
    that the adapter copies them.
    """

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(self, num_envs: int, start: int = 3) -> None:
        self.num_envs = num_envs
        self.start = start
        self.render_mode = None
        self.single_observation_space = spaces.Dict(
            {"t": spaces.Discrete(start + 1), "pos": spaces.Box(-10, 10, (2,), np.float32)}
        )
        self.single_action_space = spaces.Discrete(2)
        self.observation_space = gym.vector.utils.batch_space(
            self.single_observation_space, num_envs
        )
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, num_envs)
        self.t = np.full(num_envs, start, dtype=np.int64)
        self.pos = np.zeros((num_envs, 2), dtype=np.float32)
        self.reset_count = 0

    def _obs(self) -> dict[str, np.ndarray]:
        return {"t": self.t, "pos": self.pos}

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> Any:
        super().reset(seed=seed)
        self.t[:] = self.start
        self.pos[:] = 0
        self.reset_count += 1
        return self._obs(), {}

    def step(self, actions: np.ndarray) -> Any:
        actions = np.asarray(actions)
        self.pos[:, 0] += actions
        self.t -= 1
        success = (self.t == 0) & (actions == 1)
        terminated = success.copy()
        truncated = (self.t == 0) & ~success
        done = terminated | truncated
        rewards = success.astype(np.float64)
        infos: dict[str, Any] = {}
        if done.any():
            final_obs = {"t": self.t.copy(), "pos": self.pos.copy()}
            infos = {
                "final_obs": final_obs,
                "_final_obs": done.copy(),
                "final_info": {"is_success": success.copy(), "_is_success": done.copy()},
                "_final_info": done.copy(),
            }
            self.t[done] = self.start
            self.pos[done] = 0
        return self._obs(), rewards, terminated, truncated, infos

    def ping(self, x: int) -> int:
        return x + 1


def test_native_same_step_env() -> None:
    venv = CountdownVectorEnv(3, start=2)
    env = VectorEnvToSB3(venv)
    obs = env.reset()
    assert obs["t"].dtype == np.int64
    assert obs["pos"].dtype == np.float32
    env.step(np.array([0, 1, 1]))
    obs, rewards, dones, infos = env.step(np.array([0, 1, 0]))
    np.testing.assert_array_equal(dones, [True, True, True])
    np.testing.assert_array_equal(rewards, [0.0, 1.0, 0.0])
    # Terminal observations are the pre-reset ones; the returned obs are the reset ones.
    np.testing.assert_array_equal(infos[1]["terminal_observation"]["pos"], [2.0, 0.0])
    np.testing.assert_array_equal(infos[2]["terminal_observation"]["pos"], [1.0, 0.0])
    assert int(infos[0]["terminal_observation"]["t"]) == 0
    np.testing.assert_array_equal(obs["t"], [2, 2, 2])
    np.testing.assert_array_equal(obs["pos"], np.zeros((3, 2)))
    assert [info["is_success"] for info in infos] == [False, True, False]
    assert not any(key.startswith("_") for info in infos for key in info)  # masks stay out
    assert [info["TimeLimit.truncated"] for info in infos] == [True, False, True]
    # The env mutates its buffers in place; what the adapter returned must not change.
    env.step(np.array([1, 1, 1]))
    np.testing.assert_array_equal(obs["pos"], np.zeros((3, 2)))


def test_native_env_attributes_are_replicated() -> None:
    env = VectorEnvToSB3(CountdownVectorEnv(3))
    assert env.render_mode is None
    assert env.get_attr("start") == [3, 3, 3]
    assert env.get_attr("start", indices=[2]) == [3]
    assert env.env_method("ping", 4, indices=[0, 1]) == [5, 5]
    env.set_attr("start", 5)
    assert env.vector_env.start == 5
    with pytest.raises(ValueError, match="for all of its 3 envs"):
        env.set_attr("start", 1, indices=[0])
    with pytest.raises(AttributeError, match="no_such_attr"):
        env.get_attr("no_such_attr")
    assert env.env_is_wrapped(TimeLimit) == [False, False, False]


def test_native_env_through_vector_wrapper() -> None:
    env = VectorEnvToSB3(RecordEpisodeStatistics(CountdownVectorEnv(2, start=2)))
    assert env.get_attr("start") == [2, 2]  # found on the wrapped env
    assert env.env_is_wrapped(RecordEpisodeStatistics) == [True, True]
    env.reset()
    env.step(np.array([1, 1]))
    _, _, dones, infos = env.step(np.array([1, 0]))
    assert dones.all()
    assert [info["episode"]["r"] for info in infos] == [1.0, 0.0]
    assert [info["episode"]["l"] for info in infos] == [2, 2]
    # The episode stats of the finished episode do not leak into the new episode's reset info.
    assert all("episode" not in info for info in env.reset_infos)


# ---------------------------------------------------------------------------- SB3 contract


def test_seed_and_options_follow_sb3_contract() -> None:
    env = VectorEnvToSB3(SyncVectorEnv([make_cartpole] * 3, autoreset_mode=AutoresetMode.SAME_STEP))
    ref = SyncVectorEnv([make_cartpole] * 3)
    env.seed(5)
    expected, _ = ref.reset(seed=5)
    np.testing.assert_array_equal(env.reset(), expected)
    assert env._seeds == [None, None, None]  # seeds are used by one reset only
    env.set_options({"low": -0.001, "high": 0.001})
    assert np.abs(env.reset()).max() <= 0.001
    assert np.abs(env.reset()).max() > 0.001  # options too are used once
    env.set_options([{"low": -0.1, "high": 0.1}, {}, {}])
    with pytest.raises(ValueError, match="one options dict for all envs"):
        env.reset()
    env._seeds = [1, 9, 4]  # arbitrary per-env seeds go through as a list
    env._options = [{}, {}, {}]
    expected, _ = ref.reset(seed=[1, 9, 4])
    np.testing.assert_array_equal(env.reset(), expected)
    env.close()
    ref.close()


def test_sync_attributes_match_dummy_vec_env() -> None:
    env = VectorEnvToSB3(SyncVectorEnv([make_cartpole] * 3, autoreset_mode=AutoresetMode.SAME_STEP))
    ref = DummyVecEnv([make_cartpole] * 3)
    for venv in (env, ref):
        assert venv.get_attr("render_mode") == [None] * 3
        assert venv.env_is_wrapped(TimeLimit) == [True] * 3
        assert venv.env_is_wrapped(FilterObservation) == [False] * 3
        venv.set_attr("custom", 7, indices=[1])
        assert venv.get_attr("custom", indices=[1]) == [7]
        assert venv.env_method("get_wrapper_attr", "custom", indices=1) == [7]
        with pytest.raises(AttributeError):
            venv.get_attr("custom", indices=[0])
    assert env.get_attr("spec")[0].id == ref.get_attr("spec")[0].id == "CartPole-v1"


def test_async_attributes() -> None:
    env = VectorEnvToSB3(
        AsyncVectorEnv([make_cartpole] * 2, autoreset_mode=AutoresetMode.SAME_STEP)
    )
    try:
        env.set_attr("custom", 3)
        assert env.get_attr("custom", indices=[1]) == [3]
        assert env.env_method("get_wrapper_attr", "custom", indices=[1]) == [3]
        with pytest.raises(ValueError, match="for all of its 2 envs"):
            env.set_attr("custom", 4, indices=[0])
    finally:
        env.close()


def test_episode_stats_match_vec_monitor() -> None:
    """make_sb3_vec_env's episode infos equal VecMonitor over DummyVecEnv (same seeds)."""
    ours = make_sb3_vec_env(
        "CartPole-v1", 3, seed=2, env_kwargs={"max_episode_steps": 50}, vectorization_mode="sync"
    )
    ref = VecMonitor(DummyVecEnv([make_cartpole] * 3))
    ref.seed(2)
    ours.reset()
    ref.reset()
    rng = np.random.default_rng(0)
    episodes = 0
    for _ in range(400):
        actions = rng.integers(0, 2, size=3)
        _, _, dones, infos = ours.step(actions)
        _, _, _, ref_infos = ref.step(actions)
        for i in np.flatnonzero(dones):
            assert infos[i]["episode"]["r"] == pytest.approx(ref_infos[i]["episode"]["r"])
            assert infos[i]["episode"]["l"] == ref_infos[i]["episode"]["l"]
            episodes += 1
    assert episodes > 20
    ours.close()


def test_make_sb3_vec_env_picks_mode() -> None:
    # CartPole's vector entry point takes no autoreset_mode: fall back to sync.
    env = make_sb3_vec_env("CartPole-v1", 2, seed=0)
    assert isinstance(env.vector_env.unwrapped, SyncVectorEnv)
    assert env.autoreset_mode is AutoresetMode.SAME_STEP
    # Episode statistics inside, per-term totals outside (they extend its infos["episode"]).
    assert isinstance(env.vector_env, RecordRewardTermsVector)
    assert isinstance(env.vector_env.env, RecordEpisodeStatistics)
    env.close()
    with pytest.raises(ValueError, match="vector entry point that accepts autoreset_mode"):
        make_sb3_vec_env("CartPole-v1", 2, vectorization_mode="vector_entry_point")
    with pytest.raises(ValueError, match="n_envs must be an int >= 1, got 0"):
        make_sb3_vec_env("CartPole-v1", 0)


def test_make_sb3_vec_env_native_entry_point() -> None:
    gym.register(
        "rewardgym-test/Countdown-v0",
        entry_point=None,
        vector_entry_point=lambda num_envs, autoreset_mode, **kw: CountdownVectorEnv(num_envs),
    )
    try:
        env = make_sb3_vec_env("rewardgym-test/Countdown-v0", 4, seed=1)
        assert isinstance(env.vector_env.unwrapped, CountdownVectorEnv)
        assert env.reset()["t"].shape == (4,)
        env.close()
    finally:
        del gym.registry["rewardgym-test/Countdown-v0"]


def test_sb3_ppo_runs_on_adapter() -> None:
    from stable_baselines3 import PPO

    env = make_sb3_vec_env("CartPole-v1", 4, seed=0, env_kwargs={"max_episode_steps": 30})
    model = PPO("MlpPolicy", env, n_steps=64, batch_size=128, n_epochs=1, seed=0, device="cpu")
    model.learn(512)
    assert model.num_timesteps == 512
    assert len(model.ep_info_buffer) > 0  # episode infos reached SB3
    env.close()


@pytest.mark.parametrize("env_kwargs", [{"obs_mode": "flat"}, {}], ids=["flat", "dict"])
def test_rewardgym_native_grid_matches_sync(env_kwargs: dict[str, Any]) -> None:
    """The native GridVectorEnv (SAME_STEP) and its SyncVectorEnv look the same through SB3."""
    import rewardgym  # noqa: F401  (registers rewardgym/...)

    env_id = "rewardgym/DoorKey-5x5-v0"
    kwargs = {**env_kwargs, "max_episode_steps": 15}  # random episodes: mostly truncations
    native = make_sb3_vec_env(env_id, 6, seed=4, env_kwargs=kwargs)
    sync = make_sb3_vec_env(env_id, 6, seed=4, env_kwargs=kwargs, vectorization_mode="sync")
    assert not isinstance(native.vector_env.unwrapped, SyncVectorEnv)
    assert_obs_equal(native.reset(), sync.reset())
    rng = np.random.default_rng(0)
    finished = 0
    for _ in range(300):
        actions = rng.integers(0, native.action_space.n, size=6)
        obs, rewards, dones, infos = native.step(actions)
        ref_obs, ref_rewards, ref_dones, ref_infos = sync.step(actions)
        assert_obs_equal(obs, ref_obs)
        np.testing.assert_array_equal(rewards, ref_rewards)
        np.testing.assert_array_equal(dones, ref_dones)
        for i in np.flatnonzero(dones):
            finished += 1
            ours, ref = infos[i], ref_infos[i]
            assert_obs_equal(ours["terminal_observation"], ref["terminal_observation"])
            assert ours["TimeLimit.truncated"] is ref["TimeLimit.truncated"]
            assert ours["is_success"] == ref["is_success"]
            assert ours["episode"]["l"] == ref["episode"]["l"]
            assert ours["episode"]["r"] == pytest.approx(ref["episode"]["r"])
    assert finished > 50
    native.close()
    sync.close()


# ---------------------------------------------------------------------------- both flags at once


class _ScriptedFlags(gym.Env):
    """Cycles through episodes that end terminated, truncated, and both on the same step."""

    observation_space = spaces.Box(0, 10, (1,), np.float32)
    action_space = spaces.Discrete(2)
    ENDINGS = ((True, False), (False, True), (True, True))

    def __init__(self) -> None:
        self.episode = -1
        self.t = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> Any:
        super().reset(seed=seed)
        self.episode += 1
        self.t = 0
        return np.array([0.0], np.float32), {"episode_index": self.episode}

    def step(self, action: Any) -> Any:
        self.t += 1
        ends = self.t == 2 + self.episode % 2
        term, trunc = self.ENDINGS[self.episode % 3] if ends else (False, False)
        return np.array([float(self.t)], np.float32), float(self.t), term, trunc, {}


@pytest.mark.parametrize("mode", [AutoresetMode.SAME_STEP, AutoresetMode.DISABLED])
def test_terminated_and_truncated_on_one_step_is_a_termination(mode: AutoresetMode) -> None:
    """SB3 must not bootstrap from a real terminal state that also hit the time limit."""
    ours = VectorEnvToSB3(SyncVectorEnv([_ScriptedFlags] * 2, autoreset_mode=mode))
    ref = DummyVecEnv([_ScriptedFlags] * 2)
    assert_obs_equal(ours.reset(), ref.reset())
    seen = []
    for _ in range(30):
        actions = np.zeros(2, dtype=np.int64)
        obs, rewards, dones, infos = ours.step(actions)
        ref_obs, ref_rewards, ref_dones, ref_infos = ref.step(actions)
        assert_obs_equal(obs, ref_obs)
        np.testing.assert_array_equal(rewards, ref_rewards)
        np.testing.assert_array_equal(dones, ref_dones)
        for i in np.flatnonzero(dones):
            assert infos[i]["TimeLimit.truncated"] is ref_infos[i]["TimeLimit.truncated"]
            assert_obs_equal(infos[i]["terminal_observation"],
                             ref_infos[i]["terminal_observation"])
            seen.append(infos[i]["TimeLimit.truncated"])
            if mode == AutoresetMode.DISABLED:  # the adapter resets: the new episode's info
                assert ours.reset_infos[i]["episode_index"] == ref.reset_infos[i]["episode_index"]
    # Each env ended episodes of all three kinds; only the truncated-only ones bootstrap.
    assert seen.count(True) >= 4
    assert seen.count(False) >= 8


def test_goal_reached_at_the_time_limit_on_a_native_grid() -> None:
    """Empty-5x5's shortest path takes 5 steps: with a 5-step limit both flags are set."""
    import rewardgym  # noqa: F401  (registers rewardgym/...)

    path = ((2, 0), (2, 0), (1, 0), (2, 0), (2, 0))  # env 1 only turns left
    raw = gym.make_vec("rewardgym/Empty-5x5-v0", 2, vectorization_mode="vector_entry_point",
                       autoreset_mode=AutoresetMode.SAME_STEP, max_episode_steps=5)
    raw.reset(seed=0)
    for actions in path:
        _, _, terminated, truncated, _ = raw.step(np.array(actions))
    assert terminated.tolist() == [True, False]
    assert truncated.tolist() == [True, True]  # the env itself sets both flags on env 0

    env = make_sb3_vec_env("rewardgym/Empty-5x5-v0", 2, seed=0,
                           env_kwargs={"max_episode_steps": 5})
    assert not isinstance(env.vector_env.unwrapped, SyncVectorEnv)
    env.reset()
    for actions in path:
        _, rewards, dones, infos = env.step(np.array(actions))
    assert dones.tolist() == [True, True]
    assert rewards[0] > 0.9
    assert bool(infos[0]["is_success"])
    assert infos[0]["TimeLimit.truncated"] is False  # terminated (and truncated): no bootstrap
    assert infos[1]["TimeLimit.truncated"] is True  # truncated only
    assert int(infos[0]["terminal_observation"]["direction"]) == 1  # facing down at the goal
    env.close()


def test_info_at_skips_absent_keys_and_keeps_the_rest() -> None:
    from rewardgym.agents.sb3_adapter import _info_at

    infos = {"a": np.array([1, 2]), "_a": np.array([False, True]),
             "b": np.array([3, 4]), "_b": np.array([True, True]), "c": np.array([5, 6])}
    assert _info_at(infos, 0) == {"b": 3, "c": 5}  # a is absent for env 0; b and c are not
    assert _info_at(infos, 1) == {"a": 2, "b": 4, "c": 6}
