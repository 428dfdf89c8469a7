"""The reward-program view of a locomotion state: named, unit-annotated, fixed indices.

Text2Reward (Xie et al., ICLR 2024) shows that a compact, typed description of the state (units,
frames, no raw observation indices) is what lets an LLM write a working reward; Eureka (Ma et al.,
ICLR 2024) feeds the env's source instead. Here the description is data: a :class:`FeatureLayout`
lists every feature with its unit, frame and meaning, and one numba kernel fills a float64 row per
env from MuJoCo's state. Reference rewards, success predicates, potentials and (next) LLM-written
programs read ONLY this row, by name (``view.torso_z``) or by fixed index (numba).

Layout, identical for all robots up to the tail:

* ``0..14`` (:data:`HEAD`): torso position ``torso_x/y/z`` (m, world), orientation
  ``roll/pitch/yaw`` (rad, ZYX Euler of the torso frame; the planar robots report the root hinge
  angle as ``pitch``, accumulated, so a full flip reads ``2*pi``), the torso's up axis
  ``up_x/y/z`` (unit vector, world; ``up_z = 1`` upright, ``-1`` upside down), linear
  velocity ``vel_x/y/z`` (m/s, world, of the root joint) and angular velocity ``angvel_x/y/z``
  (rad/s, world);
* then ``joint_pos`` (rad) and ``joint_vel`` (rad/s) of the actuated joints in actuator order,
  ``foot_z`` (m, lowest point of each foot geom above the floor), ``foot_contact`` (1.0 when that
  point is within :data:`CONTACT_TOL` plus the geom's contact margin of the floor, else 0.0; a
  geometric test, since soft contacts rest a little above the floor: the Ant's feet at
  ~0.02 m), ``knee_z`` (m, humanoid), and ``goal_dx, goal_dy, goal_dist`` (m, world, goal
  minus torso; goal tasks only).

Positions come from ``mj_kinematics`` after the step, so they match ``qpos`` exactly.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np
from numba import njit

from rewardgym.envs.locomotion.robots import Robot, load_model
from rewardgym.envs.native.view import Feature, FeatureRows, ViewLayout

TORSO_X, TORSO_Y, TORSO_Z, ROLL, PITCH, YAW, UP_X, UP_Y, UP_Z = range(9)
VEL_X, VEL_Y, VEL_Z, ANGVEL_X, ANGVEL_Y, ANGVEL_Z = range(9, 15)
HEAD = 15
# Entries of the tail-offset vector (FeatureLayout.tail) the kernels receive.
T_JPOS, T_JVEL, T_FOOT_Z, T_CONTACT, T_KNEE, T_GOAL, T_NJ, T_NF, T_NK = range(9)
CONTACT_TOL = 0.02  # m: a foot this close to the floor (plus its geom margin) is in contact

_HEAD_DOCS = (
    ("torso_x", "m", "torso position, world x"), ("torso_y", "m", "torso position, world y"),
    ("torso_z", "m", "torso height above the floor"),
    ("roll", "rad", "torso roll (ZYX Euler)"),
    ("pitch", "rad", "torso pitch; planar robots: accumulated root hinge angle, +2pi = one front"
                     " flip"),
    ("yaw", "rad", "torso heading (ZYX Euler)"),
    ("up_x", "1", "torso up axis, world x"), ("up_y", "1", "torso up axis, world y"),
    ("up_z", "1", "torso up axis, world z (1 upright, -1 upside down)"),
    ("vel_x", "m/s", "root linear velocity, world x"), ("vel_y", "m/s", "world y"),
    ("vel_z", "m/s", "world z"),
    ("angvel_x", "rad/s", "torso angular velocity, world x"), ("angvel_y", "rad/s", "world y"),
    ("angvel_z", "rad/s", "world z"),
)


class FeatureLayout(ViewLayout):
    """Names, units and fixed indices of the feature row of one robot (and goal or not).

    Example:
        >>> layout = FeatureLayout.of("hopper", has_goal=False)
        >>> layout["torso_z"].start, layout["torso_z"].unit
        (2, 'm')
        >>> layout["joint_pos"].labels
        ('thigh_joint', 'leg_joint', 'foot_joint')
        >>> layout.size
        23
    """

    def __init__(self, robot: Robot, has_goal: bool) -> None:
        model = load_model(robot.name)
        joints = [model.joint(int(model.actuator_trnid[a, 0])).name for a in range(model.nu)]
        nj, nf, nk = len(joints), len(robot.feet), len(robot.knees)
        feats = [Feature(name, i, 1, unit, doc) for i, (name, unit, doc) in enumerate(_HEAD_DOCS)]
        start = HEAD
        tail = [0] * 9

        def add(name: str, size: int, unit: str, doc: str, labels: tuple[str, ...]) -> int:
            nonlocal start
            feats.append(Feature(name, start, size, unit, doc, labels))
            start += size
            return start - size

        tail[T_JPOS] = add("joint_pos", nj, "rad", "actuated joint angles", tuple(joints))
        tail[T_JVEL] = add("joint_vel", nj, "rad/s", "actuated joint velocities", tuple(joints))
        tail[T_FOOT_Z] = add("foot_z", nf, "m", "lowest point of each foot above the floor",
                             robot.foot_labels)
        tail[T_CONTACT] = add("foot_contact", nf, "0/1",
                              f"foot within {CONTACT_TOL} m (+ margin) of the floor",
                              robot.foot_labels)
        tail[T_KNEE] = add("knee_z", nk, "m", "knee (shin origin) height", robot.knees) \
            if nk else start
        if has_goal:
            tail[T_GOAL] = add("goal_dx", 1, "m", "goal minus torso, world x", ())
            add("goal_dy", 1, "m", "goal minus torso, world y", ())
            add("goal_dist", 1, "m", "horizontal distance from torso to goal", ())
        else:
            tail[T_GOAL] = -1
        tail[T_NJ], tail[T_NF], tail[T_NK] = nj, nf, nk
        super().__init__(feats)
        self.robot = robot
        self.has_goal = has_goal
        self.tail = np.asarray(tail, dtype=np.int64)

    _cache: dict[tuple[str, bool], FeatureLayout] = {}

    @classmethod
    def of(cls, robot_name: str, has_goal: bool) -> FeatureLayout:
        """The (memoised) layout of a robot from :data:`~rewardgym.envs.locomotion.ROBOTS`."""
        from rewardgym.envs.locomotion.robots import ROBOTS

        key = (robot_name, has_goal)
        if key not in cls._cache:
            cls._cache[key] = cls(ROBOTS[robot_name], has_goal)
        return cls._cache[key]


class FeatureView(FeatureRows):
    """Named access to feature rows: ``view.torso_z`` is a float (single) or an array (batch).

    The shared :class:`~rewardgym.envs.native.view.FeatureRows` over a :class:`FeatureLayout`.

    Example:
        >>> import numpy as np
        >>> layout = FeatureLayout.of("hopper", has_goal=False)
        >>> view = FeatureView(np.arange(layout.size, dtype=np.float64), layout)
        >>> view.torso_z, view.foot_z.shape
        (2.0, (1,))
    """


class Kinematics:
    """Model indices and scratch buffers the feature kernel reads (one per core)."""

    def __init__(self, robot: Robot, n: int) -> None:
        model = load_model(robot.name)
        self.torso = model.body(robot.torso).id
        self.feet = np.asarray([model.geom(g).id for g in robot.feet], dtype=np.int64)
        radius, half = [], []
        for g in self.feet:
            kind = int(model.geom_type[g])
            if kind not in (int(mujoco.mjtGeom.mjGEOM_CAPSULE), int(mujoco.mjtGeom.mjGEOM_SPHERE)):
                raise ValueError(f"foot geom {model.geom(g).name!r} must be a capsule or sphere")
            radius.append(model.geom_size[g, 0])
            half.append(model.geom_size[g, 1] if kind == int(mujoco.mjtGeom.mjGEOM_CAPSULE)
                        else 0.0)
        self.foot_radius = np.asarray(radius)
        self.foot_half = np.asarray(half)
        self.foot_tol = CONTACT_TOL + np.asarray(model.geom_margin[self.feet], dtype=np.float64)
        self.knees = np.asarray([model.body(b).id for b in robot.knees], dtype=np.int64)
        joints = model.actuator_trnid[:, 0]
        self.jqpos = np.asarray(model.jnt_qposadr[joints], dtype=np.int64)
        self.jdof = np.asarray(model.jnt_dofadr[joints], dtype=np.int64)
        self.planar = robot.planar
        self.qpos = np.zeros((n, model.nq))
        self.qvel = np.zeros((n, model.nv))
        self.xpos = np.zeros((n, model.nbody, 3))
        self.xmat = np.zeros((n, model.nbody, 9))
        self.gxpos = np.zeros((n, model.ngeom, 3))
        self.gxmat = np.zeros((n, model.ngeom, 9))

    def gather(self, i: int, data: mujoco.MjData) -> None:
        """Copy env ``i``'s state (after ``mj_kinematics``) into the batch buffers."""
        self.qpos[i] = data.qpos
        self.qvel[i] = data.qvel
        self.xpos[i] = data.xpos
        self.xmat[i] = data.xmat
        self.gxpos[i] = data.geom_xpos
        self.gxmat[i] = data.geom_xmat


@njit(cache=True)
def compute_features(rows, planar, qpos, qvel, xpos, xmat, gxpos, gxmat, torso, feet, foot_radius,
                     foot_half, foot_tol, knees, jqpos, jdof, goal, tail, out):
    """Fill ``out[i]`` for every ``i`` with ``rows[i]`` (layout in the module docstring)."""
    for i in range(out.shape[0]):
        if not rows[i]:
            continue
        row = out[i]
        r = xmat[i, torso]
        row[TORSO_X] = xpos[i, torso, 0]
        row[TORSO_Y] = xpos[i, torso, 1]
        row[TORSO_Z] = xpos[i, torso, 2]
        row[UP_X] = r[2]
        row[UP_Y] = r[5]
        row[UP_Z] = r[8]
        if planar:
            # rootx, rootz, rooty: the hinge angle is the accumulated pitch (flips count 2*pi).
            row[ROLL] = 0.0
            row[PITCH] = qpos[i, 2]
            row[YAW] = 0.0
            row[VEL_X] = qvel[i, 0]
            row[VEL_Y] = 0.0
            row[VEL_Z] = qvel[i, 1]
            row[ANGVEL_X] = 0.0
            row[ANGVEL_Y] = qvel[i, 2]
            row[ANGVEL_Z] = 0.0
        else:
            row[ROLL] = math.atan2(r[7], r[8])
            row[PITCH] = math.asin(min(1.0, max(-1.0, -r[6])))
            row[YAW] = math.atan2(r[3], r[0])
            row[VEL_X] = qvel[i, 0]
            row[VEL_Y] = qvel[i, 1]
            row[VEL_Z] = qvel[i, 2]
            # A free joint's angular velocity is in the body frame: rotate it to the world.
            wx, wy, wz = qvel[i, 3], qvel[i, 4], qvel[i, 5]
            row[ANGVEL_X] = r[0] * wx + r[1] * wy + r[2] * wz
            row[ANGVEL_Y] = r[3] * wx + r[4] * wy + r[5] * wz
            row[ANGVEL_Z] = r[6] * wx + r[7] * wy + r[8] * wz
        for j in range(tail[T_NJ]):
            row[tail[T_JPOS] + j] = qpos[i, jqpos[j]]
            row[tail[T_JVEL] + j] = qvel[i, jdof[j]]
        for f in range(tail[T_NF]):
            g = feet[f]
            # Lowest point of a capsule (axis = local z) or sphere.
            z = gxpos[i, g, 2] - abs(gxmat[i, g, 8]) * foot_half[f] - foot_radius[f]
            row[tail[T_FOOT_Z] + f] = z
            row[tail[T_CONTACT] + f] = 1.0 if z <= foot_tol[f] else 0.0
        for k in range(tail[T_NK]):
            row[tail[T_KNEE] + k] = xpos[i, knees[k], 2]
        if tail[T_GOAL] >= 0:
            dx = goal[i, 0] - row[TORSO_X]
            dy = goal[i, 1] - row[TORSO_Y]
            row[tail[T_GOAL]] = dx
            row[tail[T_GOAL] + 1] = dy
            row[tail[T_GOAL] + 2] = math.sqrt(dx * dx + dy * dy)


@njit(cache=True)
def compute_obs(rows, qpos, qvel, skip, qvel_clip, feat, tail, out):
    """Gymnasium-v5-style observations: ``qpos[skip:]``, clipped ``qvel``, heading-frame goal."""
    nq = qpos.shape[1]
    nv = qvel.shape[1]
    for i in range(out.shape[0]):
        if not rows[i]:
            continue
        for j in range(skip, nq):
            out[i, j - skip] = qpos[i, j]
        for j in range(nv):
            out[i, nq - skip + j] = min(qvel_clip, max(-qvel_clip, qvel[i, j]))
        if tail[T_GOAL] >= 0:
            # The goal in the torso's heading frame (x ahead, y left): same norm as in the world.
            dx = feat[i, tail[T_GOAL]]
            dy = feat[i, tail[T_GOAL] + 1]
            c = math.cos(feat[i, YAW])
            s = math.sin(feat[i, YAW])
            out[i, nq - skip + nv] = c * dx + s * dy
            out[i, nq - skip + nv + 1] = -s * dx + c * dy
