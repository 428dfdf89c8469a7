"""WebShopDiscrete: env checkers, masks, no-op masked actions, bad actions, seeds, pickling."""

from __future__ import annotations

import doctest
import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from rewardgym.envs.shopping import discrete
from rewardgym.envs.shopping.discrete import (
    N_GLOBAL,
    N_SEARCH,
    N_SLOT_FEATURES,
    NAV_LABELS,
    WebShopDiscrete,
    WebShopDiscreteEnv,
    search_candidates,
)
from rewardgym.envs.shopping.oracle import oracle_action
from tests.envs.shopping import tiny_world

ENV_ID = "rewardgym/WebShopDiscrete-v1"
TINY_ID = "rewardgym-tests/TinyShopDiscrete-v0"


def tiny(**kwargs) -> WebShopDiscreteEnv:
    cat = tiny_world.catalogue()
    return WebShopDiscreteEnv(catalogue=cat, goals=tiny_world.goals(),
                              search=tiny_world.OverlapSearch(cat), **kwargs)


@pytest.fixture(scope="module", autouse=True)
def registered():
    """The registry row, if the package does not have it yet, and a tiny-world row."""
    added = []
    if ENV_ID not in gym.registry:
        gym.register(ENV_ID, entry_point="rewardgym.envs.shopping.discrete:WebShopDiscreteEnv",
                     max_episode_steps=15)
        added.append(ENV_ID)
    gym.register(TINY_ID, entry_point=tiny, max_episode_steps=15)
    added.append(TINY_ID)
    yield
    for env_id in added:
        del gym.registry[env_id]


def random_rollout(env: gym.Env, seed: int, steps: int):
    """(obs, reward, info, mask, valid action texts) along ``steps`` random valid actions."""
    rng = np.random.default_rng(seed)
    view = discrete.discrete_view(env)

    def entry(obs, reward, info):
        mask = view.action_masks()
        return obs, reward, info, mask, [view.action_text(s) for s in np.flatnonzero(mask)]

    obs, info = env.reset(seed=seed)
    out = [entry(obs, 0.0, info)]
    for _ in range(steps):
        action = rng.choice(np.flatnonzero(out[-1][3]))
        obs, reward, terminated, truncated, info = env.step(int(action))
        out.append(entry(obs, reward, info))
        if terminated or truncated:
            obs, info = env.reset()
            out.append(entry(obs, 0.0, info))
    return out


def test_doctests():
    assert doctest.testmod(discrete, raise_on_error=False).failed == 0


def test_gymnasium_checker_passes_with_warnings_as_errors():
    env = gym.make(ENV_ID).unwrapped
    assert isinstance(env, WebShopDiscreteEnv)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env)


def test_sb3_checker_passes():
    sb3_check_env(gym.make(ENV_ID).unwrapped, warn=True)
    sb3_check_env(tiny(), warn=True)


def test_spaces_and_python_types():
    env = tiny(bow_dim=32)
    k = N_SEARCH + len(NAV_LABELS) + 10 + 4 * 10
    assert env.action_space == gym.spaces.Discrete(k)
    assert env.observation_space.shape == (2 * 32 + N_GLOBAL + k * N_SLOT_FEATURES,)
    obs, _ = env.reset(seed=0)
    assert obs.dtype == np.float32
    assert env.observation_space.contains(obs)
    obs, reward, terminated, truncated, _info = env.step(0)
    assert type(reward) is float
    assert type(terminated) is bool
    assert type(truncated) is bool
    assert env.observation_space.contains(obs)
    mask = env.action_masks()
    assert mask.dtype == bool
    assert mask.shape == (k,)


def test_masks_match_the_available_actions():
    env = gym.make(ENV_ID)
    view = discrete.discrete_view(env)
    for obs, _, info, mask, valid_texts in random_rollout(env, seed=3, steps=300):
        available = info["available_actions"]
        clickables = set(available["clickables"])
        for text in valid_texts:
            if text.startswith("search["):
                assert available["has_search_bar"]
            else:
                assert text[len("click["):-1] in clickables, (text, clickables)
        # Every clickable but the search button (and values beyond the grid) has a slot.
        clicks = {t[len("click["):-1] for t in valid_texts if t.startswith("click[")}
        assert clicks == clickables - {"search"}
        assert any(t.startswith("search[") for t in valid_texts) == available["has_search_bar"]
        # The valid flags in the observation are the mask.
        feats = obs[-view.n_slots * N_SLOT_FEATURES:].reshape(view.n_slots, N_SLOT_FEATURES)
        np.testing.assert_array_equal(feats[:, 0] > 0, mask)


def test_duplicate_search_candidates_are_masked():
    env = tiny()
    env.reset(seed=0)
    queries = [env.action_text(s) for s in range(N_SEARCH) if env.action_masks()[s]]
    assert len(queries) == len(set(queries)) >= 3
    assert not env.action_masks()[N_SEARCH:].any()


@pytest.mark.parametrize("penalty", [0.0, 0.25])
def test_masked_actions_are_no_ops(penalty):
    env = tiny(invalid_penalty=penalty)
    obs, info = env.reset(seed=1)
    env.step(1)  # search: results page
    before = env.text_env.page_state
    obs, info = env.step(env.slot_of("click[next >]"))[0::4]
    masked = np.flatnonzero(~env.action_masks())
    assert len(masked) > 0
    state = env.text_env.page_state
    for slot in masked[:: max(1, len(masked) // 10)]:
        new_obs, reward, terminated, truncated, new_info = env.step(int(slot))
        assert env.text_env.page_state == state
        assert new_info["invalid"] is True
        assert reward == -penalty
        assert sum(new_info["reward_terms"].values()) == reward
        assert not terminated
        assert not truncated
        # Only the step-fraction feature moves.
        diff = np.flatnonzero(new_obs != obs)
        assert set(diff) <= {2 * env.view.bow_dim + 5}
        assert new_info["page"] == info["page"]
    assert before != state


@pytest.mark.parametrize("bad", [64, -1, 1.5, np.nan, np.array([0, 1]), "click[buy now]", None,
                                 True, np.float32(2.0)])
def test_bad_actions_raise_naming_the_env(bad):
    env = gym.make(ENV_ID)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="WebShopDiscrete-v1"):
        env.unwrapped.step(bad)
    with pytest.raises(ValueError, match="WebShopDiscrete"):
        WebShopDiscrete(tiny_world.env()).step(bad)


def test_numpy_integers_are_accepted():
    env = tiny()
    env.reset(seed=0)
    assert env.step(np.int64(0))[4]["page"] == "results"
    env.reset(seed=0)
    assert env.step(np.array(0))[4]["page"] == "results"


def test_same_seed_same_trajectory_and_other_seed_differs():
    first = random_rollout(gym.make(ENV_ID), seed=5, steps=80)
    second = random_rollout(gym.make(ENV_ID), seed=5, steps=80)
    other = random_rollout(gym.make(ENV_ID), seed=6, steps=80)
    assert len(first) == len(second)
    for (o1, r1, i1, *_), (o2, r2, i2, *_) in zip(first, second, strict=True):
        np.testing.assert_array_equal(o1, o2)
        assert r1 == r2
        assert i1["instruction"] == i2["instruction"]
    assert any(not np.array_equal(a[0], b[0]) for a, b in zip(first, other, strict=False))


def test_pickled_env_continues_identically():
    env = gym.make(ENV_ID)
    env.reset(seed=4)
    for _ in range(2):
        env.step(int(np.flatnonzero(env.unwrapped.action_masks())[0]))
    clone = pickle.loads(pickle.dumps(env))
    rng = np.random.default_rng(0)
    for _ in range(8):
        action = int(rng.choice(np.flatnonzero(env.unwrapped.action_masks())))
        a, b = env.step(action), clone.step(action)
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1:4] == b[1:4]
        if a[2] or a[3]:
            break


def test_wrapper_and_env_shell_agree():
    shell = tiny()
    wrapper = WebShopDiscrete(tiny_world.env())
    for env in (shell, wrapper):
        env.reset(seed=2, options={"split": "test", "goal_idx": 0})
    for _ in range(6):
        action = int(np.flatnonzero(shell.action_masks())[-1])
        a, b = shell.step(action), wrapper.step(action)
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1:4] == b[1:4]
        if a[2]:
            break


def test_oracle_actions_map_to_slots_and_info_passes_through():
    env = tiny()
    for goal_idx in range(len(tiny_world.goals())):
        _, info = env.reset(seed=0, options={"goal_idx": goal_idx})
        for _ in range(15):
            text = oracle_action(env.text_env)
            if text.startswith("search["):
                text = f"search[{discrete.without_price(info['instruction'])}]"
            slot = env.slot_of(text)
            assert slot is not None, text
            assert env.action_text(slot).lower() == text.lower()
            _obs, reward, terminated, _, info = env.step(slot)
            assert info["action_text"].lower() == text.lower()
            assert info["reward_terms"]["purchase"] == reward
            if terminated:
                break
        assert reward == 1.0
        assert info["is_success"] is True
        assert info["reward_info"]["r_type"] == 1.0
        assert "exact" in info


def test_search_candidates_use_only_the_instruction():
    text = ("i'm looking for a machine washable sofa cover for living room in navy blue, "
            "size large, and price lower than 60.00 dollars")
    queries = search_candidates(text)
    assert len(queries) == N_SEARCH
    assert queries[0] == text
    assert queries[1] == text[:text.index(", and price")]
    assert "navy" not in queries[2]
    assert "large" not in queries[2]
    assert "sofa cover" in queries[2]
    assert all("dollars" not in q for q in queries[1:])
    synthetic = search_candidates("Find me easy assembly sofas and couches with wood frame with "
                                  "color: navy blue, and size: large, and price lower than "
                                  "300.00 dollars")
    assert synthetic[2] == "easy assembly sofas couches wood frame"


def test_features_flag_options_named_in_the_instruction():
    env = tiny()
    env.reset(seed=0, options={"split": "test", "goal_idx": 0})
    obs = env.step(env.slot_of("search[ceramic coffee mug]") or 2)[0]
    goal = env.text_env.goal
    target = env.slot_of(f"click[{goal.asin.lower()}]")
    while target is None:
        obs = env.step(env.slot_of("click[next >]"))[0]
        target = env.slot_of(f"click[{goal.asin.lower()}]")
    obs = env.step(target)[0]
    view = env.view
    feats = obs[-view.n_slots * N_SLOT_FEATURES:].reshape(view.n_slots, N_SLOT_FEATURES)
    wanted = {env.slot_of(f"click[{value}]") for _, value in goal.goal_options}
    named = set(np.flatnonzero(feats[:, 7] > 0))
    assert wanted <= named
    assert all(s >= view.option_start for s in named)


def test_each_constructor_argument_changes_the_output():
    def first_steps(env: gym.Env):
        obs, _info = env.reset(seed=0, options={"split": "test", "goal_idx": 0})
        unwrapped = env.unwrapped
        texts = [unwrapped.action_text(s) for s in range(N_SEARCH)]
        obs2, reward, *_ = env.step(N_SEARCH)  # "back to search": masked on the search page
        return obs, obs2, reward, texts, env.action_space.n

    base = first_steps(tiny())
    assert first_steps(tiny(bow_dim=64))[0].shape != base[0].shape
    assert first_steps(tiny(search_candidates="oracle"))[3] != base[3]
    assert first_steps(tiny(invalid_penalty=0.5))[2] == -0.5 != base[2]
    assert not np.array_equal(first_steps(tiny(horizon=3))[1], base[1])
    assert first_steps(tiny(option_groups=2))[4] != base[4]
    assert first_steps(tiny(option_values=3))[4] != base[4]
    # Text-env settings travel through: another goal seed, other instructions.
    default = gym.make(ENV_ID, n_products=500)
    reseeded = gym.make(ENV_ID, n_products=500, goal_seed=1)
    assert first_steps(default)[3] != first_steps(reseeded)[3]
    env = tiny(render_mode="ansi")
    env.reset(seed=0)
    assert env.render().startswith("WebShop [SEP] Instruction:")


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"bow_dim": 0}, "bow_dim"), ({"horizon": 0}, "horizon"),
    ({"search_candidates": "goal"}, "search_candidates"),
    ({"invalid_penalty": float("nan")}, "invalid_penalty"), ({"option_values": -1},
                                                             "option_values"),
])
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        tiny(**kwargs)


def test_refuses_envs_that_are_not_text_shops():
    with pytest.raises(TypeError, match="WebShopTextEnv"):
        WebShopDiscrete(gym.make("CartPole-v1"))


def test_maskable_ppo_smoke_train(tmp_path):
    from rewardgym.agents import load_config, train

    cfg = load_config(ENV_ID, "maskable_ppo", overrides=[
        "total_timesteps=1024", "n_envs=2", "n_steps=256", "batch_size=128", "n_epochs=2",
        "env_kwargs={bow_dim: 64, n_products: 500}", "policy_kwargs={net_arch: [64]}"])
    result = train(ENV_ID, "maskable_ppo", cfg, log_dir=tmp_path, progress_bar=False,
                   eval_episodes=3, verbose=0)
    assert result.num_timesteps == 1024
    assert result.eval_episodes == 3
    assert result.model_path.exists()
    assert 0.0 <= result.mean_return <= 1.0


def test_observation_encodes_instruction_and_page_text():
    env = gym.make(ENV_ID, n_products=500, bow_dim=128)
    d, rng = 128, np.random.default_rng(9)
    obs, info = env.reset(seed=9)
    for _ in range(300):
        nodes = env.unwrapped.text_env.page_nodes
        page = [w for n in nodes if n.kind != "instruction" for w in discrete.words(n.text)]
        # The page part is cached per page (LRU); it must equal a fresh hash of the page.
        np.testing.assert_array_equal(obs[d:2 * d], discrete.hashed_bow(page, d))
        np.testing.assert_array_equal(
            obs[:d], discrete.hashed_bow(discrete.words(info["instruction"]), d))
        kinds = obs[2 * d:2 * d + len(discrete.PAGE_KINDS)]
        assert kinds[discrete.PAGE_KINDS.index(info["page"])] == 1.0
        assert kinds.sum() == 1.0
        action = int(rng.choice(np.flatnonzero(env.unwrapped.action_masks())))
        obs, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            obs, info = env.reset()
