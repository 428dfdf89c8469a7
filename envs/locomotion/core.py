"""The batch engine both shells drive: N ``MjData`` of one model, stepped and scored together.

:class:`Core` is the family's :class:`~rewardgym.envs.native.core.NativeCore` (its autoreset is
the kit's :class:`~rewardgym.envs.native.core.RowAutoreset`): :class:`LocomotionEnv` is the kit's
single shell over a core with one env, :class:`LocomotionVectorEnv` its vector shell over N, so
the single env, ``SyncVectorEnv`` of it and the native vector env run the same code and agree bit
for bit. Physics is MuJoCo's own ``mj_step`` on each ``MjData`` (exact, and it keeps each env's
solver warm start); everything after it (features, observation, reward terms, success) is one
numba call over the whole batch.

Robustness, by documented choice:

* actions must be finite (a ``ValueError`` names the env and the action otherwise); finite
  actions outside the action space are clipped to it before the physics and the control cost
  see them;
* MuJoCo's automatic reset on instability is disabled, so a diverged simulation (a bad
  acceleration warning in ``data.warning``, or a non-finite or runaway ``qpos``/``qvel``) is seen:
  the step is truncated with ``info["diverged"] = True``, zero reward, and the last finite
  observation; the env must then be reset.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
from numba import njit

from rewardgym.envs.locomotion import tasks
from rewardgym.envs.locomotion.config import LocomotionConfig
from rewardgym.envs.locomotion.render import Camera
from rewardgym.envs.locomotion.robots import load_model
from rewardgym.envs.locomotion.view import (
    FeatureLayout,
    Kinematics,
    compute_features,
    compute_obs,
)
from rewardgym.envs.native.checks import check_box_actions
from rewardgym.envs.native.core import RowAutoreset
from rewardgym.envs.native.seeding import seed_generators

RUNAWAY_QVEL = 1e4  # |qvel| above this (rad/s or m/s) counts as diverged
# Finite observation bounds (Gymnasium's checker rejects infinite ones); a live state stays far
# inside them since runaway velocities count as diverged and diverged steps keep the last obs.
OBS_BOUND = 1e6
_BADQACC = int(mujoco.mjtWarning.mjWARN_BADQACC)


@njit(cache=True)
def _diverged(rows, qpos, qvel, warnings, out):
    for i in range(qpos.shape[0]):
        if not rows[i]:
            out[i] = False
            continue
        bad = warnings[i] > 0
        for j in range(qpos.shape[1]):
            bad = bad or not np.isfinite(qpos[i, j])
        for j in range(qvel.shape[1]):
            bad = bad or not np.isfinite(qvel[i, j]) or abs(qvel[i, j]) > RUNAWAY_QVEL
        out[i] = bad


class Core(RowAutoreset):
    """``n`` envs of one task: MuJoCo state, feature rows, observations and step outputs."""

    def __init__(self, config: LocomotionConfig, n: int, physics_threads: int = 1,
                 max_episode_steps: int | None = None, width: int = 320,
                 height: int = 240) -> None:
        if isinstance(physics_threads, bool) or not isinstance(physics_threads, int) \
                or physics_threads < 1:
            raise ValueError(f"physics_threads must be an int >= 1, got {physics_threads!r}")
        self.physics_threads = physics_threads
        self._pool: ThreadPoolExecutor | None = None
        self.config = cfg = config
        self.robot = robot = cfg.robot
        self.model = model = load_model(robot.name)
        self.n = n
        self.code = cfg.spec.code
        self.has_goal = cfg.spec.has_goal
        self.layout = FeatureLayout.of(robot.name, self.has_goal)
        self.tail = self.layout.tail
        self.params = np.asarray(cfg.kernel_params(), dtype=np.float64)
        self.datas = [mujoco.MjData(model) for _ in range(n)]
        self.kin = Kinematics(robot, n)
        self.obs_dim = model.nq - robot.obs_skip + model.nv + (2 if self.has_goal else 0)
        self.qvel_clip = float(robot.qvel_clip)
        self.goal = np.zeros((n, 2))
        self.feat = np.zeros((n, self.layout.size))
        self.prev = np.zeros((n, self.layout.size))
        self.obs = np.zeros((n, self.obs_dim))
        self.mem = np.zeros((n, tasks.N_MEMORY))
        self.ring = np.zeros((n, cfg.speed_window + 1))
        self.steps = np.zeros(n, dtype=np.int64)
        self.terms = np.zeros((n, len(cfg.terms)))
        self.reward = np.zeros(n)
        self.success = np.zeros(n, dtype=np.bool_)
        self.terminated = np.zeros(n, dtype=np.bool_)
        self.diverged = np.zeros(n, dtype=np.bool_)
        self.truncated = self.diverged  # the kit's name: a diverged step truncates
        self._warnings = np.zeros(n, dtype=np.int64)
        self.num_envs = n
        self.label = f"({cfg.task})"
        self.rngs: list[np.random.Generator | None] = [None] * n
        low = model.actuator_ctrlrange[:, 0].astype(np.float64)
        high = model.actuator_ctrlrange[:, 1].astype(np.float64)
        self.single_action_space = gym.spaces.Box(low, high, dtype=np.float64)
        self.single_observation_space = gym.spaces.Box(-OBS_BOUND, OBS_BOUND, (self.obs_dim,),
                                                       dtype=np.float64)
        self._camera: Camera | None = None  # made on the first render, never pickled
        self._frame = (width, height)
        self.init_rows(max_episode_steps)
        self._indices = np.arange(n)  # np.flatnonzero(self._everyone), made once

    def reset_state(self, rows: np.ndarray) -> None:
        """Reset the envs with ``rows`` True, drawing noise (and goals) from ``self.rngs[i]``.

        Draw order per env, which the single and vector shells share: ``qpos`` noise (uniform),
        ``qvel`` noise (uniform or normal, per robot, as Gymnasium's v5 env of that robot), then
        for goal tasks the goal's angle and distance.
        """
        model, robot, cfg = self.model, self.robot, self.config
        for i in np.flatnonzero(rows):
            data, rng = self.datas[i], self.rngs[i]
            mujoco.mj_resetData(model, data)
            data.qpos[:] = model.qpos0 + rng.uniform(-robot.pos_noise, robot.pos_noise, model.nq)
            if robot.vel_noise_kind == "normal":
                data.qvel[:] = robot.vel_noise * rng.standard_normal(model.nv)
            else:
                data.qvel[:] = rng.uniform(-robot.vel_noise, robot.vel_noise, model.nv)
            if self.has_goal:
                angle = rng.uniform(-np.pi, np.pi)
                dist = rng.uniform(cfg.goal_min_distance, cfg.goal_max_distance)
                self.goal[i] = data.qpos[0] + dist * np.cos(angle), \
                    data.qpos[1] + dist * np.sin(angle)
            mujoco.mj_forward(model, data)
            self.kin.gather(i, data)
        self._features(rows)
        self.prev[rows] = self.feat[rows]
        tasks.task_reset(self.code, rows, self.feat, self.mem, self.ring, self.steps)
        self.terms[rows] = 0.0
        self.reward[rows] = 0.0
        self.success[rows] = False
        self.terminated[rows] = False
        self.diverged[rows] = False

    def step_state(self, rows: np.ndarray, actions: np.ndarray) -> None:
        """Step the envs with ``rows`` True by ``actions`` (finite, clipped, shape ``(n, nu)``)."""
        kin = self.kin
        active = self._indices if rows is self._everyone else np.flatnonzero(rows)
        if self.physics_threads > 1 and active.size > 1:
            # mj_step releases the GIL; each env has its own MjData, so results are identical.
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.physics_threads)
            chunks = np.array_split(active, self.physics_threads)
            list(self._pool.map(self._physics, chunks, [actions] * len(chunks)))
        else:
            self._physics(active, actions)
        _diverged(rows, kin.qpos, kin.qvel, self._warnings, self.diverged)
        live = rows & ~self.diverged
        self.prev[live] = self.feat[live]
        self._features(live)
        tasks.task_step(self.code, self.params, self.tail, live, self.prev, self.feat, actions,
                        self.mem, self.ring, self.steps, self.terms, self.reward, self.success,
                        self.terminated)
        bad = rows & self.diverged
        if bad.any():
            self.terms[bad] = 0.0
            self.reward[bad] = 0.0
            self.terminated[bad] = False

    def _physics(self, indices: np.ndarray, actions: np.ndarray) -> None:
        model, kin, skip = self.model, self.kin, self.robot.frame_skip
        for i in indices:
            data = self.datas[i]
            data.ctrl[:] = actions[i]
            before = data.warning[_BADQACC].number
            mujoco.mj_step(model, data, nstep=skip)
            self._warnings[i] = data.warning[_BADQACC].number - before
            mujoco.mj_kinematics(model, data)
            kin.gather(i, data)

    def __getstate__(self) -> dict:
        """Pickle without the thread pool and the camera (both made again when needed)."""
        return {**self.__dict__, "_pool": None, "_camera": None}

    def _features(self, rows: np.ndarray) -> None:
        kin = self.kin
        compute_features(rows, kin.planar, kin.qpos, kin.qvel, kin.xpos, kin.xmat, kin.gxpos,
                         kin.gxmat, kin.torso, kin.feet, kin.foot_radius, kin.foot_half,
                         kin.foot_tol,
                         kin.knees, kin.jqpos, kin.jdof, self.goal, self.tail, self.feat)
        compute_obs(rows, kin.qpos, kin.qvel, self.robot.obs_skip, self.qvel_clip, self.feat,
                    self.tail, self.obs)

    def seed_rows(self, mask: np.ndarray, seeds: list[int | None]) -> None:
        """A ``numpy`` Generator per env, seeded as ``gym.Env.reset(seed=...)`` seeds one."""
        seed_generators(self.rngs, seeds, mask)

    def check_actions(self, name: str, actions: Any, num_envs: int | None) -> np.ndarray:
        """Finite float actions, clipped to the motors' range (the suite's Box policy).

        Clipping (rather than refusing) finite out-of-range actions is deliberate: Gaussian
        policies (SAC, PPO) emit them routinely and MuJoCo clamps controls to ``ctrlrange``
        anyway; clipping first makes the control cost see what the motors got.
        """
        space = self.single_action_space
        shape = space.shape if num_envs is None else (num_envs, *space.shape)
        act = check_box_actions(name, actions, shape, space.low, space.high)
        return act[None, :] if num_envs is None else act

    def single_path(self) -> tuple[Any, ...]:
        """The maskless single step, with actions checked into one reused ``(1, nu)`` buffer."""
        space = self.single_action_space
        shape, low, high = space.shape, space.low, space.high
        buf = np.zeros((1, *shape))

        def check(name: str, action: Any, num_envs: None) -> np.ndarray:
            return check_box_actions(name, action, shape, low, high, out=buf)

        return (check, *super().single_path()[1:])

    def ready(self, name: str) -> None:
        """A diverged env must be reset before it steps again."""
        if self.diverged[0]:
            raise gym.error.ResetNeeded(f"{name}: call reset() before step() (after a "
                                        "diverged step too)")

    def batch_obs(self) -> np.ndarray:
        """Every env's observation (a copy)."""
        return self.obs.copy()

    def obs_row(self, i: int) -> np.ndarray:
        """Env ``i``'s observation (a copy)."""
        return self.obs[i].copy()

    def infos(self, mask: np.ndarray) -> dict:
        """Infos of the envs in ``mask`` as Gymnasium's vector envs batch them (zeros elsewhere)."""
        every = mask.all()  # the common case: plain copies
        terms = {}
        for j, name in enumerate(self.config.terms):
            terms[name] = self.terms[:, j].copy() if every else np.where(mask, self.terms[:, j],
                                                                         0.0)
            terms[f"_{name}"] = mask.copy()
        return {"reward_terms": terms, "_reward_terms": mask.copy(),
                "is_success": self.success.copy() if every else self.success & mask,
                "_is_success": mask.copy(),
                "diverged": self.diverged.copy() if every else self.diverged & mask,
                "_diverged": mask.copy()}

    def ended_infos(self, done: np.ndarray) -> dict:
        """``final_info`` of the finished envs; keeps the reward view of their last states.

        The rows go to ``final_features`` (reward wrappers read the rows of ``done``), not into
        ``final_info``, which must equal ``SyncVectorEnv``'s.
        """
        self.final_features = self.feat.copy()
        return self.infos(done)

    def info(self, i: int) -> dict:
        """Step info of env ``i`` with Python scalars (what a single env returns)."""
        return {"reward_terms": {name: float(self.terms[i, j])
                                 for j, name in enumerate(self.config.terms)},
                "is_success": bool(self.success[i]), "diverged": bool(self.diverged[i])}

    def render(self, i: int) -> np.ndarray:
        """An RGB frame of env ``i`` from a camera tracking the torso."""
        if self._camera is None:
            self._camera = Camera(self, *self._frame)
        return self._camera.render(i)

    def close(self) -> None:
        """Free the renderer's GL context."""
        if self._camera is not None:
            self._camera.close()
