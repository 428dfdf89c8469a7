"""The four Gymnasium MuJoCo robots the locomotion tasks use, as plain data.

Models are Gymnasium's own v5 assets (``gymnasium/envs/mujoco/assets/*.xml``), loaded with the
``mujoco`` bindings. Frame skips, reset noise and the observation layout follow Gymnasium's v5
envs (Hopper-v5, HalfCheetah-v5, Ant-v5 without contact forces, Humanoid-v5 reduced to
``qpos``/``qvel``) so their numbers carry over.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import gymnasium
import mujoco

ASSETS = Path(gymnasium.__file__).parent / "envs" / "mujoco" / "assets"


@dataclass(frozen=True)
class Robot:
    """One robot: its model file and the names the features read.

    Attributes:
        name: Short name, also the key of :data:`ROBOTS`.
        xml: File name under Gymnasium's asset folder.
        frame_skip: Physics steps per env step (``dt = frame_skip * timestep``).
        planar: True for the 2D robots (root joints ``rootx, rootz, rooty``), False for a free
            joint root.
        torso: Body whose pose and velocity the features report.
        feet: Geoms (capsules or spheres) whose lowest point is a foot height.
        foot_labels: Names of the feet in the feature view, in ``feet`` order.
        knees: Bodies whose origin is a knee (only the humanoid has knee features).
        pos_noise: Half-width of the uniform noise added to ``qpos`` at reset.
        vel_noise: Scale of the noise added to ``qvel`` at reset: the half-width of a uniform
            draw, or the standard deviation of a normal draw (see ``vel_noise_kind``).
        vel_noise_kind: ``"uniform"`` (Hopper-v5 ``hopper_v5.py`` 329, Humanoid-v5
            ``humanoid_v5.py`` 526) or ``"normal"`` (HalfCheetah-v5 ``half_cheetah_v5.py`` 268–271
            and Ant-v5 ``ant_v5.py`` 413–416 draw ``scale * standard_normal``; Gymnasium 1.4.0).
        qvel_clip: Observation clip of ``qvel`` (Hopper-v5 clips at 10), ``inf`` for none.
        camera_distance: Distance of the tracking camera in renders (m).
    """

    name: str
    xml: str
    frame_skip: int
    planar: bool
    torso: str
    feet: tuple[str, ...]
    foot_labels: tuple[str, ...]
    knees: tuple[str, ...] = ()
    pos_noise: float = 0.1
    vel_noise: float = 0.1
    vel_noise_kind: Literal["uniform", "normal"] = "uniform"
    qvel_clip: float = math.inf
    camera_distance: float = 4.0

    def __post_init__(self) -> None:
        """Refuse an unknown noise kind."""
        if self.vel_noise_kind not in ("uniform", "normal"):
            raise ValueError(f"Robot {self.name!r}: vel_noise_kind must be 'uniform' or 'normal', "
                             f"got {self.vel_noise_kind!r}")

    @property
    def obs_skip(self) -> int:
        """Leading ``qpos`` entries left out of the observation (x, or x and y), as Gymnasium."""
        return 1 if self.planar else 2


ROBOTS: dict[str, Robot] = {
    "hopper": Robot(name="hopper", xml="hopper.xml", frame_skip=4, planar=True, torso="torso",
                    feet=("foot_geom",), foot_labels=("foot",), pos_noise=5e-3, vel_noise=5e-3,
                    qvel_clip=10.0, camera_distance=3.0),
    "half_cheetah": Robot(name="half_cheetah", xml="half_cheetah.xml", frame_skip=5, planar=True,
                          torso="torso", feet=("bfoot", "ffoot"), foot_labels=("back", "front"),
                          vel_noise_kind="normal"),
    "ant": Robot(name="ant", xml="ant.xml", frame_skip=5, planar=False, torso="torso",
                 feet=("left_ankle_geom", "right_ankle_geom", "third_ankle_geom",
                       "fourth_ankle_geom"),
                 foot_labels=("front_left", "front_right", "back_left", "back_right"),
                 vel_noise_kind="normal", camera_distance=5.0),
    "humanoid": Robot(name="humanoid", xml="humanoid.xml", frame_skip=5, planar=False,
                      torso="torso", feet=("right_foot", "left_foot"),
                      foot_labels=("right", "left"), knees=("right_shin", "left_shin"),
                      pos_noise=1e-2, vel_noise=1e-2),
}


@functools.cache
def load_model(robot_name: str) -> mujoco.MjModel:
    """The compiled model of a robot, shared read-only by every env of this process.

    The models have no external files (meshes), so they load from their XML text.
    MuJoCo's automatic reset on an unstable acceleration is disabled so that a diverged state
    stays visible (non-finite) to the env, which reports it instead of silently restarting.
    """
    text = (ASSETS / ROBOTS[robot_name].xml).read_text()
    total = re.search(r'\s*settotalmass="([0-9.eE+-]+)"', text)
    if total is None:
        model = mujoco.MjModel.from_xml_string(text)
    else:
        # MuJoCo deprecates the compiler attribute (and logs to ./MUJOCO_LOG.TXT on every load);
        # mj_setTotalmass + mj_setConst give the identical model (same masses and inertias).
        model = mujoco.MjModel.from_xml_string(text.replace(total.group(0), ""))
        mujoco.mj_setTotalmass(model, float(total.group(1)))
        mujoco.mj_setConst(model, mujoco.MjData(model))
    model.opt.disableflags |= int(mujoco.mjtDisableBit.mjDSBL_AUTORESET)
    return model
