"""RGB rendering of grid states: one cached tile image per cell content (MiniGrid's look)."""

from __future__ import annotations

import functools

import numpy as np

from rewardgym.envs.grid import constants as c

_SUPERSAMPLE = 3
_LAVA_RGB = np.array((255, 128, 0))
_LINE_RGB = np.array((100, 100, 100))


def _coords(size: int) -> tuple[np.ndarray, np.ndarray]:
    centers = (np.arange(size) + 0.5) / size
    return np.meshgrid(centers, centers)  # x grows to the right, y downward


def _rect(x, y, x0, x1, y0, y1):
    return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)


def _circle(x, y, cx, cy, r):
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def _triangle(x, y, a, b, p):
    """Points inside triangle (a, b, p) via the signs of the edge functions."""

    def edge(u, v):
        return (x - v[0]) * (u[1] - v[1]) - (u[0] - v[0]) * (y - v[1])

    d1, d2, d3 = edge(a, b), edge(b, p), edge(p, a)
    negative = (d1 < 0) | (d2 < 0) | (d3 < 0)
    positive = (d1 > 0) | (d2 > 0) | (d3 > 0)
    return ~(negative & positive)


def _draw_object(img, x, y, obj, color, state):
    rgb = np.array(c.COLOR_RGB[color])
    if obj == c.WALL:
        img[_rect(x, y, 0, 1, 0, 1)] = rgb
    elif obj == c.FLOOR:
        img[_rect(x, y, 0.031, 1, 0.031, 1)] = rgb // 2
    elif obj == c.GOAL:
        img[_rect(x, y, 0, 1, 0, 1)] = rgb
    elif obj == c.LAVA:
        img[_rect(x, y, 0, 1, 0, 1)] = _LAVA_RGB
        for row in (0.3, 0.5, 0.7):  # three dark waves
            wave = np.abs(y - row - 0.03 * np.sin(2 * np.pi * x * 3)) < 0.03
            img[wave & _rect(x, y, 0.1, 0.9, 0, 1)] = 0
    elif obj == c.DOOR:
        if state == c.OPEN:
            img[_rect(x, y, 0.88, 1, 0, 1)] = rgb
            img[_rect(x, y, 0.92, 0.96, 0.04, 0.96)] = 0
        elif state == c.LOCKED:
            img[_rect(x, y, 0, 1, 0, 1)] = rgb
            img[_rect(x, y, 0.06, 0.94, 0.06, 0.94)] = (rgb * 0.45).astype(int)
            img[_rect(x, y, 0.52, 0.75, 0.50, 0.56)] = rgb
        else:
            img[_rect(x, y, 0, 1, 0, 1)] = rgb
            img[_rect(x, y, 0.04, 0.96, 0.04, 0.96)] = 0
            img[_rect(x, y, 0.08, 0.92, 0.08, 0.92)] = rgb
            img[_rect(x, y, 0.12, 0.88, 0.12, 0.88)] = 0
            img[_circle(x, y, 0.75, 0.5, 0.08)] = rgb
    elif obj == c.KEY:
        img[_rect(x, y, 0.5, 0.63, 0.31, 0.88)] = rgb  # shaft
        img[_rect(x, y, 0.38, 0.5, 0.59, 0.66)] = rgb  # teeth
        img[_rect(x, y, 0.38, 0.5, 0.81, 0.88)] = rgb
        img[_circle(x, y, 0.56, 0.28, 0.19)] = rgb  # ring
        img[_circle(x, y, 0.56, 0.28, 0.064)] = 0
    elif obj == c.BALL:
        img[_circle(x, y, 0.5, 0.5, 0.31)] = rgb
    elif obj == c.BOX:
        img[_rect(x, y, 0.12, 0.88, 0.12, 0.88)] = rgb
        img[_rect(x, y, 0.18, 0.82, 0.18, 0.82)] = 0
        img[_rect(x, y, 0.16, 0.84, 0.47, 0.53)] = rgb


@functools.lru_cache(maxsize=2048)
def tile(obj: int, color: int, state: int, agent_dir: int, highlight: bool,
         tile_size: int) -> np.ndarray:
    """The image of one cell (``agent_dir`` -1: no agent), anti-aliased by supersampling."""
    size = tile_size * _SUPERSAMPLE
    x, y = _coords(size)
    img = np.zeros((size, size, 3), dtype=np.int64)
    img[_rect(x, y, 0, 0.031, 0, 1) | _rect(x, y, 0, 1, 0, 0.031)] = _LINE_RGB
    _draw_object(img, x, y, obj, color, state)
    if agent_dir >= 0:
        angle = 0.5 * np.pi * agent_dir
        cos, sin = np.cos(angle), np.sin(angle)

        def rotate(px, py):
            return (0.5 + (px - 0.5) * cos - (py - 0.5) * sin,
                    0.5 + (px - 0.5) * sin + (py - 0.5) * cos)

        img[_triangle(x, y, rotate(0.12, 0.19), rotate(0.87, 0.5), rotate(0.12, 0.81))] = (
            255, 0, 0)
    if highlight:
        img = img + (255 - img) * 3 // 10
    small = img.reshape(tile_size, _SUPERSAMPLE, tile_size, _SUPERSAMPLE, 3).mean(axis=(1, 3))
    out = small.astype(np.uint8)
    out.flags.writeable = False
    return out


def render_grid(cells: np.ndarray, agent: np.ndarray, visible: np.ndarray | None,
                tile_size: int = 32) -> np.ndarray:
    """Render one env: ``cells`` ``(W, H, 3)``, ``agent`` (x, y, dir), ``visible`` ``(W, H)``."""
    width, height = cells.shape[0], cells.shape[1]
    img = np.zeros((height * tile_size, width * tile_size, 3), dtype=np.uint8)
    for x in range(width):
        for y in range(height):
            here = x == agent[0] and y == agent[1]
            obj, color, state = (int(v) for v in cells[x, y])
            img[y * tile_size:(y + 1) * tile_size, x * tile_size:(x + 1) * tile_size] = tile(
                obj, color, state, int(agent[2]) if here else -1,
                bool(visible is not None and visible[x, y]), tile_size)
    return img


def visible_cells(width: int, height: int, agent: np.ndarray, vis: np.ndarray,
                  view: int) -> np.ndarray:
    """Map the egocentric visibility mask ``vis`` (``view * view``) back onto the grid."""
    out = np.zeros((width, height), dtype=bool)
    ax, ay, d = (int(v) for v in agent)
    fx, fy = c.DIR_DX[d], c.DIR_DY[d]
    half = view // 2
    for vx in range(view):
        for vy in range(view):
            wx = ax + (vx - half) * -fy + (view - 1 - vy) * fx
            wy = ay + (vx - half) * fx + (view - 1 - vy) * fy
            if 0 <= wx < width and 0 <= wy < height and vis[vx * view + vy]:
                out[wx, wy] = True
    return out
