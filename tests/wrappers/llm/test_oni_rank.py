"""ONI-Ranking: the pairwise prompt and parser, the Bradley-Terry model, the wrapper's reward."""

import itertools
import json
import math
import re
import time

import gymnasium as gym
import numpy as np
import pytest

from rewardgym.wrappers.llm.backends import OpenAICompatBackend, ScriptedBackend
from rewardgym.wrappers.llm.oni import AnnotationService, ONIReward, ONIRewardVector
from rewardgym.wrappers.llm.oni_rank import (
    EPSILON,
    FIRST,
    SECOND,
    TIE,
    BradleyTerryRanker,
    RankingService,
    RunningMeanStd,
    clip_grad_norm,
    parse_rankings,
    rank_prompt,
)
from rewardgym.wrappers.llm.server import ChatServer, chat_reply
from tests.wrappers.llm.oni_helpers import NoRequests, scripted_captions, until

ENV = "rewardgym/DoorKey-5x5-v0"
PAIR_LINE = re.compile(r'^(\d+): first "(.*)" / second "(.*)"$', re.MULTILINE)


def rank_judge(body, delay=0.0):
    """The caption that mentions the key wins; neither or both: a tie."""
    answers = []
    for k, a, b in PAIR_LINE.findall(body["messages"][-1]["content"]):
        first, second = "key" in a, "key" in b
        answers.append(f"{k}: {FIRST if first > second else SECOND if second > first else TIE}")
    reply = chat_reply(["\n".join(answers)], "judge")
    reply.delay = delay
    return reply





def test_rank_prompt_states_goal_pairs_and_answer_forms():
    messages = rank_prompt("open the door", [("picked up the key", "closed the door"),
                                             ("reached the goal", "dropped the key")])
    user = messages[-1]["content"]
    assert "Goal: open the door" in user
    assert PAIR_LINE.findall(user) == [("1", "picked up the key", "closed the door"),
                                       ("2", "reached the goal", "dropped the key")]
    for form in ("<number>: FIRST", "<number>: SECOND", "<number>: TIE"):
        assert form in user
    assert "progress" in messages[0]["content"]


@pytest.mark.parametrize(("text", "expected"), [
    ("1: FIRST", {0: FIRST}),
    ("1: second", {0: SECOND}),
    ("1: Tie", {0: TIE}),
    ("1: 1", {0: FIRST}),
    ("1: 2", {0: SECOND}),
    ("1: none", {0: TIE}),
    ("1: neither", {0: TIE}),
    ("1: EQUAL", {0: TIE}),
    ("1: both", {0: TIE}),
    ("Pair 1: FIRST", {0: FIRST}),
    ("- 1. **SECOND**", {0: SECOND}),
    ('1) "the first"', {0: FIRST}),
    ("  2 - SECOND\n1: FIRST", {0: FIRST, 1: SECOND}),
    ("1: FIRST\n1: SECOND", {0: FIRST}),          # the first answer for an index counts
    ("3: FIRST\n0: SECOND", {}),                  # out of range
    ("1: firstly the key", {}),                   # not a whole word
    ("1: maybe", {}),
    ("The key is better than the door.", {}),     # garbage
    ("", {}),
])
def test_parse_rankings_every_answer_form(text, expected):
    assert parse_rankings(text, 2) == expected


def test_garbage_answer_is_a_tie_and_counted():
    service = RankingService(ScriptedBackend(lambda m, i: "I cannot decide."), "goal")
    service.submit(["a", "b", "c"])
    assert service.wait(timeout=10.0)
    pairs = service.pairs()
    assert len(pairs) == 3  # a-b, then c with both
    assert {p[2] for p in pairs} == {TIE}
    assert service.unparsed == 3
    assert {frozenset(p[:2]) for p in pairs} == {frozenset("ab"), frozenset("ac"),
                                                 frozenset("bc")}
    service.close()


def test_pairs_per_caption_and_failed_requests():
    service = RankingService(NoRequests(), "goal", pairs_per_caption=2, batch_size=64)
    service.submit([f"event {k}" for k in range(6)])
    assert service.wait(timeout=10.0)
    # 0 + 1 + 2 + 2 + 2 + 2 pairs asked, in one failed request: recorded, nothing stored,
    # and the pairs are free to be drawn again.
    assert service.requests == 1
    assert service.errors
    assert "AssertionError" in service.errors[0]
    assert service.pairs() == []
    assert service._asked == set()
    service.close()
    with pytest.raises(ValueError, match="pairs_per_caption"):
        RankingService(NoRequests(), "goal", pairs_per_caption=0)


def _truth_pairs(captions, rng):
    """Every pair of ``captions`` (best last), in random order, labelled by the true order."""
    pairs = []
    for i, j in itertools.combinations(range(len(captions)), 2):
        if rng.random() < 0.5:
            pairs.append((captions[i], captions[j], 0.0))  # the second (j > i) is better
        else:
            pairs.append((captions[j], captions[i], 1.0))
    return pairs


def test_bradley_terry_recovers_a_known_ordering():
    captions = ["fell into lava", "dropped the key", "closed the door", "picked up the key",
                "opened the door", "reached the goal"]
    model = BradleyTerryRanker(seed=0)
    pairs = _truth_pairs(captions, np.random.default_rng(1))
    before = model.loss(pairs)
    assert before == pytest.approx(math.log(2.0), abs=1e-12)  # all scores 0 at the start
    model.fit(pairs, steps=300)
    scores = [model.predict(c) for c in captions]
    assert np.all(np.diff(scores) > 0), scores
    assert model.loss(pairs) < 0.1 * before


def test_bradley_terry_minibatches_of_a_large_pair_set():
    # More pairs than batch_size: random minibatches still recover the order.
    captions = [f"reached room {k}" for k in range(12)]
    pairs = _truth_pairs(captions, np.random.default_rng(2)) * 3
    model = BradleyTerryRanker(batch_size=32, seed=0)
    model.fit(pairs, steps=400)
    scores = np.array([model.predict(c) for c in captions])
    # Spearman correlation with the true order (hashed n-grams of near-identical captions
    # collide a little, so demand a strong, not a perfect, ranking).
    ranks = np.argsort(np.argsort(scores))
    assert np.corrcoef(ranks, np.arange(12))[0, 1] > 0.9


def test_ties_pull_scores_together():
    a, b = "picked up the key", "closed the door"
    gaps = {}
    for name, pairs in (("win", [(a, b, 1.0)]), ("win+tie", [(a, b, 1.0), (b, a, 0.5)]),
                        ("tie", [(a, b, 0.5)])):
        model = BradleyTerryRanker(lr=0.01, seed=0)
        model.fit(pairs, steps=3000)
        gaps[name] = model.predict(a) - model.predict(b)
    assert gaps["tie"] == 0.0  # the gradient of a tie at equal scores is exactly zero
    # A win and a tie: mean target 3/4, so the optimum is sigmoid(gap) = 3/4, gap = log 3
    # (a convex problem; 3000 small Adam steps converge, the gradient vanishing there).
    assert gaps["win+tie"] == pytest.approx(math.log(3.0), abs=1e-3)
    assert gaps["win"] > gaps["win+tie"] + 1.0


def test_gradient_clipping():
    g = np.array([3.0, 4.0])
    np.testing.assert_allclose(clip_grad_norm(g, 1.0), [0.6, 0.8], rtol=1e-15)
    assert clip_grad_norm(g, 10.0) is g
    pairs = [("picked up the key", "closed the door", 1.0), ("opened the door",
                                                               "dropped the key", 0.5)]
    clipped, free = BradleyTerryRanker(max_grad_norm=1e-3), BradleyTerryRanker()
    clipped.fit(pairs, steps=20)
    free.fit(pairs, steps=20)
    assert not np.allclose(clipped.w, free.w)
    with pytest.raises(ValueError, match="max_grad_norm"):
        BradleyTerryRanker(max_grad_norm=0.0)


def test_running_mean_std():
    x = np.random.default_rng(0).normal(3.0, 2.0, 200)
    one, batch = RunningMeanStd(), RunningMeanStd()
    for v in x:
        one.add(float(v))
    batch.update(x[:50])
    batch.update(x[50:])
    # The parallel update is exact: one at a time == in batches (to rounding).
    assert one.mean == pytest.approx(batch.mean, rel=1e-12)
    assert one.var == pytest.approx(batch.var, rel=1e-10)
    # The prior (mean 0, var 1, count 1e-4) weighs 1e-4 / 200 against the data.
    assert one.mean == pytest.approx(x.mean(), rel=1e-5)
    assert one.var == pytest.approx(x.var(), rel=1e-5)
    assert one.normalise(one.mean + 2 * np.sqrt(one.var)) == pytest.approx(2.0, rel=1e-12)


PAIRS = {"pairs": [["picked up the key", "closed the door", FIRST],
                   ["opened the door", "picked up the key", SECOND],
                   ["closed the door", "opened the door", SECOND],
                   ["dropped the key", "closed the door", TIE]]}


def _expected(model, captions, epsilon, c_int, beta):
    """The intrinsic rewards, recomputed: running-normalised, thresholded, count-decayed."""
    stats, counts, out = RunningMeanStd(), {}, []
    for c in captions:
        raw = model.predict(c)
        stats.update(np.array([raw]))  # the batch formula; the wrapper uses add()
        z = stats.normalise(raw)
        counts[c] = counts.get(c, 0) + 1
        out.append(c_int * (z if z > epsilon else 0.0) / counts[c] ** beta)
    return out


@pytest.mark.parametrize("epsilon", [EPSILON, -10.0])
def test_wrapper_pays_the_normalised_thresholded_score(tmp_path, epsilon):
    path = tmp_path / "labels.pairs.json"
    path.write_text(json.dumps(PAIRS))
    service = RankingService(NoRequests(), "goal", path=path)  # every caption seen already
    captions = ["closed the door", "picked up the key", "dropped the key", "opened the door"] * 2
    env = ONIReward(gym.make(ENV), service, model="rank", c_int=0.5, beta=1.0, epsilon=epsilon,
                    train_steps=200, captioner=scripted_captions(captions))
    env.reset(seed=0)
    until(lambda: env._label.handle.current is not None)
    model = env._label.handle.current
    assert model.predict("picked up the key") > model.predict("opened the door") > \
        model.predict("closed the door")
    paid = []
    for _ in captions:
        _, reward, _, _, info = env.step(2)
        paid.append(info["reward_terms"]["intrinsic"])
        assert reward == pytest.approx(info["base_reward"] + paid[-1], abs=1e-12)
    assert env._label.handle.version == 1  # no retraining mid-run: the expectation holds
    np.testing.assert_allclose(paid, _expected(model, captions, epsilon, 0.5, 1.0), atol=1e-12)
    if epsilon == EPSILON:  # some z < -0.5 are cut to 0, the others paid
        assert 0.0 in paid
        assert any(p > 0 for p in paid)
    else:  # nothing is cut: negative z are paid
        assert 0.0 not in paid
        assert any(p < 0 for p in paid)
    service.close()


def test_rank_needs_a_ranking_service_and_pays_nothing_before_the_first_fit():
    with pytest.raises(ValueError, match="RankingService"):
        ONIReward(gym.make(ENV), AnnotationService(NoRequests(), "goal"), model="rank")
    service = RankingService(NoRequests(), "goal")
    env = ONIReward(gym.make(ENV), service, model="rank",
                    captioner=scripted_captions(["picked up the key"]))
    env.reset(seed=0)
    _, _, _, _, info = env.step(2)
    assert info["reward_terms"]["intrinsic"] == 0.0
    assert env._label.handle.current is None
    with pytest.raises(ValueError, match="epsilon"):
        ONIReward(gym.make(ENV), service, model="rank", epsilon=float("nan"))
    service.close()


def test_vector_twin_with_rank_and_a_slow_server(tmp_path):
    # The server takes 1.5 s per batch: step never waits; the pairs arrive, persist, and the
    # model learns the judge's order; the vector twin then pays the normalised score.
    path = tmp_path / "labels.pairs.json"
    captions = ["picked up the key", "closed the door", "opened the door", "dropped the key"]
    with ChatServer(lambda body: rank_judge(body, delay=1.5), model="judge") as server:
        backend = OpenAICompatBackend(server.base_url, "judge", max_retries=0)
        service = RankingService(backend, "pick up the key", path=path)
        envs = ONIRewardVector(gym.make_vec(ENV, 2, vectorization_mode="vector_entry_point"),
                               service, model="rank", c_int=1.0, beta=0.0, train_steps=200,
                               captioner=scripted_captions(captions))
        envs.reset(seed=0)
        worst = 0.0
        for _ in range(10):
            start = time.perf_counter()
            envs.step(np.array([1, 1]))
            worst = max(worst, time.perf_counter() - start)
        assert worst < 0.5
        assert service.wait(timeout=20.0)
        assert server.requests
    pairs = service.pairs()
    assert len(pairs) == 6  # every pair of the four captions, asked once
    for a, b, answer in pairs:
        assert answer == (FIRST if "key" in a and "key" not in b else
                          SECOND if "key" in b and "key" not in a else TIE)
    assert json.loads(path.read_text()) == {"pairs": [list(p) for p in pairs]}
    until(lambda: envs._label.handle.fitted_on == 6)
    model = envs._label.handle.published[0]  # fitted on all 6 (published with the count)
    assert min(model.predict(c) for c in captions if "key" in c) > \
        max(model.predict(c) for c in captions if "key" not in c)
    assert envs._label._rank.stats.count == pytest.approx(1e-4)  # nothing paid before the fit
    _, _, _, _, infos = envs.step(np.array([1, 1]))
    stepped = list(infos["caption"])
    assert all(stepped)
    np.testing.assert_allclose(infos["reward_terms"]["intrinsic"],
                               _expected(model, stepped, EPSILON, 1.0, 0.0), atol=1e-12)
    service.close()

    # Restart: the pairs load back, seen captions ask nothing, the model is fit again.
    again = RankingService(NoRequests(), "pick up the key", path=path)
    assert again.pairs() == pairs
    again.submit(captions)
    assert again._pending == 0
    handle = again.distil(BradleyTerryRanker(), steps=50)
    until(lambda: handle.current is not None)
    assert handle.fitted_on == 6
    again.close()


@pytest.mark.parametrize(("content", "what"), [
    ("{not json", "cannot read"),
    ('{"pairs": 3}', "must hold"),
    ("[1, 2]", "must hold"),
    ('{"pairs": [["a", "b", "MAYBE"]]}', "entry 0"),
    ('{"pairs": [["a", "b", "FIRST"], ["a", 1, "FIRST"]]}', "entry 1"),
    ('{"pairs": [["a", "b"]]}', "entry 0"),
])
def test_malformed_pairs_file_is_a_one_line_error(tmp_path, content, what):
    path = tmp_path / "p.pairs.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=what) as err:
        RankingService(NoRequests(), "goal", path=path)
    assert "\n" not in str(err.value)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("content", ["{not json", '{"a": 0.5}', '["a"]', '{"a": true}'])
def test_malformed_labels_file_is_a_one_line_error(tmp_path, content):
    path = tmp_path / "labels.json"
    path.write_text(content)
    with pytest.raises(ValueError, match="labels file") as err:
        AnnotationService(NoRequests(), "goal", path=path)
    assert "\n" not in str(err.value)


def test_oni_model_rank_from_environment(tmp_path, monkeypatch):
    from rewardgym.wrappers.llm import oni

    for key, value in (("LLM_BASE_URL", "http://127.0.0.1:9/v1"), ("LLM_MODEL", "judge"),
                       ("ONI_GOAL", "pick up the key"),
                       ("ONI_LABELS", str(tmp_path / "labels.json")), ("ONI_MODEL", "rank")):
        monkeypatch.setenv(key, value)
    try:
        env = oni.oni_from_environment(gym.make(ENV))
        assert env.model == "rank"
        assert isinstance(env.service, RankingService)
        assert env.service.path == tmp_path / "labels.pairs.json"
        envs = oni.oni_vector_from_environment(
            gym.make_vec(ENV, 2, vectorization_mode="vector_entry_point"))
        assert envs.service is env.service  # one service per process
    finally:
        for service in oni._SERVICES.values():
            service.close()
        oni._SERVICES.clear()


def test_pairs_are_asked_in_random_order():
    # Position bias of a judge must not become a score: the new caption is sometimes the
    # first of its pairs and sometimes the second.
    service = RankingService(ScriptedBackend(lambda m, i: ""), "goal", batch_size=64)
    names = [f"event {k}" for k in range(10)]
    service.submit(names)
    assert service.wait(timeout=10.0)
    pairs = service.pairs()
    assert len(pairs) == 0 + 1 + 2 + 3 + 4 * 6  # pairs_per_caption = 4
    newer_first = [names.index(a) > names.index(b) for a, b, _ in pairs]
    assert any(newer_first)
    assert not all(newer_first)
    service.close()


@pytest.mark.slow
def test_oni_model_rank_trains_through_the_sb3_adapter(tmp_path, monkeypatch):
    # ONI_MODEL=rank end to end: make_sb3_vec_env keeps the native vector env under one
    # ONIRewardVector, the built-in grid captions are paired and ranked by a loopback server,
    # and the pairs land next to the labels file.
    from rewardgym.agents.sb3_adapter import make_sb3_vec_env
    from rewardgym.wrappers.llm import oni

    grid_captions = {"reached the goal", "opened the door", "closed the door",
                     "picked up the key", "dropped the key", "picked up an object"}
    with ChatServer(rank_judge, model="judge") as server:
        for key, value in (("LLM_BASE_URL", server.base_url), ("LLM_MODEL", "judge"),
                           ("ONI_GOAL", "pick up the key"),
                           ("ONI_LABELS", str(tmp_path / "labels.json")), ("ONI_MODEL", "rank")):
            monkeypatch.setenv(key, value)
        try:
            venv = make_sb3_vec_env(ENV, 4, seed=0, env_kwargs={"obs_mode": "flat"},
                                    env_wrappers=[oni.oni_from_environment])
            venv.reset()
            rng = np.random.default_rng(0)
            service = next(iter(oni._SERVICES.values()))
            for _ in range(400):
                venv.step_async(rng.choice(7, 4, p=[0.2, 0.2, 0.3, 0.15, 0.05, 0.1, 0.0]))
                venv.step_wait()
                if len(service._pool) >= 2:
                    break
            assert service.wait(timeout=10.0)
            pairs = service.pairs()
            assert pairs
            assert {c for a, b, _ in pairs for c in (a, b)} <= grid_captions
            saved = json.loads((tmp_path / "labels.pairs.json").read_text())
            assert saved == {"pairs": [list(p) for p in pairs]}
            assert not (tmp_path / "labels.json").exists()
            venv.close()
        finally:
            for service in oni._SERVICES.values():
                service.close()
            oni._SERVICES.clear()
