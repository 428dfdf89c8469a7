"""The registry: every rewardgym environment, as one table of data.

Each row becomes ``gymnasium.register(id, entry_point, vector_entry_point, kwargs, ...)``. Ids are
``rewardgym/<Name>-v<N>``; bump ``N`` on any change that can change results. Variants are rows with
plain-scalar ``kwargs`` so every spec stays JSON-serialisable (``EnvSpec.to_json``).

The grid tasks count MiniGrid's ``max_steps`` inside the env (their success reward depends on it),
so their rows carry no ``max_episode_steps``; passing one to ``gym.make``/``make_vec`` adds a
further time limit on top, in both the single and the native vector env.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import gymnasium as gym

if TYPE_CHECKING:
    from pettingzoo import ParallelEnv

NAMESPACE = "rewardgym"


@dataclass(frozen=True)
class EnvRow:
    """One registry row: a name, its entry points, and its keyword arguments."""

    name: str
    entry_point: str
    vector_entry_point: str | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    max_episode_steps: int | None = None
    reward_threshold: float | None = None
    version: int = 0

    @property
    def env_id(self) -> str:
        """The full Gymnasium id, e.g. ``rewardgym/DoorKey-8x8-v0``."""
        return f"{NAMESPACE}/{self.name}-v{self.version}"


_GRID = "rewardgym.envs.grid:GridEnv"
_DRIVE = "rewardgym.envs.driving:RouteDriveEnv"
_DRIVE_VEC = "rewardgym.envs.driving:RouteDriveVectorEnv"
_GRID_VEC = "rewardgym.envs.grid:GridVectorEnv"


def _grid(name: str, **kwargs: Any) -> EnvRow:
    return EnvRow(name=name, entry_point=_GRID, vector_entry_point=_GRID_VEC, kwargs=kwargs)


_LOCO = "rewardgym.envs.locomotion:LocomotionEnv"
_LOCO_VEC = "rewardgym.envs.locomotion:LocomotionVectorEnv"


def _loco(name: str, max_episode_steps: int, version: int = 0, **kwargs: Any) -> EnvRow:
    return EnvRow(name=name, entry_point=_LOCO, vector_entry_point=_LOCO_VEC, kwargs=kwargs,
                  max_episode_steps=max_episode_steps, version=version)


ENV_TABLE: tuple[EnvRow, ...] = (
    # Grid tasks after MiniGrid (envs/grid): sparse reward 1 - 0.9 * steps / max_steps.
    _grid("Empty-5x5", layout="empty", size=5),
    _grid("Empty-Random-5x5", layout="empty", size=5, random_start=True),
    _grid("Empty-6x6", layout="empty", size=6),
    _grid("Empty-Random-6x6", layout="empty", size=6, random_start=True),
    _grid("Empty-8x8", layout="empty", size=8),
    _grid("Empty-16x16", layout="empty", size=16),
    _grid("FourRooms", layout="four_rooms", size=19),
    _grid("DoorKey-5x5", layout="door_key", size=5),
    _grid("DoorKey-6x6", layout="door_key", size=6),
    _grid("DoorKey-8x8", layout="door_key", size=8),
    _grid("DoorKey-16x16", layout="door_key", size=16),
    _grid("KeyCorridorS3R1", layout="key_corridor", room_size=3, num_rows=1),
    _grid("KeyCorridorS3R2", layout="key_corridor", room_size=3, num_rows=2),
    _grid("KeyCorridorS3R3", layout="key_corridor", room_size=3, num_rows=3),
    _grid("KeyCorridorS4R3", layout="key_corridor", room_size=4, num_rows=3),
    _grid("KeyCorridorS5R3", layout="key_corridor", room_size=5, num_rows=3),
    _grid("KeyCorridorS6R3", layout="key_corridor", room_size=6, num_rows=3),
    _grid("MultiRoom-N2-S4", layout="multi_room", num_rooms=2, max_room_size=4),
    _grid("MultiRoom-N4-S5", layout="multi_room", num_rooms=4, max_room_size=5),
    _grid("MultiRoom-N6", layout="multi_room", num_rooms=6, max_room_size=10),
    _grid("LavaGapS5", layout="lava_gap", size=5),
    _grid("LavaGapS6", layout="lava_gap", size=6),
    _grid("LavaGapS7", layout="lava_gap", size=7),
    _grid("LavaCrossingS9N1", layout="crossing", size=9, num_crossings=1),
    _grid("LavaCrossingS9N2", layout="crossing", size=9, num_crossings=2),
    _grid("LavaCrossingS9N3", layout="crossing", size=9, num_crossings=3),
    _grid("LavaCrossingS11N5", layout="crossing", size=11, num_crossings=5),
    _grid("SimpleCrossingS9N1", layout="crossing", size=9, num_crossings=1, obstacle="wall"),
    _grid("SimpleCrossingS9N2", layout="crossing", size=9, num_crossings=2, obstacle="wall"),
    _grid("SimpleCrossingS9N3", layout="crossing", size=9, num_crossings=3, obstacle="wall"),
    _grid("SimpleCrossingS11N5", layout="crossing", size=11, num_crossings=5, obstacle="wall"),
    # Web shopping after WebShop (envs/shopping): text pages, search[...] and click[...] actions,
    # reward only on purchase. 15 steps is the LLM-agent convention.
    # v1: WebShop's COLOR_SET for option matching and its seed-233 goal split on real data.
    EnvRow(name="WebShopText", entry_point="rewardgym.envs.shopping.env:WebShopTextEnv",
           vector_entry_point="rewardgym.envs.shopping.vector_env:WebShopTextVectorEnv",
           max_episode_steps=15, version=1),
    # Its SB3 view: Discrete(64) slots with action_masks() and a numeric observation.
    EnvRow(name="WebShopDiscrete",
           entry_point="rewardgym.envs.shopping.discrete:WebShopDiscreteEnv",
           vector_entry_point="rewardgym.envs.shopping.vector_env:WebShopDiscreteVectorEnv",
           max_episode_steps=15, version=1),
    # CaRL-style route driving (envs/driving): route completion × soft infraction factors; the
    # time limit is the route's own (in the kernel), so the rows carry no max_episode_steps.
    # v1: reward and driving score matched to CaRL's code (comfort filters and holds, lane
    # centre, TTC, terminal penalty, Roach hazards, no route-timeout multiplier).
    EnvRow(name="RouteDrive", entry_point=_DRIVE, vector_entry_point=_DRIVE_VEC, version=1),
    EnvRow(name="RouteDrive-Discrete", entry_point=_DRIVE, vector_entry_point=_DRIVE_VEC,
           kwargs={"action_mode": "discrete"}, version=1),
    EnvRow(name="RouteDrive-BEV", entry_point=_DRIVE, vector_entry_point=_DRIVE_VEC,
           kwargs={"obs_mode": "bev"}, version=1),
    # MuJoCo locomotion behaviours (envs/locomotion) after Text2Reward and VLM-RM, on Gymnasium's
    # v5 models: dense reference rewards, reward_mode="sparse", info["is_success"] predicates.
    # v1 (HalfCheetah and Ant): reset qvel noise 0.1 * standard normal, as HalfCheetah-v5 and
    # Ant-v5 (v0 drew it uniform in +-0.1).
    _loco("HalfCheetahBackward", 1000, version=1, task="half_cheetah_backward"),
    _loco("HopperBackFlip", 300, task="hopper_back_flip", ctrl_cost_weight=1e-3),
    _loco("HopperFrontFlip", 300, task="hopper_front_flip", ctrl_cost_weight=1e-3),
    _loco("HopperJump", 300, task="hopper_jump", ctrl_cost_weight=1e-3),
    _loco("AntLieDown", 300, version=1, task="ant_lie_down", ctrl_cost_weight=0.05),
    # v2: the held pose must begin within 15 steps (0.75 s) of the reset. With zero torque the
    # ant settles into v1's pose by itself, its hold beginning at step 21 at the earliest (200
    # seeds); a policy that lies down starts it at steps 5-8. Success is decided by step 35.
    _loco("AntLieDown", 100, version=2, task="ant_lie_down", ctrl_cost_weight=0.05,
          lie_within=15),
    _loco("AntWaveLeg", 300, version=1, task="ant_wave_leg", ctrl_cost_weight=0.05),
    # Kneel held ~1 s (67 steps of 15 ms): held for 20 steps, 15% of random falls count.
    _loco("HumanoidKneel", 300, task="humanoid_kneel", fall_height=0.35, hold_steps=67),
    _loco("AntGoal", 300, version=1, task="ant_goal"),
)


def registered_ids() -> list[str]:
    """Return every rewardgym id, in table order."""
    return [row.env_id for row in ENV_TABLE]


def register_envs() -> None:
    """Register every row of :data:`ENV_TABLE` with Gymnasium (idempotent)."""
    for row in ENV_TABLE:
        if row.env_id in gym.registry:
            continue
        gym.register(
            id=row.env_id,
            entry_point=row.entry_point,
            vector_entry_point=row.vector_entry_point,
            kwargs=dict(row.kwargs),
            max_episode_steps=row.max_episode_steps,
            reward_threshold=row.reward_threshold,
        )
    register_parallel_envs()


# Multi-agent envs: id -> "module:factory" of a function returning a ``pettingzoo.ParallelEnv``;
# the module also has PettingZoo's ``env``/``raw_env`` (the AEC forms). Each id is registered in
# PettingZoo's own registries (``pettingzoo.register``, PettingZoo >= 1.27), so
# ``pettingzoo.make("parallel", id)`` and ``pettingzoo.make("aec", id)`` build it.
PARALLEL_ENVS: dict[str, str] = {
    f"{NAMESPACE}/RouteDriveIntersection-v1":
        "rewardgym.envs.driving.routedrive_intersection_v1:parallel_env",
}


def register_parallel_envs() -> None:
    """Register every id of :data:`PARALLEL_ENVS` with PettingZoo, parallel and AEC (idempotent).

    Example:
        >>> import pettingzoo, rewardgym
        >>> env = pettingzoo.make("parallel", "rewardgym/RouteDriveIntersection-v1", num_egos=2)
        >>> env.possible_agents
        ['car_0', 'car_1']
    """
    import pettingzoo

    for env_id, entry_point in PARALLEL_ENVS.items():
        module = entry_point.split(":")[0]
        if env_id not in pettingzoo.parallel_registry:
            pettingzoo.register("parallel", env_id, entry_point)
        if env_id not in pettingzoo.aec_registry:
            pettingzoo.register("aec", env_id, f"{module}:env")


def make_parallel(env_id: str, **kwargs: Any) -> ParallelEnv:
    """Build the PettingZoo ``ParallelEnv`` registered as ``env_id``.

    The same as ``pettingzoo.make("parallel", env_id, **kwargs)`` for the ids of
    :data:`PARALLEL_ENVS`, with an error that lists them.

    Example:
        >>> env = make_parallel("rewardgym/RouteDriveIntersection-v1", num_egos=2)
        >>> env.possible_agents
        ['car_0', 'car_1']

    Raises:
        ValueError: for an unknown id, listing the known ones.
    """
    if env_id not in PARALLEL_ENVS:
        raise ValueError(f"make_parallel: unknown env_id {env_id!r}; known ids: "
                         f"{sorted(PARALLEL_ENVS)}")
    import pettingzoo

    return pettingzoo.make("parallel", env_id, **kwargs)


__all__ = ["ENV_TABLE", "NAMESPACE", "PARALLEL_ENVS", "EnvRow", "make_parallel",
           "register_envs", "register_parallel_envs", "registered_ids"]
