"""Offscreen RGB rendering with a camera that tracks the torso (MuJoCo's own renderer)."""

from __future__ import annotations

import os
import sys
from typing import Any

import mujoco
import numpy as np


def _prefer_egl_without_display() -> None:
    """Use EGL when ``mujoco`` was imported before ``MUJOCO_GL=egl`` was set and there is no X.

    ``mujoco`` picks its GL backend once, at import (GLFW by default), and GLFW cannot open a
    context without a display; headless machines (CI) then fail in ``mujoco.Renderer``.
    """
    from mujoco.rendering.classic import gl_context

    chosen = getattr(gl_context, "_MUJOCO_GL", "egl")
    if chosen in ("", "glfw") and not os.environ.get("DISPLAY") and sys.platform == "linux":
        from mujoco.egl import GLContext

        gl_context.GLContext = GLContext
        gl_context._MUJOCO_GL = "egl"


class Camera:
    """Lazily created ``mujoco.Renderer`` for the envs of one core; never pickled.

    Needs an OpenGL backend: the package sets ``MUJOCO_GL=egl`` unless the user chose one, and
    switches a headless GLFW choice to EGL (see :func:`_prefer_egl_without_display`).
    """

    def __init__(self, core: Any, width: int, height: int) -> None:
        self._core = core
        self.width = width
        self.height = height
        self._renderer: mujoco.Renderer | None = None
        self._cam = mujoco.MjvCamera()
        self._cam.type = int(mujoco.mjtCamera.mjCAMERA_TRACKING)
        self._cam.trackbodyid = core.kin.torso
        self._cam.distance = core.robot.camera_distance
        self._cam.elevation = -20.0
        self._cam.azimuth = 90.0

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the core and frame size only: GL contexts and ``MjvCamera`` do not pickle."""
        return {"core": self._core, "width": self.width, "height": self.height}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Rebuild the camera (the renderer is created again on the first ``render``)."""
        self.__init__(state["core"], state["width"], state["height"])

    def render(self, i: int) -> np.ndarray:
        """The frame of env ``i`` as ``uint8 (height, width, 3)``."""
        if self._renderer is None:
            _prefer_egl_without_display()
            self._renderer = mujoco.Renderer(self._core.model, self.height, self.width)
        self._renderer.update_scene(self._core.datas[i], camera=self._cam)
        return self._renderer.render()

    def close(self) -> None:
        """Free the GL context."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
