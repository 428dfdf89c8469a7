"""InfractionPenalty: CaRL's multiplicative scheme on any env whose info carries the signals."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from pettingzoo import ParallelEnv

from rewardgym.wrappers.infractions import (
    CARL_TABLE,
    InfractionPenalty,
    InfractionPenaltyParallel,
    InfractionPenaltyVector,
    InfractionRule,
)

TABLE = (
    InfractionRule("crash", terminate=True, terminal_reward=-1.0),
    InfractionRule("slow", factor=0.5, hold_steps=3),
    InfractionRule("speed", weight=0.8),
)


class _Signals(gym.Env):
    """Progress 2.0 per step; scripted infraction signals; ends itself on a crash."""

    observation_space = gym.spaces.Box(0, 100, (1,), dtype=np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, script=None, self_terminate=True):
        self.script = script or {2: {"slow": True}, 3: {"speed": 0.5}, 7: {"crash": True}}
        self.self_terminate = self_terminate

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.0], np.float32), {}

    def step(self, action):
        self.t += 1
        events = self.script.get(self.t, {})
        info = {"progress": 2.0, "crash": events.get("crash", False),
                "slow": events.get("slow", False), "speed": events.get("speed", 0.0)}
        terminated = bool(info["crash"]) and self.self_terminate
        return np.array([float(self.t)], np.float32), 0.25, terminated, self.t >= 9, info


def _run(env, steps=9):
    env.reset(seed=0)
    out = []
    for _ in range(steps):
        _, reward, terminated, truncated, info = env.step(0)
        out.append((reward, terminated, info))
        if terminated or truncated:
            break
    return out


def test_factors_weights_holds_and_terminal_reward():
    out = _run(InfractionPenalty(_Signals(self_terminate=False), TABLE))
    rewards = [r for r, _, _ in out]
    # t1: 2; t2-4: slow x0.5 held for 3 steps; t3 also speed 1 - 0.8*0.5 = 0.6; t7: crash.
    assert rewards == pytest.approx([2.0, 1.0, 0.6, 1.0, 2.0, 2.0, 2.0 - 1.0])
    assert out[-1][1] is True  # the wrapper ends the episode on the crash
    for reward, _, info in out:
        assert info["base_reward"] == 0.25
        assert sum(info["reward_terms"].values()) == pytest.approx(reward)
    assert out[-1][2]["reward_terms"]["terminal"] == -1.0


@pytest.mark.parametrize(
    ("table", "key", "expected_first_rewards"),
    [
        (TABLE, "progress", [2.0, 1.0, 0.6]),
        ((InfractionRule("crash", terminate=True),
          InfractionRule("slow", factor=0.25), InfractionRule("speed", weight=1.0)),
         "progress", [2.0, 0.5, 1.0]),
    ],
)
def test_table_changes_the_output(table, key, expected_first_rewards):
    out = _run(InfractionPenalty(_Signals(), table, progress_key=key))
    assert [r for r, _, _ in out][:3] == pytest.approx(expected_first_rewards)


def test_missing_progress_key_and_bad_rules_are_named():
    with pytest.raises(KeyError, match="distance"):
        _run(InfractionPenalty(_Signals(), TABLE, progress_key="distance"))
    with pytest.raises(ValueError, match="exactly one"):
        InfractionRule("x", terminate=True, factor=0.5)
    with pytest.raises(ValueError, match="factor"):
        InfractionRule("x", factor=1.5)
    with pytest.raises(ValueError, match="duplicate"):
        InfractionPenalty(_Signals(), (TABLE[0], TABLE[0]))


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_vector_twin_equals_single_wrapper(mode):
    # Holds still running when an episode ends (env 0 at its crash, env 2 at its truncation).
    scripts = [{3: {"slow": True}, 4: {"crash": True}}, {1: {"speed": 1.0}, 6: {"crash": True}},
               {3: {"slow": True}, 5: {"speed": 0.25}, 8: {"slow": True}}]
    singles = SyncVectorEnv([lambda s=s: InfractionPenalty(_Signals(s), TABLE) for s in scripts],
                            autoreset_mode=mode)
    twin = InfractionPenaltyVector(
        SyncVectorEnv([lambda s=s: _Signals(s) for s in scripts], autoreset_mode=mode), TABLE)
    singles.reset(seed=0)
    twin.reset(seed=0)
    terminations, truncations = np.zeros(3, int), np.zeros(3, int)
    for _ in range(25):
        a = singles.step(np.zeros(3, dtype=np.int64))
        b = twin.step(np.zeros(3, dtype=np.int64))
        np.testing.assert_allclose(a[1], b[1], atol=1e-12)
        np.testing.assert_array_equal(a[2], b[2])
        np.testing.assert_array_equal(a[3], b[3])
        terminations += a[2]
        truncations += a[3]
    assert terminations[:2].min() >= 2  # crashes: several episodes ended with a hold running
    assert truncations[2] >= 2


def test_vector_twin_refuses_to_end_episodes_itself():
    # Env 0 ends itself on its crash; env 1 crashes at the same step but does not terminate.
    twin = InfractionPenaltyVector(SyncVectorEnv([lambda: _Signals(),
                                                  lambda: _Signals(self_terminate=False)]), TABLE)
    twin.reset(seed=0)
    for _ in range(6):  # the crash comes at step 7
        twin.step(np.zeros(2, dtype=np.int64))
    with pytest.raises(ValueError, match=r"envs \[1\] had a terminating infraction but did not "
                                         r"terminate"):
        twin.step(np.zeros(2, dtype=np.int64))


def test_carl_preset_matches_the_paper_settings():
    rules = {rule.name: rule for rule in CARL_TABLE}
    assert rules["collision"].terminal_reward == rules["red_light"].terminal_reward == -1.0
    assert rules["off_road"].terminate
    assert rules["off_road"].terminal_reward == 0.0
    assert rules["ttc"].factor == 0.5
    assert rules["ttc"].hold_steps == 500
    assert rules["outside_route_lanes"].factor == 0.0


class _OneAgent(ParallelEnv):
    """A PettingZoo view of one gym env, to compare the parallel twin on the same data."""

    metadata = {"name": "one_agent_v0"}

    def __init__(self, env):
        self.env, self.possible_agents = env, ["a"]

    def observation_space(self, agent):
        return self.env.observation_space

    def action_space(self, agent):
        return self.env.action_space

    def reset(self, seed=None, options=None):
        self.agents = ["a"]
        obs, info = self.env.reset(seed=seed)
        return {"a": obs}, {"a": info}

    def step(self, actions):
        obs, r, term, trunc, info = self.env.step(actions["a"])
        if term or trunc:
            self.agents = []
        return {"a": obs}, {"a": r}, {"a": term}, {"a": trunc}, {"a": info}


def test_parallel_twin_equals_single_wrapper():
    single = InfractionPenalty(_Signals(), TABLE)
    parallel = InfractionPenaltyParallel(_OneAgent(_Signals()), TABLE)
    single.reset(seed=0)
    parallel.reset(seed=0)
    for _ in range(7):
        _, r, term, _, info = single.step(0)
        _, pr, pterm, _, pinfo = parallel.step({"a": 0})
        assert pr["a"] == r
        assert pterm["a"] == term
        assert pinfo["a"]["reward_terms"] == info["reward_terms"]


_MISSPELT = (*TABLE, InfractionRule("colision", terminate=True, terminal_reward=-1.0))


def test_a_name_the_env_never_reports_is_refused_at_the_first_step():
    # Once silently applied nothing: a misspelt rule never fired and the reward looked fine.
    env = InfractionPenalty(_Signals(), _MISSPELT)
    env.reset(seed=0)
    with pytest.raises(KeyError, match=r"'colision'.*info keys: \['crash', 'progress', "
                                       r"'slow', 'speed'\]"):
        env.step(0)


def test_vector_and_parallel_twins_refuse_unreported_names_too():
    twin = InfractionPenaltyVector(SyncVectorEnv([_Signals, _Signals]), _MISSPELT)
    twin.reset(seed=0)
    with pytest.raises(KeyError, match="colision"):
        twin.step(np.zeros(2, dtype=np.int64))
    parallel = InfractionPenaltyParallel(_OneAgent(_Signals()), _MISSPELT)
    parallel.reset(seed=0)
    with pytest.raises(KeyError, match="colision"):
        parallel.step({"a": 0})


def test_vector_twin_reads_no_signals_on_next_step_reset_rows():
    # Every env truncates at t=9 together: the next step resets all of them and SyncVectorEnv's
    # infos hold only reset infos (no progress, no infraction keys); that step has reward 0.
    twin = InfractionPenaltyVector(
        SyncVectorEnv([lambda: _Signals({1: {}}), lambda: _Signals({1: {}})],
                      autoreset_mode=AutoresetMode.NEXT_STEP), TABLE)
    twin.reset(seed=0)
    for t in range(1, 12):
        _, rewards, _, truncated, infos = twin.step(np.zeros(2, dtype=np.int64))
        expected = 0.0 if t == 10 else 2.0
        np.testing.assert_array_equal(rewards, [expected, expected])
        assert truncated.all() == (t == 9)
        np.testing.assert_array_equal(infos["reward_terms"]["progress"], rewards)


def test_severity_above_one_is_clamped():
    """A weight rule multiplies by ``1 - w * min(s, 1)``: never below ``1 - w``, never negative."""
    table = (InfractionRule("crash", terminate=True), InfractionRule("slow", factor=0.5),
             InfractionRule("speed", weight=0.8))
    out = _run(InfractionPenalty(_Signals({1: {"speed": 3.0}, 2: {"speed": 1.0},
                                           3: {"speed": 0.5}}), table), steps=4)
    assert [r for r, _, _ in out] == pytest.approx([2.0 * 0.2, 2.0 * 0.2, 2.0 * 0.6, 2.0])
    full = (InfractionRule("speed", weight=1.0),)
    out = _run(InfractionPenalty(_Signals({1: {"speed": 7.5}}), full), steps=2)
    assert [r for r, _, _ in out] == [0.0, 2.0]


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_vector_twin_clears_held_factors_when_an_episode_ends(mode):
    """A factor held past the end of an episode must not reach the next episode.

    Env 0 is slowed on its last step before a crash, env 1 on the step it is truncated (t = 9);
    both holds have 3 steps left when the episode ends. Env 2 is slowed mid-episode as a control
    that the hold itself works.
    """
    hold = (InfractionRule("crash", terminate=True, terminal_reward=-1.0),
            InfractionRule("slow", factor=0.5, hold_steps=4), InfractionRule("speed", weight=0.8))
    scripts = [{3: {"slow": True}, 4: {"crash": True}}, {9: {"slow": True}},
               {2: {"slow": True}}]
    twin = InfractionPenaltyVector(
        SyncVectorEnv([lambda s=s: _Signals(s) for s in scripts], autoreset_mode=mode), hold)
    twin.reset(seed=0)
    rewards, ends, terminal_terms = [], [], []
    for _ in range(14):
        _, reward, terminated, truncated, infos = twin.step(np.zeros(3, dtype=np.int64))
        rewards.append(reward.copy())
        ends.append(terminated | truncated)
        terms = infos["reward_terms"]
        np.testing.assert_allclose(terms["progress"] + terms["terminal"], reward, atol=1e-12)
        terminal_terms.append(terms["terminal"].copy())
    rewards, ends, terminal_terms = np.array(rewards), np.array(ends), np.array(terminal_terms)
    assert terminal_terms[3, 0] == -1.0  # the crash's terminal reward, in its own term
    assert (terminal_terms[:, 1:] == 0.0).all()
    # The events happened: env 0 crashed at t = 4, env 1 was truncated at t = 9.
    assert ends[3, 0]
    assert ends[8, 1]
    assert rewards[2, 0] == 1.0  # held factor in force on the step before the crash
    assert rewards[3, 0] == pytest.approx(1.0 - 1.0)  # crash: progress x0.5 plus T = -1
    assert rewards[8, 1] == 1.0
    assert list(rewards[1:5, 2]) == [1.0] * 4  # the hold covers 4 steps, then full progress
    assert rewards[5, 2] == 2.0
    # First rewarded step of the next episode (NEXT_STEP spends one step on the reset).
    first = 1 if mode == AutoresetMode.NEXT_STEP else 0
    if first:  # reset steps (env 0 alone, then env 1 with env 0 mid-episode): nothing at all
        assert rewards[4, 0] == 0.0
        assert rewards[9, 1] == 0.0
        assert terminal_terms[4, 0] == terminal_terms[9, 1] == 0.0
    assert rewards[4 + first, 0] == 2.0
    assert rewards[9 + first, 1] == 2.0
    assert rewards[10 + first, 1] == 2.0


def test_single_wrapper_clears_held_factors_on_reset():
    env = InfractionPenalty(_Signals({9: {"slow": True}}),
                            (InfractionRule("slow", factor=0.5, hold_steps=4),))
    out = _run(env)
    assert out[-1][0] == 1.0  # slowed on the truncating step
    assert [r for r, _, _ in _run(env, steps=2)] == [2.0, 2.0]


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_vector_twin_on_a_step_both_terminated_and_truncated(mode):
    """A crash on the time limit's step (t = 9) ends the episode: the hold must not survive it."""
    rules = (InfractionRule("crash", terminate=True, terminal_reward=-1.0),
             InfractionRule("slow", factor=0.5, hold_steps=4))
    twin = InfractionPenaltyVector(SyncVectorEnv(
        [lambda: _Signals({8: {"slow": True}, 9: {"crash": True}})], autoreset_mode=mode), rules)
    twin.reset(seed=0)
    out = [twin.step(np.zeros(1, dtype=np.int64)) for _ in range(12)]
    _, reward, terminated, truncated, _ = out[8]
    assert (bool(terminated[0]), bool(truncated[0])) == (True, True)
    assert reward[0] == pytest.approx(1.0 - 1.0)  # held x0.5, then the crash's -1
    first = 10 if mode == AutoresetMode.NEXT_STEP else 9
    assert [float(o[1][0]) for o in out[first:first + 2]] == [2.0, 2.0]


def test_terminating_rule_without_terminal_reward_still_ends_the_episode():
    rules = (InfractionRule("crash", terminate=True), InfractionRule("slow", factor=0.5))
    out = _run(InfractionPenalty(_Signals(self_terminate=False), rules))
    assert len(out) == 7
    assert out[-1][1] is True
    assert out[-1][2]["reward_terms"]["terminal"] == 0.0
