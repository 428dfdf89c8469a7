"""`rewardgym llm-reward` against a loopback server, then replayed from its cassettes."""

import json

import pytest

from rewardgym.cli import main
from rewardgym.wrappers.llm.server import ChatServer, chat_reply

ENV = "rewardgym/DoorKey-5x5-v0"
GOOD = ("```python\ndef compute_reward(obs, action, next_obs):\n"
        "    key = 0.1 * (obs.dist_key - next_obs.dist_key)\n"
        "    return key, {\"key\": key}\n```")
EVIL = ("```python\nimport os\ndef compute_reward(obs, action, next_obs):\n"
        "    return 0, {'a': 0}\n```")


def test_generate_show_check_and_replay(tmp_path, capsys):
    replies = iter([[GOOD, EVIL], [GOOD]])  # the EVIL one is repaired on the second request
    with ChatServer(lambda body: chat_reply(next(replies)[: body["n"]], "m"),
                    model="m") as server:
        code = main(["llm-reward", "generate", ENV, "--base-url", server.base_url, "--model",
                     "m", "-k", "2", "--states", "32", "--out", str(tmp_path / "gen"),
                     "--record", str(tmp_path / "tapes"), "--max-repairs", "1"])
        assert len(server.requests) == 2
    out = capsys.readouterr().out
    assert code == 0
    assert "2/2 program(s) passed" in out
    assert str((tmp_path / "gen").resolve()) in out
    assert len(list((tmp_path / "gen" / "programs").glob("*.py"))) == 2
    manifest = json.loads((tmp_path / "gen" / "manifest.json").read_text())
    assert manifest["model"] == "m"
    assert len(manifest["card_hash"]) == 64

    assert main(["llm-reward", "show", str(tmp_path / "gen")]) == 0
    shown = capsys.readouterr().out
    assert "c0" in shown
    assert "c1" in shown

    assert main(["llm-reward", "generate", ENV, "--backend", "replay", "--cassettes",
                 str(tmp_path / "tapes"), "-k", "2", "--states", "32", "--out",
                 str(tmp_path / "again"), "--max-repairs", "1"]) == 0
    first = (tmp_path / "gen" / "programs" / "c1.py").read_text()
    assert (tmp_path / "again" / "programs" / "c1.py").read_text() == first

    bad = tmp_path / "bad.py"
    bad.write_text(EVIL)
    capsys.readouterr()
    assert main(["llm-reward", "check", ENV, str(bad), "--states", "16"]) == 1
    assert "[import]" in capsys.readouterr().out
    assert main(["llm-reward", "check", ENV, str(tmp_path / "gen" / "programs" / "c0.py"),
                 "--states", "16", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True


def test_replay_needs_cassettes():
    with pytest.raises(SystemExit, match="--cassettes"):
        main(["llm-reward", "generate", ENV, "--backend", "replay"])


@pytest.mark.slow
def test_refine_command_trains_and_selects(tmp_path, capsys):
    with ChatServer(lambda body: chat_reply([GOOD] * body["n"], "m"), model="m") as server:
        code = main(["llm-reward", "refine", ENV, "--base-url", server.base_url, "--model", "m",
                     "-k", "1", "--rounds", "1", "--timesteps", "512", "--states", "32",
                     "--out", str(tmp_path / "ref")])
    out = capsys.readouterr().out
    assert code == 0
    assert "best: r0a0c0" in out
    record = json.loads((tmp_path / "ref" / "candidates.jsonl").read_text().splitlines()[0])
    assert record["results"][0]["timesteps"] == 512
    assert 0.0 <= record["fitness"] <= 1.0 + 1e-6
