"""The scenario bank: procedurally generated road templates, built once and then read-only.

A template is a small road network in metres: lane centre lines (polylines resampled every
``DS`` metres, long lanes split into chained pieces), their width, speed limit, traffic-light
group and stop line, successor lanes, and up to ``MAX_ROUTES`` ego routes (a chain of lanes
flattened into one polyline with arc length, stop lines and speed limit per point). A 1 px/m
raster per template answers the point queries of the kernels in O(1) (drivable, junction, and
"in a lane of route r's direction"), and is the road layer of the BEV observation; two more
(``near_lane``, ``near_seg``) name the lane centre line nearest to each cell, for CaRL's
lane-centre distance.

Families (``scenario``): ``road`` (straight or curved, 1–2 lanes each way), ``intersection``
(signalised 4-way, straight/left/right routes), ``t_junction`` (signalised 3-way), ``merge``
(an on-ramp joining a 2-lane road) and ``crossing`` (the signalised 4-way with one route
starting on each arm, route ``r`` on arm ``r``: the multi-ego PettingZoo scenario).  Everything
is drawn from ``numpy.random.default_rng(seed)``, so a bank is a pure function of
``(scenario, num_templates, seed)`` and is cached.
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import NamedTuple

import numpy as np
from numba import njit

DS = 2.0  # resampling step of every polyline (m)
MAX_LANES = 24
MAX_POINTS = 48  # per lane piece: at most (MAX_POINTS - 1) * DS = 94 m
MAX_NEXT = 3
MAX_ROUTES = 4
MAX_ROUTE_POINTS = 160
MAX_STOPS = 2
RASTER = 256  # raster side in cells (1 m each)
LANE_WIDTH = 3.5
DRIVABLE, JUNCTION, ROUTE0 = 1, 2, 4  # raster bits; route r uses ROUTE0 << r
NO_LANE = 255  # near_lane of a cell farther than NEAR_RADIUS from every lane centre line
NEAR_RADIUS = 2.0 * LANE_WIDTH
SPEED_LIMITS = (8.33, 11.11, 13.89)  # 30, 40, 50 km/h
FAMILIES = ("road", "intersection", "t_junction", "merge")  # what "mixed" cycles through
# Families outside "mixed" come after FAMILIES, so the bank seeds of the families above (their
# index + 1) never change.
ALL_FAMILIES = (*FAMILIES, "crossing")


class MapBank(NamedTuple):
    """All templates as arrays (first axis: template), the form numba kernels receive."""

    lane_xy: np.ndarray  # (T, L, P, 2) float64
    lane_s: np.ndarray  # (T, L, P) arc length from the lane start
    lane_n: np.ndarray  # (T, L) points per lane (0: unused slot)
    lane_vlim: np.ndarray  # (T, L) speed limit, m/s
    lane_group: np.ndarray  # (T, L) traffic-light group, -1: none
    lane_stop: np.ndarray  # (T, L) stop-line arc position on the lane, -1: none
    lane_next: np.ndarray  # (T, L, MAX_NEXT) successor lanes, -1: none
    lane_source: np.ndarray  # (T, L) lanes traffic enters the map on
    n_lanes: np.ndarray  # (T,)
    route_xy: np.ndarray  # (T, R, Q, 2)
    route_s: np.ndarray  # (T, R, Q)
    route_n: np.ndarray  # (T, R)
    route_vlim: np.ndarray  # (T, R, Q)
    route_junction: np.ndarray  # (T, R, Q) the point lies in a junction
    route_stop_s: np.ndarray  # (T, R, MAX_STOPS) stop lines along the route, -1: none
    route_stop_group: np.ndarray  # (T, R, MAX_STOPS)
    n_routes: np.ndarray  # (T,)
    n_groups: np.ndarray  # (T,) traffic-light groups (0 = no lights)
    raster: np.ndarray  # (T, RASTER, RASTER) uint8 bits, indexed [row = y, col = x]
    origin: np.ndarray  # (T, 2) world position of the raster's corner
    lane_junction: np.ndarray  # (T, L) the lane lies in a junction
    near_lane: np.ndarray  # (T, RASTER, RASTER) uint8 lane whose centre line is nearest, NO_LANE
    near_seg: np.ndarray  # (T, RASTER, RASTER) uint8 that lane's nearest segment


# ----------------------------------------------------------------------------------------------
# Geometry of polylines (construction time, numpy)


def _resample(points: np.ndarray) -> np.ndarray:
    """Points every ``DS`` metres along ``points`` (first and last kept)."""
    seg = np.linalg.norm(np.diff(points, axis=0), axis=1)
    s = np.concatenate(([0.0], np.cumsum(seg)))
    n = max(2, math.ceil(s[-1] / DS) + 1)
    targets = np.linspace(0.0, s[-1], n)
    return np.stack([np.interp(targets, s, points[:, 0]), np.interp(targets, s, points[:, 1])], 1)


def _straight(start: np.ndarray, heading: float, length: float) -> np.ndarray:
    t = np.linspace(0.0, length, max(2, math.ceil(length) + 1))[:, None]
    return start + t * np.array([math.cos(heading), math.sin(heading)])


def _arc(start: np.ndarray, heading: float, radius: float, angle: float) -> np.ndarray:
    """An arc turning left for ``angle > 0``."""
    side = 1.0 if angle > 0 else -1.0
    centre = start + side * radius * np.array([-math.sin(heading), math.cos(heading)])
    phi0 = heading - side * math.pi / 2
    phis = phi0 + np.linspace(0.0, angle, max(2, math.ceil(abs(angle) * radius) + 1))
    return centre + radius * np.stack([np.cos(phis), np.sin(phis)], 1)


def _bezier(p0: np.ndarray, h0: float, p1: np.ndarray, h1: float) -> np.ndarray:
    """A cubic joining ``p0`` (heading ``h0``) to ``p1`` (heading ``h1``)."""
    d = 0.4 * float(np.linalg.norm(p1 - p0))
    c0 = p0 + d * np.array([math.cos(h0), math.sin(h0)])
    c1 = p1 - d * np.array([math.cos(h1), math.sin(h1)])
    t = np.linspace(0.0, 1.0, 41)[:, None]
    return ((1 - t) ** 3) * p0 + 3 * ((1 - t) ** 2) * t * c0 + 3 * (1 - t) * t * t * c1 + (
        t ** 3) * p1


def _offset(points: np.ndarray, lateral: float) -> np.ndarray:
    """``points`` shifted ``lateral`` metres to the left of their direction of travel."""
    d = np.gradient(points, axis=0)
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    return points + lateral * np.stack([-d[:, 1], d[:, 0]], 1)


class _Builder:
    """Collects one template's lanes and routes, then packs them into bank slots."""

    def __init__(self, vlim: float) -> None:
        self.vlim = vlim
        self.lanes: list[dict] = []
        self.routes: list[list[int]] = []
        self.groups = 0
        self.boxes: list[tuple[float, float, float]] = []  # junction squares (x, y, half side)

    def lane(self, points: np.ndarray, *, group: int = -1, stop: bool = False,
             junction: bool = False, direction: int = 0) -> list[int]:
        """Add a lane (split into pieces of <= MAX_POINTS points); returns the piece ids."""
        pts = _resample(points)
        ids = []
        start = 0
        while True:
            end = min(start + MAX_POINTS - 1, len(pts) - 1)
            ids.append(len(self.lanes))
            self.lanes.append({"xy": pts[start:end + 1], "group": -1, "stop": False,
                               "junction": junction, "direction": direction, "next": []})
            if end == len(pts) - 1:
                break
            start = end
        for a, b in itertools.pairwise(ids):
            self.lanes[a]["next"].append(b)
        self.lanes[ids[-1]]["group"] = group
        self.lanes[ids[-1]]["stop"] = stop
        return ids

    def connect(self, a: list[int], b: list[int]) -> None:
        self.lanes[a[-1]]["next"].append(b[0])


def _road(rng: np.random.Generator, b: _Builder) -> None:
    """A straight or curved road, 1–2 lanes each way; routes follow each forward lane."""
    lead = rng.uniform(30.0, 70.0)
    angle = rng.choice([0.0, 1.0]) * rng.uniform(0.4, 1.6) * rng.choice([-1.0, 1.0])
    radius = rng.uniform(40.0, 120.0)
    tail = rng.uniform(30.0, 70.0)
    centre = _straight(np.zeros(2), 0.0, lead)
    if angle != 0.0:
        bend = _arc(centre[-1], 0.0, radius, angle)
        centre = np.concatenate([centre, bend[1:]])
    heading = float(angle)
    centre = np.concatenate([centre, _straight(centre[-1], heading, tail)[1:]])
    lanes_each_way = int(rng.integers(1, 3))
    for i in range(lanes_each_way):
        forward = b.lane(_offset(centre, -(i + 0.5) * LANE_WIDTH), direction=0)
        b.lane(_offset(centre[::-1], -(i + 0.5) * LANE_WIDTH), direction=1)
        b.routes.append(forward)


def _arm_lanes(b: _Builder, theta: float, inner: float, outer: float, group: int,
               arm: int) -> tuple[list[int], list[int], np.ndarray, np.ndarray]:
    """Incoming and outgoing lanes of the arm pointing along ``theta`` (one lane each way)."""
    u = np.array([math.cos(theta), math.sin(theta)])
    left = np.array([-u[1], u[0]])
    half = LANE_WIDTH / 2
    out_start = inner * u - half * left
    outgoing = b.lane(np.stack([out_start, outer * u - half * left]), direction=2 * arm)
    in_end = inner * u + half * left
    incoming = b.lane(np.stack([outer * u + half * left, in_end]), group=group, stop=group >= 0,
                      direction=2 * arm + 1)
    return incoming, outgoing, in_end, out_start


def _junction(rng: np.random.Generator, b: _Builder, arms: tuple[int, ...],
              ego_arms: tuple[int, ...], one_per_arm: bool = False) -> None:
    """A signalised junction of ``arms`` (multiples of 90°); routes start on ``ego_arms``.

    By default up to ``MAX_ROUTES`` of those routes are kept in random order. With
    ``one_per_arm``, route ``i`` starts on ``ego_arms[i]`` with a random exit, so egos given
    distinct routes spawn on distinct arms (50 m or more apart).
    """
    inner = LANE_WIDTH * 2.0
    b.boxes.append((0.0, 0.0, inner))
    b.groups = 2
    ends = {}
    for arm in arms:
        outer = rng.uniform(50.0, 80.0)
        group = arm % 2 if len(arms) == 4 else (0 if arm == arms[0] else 1)
        ends[arm] = _arm_lanes(b, arm * math.pi / 2, inner, outer, group, arm)
    routes = []
    per_arm: dict[int, list[list[int]]] = {a: [] for a in ego_arms}
    for a in arms:
        incoming, _, p0, _ = ends[a]
        for c in arms:
            if c == a:
                continue
            _, outgoing, _, p1 = ends[c]
            h0 = a * math.pi / 2 + math.pi
            h1 = c * math.pi / 2
            link = b.lane(_bezier(p0, h0, p1, h1), junction=True, direction=100 + len(b.lanes))
            b.connect(incoming, link)
            b.connect(link, outgoing)
            if a in ego_arms:
                routes.append(incoming + link + outgoing)
                per_arm[a].append(routes[-1])
    if one_per_arm:
        # Drawn after all lanes, like the permutation below, so lane geometry is drawn alike.
        b.routes.extend(per_arm[a][int(rng.integers(len(per_arm[a])))]
                        for a in ego_arms[:MAX_ROUTES])
        return
    order = rng.permutation(len(routes))[:MAX_ROUTES]
    b.routes.extend(routes[i] for i in order)


def _merge(rng: np.random.Generator, b: _Builder) -> None:
    """A 2-lane road with an on-ramp joining its right lane."""
    before, after = rng.uniform(60.0, 90.0), rng.uniform(60.0, 90.0)
    half = LANE_WIDTH / 2
    left = b.lane(np.stack([[-before, half], [after, half]]), direction=0)
    right_a = b.lane(np.stack([[-before, -half], [0.0, -half]]), direction=0)
    right_b = b.lane(np.stack([[0.0, -half], [after, -half]]), direction=0)
    b.connect(right_a, right_b)
    angle = rng.uniform(0.2, 0.4)
    start = np.array([-before * 0.9, -half - before * 0.9 * math.tan(angle) * 0.5])
    ramp = b.lane(_bezier(start, angle, np.array([0.0, -half]), 0.0), direction=0)
    b.connect(ramp, right_b)
    b.routes.extend([ramp + right_b, right_a + right_b, left])


@njit(cache=True)
def _stamp(raster, origin, xy, n, half_width, bits):
    """Set ``bits`` in every cell whose centre lies within ``half_width`` of the polyline."""
    size = raster.shape[0]
    for j in range(n - 1):
        ax, ay = xy[j, 0] - origin[0], xy[j, 1] - origin[1]
        bx, by = xy[j + 1, 0] - origin[0], xy[j + 1, 1] - origin[1]
        dx, dy = bx - ax, by - ay
        length2 = max(dx * dx + dy * dy, 1e-9)
        x0 = max(math.floor(min(ax, bx) - half_width), 0)
        x1 = min(math.ceil(max(ax, bx) + half_width), size - 1)
        y0 = max(math.floor(min(ay, by) - half_width), 0)
        y1 = min(math.ceil(max(ay, by) + half_width), size - 1)
        for cy in range(y0, y1 + 1):
            for cx in range(x0, x1 + 1):
                px, py = cx + 0.5 - ax, cy + 0.5 - ay
                t = min(max((px * dx + py * dy) / length2, 0.0), 1.0)
                ex, ey = px - t * dx, py - t * dy
                if ex * ex + ey * ey <= half_width * half_width:
                    raster[cy, cx] |= bits


@njit(cache=True)
def _stamp_nearest(dist, near_lane, near_seg, origin, xy, n, lane, radius):
    """Mark the cells within ``radius`` whose nearest centre line so far is ``lane``'s.

    ``near_lane``/``near_seg`` get the lane and segment wherever this lane's centre line is
    nearer than every lane stamped before (``dist`` holds squared distances).
    """
    size = dist.shape[0]
    for j in range(n - 1):
        ax, ay = xy[j, 0] - origin[0], xy[j, 1] - origin[1]
        bx, by = xy[j + 1, 0] - origin[0], xy[j + 1, 1] - origin[1]
        dx, dy = bx - ax, by - ay
        length2 = max(dx * dx + dy * dy, 1e-9)
        x0 = max(math.floor(min(ax, bx) - radius), 0)
        x1 = min(math.ceil(max(ax, bx) + radius), size - 1)
        y0 = max(math.floor(min(ay, by) - radius), 0)
        y1 = min(math.ceil(max(ay, by) + radius), size - 1)
        for cy in range(y0, y1 + 1):
            for cx in range(x0, x1 + 1):
                px, py = cx + 0.5 - ax, cy + 0.5 - ay
                t = min(max((px * dx + py * dy) / length2, 0.0), 1.0)
                ex, ey = px - t * dx, py - t * dy
                d2 = ex * ex + ey * ey
                if d2 <= radius * radius and d2 < dist[cy, cx]:
                    dist[cy, cx] = d2
                    near_lane[cy, cx] = lane
                    near_seg[cy, cx] = j


def _pack(builders: list[_Builder]) -> MapBank:
    t = len(builders)
    bank = MapBank(
        lane_xy=np.zeros((t, MAX_LANES, MAX_POINTS, 2)),
        lane_s=np.zeros((t, MAX_LANES, MAX_POINTS)),
        lane_n=np.zeros((t, MAX_LANES), np.int64), lane_vlim=np.ones((t, MAX_LANES)),
        lane_group=np.full((t, MAX_LANES), -1, np.int64), lane_stop=np.full((t, MAX_LANES), -1.0),
        lane_next=np.full((t, MAX_LANES, MAX_NEXT), -1, np.int64),
        lane_source=np.zeros((t, MAX_LANES), np.bool_), n_lanes=np.zeros(t, np.int64),
        route_xy=np.zeros((t, MAX_ROUTES, MAX_ROUTE_POINTS, 2)),
        route_s=np.zeros((t, MAX_ROUTES, MAX_ROUTE_POINTS)),
        route_n=np.zeros((t, MAX_ROUTES), np.int64),
        route_vlim=np.ones((t, MAX_ROUTES, MAX_ROUTE_POINTS)),
        route_junction=np.zeros((t, MAX_ROUTES, MAX_ROUTE_POINTS), np.bool_),
        route_stop_s=np.full((t, MAX_ROUTES, MAX_STOPS), -1.0),
        route_stop_group=np.full((t, MAX_ROUTES, MAX_STOPS), -1, np.int64),
        n_routes=np.zeros(t, np.int64), n_groups=np.zeros(t, np.int64),
        raster=np.zeros((t, RASTER, RASTER), np.uint8), origin=np.zeros((t, 2)),
        lane_junction=np.zeros((t, MAX_LANES), np.bool_),
        near_lane=np.full((t, RASTER, RASTER), NO_LANE, np.uint8),
        near_seg=np.zeros((t, RASTER, RASTER), np.uint8))
    for k, b in enumerate(builders):
        if len(b.lanes) > MAX_LANES or not 1 <= len(b.routes) <= MAX_ROUTES:
            raise RuntimeError(f"template {k}: {len(b.lanes)} lanes, {len(b.routes)} routes")
        allxy = np.concatenate([lane["xy"] for lane in b.lanes])
        centre = (allxy.min(0) + allxy.max(0)) / 2
        bank.origin[k] = centre - RASTER / 2
        has_pred = {n for lane in b.lanes for n in lane["next"]}
        dist = np.full((RASTER, RASTER), np.inf)
        for j, lane in enumerate(b.lanes):
            xy = lane["xy"]
            n = len(xy)
            bank.lane_xy[k, j, :n] = xy
            bank.lane_s[k, j, :n] = np.concatenate(([0.0], np.cumsum(
                np.linalg.norm(np.diff(xy, axis=0), axis=1))))
            bank.lane_n[k, j] = n
            bank.lane_vlim[k, j] = b.vlim
            bank.lane_group[k, j] = lane["group"]
            bank.lane_stop[k, j] = bank.lane_s[k, j, n - 1] if lane["stop"] else -1.0
            bank.lane_next[k, j, :len(lane["next"])] = lane["next"]
            bank.lane_source[k, j] = j not in has_pred
            _stamp(bank.raster[k], bank.origin[k], xy, n, LANE_WIDTH / 2 + 0.5, DRIVABLE)
            bank.lane_junction[k, j] = lane["junction"]
            _stamp_nearest(dist, bank.near_lane[k], bank.near_seg[k], bank.origin[k], xy, n, j,
                           NEAR_RADIUS)
        for x, y, half in b.boxes:
            lo = np.floor(np.array([x, y]) - half - bank.origin[k]).astype(int)
            hi = np.ceil(np.array([x, y]) + half - bank.origin[k]).astype(int)
            bank.raster[k, lo[1]:hi[1], lo[0]:hi[0]] |= DRIVABLE | JUNCTION
        bank.n_lanes[k] = len(b.lanes)
        bank.n_groups[k] = b.groups
        bank.n_routes[k] = len(b.routes)
        for r, chain in enumerate(b.routes):
            _pack_route(bank, k, r, b, chain)
    for array in bank:
        array.setflags(write=False)
    return bank


def _pack_route(bank: MapBank, k: int, r: int, b: _Builder, chain: list[int]) -> None:
    points, junction, stops = [], [], []
    offset = 0.0
    for piece, lane in enumerate(chain):
        xy = b.lanes[lane]["xy"][(1 if piece else 0):]
        points.append(xy)
        junction.extend([b.lanes[lane]["junction"]] * len(xy))
        length = float(bank.lane_s[k, lane, bank.lane_n[k, lane] - 1])
        if b.lanes[lane]["stop"]:
            stops.append((offset + length, b.lanes[lane]["group"]))
        offset += length
    xy = np.concatenate(points)
    n = len(xy)
    if n > MAX_ROUTE_POINTS or len(stops) > MAX_STOPS:
        raise RuntimeError(f"template {k} route {r}: {n} points, {len(stops)} stops")
    bank.route_xy[k, r, :n] = xy
    bank.route_s[k, r, :n] = np.concatenate(([0.0], np.cumsum(
        np.linalg.norm(np.diff(xy, axis=0), axis=1))))
    bank.route_n[k, r] = n
    bank.route_vlim[k, r, :n] = b.vlim
    bank.route_junction[k, r, :n] = junction
    for j, (s, group) in enumerate(stops):
        bank.route_stop_s[k, r, j] = s
        bank.route_stop_group[k, r, j] = group
    # "Route lanes": every lane driving the same way as a lane of the route.
    directions = {b.lanes[lane]["direction"] for lane in chain}
    for lane in b.lanes:
        if lane["direction"] in directions:
            _stamp(bank.raster[k], bank.origin[k], lane["xy"], len(lane["xy"]),
                   LANE_WIDTH / 2 + 0.5, ROUTE0 << r)
    for x, y, half in b.boxes:
        if any(b.lanes[lane]["junction"] for lane in chain):
            lo = np.floor(np.array([x, y]) - half - bank.origin[k]).astype(int)
            hi = np.ceil(np.array([x, y]) + half - bank.origin[k]).astype(int)
            bank.raster[k, lo[1]:hi[1], lo[0]:hi[0]] |= ROUTE0 << r


def _template(family: str, rng: np.random.Generator) -> _Builder:
    b = _Builder(float(rng.choice(SPEED_LIMITS)))
    if family == "road":
        _road(rng, b)
    elif family == "intersection":
        _junction(rng, b, (0, 1, 2, 3), (3,))
    elif family == "t_junction":
        _junction(rng, b, (3, 0, 2), (3, 0))
    elif family == "crossing":
        _junction(rng, b, (0, 1, 2, 3), (0, 1, 2, 3), one_per_arm=True)
    else:
        _merge(rng, b)
    return b


@functools.lru_cache(maxsize=16)
def build_bank(scenario: str, num_templates: int, seed: int) -> MapBank:
    """The (cached, read-only) scenario bank for ``scenario`` (``"mixed"`` cycles families)."""
    rng = np.random.default_rng([seed, ALL_FAMILIES.index(scenario) + 1
                                 if scenario in ALL_FAMILIES else 0])
    families = FAMILIES if scenario == "mixed" else (scenario,)
    return _pack([_template(families[k % len(families)], rng) for k in range(num_templates)])
