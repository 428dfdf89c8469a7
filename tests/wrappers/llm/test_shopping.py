"""LLM reward machinery on the shopping env: view, prompt card, reward programs, ONI captions."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from rewardgym.envs.shopping.baselines import oracle_policy
from rewardgym.envs.shopping.discrete import WebShopDiscrete, WebShopDiscreteEnv
from rewardgym.envs.shopping.slots import NAV_LABELS
from rewardgym.envs.shopping.view import LAYOUT, SIZE
from rewardgym.wrappers.llm.backends import ScriptedBackend
from rewardgym.wrappers.llm.cards import CARDS, card_for
from rewardgym.wrappers.llm.oni import AnnotationService, ONIReward, shopping_captioner
from rewardgym.wrappers.llm.views import view_of
from rewardgym.wrappers.llm.wrapper import LLMReward, LLMRewardVector
from tests.envs.shopping import tiny_world

ENV = "rewardgym/WebShopDiscrete-v1"
KWARGS = {"n_products": 200, "bow_dim": 16}

# Paid for moving the view score up, and for the purchase itself.
PROGRAM = '''
def compute_reward(obs, action, next_obs):
    progress = next_obs.view_score - obs.view_score
    bought = next_obs.purchase_score * next_obs.on_done * (1 - obs.on_done)
    return progress + bought, {"progress": progress, "bought": bought}
'''


def tiny_discrete(**kwargs) -> WebShopDiscreteEnv:
    cat = tiny_world.catalogue()
    return WebShopDiscreteEnv(catalogue=cat, goals=tiny_world.goals(),
                              search=tiny_world.OverlapSearch(cat), bow_dim=16, **kwargs)


def test_the_slot_env_has_the_shopping_view_single_and_vector():
    env = gym.make(ENV, **KWARGS)
    env.reset(seed=0)
    view = view_of(env)
    assert (view.family, view.size, view.discrete_actions) == ("shopping", SIZE, True)
    assert view.names == LAYOUT.names
    assert view["view_score"].scalar
    assert view.rows(env).shape == (1, SIZE)
    envs = gym.make_vec(ENV, 3, **KWARGS)
    envs.reset(seed=0)
    assert view_of(envs).rows(envs).shape == (3, SIZE)
    # The slot wrapper over a text shop takes slots too; the bare text shop does not.
    wrapped = WebShopDiscrete(tiny_world.env(), bow_dim=16)
    wrapped.reset(seed=0)
    assert view_of(wrapped).family == "shopping"
    with pytest.raises(ValueError, match="WebShopDiscrete-v1"):
        view_of(gym.make("rewardgym/WebShopText-v1", n_products=200))


def test_single_env_copy_replays_the_same_shop():
    env = gym.make(ENV, **KWARGS)
    env.reset(seed=3)
    env.step(0)
    view = view_of(env)
    copy = view.single_env(env)
    assert copy is not env
    a, _ = env.reset(seed=11)
    b, _ = copy.reset(seed=11)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(view.rows(env), view.rows(copy))
    assert view.rows(copy)[0, LAYOUT["max_steps"].start] == 15.0  # the time limit came along
    envs = gym.make_vec(ENV, 2, **KWARGS)
    first = view.single_env(envs)
    assert isinstance(first.unwrapped, WebShopDiscreteEnv)


def test_card_matches_the_live_slot_env():
    card = card_for(ENV)
    env = gym.make(ENV, **KWARGS)
    _, info = env.reset(seed=0, options={"goal_idx": 0})
    base = env.unwrapped
    assert card.family == view_of(env).family == "shopping"
    assert len(card.actions) == env.action_space.n == base.view.n_slots
    text = card.render(env)
    assert view_of(env).describe() in text
    assert f"Discrete({env.action_space.n})" in text
    assert "Episodes are cut after 15 steps" in text
    # Slot by slot, the card names what the live env's slots do.
    for slot in range(base.view.nav_start):
        assert card.actions[slot].startswith("search")
        assert base.action_text(slot).startswith("search[")
    for j, label in enumerate(NAV_LABELS):
        assert card.actions[base.view.nav_start + j] == f"click the '{label}' button"
        assert base.action_text(base.view.nav_start + j) == f"click[{label}]"
    rng = np.random.default_rng(0)
    obs = None
    kinds = set()
    for _ in range(6):  # the oracle's route: search, product, options, buy
        mask = base.action_masks()
        for slot in np.flatnonzero(mask):
            described = card.actions[slot]
            if base.view.product_start <= slot < base.view.option_start:
                kinds.add("product")
                assert described.startswith("open product")
            elif slot >= base.view.option_start:
                kinds.add("option")
                assert described.startswith("choose value")
        obs, _, terminated, _, info = env.step(oracle_policy(env, obs, info, rng))
        if terminated:
            break
    assert kinds == {"product", "option"}
    # Versioned and hashed: the version enters the hash; the hash is a pure function of the env.
    assert card.hash(env) == card.hash(gym.make(ENV, **KWARGS))
    bumped = card.__class__(**{**card.__dict__, "version": card.version + 1})
    assert bumped.hash(env) != card.hash(env)
    assert ENV in CARDS


def test_a_program_over_the_shopping_view_pays_the_oracle(tmp_path):
    env = LLMReward(gym.make(ENV, **KWARGS), PROGRAM, n_states=32)
    assert env.report.ok, env.report
    obs, info = env.reset(seed=0)
    rng = np.random.default_rng(0)
    total = 0.0
    for _ in range(15):
        obs, reward, terminated, truncated, info = env.step(
            oracle_policy(env, obs, info, rng))
        assert reward == pytest.approx(sum(info["reward_terms"].values()), abs=1e-12)
        total += reward
        if terminated or truncated:
            break
    assert terminated
    assert info["base_reward"] == 1.0
    # Telescoping progress ends at 0 (the score vanishes once bought); the purchase pays 1.
    assert total == pytest.approx(1.0, abs=1e-9)


def test_a_program_over_the_shopping_vector_env():
    envs = LLMRewardVector(gym.make_vec(ENV, 2, **KWARGS), PROGRAM, n_states=32)
    envs.reset(seed=0)
    for _ in range(5):
        _, rewards, *_, infos = envs.step(envs.action_space.sample())
        assert rewards.shape == (2,)
        np.testing.assert_allclose(
            rewards, infos["reward_terms"]["progress"] + infos["reward_terms"]["bought"])


def _captions(route: list[int | str], goal_idx: int) -> list[str]:
    """Captions of ``route`` (slots or text actions), then the oracle's actions to the end."""
    env = gym.wrappers.TimeLimit(tiny_discrete(), 40)
    view = view_of(env)
    caption = shopping_captioner(view)
    obs, info = env.reset(seed=0, options={"goal_idx": goal_idx})
    base = env.unwrapped
    rng = np.random.default_rng(0)
    before = view.rows(env)[0]
    out = []
    actions = list(route)
    for _ in range(40):
        if actions:
            action = actions.pop(0)
            slot = action if isinstance(action, int) else base.slot_of(action)
        else:
            slot = oracle_policy(env, obs, info, rng)
        obs, _, terminated, _, info = env.step(slot)
        after = view.rows(env)[0]
        out.append(caption(before, after))
        before = after
        if terminated:
            break
    return out


def test_shopping_captions_name_the_page_events():
    # Slot 2 searches "dishwasher safe mugs": even mugs only, 12 hits, the target (mug 4) on
    # page 1; mug 2 is a dishwasher-safe sibling.
    detour = [2, "click[b0mug00002]", "click[description]", "click[< prev]", "click[< prev]",
              "click[b0mug00004]", "click[black]", "click[back to search]"]
    captions = _captions(detour, goal_idx=0)
    assert captions[:8] == [
        "searched and the results list the wanted product",
        "opened a product of the wanted type with the wanted attributes",
        "read a product detail page",
        "",  # back from the detail page to the item page
        "went back to the results",
        "opened the wanted product",
        "chose an option the goal does not ask for",
        "went back to search",
    ]
    assert "chose an option the goal asks for" in captions
    assert captions[-1] == "bought a product that matches the goal"
    turns = _captions([2, "click[next >]", "click[< prev]"], goal_idx=0)
    assert turns[:3] == ["searched and the results list the wanted product",
                         "went to the next results page", "went back a results page"]


def test_shopping_captions_of_misses_and_poor_purchases():
    view = view_of(gym.make(ENV, **KWARGS))
    caption = shopping_captioner(view)

    def row(**values: float) -> np.ndarray:
        out = np.zeros(view.size)
        for name, value in values.items():
            out[view[name].start] = value
        return out

    search = row(on_search=1.0)
    assert caption(search, row(on_results=1.0)) == \
        "searched and the results miss the wanted product"
    results = row(on_results=1.0, results_page=1.0)
    assert caption(results, row(on_item=1.0, type_match=0.1)) == "opened an unrelated product"
    assert caption(results, row(on_item=1.0, type_match=1.0)) == \
        "opened a product of the wanted type"
    item = row(on_item=1.0, option_matches=1.0, options_chosen=1.0)
    assert caption(item, row(on_item=1.0, option_matches=0.0, options_chosen=1.0)) == \
        "replaced a wanted option with an unwanted one"
    assert caption(item, row(on_done=1.0, purchase_score=0.75)) == \
        "bought a product that partly matches the goal"
    assert caption(item, row(on_done=1.0, purchase_score=0.25)) == \
        "bought a product that does not match the goal"
    assert caption(item, item) == ""


def test_oni_runs_on_the_shopping_env():
    service = AnnotationService(ScriptedBackend(lambda m, i: "1: YES"), card_for(ENV).task)
    env = ONIReward(gym.make(ENV, **KWARGS), service, c_int=0.5)
    obs, info = env.reset(seed=0)
    rng = np.random.default_rng(0)
    info = env.step(oracle_policy(env, obs, info, rng))[-1]
    assert info["caption"].startswith("searched and the results")
    assert service.wait(timeout=10.0)
    assert service.labels() == {info["caption"]: 1.0}
    service.close()


def test_same_step_pays_what_per_env_wrappers_pay_through_the_sb3_adapter():
    # SAME_STEP shop vector env under LLMRewardVector, seen through VectorEnvToSB3, equals one
    # LLMReward per shop; the oracle buys, so episodes end (terminated) and are paid on the
    # page they ended on (the purchase), not on the reset page.
    import pickle

    from gymnasium.vector import AutoresetMode

    from rewardgym.agents.sb3_adapter import VectorEnvToSB3

    n, seed = 2, 5
    vec = LLMRewardVector(gym.make_vec(ENV, n, vectorization_mode="vector_entry_point",
                                       autoreset_mode=AutoresetMode.SAME_STEP, **KWARGS),
                          PROGRAM, n_states=32)
    sb3 = VectorEnvToSB3(vec)
    sb3.seed(seed)
    sb3.reset()
    singles = [LLMReward(gym.make(ENV, **KWARGS), PROGRAM, n_states=32) for _ in range(n)]
    obs_info = [s.reset(seed=seed + i) for i, s in enumerate(singles)]
    rng = np.random.default_rng(0)
    ended = 0
    for _ in range(20):
        actions = np.array([oracle_policy(s, o, info, rng)
                            for s, (o, info) in zip(singles, obs_info, strict=True)])
        expected, ends = [], []
        for i, s in enumerate(singles):
            o, r, term, trunc, info = s.step(int(actions[i]))
            expected.append(r)
            ends.append(term or trunc)
            obs_info[i] = s.reset() if term or trunc else (o, info)
        sb3.step_async(actions)
        _, rewards, dones, infos = sb3.step_wait()
        # SB3 sees float32: the per-env rewards rounded once.
        np.testing.assert_array_equal(rewards, np.asarray(expected, dtype=np.float32))
        assert dones.tolist() == ends
        for i in np.flatnonzero(dones):
            assert infos[i]["reward_terms"]["bought"] > 0  # paid on the purchase page
            ended += 1
    assert ended >= 4
    assert "ended_infos" not in vars(vec.env.unwrapped._core)  # the step's hook is gone
    pickle.dumps(vec.env)
