"""RouteDrive's ego dynamics and route tracking, one ego and one tick per call.

:func:`move_ego` is the kinematic bicycle (centre of mass, Rajamani, "Vehicle Dynamics and
Control", 2012, §2.2); :func:`project` places a pose on the route polyline and
:func:`track_route` turns it into CaRL's route completion (a percentage of the route, its best
value monotone, its gain this tick the progress every reward mode starts from).
"""

from __future__ import annotations

import math

from numba import njit

from rewardgym.envs.driving.geometry import wrap_angle
from rewardgym.envs.driving.state import (
    E_ACC,
    E_COS,
    E_LAT,
    E_LEN,
    E_PSI,
    E_RCMAX,
    E_ROUTE,
    E_S,
    E_S0,
    E_SEG,
    E_SIN,
    E_STEER,
    E_V,
    E_X,
    E_Y,
    E_YAW,
    E_YR,
    W_TMPL,
)


@njit(cache=True, inline="always")
def move_ego(ef, p, actions, w, e, row):
    """Kinematic bicycle (centre of mass, Rajamani 2012) for one tick."""
    target = p.max_steer * actions[row, 0]
    limit = p.steer_rate * p.dt
    steer = ef[w, e, E_STEER] + min(max(target - ef[w, e, E_STEER], -limit), limit)
    a = actions[row, 1]
    acc = p.max_accel * a if a > 0.0 else p.max_brake * a
    v_old = ef[w, e, E_V]
    v = min(max(v_old + acc * p.dt, 0.0), p.max_speed)
    beta = math.atan(0.5 * math.tan(steer))
    yaw_rate = v * math.cos(beta) * math.tan(steer) / p.wheelbase
    yaw = ef[w, e, E_YAW]
    ef[w, e, E_X] += v * math.cos(yaw + beta) * p.dt
    ef[w, e, E_Y] += v * math.sin(yaw + beta) * p.dt
    ef[w, e, E_YAW] = wrap_angle(yaw + yaw_rate * p.dt)
    ef[w, e, E_COS], ef[w, e, E_SIN] = math.cos(ef[w, e, E_YAW]), math.sin(ef[w, e, E_YAW])
    ef[w, e, E_V], ef[w, e, E_STEER] = v, steer
    ef[w, e, E_ACC], ef[w, e, E_YR] = (v - v_old) / p.dt, yaw_rate


@njit(cache=True, inline="always")
def project(route_xy, route_s, tm, r, n, x, y, yaw, start):
    """``(segment, arc, lateral offset (left +), heading error)`` of a pose on route ``r``.

    Searches a window of segments around the cached ``start`` (the car moves < 3 m a tick).
    """
    best, seg, best_f = 1e18, start, 0.0
    for j in range(max(start - 1, 0), min(start + 7, n - 1)):
        ax, ay = route_xy[tm, r, j, 0], route_xy[tm, r, j, 1]
        dx, dy = route_xy[tm, r, j + 1, 0] - ax, route_xy[tm, r, j + 1, 1] - ay
        f = min(max(((x - ax) * dx + (y - ay) * dy) / max(dx * dx + dy * dy, 1e-9), 0.0), 1.0)
        d2 = (x - ax - f * dx) ** 2 + (y - ay - f * dy) ** 2
        if d2 < best:
            best, seg, best_f = d2, j, f
    ax, ay = route_xy[tm, r, seg, 0], route_xy[tm, r, seg, 1]
    dx, dy = route_xy[tm, r, seg + 1, 0] - ax, route_xy[tm, r, seg + 1, 1] - ay
    arc = route_s[tm, r, seg] + best_f * (route_s[tm, r, seg + 1] - route_s[tm, r, seg])
    length = max(math.sqrt(dx * dx + dy * dy), 1e-9)
    lat = ((x - ax) * -dy + (y - ay) * dx) / length
    return seg, arc, lat, wrap_angle(yaw - math.atan2(dy, dx))


@njit(cache=True, inline="always")
def track_route(bank, wd, w, e):
    """Project ego ``e`` on its route; returns ``(progress, rc)`` of this tick.

    Stores the segment, arc position, lateral offset and heading error; ``rc`` is the route
    completion in percent (0-100) at this pose and ``progress`` its gain over the best so far
    (CaRL/nuPlan: ``max(0, RC - RC_prev_max)``), which ``E_RCMAX`` then keeps.
    """
    ef, ei = wd.ef, wd.ei
    tm, r = wd.wi[w, W_TMPL], ei[w, e, E_ROUTE]
    n = bank.route_n[tm, r]
    x, y, yaw = ef[w, e, E_X], ef[w, e, E_Y], ef[w, e, E_YAW]
    seg, s_here, lat, psi = project(bank.route_xy, bank.route_s, tm, r, n, x, y, yaw,
                                    ei[w, e, E_SEG])
    ei[w, e, E_SEG] = seg
    ef[w, e, E_S], ef[w, e, E_LAT], ef[w, e, E_PSI] = s_here, lat, psi
    rc = min(max(100.0 * (s_here - ef[w, e, E_S0]) / ef[w, e, E_LEN], 0.0), 100.0)
    progress = max(rc - ef[w, e, E_RCMAX], 0.0)
    ef[w, e, E_RCMAX] = max(ef[w, e, E_RCMAX], rc)
    return progress, rc
