"""Our layout generators draw the same distributions of mazes as MiniGrid's own generators.

The lockstep test copies MiniGrid's start states, so it never looks at our generators. Here each
family's generator (reset with seeds 10**6 + s) and MiniGrid's (reset with seeds s) each draw
``N`` layouts, and every statistic below must be indistinguishable between the two samples:

* the content (object, colour, state) of every cell: walls, doors, keys, balls, goals, lava;
* the agent's x, y, (x, y) and direction;
* the count of each object type (room sizes and counts show up in the wall and door counts);
* the (x, y) of each single object (goal, key, ball), the door colours (sorted), the agent's
  Manhattan distance to each object;
* joint layout choices: the set of river rows and columns (crossing), the wall column and door
  row (door key), the bounding box of the walls (multi room).

Each statistic gets Pearson's chi-square test of homogeneity on the 2 x K table of counts (K
categories; the rarest are pooled until every column holds at least 10 draws, so no expected
count is below 5), and a support test: a value drawn ``c`` times in one sample and never in the
other has probability ``2**(1 - c)`` under equal distributions. All p-values of a family meet one
Bonferroni threshold, 0.001 / (number of tests). Seeds are fixed, so the outcome is deterministic.
A MiniGrid generator with a one-off door range, and MiniGrid's legacy MultiRoom-N4-S5-v0 (six
rooms), must both fail the same test: the statistics have the power to see a small change.
"""

import collections
from collections.abc import Callable

import gymnasium as gym
import minigrid  # noqa: F401  (registers MiniGrid ids)
import numpy as np
import pytest
import torch
from minigrid.core.world_object import Door, Wall
from minigrid.envs import DoorKeyEnv

import rewardgym  # noqa: F401
from rewardgym.envs.grid import constants as c

N = 2000  # layouts per sample
ALPHA = 1e-3  # family-wise significance (Bonferroni over all of a family's tests)
MIN_BIN = 10
OUR_SEED0 = 10**6

# MiniGrid id -> our id, one per family (MiniGrid's MultiRoom-N4-S5-v0 is a legacy 6-room id).
FAMILIES = {
    "MiniGrid-Empty-Random-6x6-v0": "rewardgym/Empty-Random-6x6-v0",
    "MiniGrid-FourRooms-v0": "rewardgym/FourRooms-v0",
    "MiniGrid-DoorKey-8x8-v0": "rewardgym/DoorKey-8x8-v0",
    "MiniGrid-KeyCorridorS4R3-v0": "rewardgym/KeyCorridorS4R3-v0",
    "MiniGrid-MultiRoom-N4-S5-v1": "rewardgym/MultiRoom-N4-S5-v0",
    "MiniGrid-LavaGapS7-v0": "rewardgym/LavaGapS7-v0",
    "MiniGrid-LavaCrossingS9N2-v0": "rewardgym/LavaCrossingS9N2-v0",
}


def chi2_sf(statistic: float, dof: int) -> float:
    """P(X >= statistic) for X ~ chi-square(dof): the regularised upper incomplete gamma."""
    a = torch.tensor(dof / 2, dtype=torch.float64)
    return float(torch.special.gammaincc(a, torch.tensor(statistic / 2, dtype=torch.float64)))


def homogeneity_p(a: list, b: list) -> float:
    """Chi-square test that two samples of categories come from one distribution."""
    ca, cb = collections.Counter(a), collections.Counter(b)
    columns, pending = [], np.zeros(2)
    for value in sorted(set(ca) | set(cb), key=lambda v: (ca[v] + cb[v], repr(v))):
        pending += (ca[value], cb[value])
        if pending.sum() >= MIN_BIN:
            columns.append(pending)
            pending = np.zeros(2)
    if pending.sum() and columns:
        columns[-1] = columns[-1] + pending
    if len(columns) < 2:
        return 1.0
    table = np.array(columns).T
    expected = np.outer(table.sum(1), table.sum(0)) / table.sum()
    return chi2_sf(float(((table - expected) ** 2 / expected).sum()), table.shape[1] - 1)


def support_p(a: list, b: list) -> float:
    """Smallest p-value of "a value seen only in one sample" (2**(1 - c) for c sightings)."""
    ca, cb = collections.Counter(a), collections.Counter(b)
    only = [ca[v] + cb[v] for v in set(ca) ^ set(cb)]
    return min((2.0 ** (1 - count) for count in only), default=1.0)


def _objects(cells: np.ndarray, obj: int) -> list[tuple[int, int]]:
    return [(int(x), int(y)) for x, y in zip(*np.nonzero(cells[:, :, 0] == obj), strict=True)]


def statistics(cells: np.ndarray, agent: tuple[int, int, int]) -> dict[str, object]:
    """Every statistic of one layout (``cells``: MiniGrid's (width, height, 3) encoding)."""
    stats: dict[str, object] = {}
    width, height = cells.shape[:2]
    codes = cells[:, :, 0].astype(np.int64) * 10_000 + cells[:, :, 1] * 100 + cells[:, :, 2]
    for x in range(width):
        for y in range(height):
            stats[f"cell {x},{y}"] = int(codes[x, y])
    ax, ay, direction = agent
    stats |= {"agent x": ax, "agent y": ay, "agent xy": (ax, ay), "agent dir": direction}
    for obj in (c.WALL, c.DOOR, c.KEY, c.BALL, c.GOAL, c.LAVA):
        cells_of = _objects(cells, obj)
        name = c.OBJECT_NAMES[obj]
        stats[f"{name} count"] = len(cells_of)
        if len(cells_of) == 1 and obj != c.DOOR:
            (x, y), = cells_of
            stats[f"{name} xy"] = (x, y)
            stats[f"agent to {name}"] = abs(x - ax) + abs(y - ay)
    doors = _objects(cells, c.DOOR)
    stats["door colours"] = tuple(sorted(int(cells[x, y, 1]) for x, y in doors))
    stats["door states"] = tuple(sorted(int(cells[x, y, 2]) for x, y in doors))
    inner = cells[1:-1, 1:-1, 0]
    obstacle = (inner == c.LAVA) | (inner == c.WALL)
    stats["river columns"] = tuple(np.flatnonzero(obstacle.sum(1) >= inner.shape[1] - 1))
    stats["river rows"] = tuple(np.flatnonzero(obstacle.sum(0) >= inner.shape[0] - 1))
    if doors and len(doors) == 1:
        stats["door xy"] = doors[0]
    walls = np.argwhere(cells[:, :, 0] == c.WALL)
    stats["wall box"] = (*walls.min(0), *walls.max(0)) if len(walls) else ()
    return stats


def minigrid_sample(make: Callable[[], gym.Env], n: int) -> list[dict[str, object]]:
    env = make()
    out = []
    for seed in range(n):
        env.reset(seed=seed)
        agent = (int(env.agent_pos[0]), int(env.agent_pos[1]), int(env.agent_dir))
        out.append(statistics(env.grid.encode(), agent))
    return out


def our_sample(env_id: str, n: int) -> list[dict[str, object]]:
    env = gym.make(env_id).unwrapped
    out = []
    for seed in range(n):
        env.reset(seed=OUR_SEED0 + seed)
        out.append(statistics(env.grid_encoding, env.agent_state))
    return out


def failing_tests(ours: list[dict], theirs: list[dict]) -> tuple[list[str], int]:
    """The statistics whose chi-square or support test rejects at the family's threshold."""
    names = sorted(set().union(*ours, *theirs))
    threshold = ALPHA / (2 * len(names))  # two tests per statistic
    failed = []
    for name in names:
        a = [s.get(name) for s in ours]
        b = [s.get(name) for s in theirs]
        p_chi2, p_support = homogeneity_p(a, b), support_p(a, b)
        if min(p_chi2, p_support) < threshold:
            failed.append(f"{name}: chi-square p={p_chi2:.2g}, support p={p_support:.2g}")
    return failed, 2 * len(names)


_OURS: dict[str, list[dict]] = {}


def _ours(env_id: str) -> list[dict]:
    if env_id not in _OURS:
        _OURS[env_id] = our_sample(env_id, N)
    return _OURS[env_id]


@pytest.mark.slow
@pytest.mark.parametrize("minigrid_id", list(FAMILIES))
def test_layouts_are_distributed_as_minigrids(minigrid_id):
    theirs = minigrid_sample(lambda: gym.make(minigrid_id).unwrapped, N)
    failed, n_tests = failing_tests(_ours(FAMILIES[minigrid_id]), theirs)
    assert n_tests > 20
    assert not failed, f"{minigrid_id}: {failed}"


class _OffByOneDoorKey(DoorKeyEnv):
    """MiniGrid's DoorKey with the door row drawn from [1, h - 4] instead of [1, h - 3]."""

    def _gen_grid(self, width, height):
        super()._gen_grid(width, height)
        (x, y), = _objects(self.grid.encode(), c.DOOR)
        self.grid.set(x, y, Wall())
        self.grid.set(x, self._rand_int(1, width - 3), Door("yellow", is_locked=True))


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*MultiRoom-N4-S5-v0 is out of date")
@pytest.mark.parametrize(("make", "our_id"), [
    (lambda: _OffByOneDoorKey(size=8), "rewardgym/DoorKey-8x8-v0"),
    (lambda: gym.make("MiniGrid-MultiRoom-N4-S5-v0").unwrapped, "rewardgym/MultiRoom-N4-S5-v0"),
], ids=["door-row-off-by-one", "six-rooms-vs-four"])
def test_the_statistics_see_a_small_change(make, our_id):
    failed, _ = failing_tests(_ours(our_id), minigrid_sample(make, N))
    assert failed


def test_the_tests_accept_equal_and_reject_different_samples():
    rng = np.random.default_rng(0)
    same = homogeneity_p(list(rng.integers(0, 5, 4000)), list(rng.integers(0, 5, 4000)))
    shifted = homogeneity_p(list(rng.integers(0, 5, 4000)), list(rng.integers(1, 6, 4000)))
    assert same > 0.01
    assert shifted < 1e-12
    assert support_p([1] * 30 + [2], [1] * 31) == 1.0  # one stray sighting proves nothing
    assert support_p([1] * 10 + [2] * 20, [1] * 30) == 2.0 ** -19
    # The chi-square tail against known quantiles (df 1: 3.841 -> 0.05; df 10: 23.209 -> 0.01).
    assert chi2_sf(3.841458820694124, 1) == pytest.approx(0.05, rel=1e-9)
    assert chi2_sf(23.209251158954356, 10) == pytest.approx(0.01, rel=1e-9)
