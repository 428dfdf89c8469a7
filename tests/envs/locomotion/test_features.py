"""The feature view: names and units are stable, values agree with raw MuJoCo state."""

from __future__ import annotations

import copy
import pickle

import gymnasium as gym
import mujoco
import numpy as np
import pytest

from rewardgym.envs.locomotion import (
    FeatureLayout,
    FeatureView,
    LocomotionEnv,
    LocomotionVectorEnv,
    features,
    features_batch,
)
from rewardgym.envs.locomotion import view as feature_module

HEAD = ("torso_x", "torso_y", "torso_z", "roll", "pitch", "yaw", "up_x", "up_y", "up_z",
        "vel_x", "vel_y", "vel_z", "angvel_x", "angvel_y", "angvel_z")


def test_layouts_are_stable():
    """Reward programs index these rows: a change here must be deliberate (bump the env ids)."""
    expected = {
        ("hopper", False): ((*HEAD, "joint_pos", "joint_vel", "foot_z", "foot_contact"), 23),
        ("half_cheetah", False): ((*HEAD, "joint_pos", "joint_vel", "foot_z", "foot_contact"),
                                  31),
        ("ant", False): ((*HEAD, "joint_pos", "joint_vel", "foot_z", "foot_contact"), 39),
        ("ant", True): ((*HEAD, "joint_pos", "joint_vel", "foot_z", "foot_contact", "goal_dx",
                         "goal_dy", "goal_dist"), 42),
        ("humanoid", False): ((*HEAD, "joint_pos", "joint_vel", "foot_z", "foot_contact",
                               "knee_z"), 55),
    }
    for (robot, goal), (names, size) in expected.items():
        layout = FeatureLayout.of(robot, goal)
        assert layout.names == names
        assert layout.size == size
        assert [layout[n].start for n in HEAD] == list(range(15))
    ant = FeatureLayout.of("ant", True)
    assert ant["foot_z"].labels == ("front_left", "front_right", "back_left", "back_right")
    assert ant["joint_pos"].labels[:2] == ("hip_4", "ankle_4")  # actuator order
    units = {f.name: f.unit for f in ant.features}
    assert units["torso_z"] == "m"
    assert units["vel_x"] == "m/s"
    assert units["pitch"] == "rad"
    assert units["angvel_z"] == "rad/s"
    assert units["foot_contact"] == "0/1"
    table = ant.describe()
    assert "| goal_dist | 41 | m |" in table
    assert table.count("\n") == len(ant.features) + 1
    with pytest.raises(KeyError, match="torso_z"):
        ant["torso_height"]


def _rotation(data: mujoco.MjData, body: int) -> np.ndarray:
    return data.xmat[body].reshape(3, 3)


@pytest.mark.parametrize("task", ["ant_goal", "humanoid_kneel", "hopper_back_flip",
                                  "half_cheetah_backward"])
def test_features_agree_with_raw_mujoco_state(task):
    env = LocomotionEnv(task=task)
    env.reset(seed=3)
    actions = np.random.default_rng(0).uniform(-1, 1, (25, env.action_space.shape[0]))
    for action in actions:
        env.step(np.clip(action, env.action_space.low, env.action_space.high))
    model, data = env.model, env.data
    view = features(env)
    torso = model.body("torso").id
    np.testing.assert_allclose([view.torso_x, view.torso_y, view.torso_z], data.xpos[torso])
    rot = _rotation(data, torso)
    np.testing.assert_allclose([view.up_x, view.up_y, view.up_z], rot[:, 2])
    joints = model.actuator_trnid[:, 0]
    np.testing.assert_array_equal(view.joint_pos, data.qpos[model.jnt_qposadr[joints]])
    np.testing.assert_array_equal(view.joint_vel, data.qvel[model.jnt_dofadr[joints]])
    if env.config.robot.planar:
        assert view.pitch == data.qpos[2]  # the accumulated root hinge angle
        assert view.vel_x == data.qvel[0]
        assert view.angvel_y == data.qvel[2]
    else:
        # ZYX Euler angles rebuild the rotation; angular velocity is the world-frame one.
        cr, sr = np.cos(view.roll), np.sin(view.roll)
        cp, sp = np.cos(view.pitch), np.sin(view.pitch)
        cy, sy = np.cos(view.yaw), np.sin(view.yaw)
        rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
        ry = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
        rx = np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]])
        np.testing.assert_allclose(rz @ ry @ rx, rot, atol=1e-9)
        np.testing.assert_allclose([view.angvel_x, view.angvel_y, view.angvel_z],
                                   rot @ data.qvel[3:6], atol=1e-12)
        np.testing.assert_array_equal([view.vel_x, view.vel_y, view.vel_z], data.qvel[:3])
    # Foot heights: the lowest point of each foot geom, from MuJoCo's own distance query.
    for k, geom in enumerate(env.config.robot.feet):
        gid = model.geom(geom).id
        fromto = np.zeros(6)
        dist = mujoco.mj_geomDistance(model, data, gid, model.geom("floor").id, 10.0, fromto)
        assert view.foot_z[k] == pytest.approx(dist, abs=1e-6)
        assert view.foot_contact[k] == float(dist <= feature_module.CONTACT_TOL
                                             + model.geom_margin[gid])
    if env.config.spec.has_goal:
        goal = env.unwrapped._core.goal[0]
        assert view.goal_dist == pytest.approx(np.hypot(*(goal - data.xpos[torso][:2])))


def test_feature_view_single_and_batch_agree():
    envs = LocomotionVectorEnv(3, task="ant_goal")
    envs.reset(seed=7)
    singles = [LocomotionEnv(task="ant_goal") for _ in range(3)]
    for i, env in enumerate(singles):
        env.reset(seed=7 + i)
    actions = np.random.default_rng(1).uniform(-1, 1, (10, 3, 8))
    for batch in actions:
        envs.step(batch)
        for i, env in enumerate(singles):
            env.step(batch[i])
    view = features_batch(envs)
    assert view.goal_dist.shape == (3,)
    for i, env in enumerate(singles):
        np.testing.assert_array_equal(view.values[i], features(env).values)
    one = features(singles[0]).as_dict()
    assert set(one) == set(view.layout.names)
    assert isinstance(one["torso_z"], float | np.floating)
    with pytest.raises(ValueError, match="features_batch"):
        features(envs)


def test_feature_view_reads_by_name():
    layout = FeatureLayout.of("humanoid", False)
    view = FeatureView(np.arange(2 * layout.size, dtype=np.float64).reshape(2, -1), layout)
    np.testing.assert_array_equal(view.torso_z, [2.0, 2.0 + layout.size])
    assert view.knee_z.shape == (2, 2)


def test_feature_view_unknown_names_are_attribute_errors():
    # The view once raised KeyError here, which broke hasattr, getattr defaults and np.asarray.
    layout = FeatureLayout.of("hopper", False)
    values = np.arange(2 * layout.size, dtype=np.float64).reshape(2, -1)
    view = FeatureView(values, layout)
    with pytest.raises(AttributeError, match=r"elbow_z.*torso_z"):
        _ = view.elbow_z
    assert not hasattr(view, "elbow_z")
    assert hasattr(view, "torso_z")
    assert getattr(view, "elbow_z", None) is None
    array = np.asarray(view)
    assert array.dtype == np.float64
    np.testing.assert_array_equal(array, values)
    assert "foot_z" in dir(view)
    clone = pickle.loads(pickle.dumps(view))
    np.testing.assert_array_equal(clone.torso_z, view.torso_z)
    np.testing.assert_array_equal(copy.deepcopy(view).values, values)


def test_features_follow_wrappers():
    env = gym.make("rewardgym/HopperJump-v0")
    env.reset(seed=0)
    assert features(env).torso_z > 1.2
