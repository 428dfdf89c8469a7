"""WebShopTextEnv: gymnasium contract, WebShop's page flow and buy flow, history, pickling."""

import dataclasses
import doctest
import pickle
import string
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rewardgym.envs.shopping import env as env_module
from rewardgym.envs.shopping.env import WebShopConfig, WebShopTextEnv, parse_action
from rewardgym.envs.shopping.schema import Catalogue
from tests.envs.shopping import tiny_world

TEST_ID = "rewardgym-tests/TinyShop-v0"
MODES = ("text", "text_rich", "html", "url")
STEP_INFO_KEYS = {"available_actions", "instruction", "page", "asin", "options", "goal_idx",
                  "split", "invalid", "is_success", "reward_terms"}


@pytest.fixture(scope="module", autouse=True)
def registered():
    gym.register(TEST_ID, entry_point=tiny_world.env)
    yield
    del gym.registry[TEST_ID]


def shop(**kwargs) -> WebShopTextEnv:
    return tiny_world.env(**kwargs)


def run(env, actions, *, seed=0, options=None):
    out = [env.reset(seed=seed, options=options)]
    out += [env.step(a) for a in actions]
    return out


BUY_GOAL_0 = ["search[ceramic coffee mug]", "click[b0mug00004]", "click[navy blue]",
              "click[15 oz]", "click[buy now]"]


def test_doctests():
    assert doctest.testmod(env_module, raise_on_error=False).failed == 0


@pytest.mark.parametrize("mode", MODES)
def test_env_checker_passes_with_warnings_as_errors(mode):
    env = gym.make(TEST_ID, observation_mode=mode).unwrapped
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env)


def test_spaces_and_python_types():
    env = shop()
    assert env.observation_space == gym.spaces.Text(65536, min_length=0,
                                                    charset=string.printable)
    assert env.action_space == gym.spaces.Text(512, min_length=0, charset=string.printable)
    obs, info = env.reset(seed=0, options={"goal_idx": 0})
    assert isinstance(obs, str)
    assert set(info) == STEP_INFO_KEYS
    for action in BUY_GOAL_0:
        obs, reward, terminated, truncated, info = env.step(action)
        assert env.observation_space.contains(obs)
        assert type(reward) is float
        assert type(terminated) is bool
        assert type(truncated) is bool
        assert type(info["is_success"]) is bool
        assert sum(info["reward_terms"].values()) == reward


def test_config_validation_names_the_field():
    for bad in ({"observation_mode": "pixels"}, {"num_prev_obs": -1}, {"split": "dev"},
                {"goal_style": "poetic"}, {"n_products": 0}, {"num_prev_actions": 1.5},
                {"option_match": "name"}):
        field = next(iter(bad))
        with pytest.raises(ValueError, match=f"WebShopConfig.{field}"):
            WebShopConfig(**bad)
    with pytest.raises(ValueError, match="render_mode"):
        shop(render_mode="human")
    assert shop(observation_mode="simple").config.mode == "text"


def test_parse_action_is_webshops_regex():
    assert parse_action("search[Red Mug]") == ("search", "red mug")
    assert parse_action("click[a[b]]") == ("click[a", "b]")  # greedy, like re.match upstream
    assert parse_action("click[]") is None
    assert parse_action("buy") is None


# ---- reset and goals ----

def test_reset_draws_goal_by_weight_and_is_seeded():
    env = shop()
    draws = [env.reset(seed=s)[1]["goal_idx"] for s in range(400)]
    again = [env.reset(seed=s)[1]["goal_idx"] for s in range(400)]
    assert draws == again
    counts = np.bincount(draws, minlength=4) / 400
    np.testing.assert_allclose(counts, [1 / 4.5, 2 / 4.5, 1 / 4.5, 0.5 / 4.5], atol=0.06)
    # Unseeded resets continue the stream: not all the same goal.
    env.reset(seed=1)
    assert len({env.reset()[1]["goal_idx"] for _ in range(20)}) > 1


def test_reset_options_pick_goal_and_split_for_one_episode():
    cat = tiny_world.catalogue()
    goals = tiny_world.goals()
    env = WebShopTextEnv(catalogue=cat, search=tiny_world.OverlapSearch(cat),
                         goals={"train": goals[:2], "test": goals[2:]})
    _, info = env.reset(seed=0, options={"split": "test", "goal_idx": 1})
    assert (info["split"], info["goal_idx"]) == ("test", 1)
    assert env.goal is goals[3]
    assert info["instruction"] == goals[3].instruction_text
    assert env.reset(seed=0)[1]["split"] == "train"  # back to the configured split
    with pytest.raises(ValueError, match="goal_idx"):
        env.reset(options={"split": "test", "goal_idx": 2})
    with pytest.raises(ValueError, match="no goals"):
        env.reset(options={"split": "eval"})
    with pytest.raises(ValueError, match="unknown reset options"):
        env.reset(options={"session": 3})
    with pytest.raises(ValueError, match="split"):
        env.reset(options={"split": "dev"})


def test_goal_weights_are_validated():
    cat = tiny_world.catalogue()
    bad = [tiny_world.goal_for(tiny_world.mug(1), ("ceramic",), (), 50.0, weight=0.0)]
    with pytest.raises(ValueError, match="weights"):
        WebShopTextEnv(catalogue=cat, goals=bad, search=tiny_world.OverlapSearch(cat))


def test_goal_accessor_needs_reset():
    with pytest.raises(gym.error.ResetNeeded):
        _ = shop().goal
    with pytest.raises(gym.error.ResetNeeded):
        shop().step("search[mug]")


# ---- actions ----

@pytest.mark.parametrize("bad", [3, None, b"search[mug]", ["click[buy now]"],
                                 np.array(["click[buy now]"])])
def test_non_string_action_raises_naming_the_env(bad):
    env = shop()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="WebShopTextEnv"):
        env.step(bad)
    made = gym.make(TEST_ID)
    made.reset(seed=0)
    with pytest.raises(ValueError, match="TinyShop-v0"):
        made.step(bad)


@pytest.mark.parametrize("action", ["", "buy now", "click[nothing here]", "click[search]",
                                    "Click[buy now]", "click[b0mug00004]", "click[< prev]",
                                    "search[]", "jump[ceramic]"])
def test_unavailable_or_unparseable_actions_are_noops(action):
    env = shop()
    obs0, info0 = env.reset(seed=0, options={"goal_idx": 0})
    obs, reward, terminated, truncated, info = env.step(action)
    assert (obs, reward, terminated, truncated) == (obs0, 0.0, False, False)
    assert info["invalid"] is True
    assert info["page"] == "search"
    assert info["available_actions"] == info0["available_actions"]


def test_page_flow():
    env = shop()
    env.reset(seed=0, options={"goal_idx": 0})
    steps = {}

    def go(action, page):
        obs, _, _, _, info = env.step(action)
        assert info["invalid"] is False, action
        assert info["page"] == page, action
        steps[action] = (obs, info)
        return obs, info

    obs, info = go("search[Ceramic COFFEE mug]", "results")
    assert "Page 1 (Total results: 23)" in obs
    assert env.page_state.keywords == "ceramic coffee mug"
    obs, _ = go("click[next >]", "results")
    assert "Page 2 (Total results: 23) [SEP] < Prev" in obs
    obs, info = go("click[B0MUG00014]", "item")  # case-insensitive label lookup
    assert info["asin"] == "B0MUG00014"
    _, info = go("click[white]", "item")
    assert info["options"] == {"color": "white"}
    obs, _ = go("click[features]", "item_sub")
    assert obs.endswith("< Prev [SEP] dishwasher safe ceramic [SEP] holds hot drinks")
    _, info = go("click[< prev]", "item")  # back to the item, options kept
    assert info["options"] == {"color": "white"}
    obs, info = go("click[< prev]", "results")  # back to the same results page
    assert "Page 2 (Total results: 23)" in obs
    assert info["options"] == {}
    _, info = go("click[b0mug00014]", "item")  # opening a product resets options
    assert info["options"] == {}
    go("click[< prev]", "results")
    go("click[< prev]", "results")
    assert env.page_state.page == 1
    obs, info = go("click[back to search]", "search")
    assert obs == env.reset(seed=0, options={"goal_idx": 0})[0]


def test_search_from_any_page_only_with_faithful_quirks():
    for faithful, valid in ((True, True), (False, False)):
        env = shop(faithful_quirks=faithful)
        env.reset(seed=0, options={"goal_idx": 0})
        env.step("search[ceramic coffee mug]")
        env.step("click[b0mug00004]")
        _, _, _, _, info = env.step("search[velvet sofa]")
        assert info["invalid"] is not valid
        assert info["page"] == ("results" if valid else "item")


def test_buy_flow_scores_and_terminates():
    env = shop(expose_goal=True)
    trajectory = run(env, BUY_GOAL_0, options={"goal_idx": 0})
    for _, reward, terminated, _, info in trajectory[1:-1]:
        assert (reward, terminated) == (0.0, False)
        assert "reward_info" not in info
    obs, reward, terminated, truncated, info = trajectory[-1]
    assert (reward, terminated, truncated) == (1.0, True, False)
    assert info["is_success"] is True
    assert info["exact"] is True
    assert info["reward_info"]["total"] == 1.0
    assert info["reward_info"]["r_option"] == 1.0
    assert info["reward_terms"] == {"purchase": 1.0}
    assert info["goal"]["asin"] == "B0MUG00004"
    assert info["page"] == "done"
    assert info["available_actions"] == {"has_search_bar": False, "clickables": []}
    assert obs.startswith("Thank you for shopping with us!")
    # The done page absorbs everything.
    for action in ("click[buy now]", "search[mug]"):
        obs2, reward, terminated, _, info = env.step(action)
        assert (obs2, reward, terminated, info["invalid"]) == (obs, 0.0, True, True)


def test_buying_a_sibling_or_without_options_scores_below_one():
    env = shop()
    *_, (_, reward, _, _, info) = run(env, ["search[ceramic coffee mug]", "click[b0mug00008]",
                                            "click[navy blue]", "click[15 oz]",
                                            "click[buy now]"], options={"goal_idx": 0})
    assert info["exact"] is False
    assert reward == 1.0  # mug 8 also matches every goal term: any match scores 1
    *_, (_, _, _, _, info), (_, reward, _, _, _) = run(
        env, ["search[ceramic coffee mug]", "click[b0mug00006]", "click[navy blue]",
              "click[15 oz]", "click[buy now]"], options={"goal_idx": 0})
    assert info["invalid"] is True  # mug 6 comes in 11 oz only
    assert reward == 0.75
    *_, (_, reward, _, _, info) = run(env, ["search[ceramic coffee mug]", "click[b0mug00005]",
                                            "click[buy now]"], options={"goal_idx": 0})
    # hand-wash mug 5, no options chosen: type 1, price ok only -> 1/4
    assert reward == 0.25
    assert info["is_success"] is False
    assert info["reward_info"]["r_att"] == 0.0


def test_option_match_setting_reaches_the_reward():
    shirt = dataclasses.replace(tiny_world.mug(2), options={"size": ("large", "x-large")})
    goal = tiny_world.goal_for(shirt, ("ceramic",), (("size", "large"),), 1e6)
    rewards = []
    for option_match in ("value", "tuple"):
        env = WebShopTextEnv(catalogue=Catalogue([shirt]), goals=[goal],
                             search=lambda query, k: [0], option_match=option_match)
        *_, last = run(env, ["search[shirt]", f"click[{shirt.asin}]", "click[x-large]",
                             "click[buy now]"])
        rewards.append(last[1])
    assert rewards == [1.0, 2 / 3]  # "large" vs "x-large": token subset, or "size large" (83)


# ---- observations ----

@pytest.mark.parametrize("mode", MODES)
def test_same_seed_and_actions_give_identical_observations(mode):
    actions = ["search[ceramic coffee mug]", "click[next >]", "click[b0mug00012]",
               "click[white]", "click[reviews]", "click[< prev]", "nonsense", "click[buy now]"]
    first = run(shop(observation_mode=mode), actions, seed=7)
    second = run(shop(observation_mode=mode), actions, seed=7)
    obs = [step[0] for step in first]
    assert obs == [step[0] for step in second]
    assert [step[1:] for step in first[1:]] == [step[1:] for step in second[1:]]
    assert len(set(obs)) >= 6
    assert all(set(o) <= set(string.printable) for o in obs)


def test_observation_modes_render_the_same_page():
    pages_seen = {}
    for mode in MODES:
        env = shop(observation_mode=mode)
        *_, last = run(env, BUY_GOAL_0[:3], options={"goal_idx": 0})
        pages_seen[mode] = last[0]
    assert "color [SEP] black [SEP] navy blue" in pages_seen["text"]
    assert "  [clicked button] navy blue [clicked button_]" in pages_seen["text_rich"]
    assert pages_seen["text_rich"].startswith("You have clicked navy blue.")
    assert '<div id="instruction-text">' in pages_seen["html"]
    assert pages_seen["url"].startswith("http://127.0.0.1:3000/item_page/train-0/B0MUG00004/")


def test_history_prepends_previous_pages_and_actions_oldest_first():
    plain = run(shop(), BUY_GOAL_0[:3], options={"goal_idx": 0})
    pages_ = [step[0] for step in plain]
    env = shop(num_prev_obs=2, num_prev_actions=1)
    history = run(env, BUY_GOAL_0[:3], options={"goal_idx": 0})
    assert history[0][0] == pages_[0]  # reset shows the page alone, as upstream
    assert history[1][0] == f"{pages_[0]} [SEP] {BUY_GOAL_0[0]} [SEP] {pages_[1]}"
    assert history[3][0] == (f"{pages_[1]} [SEP] {pages_[2]} [SEP] {BUY_GOAL_0[2]} [SEP] "
                             f"{pages_[3]}")
    env = shop(num_prev_obs=0, num_prev_actions=2)
    history = run(env, BUY_GOAL_0[:3], options={"goal_idx": 0})
    assert history[3][0] == f"{BUY_GOAL_0[1]} [SEP] {BUY_GOAL_0[2]} [SEP] {pages_[3]}"
    # bounded: twenty more steps still show exactly two actions
    for _ in range(20):
        obs = env.step("click[features]")[0]
        obs = env.step("click[< prev]")[0]
    assert obs.startswith("click[features] [SEP] click[< prev] [SEP] Instruction:")
    assert obs.count("click[") == 2


def test_history_is_clipped_to_the_observation_space():
    env = shop(num_prev_obs=3, num_prev_actions=3)
    env.reset(seed=0, options={"goal_idx": 0})
    long_action = "x" * 30000
    for _ in range(3):
        obs = env.step(long_action)[0]
    assert len(obs) == 65536
    assert env.observation_space.contains(obs)
    assert obs.endswith("[SEP] Search")


def test_render_ansi_returns_the_text_page():
    env = shop(render_mode="ansi", observation_mode="html")
    env.reset(seed=0, options={"goal_idx": 0})
    assert env.render() == "WebShop [SEP] Instruction: [SEP] " + tiny_world.goals()[0] \
        .instruction_text + " [SEP] Search"
    with pytest.warns(UserWarning, match="render_mode"):
        assert shop().render() is None


def test_pickled_env_continues_identically():
    env = gym.make(TEST_ID, observation_mode="text_rich", num_prev_obs=1)
    env.reset(seed=3)
    for action in BUY_GOAL_0[:2]:
        env.step(action)
    clone = pickle.loads(pickle.dumps(env))
    for action in ["click[white]", "click[description]", "click[< prev]", "click[buy now]"]:
        assert clone.step(action) == env.step(action)


def test_info_is_fresh_every_step():
    env = shop()
    _, first = env.reset(seed=0)
    _, _, _, _, second = env.step("nonsense")
    assert first == {**second, "invalid": False}
    second["available_actions"]["clickables"].append("hack")
    second["options"]["color"] = "hack"
    third = env.step("nonsense")[4]
    assert third["available_actions"] == first["available_actions"]
    assert third["options"] == {}


# ---- the default generated world ----

def test_default_world_passes_checker_and_pickles_as_seeds():
    env = WebShopTextEnv()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env, skip_render_check=True)
    env.reset(seed=5)
    env.step("search[easy to clean]")
    blob = pickle.dumps(env)
    assert len(blob) < 50_000  # the catalogue and index are rebuilt from seeds, not shipped
    clone = pickle.loads(blob)
    assert clone.catalogue is env.catalogue  # one cached world per process
    for action in ["click[next >]", "click[< prev]", "search[gluten free snack]"]:
        assert clone.step(action) == env.step(action)


def test_generated_world_follows_its_settings():
    def first(**kwargs):
        env = WebShopTextEnv(n_products=300, **kwargs)
        _, info = env.reset(seed=0, options={"goal_idx": 0})
        return len(env.catalogue), env.catalogue.products[0].asin, info["instruction"]

    base = first(catalogue_seed=1)
    assert base[0] == 300
    assert first(catalogue_seed=1) == base
    assert first(catalogue_seed=2)[1] != base[1]
    assert first(catalogue_seed=1, goal_seed=5)[1:] != base[1:]
    assert first(catalogue_seed=1, goal_seed=5)[1] == base[1]
    synthetic = first(catalogue_seed=1, goal_style="synthetic")[2]
    human = first(catalogue_seed=1, goal_style="human")[2]
    assert synthetic.startswith("Find me")
    assert not human.startswith("Find me")


def test_config_split_and_show_attrs():
    env = shop(split="test", show_attrs=True)
    _, info = env.reset(seed=0)
    assert info["split"] == "test"
    env.reset(seed=0, options={"goal_idx": 0})
    env.step("search[ceramic coffee mug]")
    _, _, _, _, info = env.step("click[b0mug00004]")
    assert "attributes" in info["available_actions"]["clickables"]
    obs, _, _, _, info = env.step("click[attributes]")
    assert info["page"] == "item_sub"
    assert obs.endswith("dishwasher safe [SEP] ceramic [SEP] garden [SEP] mugs [SEP] Home & "
                        "Kitchen > Kitchen & Dining > Mugs")
    env = shop()
    env.reset(seed=0, options={"goal_idx": 0})
    env.step("search[ceramic coffee mug]")
    _, _, _, _, info = env.step("click[b0mug00004]")
    assert "attributes" not in info["available_actions"]["clickables"]
    assert env.step("click[attributes]")[4]["invalid"] is True


_HASH_SCRIPT = """
import hashlib
from rewardgym.envs.shopping.env import WebShopTextEnv
from rewardgym.envs.shopping.oracle import first_result_action, oracle_action
env = WebShopTextEnv(observation_mode="text_rich", num_prev_actions=1)
digest = hashlib.sha256()
obs, info = env.reset(seed=123)
for episode in range(6):
    for _ in range(20):
        action = oracle_action(env) if episode % 2 else first_result_action(info)
        obs, reward, terminated, _, info = env.step(action)
        digest.update(obs.encode() + repr(reward).encode())
        if terminated:
            break
    obs, info = env.reset()
    digest.update(obs.encode())
print(digest.hexdigest())
"""


def test_byte_identical_across_processes_and_hash_seeds():
    import os
    import subprocess
    import sys

    digests = set()
    for hash_seed in ("0", "1"):
        run_env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run([sys.executable, "-c", _HASH_SCRIPT], env=run_env, check=True,
                             capture_output=True, text=True, timeout=120)
        digests.add(out.stdout.strip())
    assert len(digests) == 1
