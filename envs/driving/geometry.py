"""Scalar geometry for the driving kernels: oriented boxes, polylines, raster lookups.

All functions are numba ``inline="always"`` so the step kernel pays no call or reference-count
overhead for them.
"""

from __future__ import annotations

import math

from numba import njit


@njit(cache=True, inline="always")
def wrap_angle(a):
    """``a`` wrapped to ``[-pi, pi)``."""
    return (a + math.pi) % (2.0 * math.pi) - math.pi


@njit(cache=True, inline="always")
def _axis_overlap(ax, ay, x1, y1, c1, s1, x2, y2, c2, s2, half_l, half_w):
    """Whether both boxes' projections onto the unit axis ``(ax, ay)`` overlap."""
    r1 = half_l * abs(c1 * ax + s1 * ay) + half_w * abs(-s1 * ax + c1 * ay)
    r2 = half_l * abs(c2 * ax + s2 * ay) + half_w * abs(-s2 * ax + c2 * ay)
    return abs((x2 - x1) * ax + (y2 - y1) * ay) <= r1 + r2


@njit(cache=True, inline="always")
def boxes_overlap(x1, y1, c1, s1, x2, y2, c2, s2, length, width):
    """Separating-axis test for two equal ``length`` × ``width`` boxes (with a circle pre-check).

    Each box is its centre and the unit vector ``(c, s)`` of its heading.
    """
    dx, dy = x2 - x1, y2 - y1
    if dx * dx + dy * dy > length * length + width * width:
        return False
    half_l, half_w = 0.5 * length, 0.5 * width
    return (_axis_overlap(c1, s1, x1, y1, c1, s1, x2, y2, c2, s2, half_l, half_w)
            and _axis_overlap(-s1, c1, x1, y1, c1, s1, x2, y2, c2, s2, half_l, half_w)
            and _axis_overlap(c2, s2, x1, y1, c1, s1, x2, y2, c2, s2, half_l, half_w)
            and _axis_overlap(-s2, c2, x1, y1, c1, s1, x2, y2, c2, s2, half_l, half_w))


@njit(cache=True, inline="always")
def raster_bits(raster, origin, t, x, y):
    """The raster bits of template ``t`` at world point ``(x, y)`` (0 outside the raster)."""
    col = math.floor(x - origin[t, 0])
    row = math.floor(y - origin[t, 1])
    size = raster.shape[1]
    if col < 0 or row < 0 or col >= size or row >= size:
        return 0
    return raster[t, row, col]


@njit(cache=True, inline="always")
def advance_segment(arc, t, j, n, s, seg):
    """The segment of arc position ``s`` on polyline ``arc[t, j, :n]``, searched from ``seg``."""
    while seg < n - 2 and arc[t, j, seg + 1] <= s:
        seg += 1
    while seg > 0 and arc[t, j, seg] > s:
        seg -= 1
    return seg


@njit(cache=True, inline="always")
def point_at(xy, arc, t, j, seg, s):
    """Position and heading at arc ``s`` within segment ``seg`` of polyline ``xy[t, j]``."""
    ax, ay = xy[t, j, seg, 0], xy[t, j, seg, 1]
    bx, by = xy[t, j, seg + 1, 0], xy[t, j, seg + 1, 1]
    length = max(arc[t, j, seg + 1] - arc[t, j, seg], 1e-9)
    f = (s - arc[t, j, seg]) / length
    return ax + f * (bx - ax), ay + f * (by - ay), math.atan2(by - ay, bx - ax)


@njit(cache=True, inline="always")
def position_at(xy, arc, t, j, seg, s):
    """Position at arc ``s`` within segment ``seg`` of polyline ``xy[t, j]`` (no heading)."""
    length = max(arc[t, j, seg + 1] - arc[t, j, seg], 1e-9)
    f = (s - arc[t, j, seg]) / length
    return (xy[t, j, seg, 0] + f * (xy[t, j, seg + 1, 0] - xy[t, j, seg, 0]),
            xy[t, j, seg, 1] + f * (xy[t, j, seg + 1, 1] - xy[t, j, seg, 1]))


@njit(cache=True, inline="always")
def pose_at(xy, arc, t, j, seg, s):
    """``(x, y, cos heading, sin heading)`` at arc ``s`` of polyline ``xy[t, j]`` (no trig)."""
    ax, ay = xy[t, j, seg, 0], xy[t, j, seg, 1]
    dx, dy = xy[t, j, seg + 1, 0] - ax, xy[t, j, seg + 1, 1] - ay
    length = max(arc[t, j, seg + 1] - arc[t, j, seg], 1e-9)
    f = (s - arc[t, j, seg]) / length
    return ax + f * dx, ay + f * dy, dx / length, dy / length
