"""The single-env A/B benchmark runs a real worker per tree and prints one row per case."""

from __future__ import annotations

import re
import sys

import pytest

from rewardgym.benchmarks import single_step_ab


def test_one_tree_one_round_prints_a_positive_median(capsys):
    # Two "trees" on the same interpreter: the change column compares a tree with itself.
    case = "DoorKey-8x8 unwrapped"
    single_step_ab.main(["--tree", f"a={sys.executable}", "--tree", f"b={sys.executable}",
                         "--rounds", "2", "--cases", case, "--steps", "400"])
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith(f"| {case} |"))
    medians = [float(m) for m in re.findall(r"\| ([0-9.]+) \[", row)]
    assert len(medians) == 2
    assert all(m > 0.0 for m in medians)
    assert re.search(r"\| [+-][0-9.]+% \|$", row)


def test_an_unknown_case_is_a_one_line_error(capsys):
    with pytest.raises(SystemExit):
        single_step_ab.main(["--tree", f"a={sys.executable}", "--cases", "DoorKey-99x99"])
    assert "unknown case(s) ['DoorKey-99x99']" in capsys.readouterr().err
