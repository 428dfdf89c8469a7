"""Top-down ``rgb_array`` rendering of a RouteDrive world (numpy; not on the hot path)."""

from __future__ import annotations

import math

import numpy as np

from rewardgym.envs.driving import kernels as k
from rewardgym.envs.driving.maps import DRIVABLE, MapBank

VIEW_M = 96  # metres shown around the ego car
PX_PER_M = 4
_GRASS, _ROAD, _ROUTE = (58, 92, 52), (96, 96, 96), (80, 140, 230)
_EGO, _CAR, _RECKLESS = (220, 40, 40), (235, 235, 235), (245, 170, 40)
_LIGHT = {k.RED: (230, 30, 30), k.YELLOW: (240, 210, 40), k.GREEN: (40, 200, 70)}


def _fill_box(img: np.ndarray, x0: float, y1: float, cx: float, cy: float, yaw: float,
              length: float, width: float, colour: tuple[int, int, int]) -> None:
    """Fill the oriented box centred at world ``(cx, cy)``; the image's top-left is (x0, y1)."""
    size = img.shape[0]
    px, py = (cx - x0) * PX_PER_M, (y1 - cy) * PX_PER_M
    reach = 0.5 * math.hypot(length, width) * PX_PER_M + 1
    r0, r1 = max(int(py - reach), 0), min(int(py + reach) + 1, size)
    c0, c1 = max(int(px - reach), 0), min(int(px + reach) + 1, size)
    if r0 >= r1 or c0 >= c1:
        return
    rows, cols = np.mgrid[r0:r1, c0:c1]
    dx = (cols + 0.5) / PX_PER_M + x0 - cx
    dy = y1 - (rows + 0.5) / PX_PER_M - cy
    along = dx * math.cos(yaw) + dy * math.sin(yaw)
    across = -dx * math.sin(yaw) + dy * math.cos(yaw)
    inside = (np.abs(along) <= length / 2) & (np.abs(across) <= width / 2)
    img[rows[inside], cols[inside]] = colour


def _dot(img: np.ndarray, x0: float, y1: float, x: float, y: float, radius: int,
         colour: tuple[int, int, int]) -> None:
    row, col = int((y1 - y) * PX_PER_M), int((x - x0) * PX_PER_M)
    size = img.shape[0]
    if -radius <= row < size + radius and -radius <= col < size + radius:
        img[max(row - radius, 0):max(min(row + radius + 1, size), 0),
            max(col - radius, 0):max(min(col + radius + 1, size), 0)] = colour


def render_world(bank: MapBank, world: k.World, params: k.KernelParams, w: int,
                 ego: int = 0) -> np.ndarray:
    """An ``(384, 384, 3)`` uint8 image, north up, centred on ego ``ego`` of world ``w``.

    Road in grey, the route in blue, traffic in white (reckless cars in orange), egos in red,
    stop lines in their light's colour.
    """
    tm = int(world.wi[w, k.W_TMPL])
    cx, cy = world.ef[w, ego, k.E_X], world.ef[w, ego, k.E_Y]
    x0, y1 = cx - VIEW_M / 2, cy + VIEW_M / 2
    size = VIEW_M * PX_PER_M
    # Road from the template raster (1 m cells), sampled at the pixel centres.
    rows, cols = np.mgrid[0:size, 0:size]
    wx = x0 + (cols + 0.5) / PX_PER_M - bank.origin[tm, 0]
    wy = y1 - (rows + 0.5) / PX_PER_M - bank.origin[tm, 1]
    ix, iy = np.floor(wx).astype(int), np.floor(wy).astype(int)
    inside = (ix >= 0) & (iy >= 0) & (ix < bank.raster.shape[2]) & (iy < bank.raster.shape[1])
    bits = np.zeros((size, size), np.uint8)
    bits[inside] = bank.raster[tm, iy[inside], ix[inside]]
    img = np.empty((size, size, 3), np.uint8)
    img[:] = _GRASS
    img[(bits & DRIVABLE) > 0] = _ROAD
    for e in range(world.ef.shape[1]):
        if not (world.ei[w, e, k.E_ACTIVE] or e == ego):
            continue
        r = int(world.ei[w, e, k.E_ROUTE])
        n = int(bank.route_n[tm, r])
        for x, y in bank.route_xy[tm, r, :n]:
            _dot(img, x0, y1, x, y, 1, _ROUTE)
        t = int(world.wi[w, k.W_T])
        for m in range(bank.route_stop_s.shape[2]):
            stop = bank.route_stop_s[tm, r, m]
            if stop < 0:
                continue
            j = int(np.searchsorted(bank.route_s[tm, r, :n], stop)) - 1
            j = min(max(j, 0), n - 2)
            ax, ay = bank.route_xy[tm, r, j]
            heading = math.atan2(*(bank.route_xy[tm, r, j + 1] - bank.route_xy[tm, r, j])[::-1])
            f = (stop - bank.route_s[tm, r, j]) / max(bank.route_s[tm, r, j + 1] -
                                                      bank.route_s[tm, r, j], 1e-9)
            sx = ax + f * (bank.route_xy[tm, r, j + 1, 0] - ax)
            sy = ay + f * (bank.route_xy[tm, r, j + 1, 1] - ay)
            state = k.light_state(t, params.dt, world.wf[w, k.W_GREEN], world.wf[w, k.W_PHASE0],
                                  params.yellow_s, int(bank.route_stop_group[tm, r, m]))[0]
            _fill_box(img, x0, y1, sx, sy, heading, 0.6, 3.5, _LIGHT[state])
    for j in range(world.nf.shape[1]):
        if world.ni[w, j, k.N_ACTIVE]:
            colour = _RECKLESS if world.ni[w, j, k.N_RECKLESS] else _CAR
            _fill_box(img, x0, y1, world.nf[w, j, k.N_X], world.nf[w, j, k.N_Y],
                      math.atan2(world.nf[w, j, k.N_SIN], world.nf[w, j, k.N_COS]),
                      params.car_length, params.car_width, colour)
    for e in range(world.ef.shape[1]):
        if world.ei[w, e, k.E_ACTIVE] or e == ego:
            _fill_box(img, x0, y1, world.ef[w, e, k.E_X], world.ef[w, e, k.E_Y],
                      world.ef[w, e, k.E_YAW], params.car_length, params.car_width, _EGO)
    return img
