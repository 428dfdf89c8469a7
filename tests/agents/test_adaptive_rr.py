"""Adaptive replay ratio: the switch rule, RR accounting, resume, config and report (C3-C5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from stable_baselines3 import SAC, TD3
from stable_baselines3.common.env_util import make_vec_env

from rewardgym.agents import ConfigError, load_config, train
from rewardgym.agents.adaptive_rr import (
    CSV_COLUMNS,
    STATE_ATTR,
    AdaptiveReplayRatio,
    SwitchRule,
    callbacks_for,
    rr_setting,
)
from rewardgym.agents.plasticity import PlasticityError
from rewardgym.agents.plasticity_report import load_rows, main, plot

LEARNING_STARTS = 100


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny nets: one thread is fastest, and two stall on a loaded 2-core machine."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _model(algo=SAC, n_envs=1, **kwargs):
    env = make_vec_env("Pendulum-v1", n_envs=n_envs, seed=0)
    settings = {"learning_starts": LEARNING_STARTS, "batch_size": 32, "seed": 0,
                "policy_kwargs": {"net_arch": [16, 16]}, **kwargs}
    return algo("MlpPolicy", env, **settings)


class Scripted(AdaptiveReplayRatio):
    """Injects a scripted FAU sequence instead of probing (C3)."""

    def __init__(self, sequence, **kwargs):
        super().__init__(**kwargs)
        self.sequence = list(sequence)
        self.settings: list[tuple[int, int, int]] = []

    def _measure(self):
        fau = self.sequence.pop(0) if self.sequence else 0.1
        return {"fau_critic": fau, "fau_actor": 0.5, "dormant_critic": 0.0,
                "dormant_actor": 0.0}

    def _on_rollout_start(self) -> None:
        super()._on_rollout_start()
        self.settings.append((self.num_timesteps, self.model.train_freq.frequency,
                              self.model.gradient_steps))


# ---------------------------------------------------------------------------- ratios


def test_rr_setting_gives_the_exact_ratio_with_any_number_of_envs():
    assert rr_setting(0.5, 1) == (2, 1)
    assert rr_setting(2.0, 1) == (1, 2)
    for ratio in (0.25, 0.5, 1.0, 2.0, 4.0, 1 / 3):
        for n_envs in (1, 2, 3, 8):
            train_freq, gradient_steps = rr_setting(ratio, n_envs)
            assert gradient_steps / (train_freq * n_envs) == pytest.approx(ratio, rel=1e-12)
    with pytest.raises(ValueError, match="ratio"):
        rr_setting(0.0, 1)
    with pytest.raises(ValueError, match="n_envs"):
        rr_setting(0.5, 0)
    with pytest.raises(ValueError, match="train_freq"):
        rr_setting(0.1234567, 1)


# ---------------------------------------------------------------------------- C3: switch logic


def test_switch_rule_switches_once_at_check_4_and_never_reverts():
    rule = SwitchRule(fau_gap=1e-3)
    rule.start(0.6)
    sequence = [0.50, 0.45, 0.47, 0.4705, 0.40, 0.40, 0.30]
    flips = [rule.check(m, t) for t, m in enumerate(sequence, 1)]
    assert flips == [False, False, False, True, False, False, False]
    assert rule.switched
    assert rule.switch_timestep == 4
    clone = SwitchRule(fau_gap=1e-3)
    clone.load_state_dict(json.loads(json.dumps(rule.state_dict())))
    assert clone.state_dict() == rule.state_dict()
    with pytest.raises(RuntimeError, match="start"):
        SwitchRule(1e-3).check(0.5, 1)


def test_first_check_compares_with_the_initial_fau_as_the_authors_code():
    rule = SwitchRule(fau_gap=1e-3)
    rule.start(0.5)
    assert rule.check(0.5004, 10)


def test_scripted_fau_switches_the_model_at_check_4_exactly():
    model = _model()
    # the first probe (t = 101) is the initial FAU; checks every 50 steps with window 1
    cb = Scripted([0.6, 0.50, 0.45, 0.47, 0.4705, 0.40, 0.40], low=0.5, high=2.0,
                  check_interval=50, probe_interval=50, window=1, fau_gap=1e-3)
    model.learn(500, callback=cb)
    probes = [r["timesteps"] for r in cb.rows]
    assert probes[0] == LEARNING_STARTS + 1  # nothing before learning_starts
    checks = [r for r in cb.rows if r["window_mean"] is not None]
    assert [r["window_mean"] for r in checks[:5]] == [0.50, 0.45, 0.47, 0.4705, 0.40]
    assert [r["switched"] for r in checks] == [0, 0, 0] + [1] * (len(checks) - 3)
    assert cb.rule.switch_timestep == checks[3]["timesteps"] == 301
    before = [(f, g) for t, f, g in cb.settings if t <= 301]
    after = [(f, g) for t, f, g in cb.settings if t > 302]
    assert set(before) == {(2, 1)}
    assert set(after) == {(1, 2)}
    assert (model.train_freq.frequency, model.gradient_steps) == (1, 2)
    # C4 arithmetic with the exact switch step: (301 - 100) // 2 updates at RR 0.5, 2 per step after
    expected = (301 - LEARNING_STARTS) // 2 + (500 - 302) * 2
    assert abs(model._n_updates - expected) <= 2


# ---------------------------------------------------------------------------- C4 / C5: real probes


@pytest.mark.parametrize("algo", [SAC, TD3])
def test_real_probes_switch_and_the_update_count_follows_the_ratios(algo):
    model = _model(algo)
    # fau_gap 1: the first check (t = 201) always switches
    cb = AdaptiveReplayRatio(low=0.5, high=2.0, check_interval=100, probe_interval=50,
                             window=2, fau_gap=1.0, probe_batch_size=64)
    model.learn(600, callback=cb)
    t_switch = cb.rule.switch_timestep
    assert t_switch == 201
    expected = (t_switch - LEARNING_STARTS) / 2 + (600 - t_switch) * 2
    assert abs(model._n_updates - expected) <= 2  # ± gradient_steps_high
    assert all(0.0 < r["fau_critic"] < 1.0 for r in cb.rows)
    assert all(0.0 < r["fau_actor"] < 1.0 for r in cb.rows)
    # 600 steps is under SB3's first log dump (4 episodes of 200): the records are all still here
    logged = model.logger.name_to_value
    assert logged["train/rr_switch_timestep"] == 201
    assert logged["train/fau_critic"] == cb.rows[-1]["fau_critic"]
    assert logged["train/replay_ratio"] == 2.0
    assert "train/dormant_ratio_critic" in logged
    assert not any(m._forward_hooks for m in model.policy.modules())


def test_replay_ratio_is_counted_per_env_step_over_all_envs():
    model = _model(n_envs=2)
    cb = AdaptiveReplayRatio(low=0.5, high=2.0, check_interval=100, probe_interval=50,
                             window=2, fau_gap=1.0, probe_batch_size=64)
    model.learn(800, callback=cb)
    assert (model.train_freq.frequency, model.gradient_steps) == rr_setting(2.0, 2) == (1, 4)
    for row in cb.rows:
        assert row["replay_ratio"] in (0.5, 2.0)
    final = cb.rows[-1]
    assert final["replay_ratio"] == model.gradient_steps / (model.train_freq.frequency * 2)
    # measured from SB3's update counter over whole probe intervals in one phase
    steady = [r for r in cb.rows[1:] if r["timesteps"] > cb.rule.switch_timestep + 60]
    assert steady
    for row in steady:
        assert row["replay_ratio_measured"] == pytest.approx(2.0, abs=4 / 50)
    low = [r for r in cb.rows[1:] if r["timesteps"] <= cb.rule.switch_timestep]
    for row in low:
        assert row["replay_ratio_measured"] == pytest.approx(0.5, abs=2 / 50)


def test_episode_train_freq_and_non_relu_critics_are_refused():
    model = _model(train_freq=(1, "episode"))
    with pytest.raises(ValueError, match="train_freq in steps"):
        model.learn(10, callback=AdaptiveReplayRatio(check_interval=100, probe_interval=50,
                                                     window=1))
    tanh = _model(policy_kwargs={"net_arch": [8], "activation_fn": torch.nn.Tanh})
    with pytest.raises(PlasticityError, match="Tanh"):
        tanh.learn(LEARNING_STARTS + 10, callback=AdaptiveReplayRatio(
            check_interval=100, probe_interval=50, window=1))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"low": 2.0, "high": 1.0}, "high"),
    ({"check_interval": 120, "probe_interval": 50}, "multiple"),
    ({"check_interval": 100, "probe_interval": 50, "window": 3}, "window"),
    ({"fau_gap": -1.0}, "fau_gap"),
    ({"probe_batch_size": 0}, "probe_batch_size"),
])
def test_bad_callback_arguments_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AdaptiveReplayRatio(**kwargs)


# ---------------------------------------------------------------------------- resume


def test_switch_state_survives_save_and_load_mid_run(tmp_path: Path):
    model = _model()
    kwargs = {"low": 0.5, "high": 2.0, "check_interval": 100, "probe_interval": 50,
              "window": 2, "probe_batch_size": 64}
    # before the switch: a gap that cannot be met yet
    model.learn(260, callback=AdaptiveReplayRatio(fau_gap=0.0, **kwargs))
    state = getattr(model, STATE_ATTR)
    assert state["rule"]["switched"] is False
    assert state["probes"] == 4  # 101, 151, 201, 251
    model.save(tmp_path / "before.zip")
    loaded = SAC.load(tmp_path / "before.zip", env=make_vec_env("Pendulum-v1", n_envs=1))
    assert getattr(loaded, STATE_ATTR) == state
    resumed = AdaptiveReplayRatio(fau_gap=1.0, **kwargs)  # now any check switches
    loaded.learn(340, callback=resumed, reset_num_timesteps=False)
    assert resumed.rows[0]["timesteps"] == 301  # the schedule went on: no second initial probe
    assert resumed.rule.switch_timestep == 301  # check at probe 5 (1 + 2 * 2)
    assert (loaded.train_freq.frequency, loaded.gradient_steps) == (1, 2)
    # after the switch: the loaded model stays at the high ratio and never switches back
    loaded.save(tmp_path / "after.zip")
    again = SAC.load(tmp_path / "after.zip", env=make_vec_env("Pendulum-v1", n_envs=1))
    assert (again.train_freq.frequency, again.gradient_steps) == (1, 2)
    updates = again._n_updates
    last = AdaptiveReplayRatio(fau_gap=0.0, **kwargs)
    again.learn(100, callback=last, reset_num_timesteps=False)
    assert last.rule.switched
    assert last.rule.switch_timestep == 301
    assert again._n_updates - updates == pytest.approx(200, abs=2)
    assert {r["replay_ratio"] for r in last.rows} == {2.0}


# ---------------------------------------------------------------------------- config and train()


def test_config_family_sets_and_validates_adaptive_rr():
    cfg = load_config("Pendulum-v1", "sac", overrides=[
        "adaptive_rr.enabled=true", "adaptive_rr.high=4", "adaptive_rr.fau_gap=1e-3",
        "adaptive_rr.check_interval=2e4"])
    assert cfg.adaptive_rr.enabled
    assert (cfg.adaptive_rr.high, cfg.adaptive_rr.check_interval) == (4, 20_000)
    assert cfg.adaptive_rr.fau_gap == 1e-3
    assert cfg.to_dict()["adaptive_rr"]["high"] == 4
    [cb] = callbacks_for(cfg, None)
    assert (cb.low, cb.high, cb.check_interval, cb.window) == (0.5, 4.0, 20_000, 5)
    assert callbacks_for(load_config("Pendulum-v1", "sac"), None) == []
    assert callbacks_for(load_config("CartPole-v1", "ppo"), None) == []
    for override, field in [("adaptive_rr.high=0.25", "adaptive_rr.high"),
                            ("adaptive_rr.window=50", "adaptive_rr.window"),
                            ("adaptive_rr.enabled=maybe", "adaptive_rr.enabled"),
                            ("adaptive_rr.typo=1", "adaptive_rr.typo"),
                            ("adaptive_rr.check_interval=1500", "adaptive_rr.check_interval")]:
        with pytest.raises(ConfigError, match=f"SACConfig.{field}"):
            load_config("Pendulum-v1", "sac", overrides=[override])
    with pytest.raises(ConfigError, match="adaptive_rr"):
        load_config("CartPole-v1", "ppo", overrides=["adaptive_rr.enabled=true"])


@pytest.mark.slow
def test_train_with_adaptive_rr_writes_the_report_and_resumes(tmp_path: Path):
    overrides = ["adaptive_rr.enabled=true", "adaptive_rr.check_interval=100",
                 "adaptive_rr.probe_interval=50", "adaptive_rr.window=2",
                 "adaptive_rr.fau_gap=1.0", "adaptive_rr.probe_batch_size=64",
                 f"learning_starts={LEARNING_STARTS}", "batch_size=32",
                 "policy_kwargs={net_arch: [16, 16]}"]
    cfg = load_config("Pendulum-v1", "sac", overrides=[*overrides, "total_timesteps=300"])
    train("Pendulum-v1", "sac", cfg, log_dir=tmp_path, progress_bar=False, eval_episodes=1,
          verbose=0)
    rows = load_rows(tmp_path)
    assert [r["timesteps"] for r in rows] == [101, 151, 201, 251]
    assert rows[2]["switched"] == 1.0
    assert (tmp_path / "plasticity.png").read_bytes()[:4] == b"\x89PNG"
    cfg = load_config("Pendulum-v1", "sac", overrides=[*overrides, "total_timesteps=400"])
    result = train("Pendulum-v1", "sac", cfg, log_dir=tmp_path, resume=True,
                   progress_bar=False, eval_episodes=1, verbose=0)
    assert result.resumed_from == 300
    rows = load_rows(tmp_path)
    # SAC's replay buffer is not checkpointed: at 301 the resumed buffer is empty, nothing to probe
    assert [r["timesteps"] for r in rows] == [101, 151, 201, 251, 302, 352]
    assert {r["replay_ratio"] for r in rows[2:]} == {2.0}
    model = SAC.load(tmp_path / "model.zip")
    assert getattr(model, STATE_ATTR)["rule"]["switch_timestep"] == 201


def test_report_draws_a_png_from_the_csv_and_has_a_cli(tmp_path: Path, capsys):
    header = ",".join(CSV_COLUMNS)
    lines = [header]
    for i, t in enumerate(range(100, 1100, 100)):
        switched = int(t >= 500)
        lines.append(",".join(str(v) for v in (
            t, i * 50, 0.5 + 0.01 * i, 0.4, 0.1, 0.05, 2.0 if switched else 0.5,
            "" if i == 0 else (2.0 if switched else 0.5), 1 if switched else 2,
            2 if switched else 1, -100.0 + i, 0.1 * i, "" if i % 2 else 0.5, switched)))
    (tmp_path / "plasticity.csv").write_text("\n".join(lines) + "\n")
    out = plot(tmp_path)
    assert out == tmp_path / "plasticity.png"
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert main([str(tmp_path), "--out", str(tmp_path / "r.png")]) == 0
    assert (tmp_path / "r.png").is_file()
    assert "r.png" in capsys.readouterr().out
    with pytest.raises(FileNotFoundError, match=r"plasticity\.csv"):
        plot(tmp_path / "nothing")


def test_a_run_shorter_than_learning_starts_still_gets_a_blank_report(tmp_path: Path):
    model = _model()
    cb = AdaptiveReplayRatio(check_interval=100, probe_interval=50, window=1, log_dir=tmp_path)
    model.learn(50, callback=cb)
    assert cb.rows == []
    assert load_rows(tmp_path) == []
    assert (tmp_path / "plasticity.png").read_bytes()[:4] == b"\x89PNG"
