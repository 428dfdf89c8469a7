"""Prompt cards: what a model is told about an env and a task, versioned and hashed.

A card is data (research notes ``llm_rewards.md`` §8.2): the environment card (what the agent
is, its actions with units and bounds, ``dt``, how episodes end, the frame conventions), the
feature view rendered from the family's ``describe()``, the task text and the env's success
predicate. Its numeric facts (``dt``, the action names, the episode length) are checked against
the live env by the tests, so a card cannot silently drift from its env; :meth:`TaskCard.hash`
(of the rendered messages and :data:`CARD_VERSION`) goes into every artefact.

The system prompt is our own wording; its tips (named terms, a named temperature per transformed
term, comparable scales, documented inputs only) follow Eureka's (Ma et al., ICLR 2024, MIT).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import gymnasium as gym

from rewardgym.wrappers.llm.program import BUILTINS, MATH_FUNCS, NP_FUNCS
from rewardgym.wrappers.llm.views import RewardView, view_of

CARD_VERSION = 1

SYSTEM = f"""You are a reward engineer. You write dense reward functions that let a reinforcement \
learning agent learn a task quickly.

Reply with ONE ```python code block holding exactly this function and nothing else:

def compute_reward(obs, action, next_obs):
    ...
    return total, {{"term_name": term_value, ...}}

Rules (programs that break them are rejected before they run):
- obs and next_obs are the state before and after the step; read ONLY the documented features, \
by name (next_obs.feature_name). Scalar features are floats, vector features are 1-D float arrays.
- Only `import numpy as np` and `import math`. Callable: np.{{{",".join(NP_FUNCS)}}}, \
np.linalg.norm, math.{{{",".join(MATH_FUNCS)}}} and \
{", ".join(b for b in BUILTINS if b != "range")}.
- No while loops, no recursion, no helper functions, no strings except the term names; \
`for i in range(N)` only with a literal N.
- Module-level numeric constants are allowed (e.g. TEMP_SPEED = 0.5).
- Return the total as a float and a dict literal of 1 to 8 named terms (lowercase names) that \
sum to the total.

Tips: give every transformed term its own named temperature constant (e.g. math.exp(-d / \
TEMP_DIST)); keep the terms on comparable scales; reward progress towards the goal, not only \
reaching it; keep penalties small."""


PREFILL = ("```python\nimport math\nimport numpy as np\n\n"
           "def compute_reward(obs, action, next_obs):")
"""The start of the reply for a small model (a prefill): the fence, the two allowed imports and
the exact signature line; the model writes the body only (``style="small"``). It ends at the
colon, not at a newline: BPE tokenizers merge a newline with the next line's indentation, so a
prompt ending in a bare newline token is one the model never saw in training (with SmolLM2 it
then closes the block at once)."""

_EXAMPLE_TEMPLATE = '''```python
import math
import numpy as np

def compute_reward(obs, action, next_obs):
{body}
```'''

SMALL_EXAMPLES: dict[str, tuple[str, str]] = {
    # family: (the different task the example solves, the body of its program)
    "locomotion": ("a hopper must hop FORWARD (towards +x) and stay upright",
                   "    forward = next_obs.vel_x\n"
                   "    upright = 0.5 * next_obs.up_z\n"
                   "    total = forward + upright\n"
                   "    return total, {\"forward\": forward, \"upright\": upright}"),
    "grid": ("an empty room without doors; the agent must reach the goal square",
             "    progress = 0.1 * (obs.dist_goal - next_obs.dist_goal)\n"
             "    goal = next_obs.at_goal\n"
             "    total = progress + goal\n"
             "    return total, {\"progress\": progress, \"goal\": goal}"),
    # Families without an example of their own get one whose features exist in no view.
    "other": ("a cart on a rail keeps a pole upright; features pole_angle (rad), cart_x (m)",
              "    upright = math.cos(next_obs.pole_angle)\n"
              "    centre = -0.1 * abs(next_obs.cart_x)\n"
              "    total = upright + centre\n"
              "    return total, {\"upright\": upright, \"centre\": centre}"),
}
"""One-shot examples of the small-model card: per family, a program for a DIFFERENT task (a
forward-hopping robot for locomotion, a doorless room for grids), reading that family's real
feature names, so the model sees the view's idiom; a verbatim copy passes the checker but solves
the other task, which the README's measurements check for."""


def example_body(family: str) -> str:
    """The body of the one-shot example program the small card shows for ``family``."""
    return SMALL_EXAMPLES.get(family, SMALL_EXAMPLES["other"])[1]


def small_system(family: str) -> str:
    """The small-model system prompt for a family.

    The format in three lines and the family's one-shot example for a different task
    (:data:`SMALL_EXAMPLES`).
    """
    task, body = SMALL_EXAMPLES.get(family, SMALL_EXAMPLES["other"])
    return ("You write Python reward functions for reinforcement learning. Reply with one "
            "```python block: def compute_reward(obs, action, next_obs) that reads "
            "features as next_obs.name (floats), uses only math and np, computes two or "
            "three named terms and returns (total, {\"name\": value}), then closes the "
            f"block.\n\nExample for a different task ({task}):\n"
            + _EXAMPLE_TEMPLATE.format(body=body))


STYLES = ("full", "compact", "small")

SYSTEM_COMPACT = ("You write Python reward functions. Reply with one ```python block defining "
                  "def compute_reward(obs, action, next_obs) that returns (total, {\"name\": "
                  "value}). Read features as next_obs.name. Use only math and numpy as np.")


@dataclass(frozen=True)
class TaskCard:
    """A task's prompt card (see the module docstring).

    Example:
        >>> import gymnasium as gym, rewardgym
        >>> card = card_for("rewardgym/DoorKey-5x5-v0")
        >>> messages = card.messages(gym.make("rewardgym/DoorKey-5x5-v0"))
        >>> [m["role"] for m in messages], "dist_key" in messages[1]["content"]
        (['system', 'user'], True)
    """

    env_id: str
    family: str
    title: str
    description: str
    actions: tuple[str, ...]
    dt: float | None
    termination: str
    frames: str
    task: str
    success: str
    version: int = CARD_VERSION
    action_meaning: str = "the torques of the joints"

    def render(self, env: gym.Env, *, compact: bool = False, style: str | None = None) -> str:
        """The user message: environment card, feature table, task and success predicate.

        ``style``: ``"full"`` (the default), ``"compact"`` (``compact=True``: the features by
        name and unit only, no frames or episode end: a prompt small enough for a tiny local
        model on a CPU) or ``"small"`` (each scalar feature with its one-line meaning, vector
        features named as arrays, the task and the success predicate).
        """
        view = view_of(env)
        style = _style(compact, style)
        if style == "small":
            lines = []
            for f in view.features:
                if f.scalar:
                    lines.append(f"- {f.name}: {f.doc} ({f.unit})")
                else:
                    lines.append(f"- {f.name}: array of {f.size}, {f.doc} ({f.unit})")
            return (f"Task: {self.task}\nSuccess: {self.success}\nFeatures of obs and next_obs "
                    f"({self.title}):\n" + "\n".join(lines)
                    + "\nWrite compute_reward for this task.")
        if style == "compact":
            names = ", ".join(f"{f.name} ({f.unit})" for f in view.features)
            return (f"Environment: {self.title}. Features of obs and next_obs: {names}.\n"
                    f"Task: {self.task}\nWrite compute_reward for this task.")
        space = env.action_space
        if isinstance(space, gym.spaces.Discrete):
            acts = "\n".join(f"  {i}: {name}" for i, name in enumerate(self.actions))
            action_text = (f"action is a float holding the index of a discrete action "
                           f"(Discrete({space.n})):\n{acts}")
        else:
            low, high = float(space.low.min()), float(space.high.max())
            action_text = (f"action is a float array of shape {space.shape}, each entry in "
                           f"[{low:g}, {high:g}], {self.action_meaning} "
                           + ", ".join(self.actions))
        spec = env.spec
        limit = f" Episodes are cut after {spec.max_episode_steps} steps." \
            if spec is not None and spec.max_episode_steps else ""
        dt = f"\nEach step lasts dt = {self.dt:g} s." if self.dt is not None else ""
        return (f"# Environment: {self.title} ({self.env_id})\n{self.description}{dt}\n\n"
                f"## Actions\n{action_text}\n\n## Episode end\n{self.termination}{limit}\n\n"
                f"## Frames and units\n{self.frames}\n\n"
                f"## Features of obs and next_obs ({view.family} view)\n{view.describe()}\n\n"
                f"## Task\n{self.task}\n\n## Success (how the result is judged)\n{self.success}\n"
                f"\nWrite compute_reward for this task.")

    def messages(self, env: gym.Env, *, compact: bool = False,
                 style: str | None = None) -> list[dict[str, str]]:
        """``[system, user]`` chat messages for this card on ``env`` (see :meth:`render`).

        The ``"small"`` style's system prompt carries a one-shot example for a different task
        (:func:`small_system`); pair it with the :data:`PREFILL` reply start where the server
        allows one.
        """
        style = _style(compact, style)
        system = {"full": SYSTEM, "compact": SYSTEM_COMPACT,
                  "small": small_system(self.family)}[style]
        return [{"role": "system", "content": system},
                {"role": "user", "content": self.render(env, style=style)}]

    def hash(self, env: gym.Env, *, compact: bool = False, style: str | None = None) -> str:
        """SHA-256 of the rendered messages and the card version (goes into artefacts)."""
        body = json.dumps({"version": self.version,
                           "messages": self.messages(env, compact=compact, style=style)},
                          sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()


def _style(compact: bool, style: str | None) -> str:
    if style is None:
        return "compact" if compact else "full"
    if style not in STYLES:
        raise ValueError(f"card style must be one of {STYLES}, got {style!r}")
    if compact and style != "compact":
        raise ValueError(f"compact=True contradicts style={style!r}")
    return style


_GRID_ACTIONS = ("turn left", "turn right", "move forward", "pick up the object in front",
                 "drop the carried object", "toggle (open/close) the door in front", "done (no-op)")


def _doorkey(size: int) -> TaskCard:
    return TaskCard(
        env_id=f"rewardgym/DoorKey-{size}x{size}-v0", family="grid",
        title=f"DoorKey {size}x{size}",
        description=("A grid world split by a wall with one locked door. The key of the door lies "
                     "on the agent's side, the green goal square on the other. The agent sees a "
                     "7x7 egocentric window; the reward program sees the full state below."),
        actions=_GRID_ACTIONS, dt=None,
        termination=("The episode terminates when the agent steps onto the goal square and is "
                     "truncated after max_steps steps (a feature)."),
        frames=("Cells are (x, y) with x the column (0 = left wall) and y the row (0 = top "
                "wall); heading 0 faces +x, 1 faces +y (down), 2 faces -x, 3 faces -y. "
                "Distances are BFS moves (turns not counted)."),
        task="Pick up the key, open the door with it, then reach the green goal square.",
        success=("at_goal == 1 (the env's own reward is 1 - 0.9 * step_count / max_steps on "
                 "success, else 0)."))


CARDS: dict[str, TaskCard] = {c.env_id: c for c in (_doorkey(s) for s in (5, 6, 8, 16))}
CARDS["rewardgym/HalfCheetahBackward-v1"] = TaskCard(
    env_id="rewardgym/HalfCheetahBackward-v1", family="locomotion", title="HalfCheetah backward",
    description=("A planar two-legged cheetah (MuJoCo, Gymnasium's v5 model): a torso with a back "
                 "and a front leg of three hinges each. It moves in the x-z plane."),
    actions=("bthigh", "bshin", "bfoot", "fthigh", "fshin", "ffoot"), dt=0.05,
    termination="Never terminates early.",
    frames=("World frame: +x is forward, +z is up. pitch is the accumulated root hinge angle "
            "(a full flip reads 2*pi). Lengths in m, angles in rad."),
    task="Run BACKWARDS (towards -x) as fast as possible.",
    success=("The torso's average x velocity over the last 100 steps is below -2 m/s "
             "(info['is_success'])."))


def _ant_lie_down(version: int) -> TaskCard:
    """v1 asks for the pose at any time; v2 for a hold that begins within 15 steps (0.75 s)."""
    # v1's text is kept byte for byte: its hash keys the recorded cassettes.
    task = "Lie down: bring the torso low to the floor while keeping its top side up."
    success = "torso_z < 0.4 m with up_z >= 0.9 for 20 consecutive steps"
    if version == 2:
        task = ("Lie down quickly: within 0.75 s of the start bring the torso low to the floor, "
                "top side up, and keep it there. A relaxed ant sinks down too slowly to count.")
        success = ("torso_z <= 0.4 m with up_z >= 0.9 for 20 consecutive steps, a hold that "
                   "begins within the first 15 steps (0.75 s)")
    return TaskCard(
        env_id=f"rewardgym/AntLieDown-v{version}", family="locomotion", title="Ant lie down",
        description=("A quadruped ant (MuJoCo, Gymnasium's v5 model): a torso and four two-link "
                     "legs with a hip and an ankle hinge each. It starts standing, torso 0.75 m "
                     "up."),
        actions=("hip_4", "ankle_4", "hip_1", "ankle_1", "hip_2", "ankle_2", "hip_3",
                 "ankle_3"),
        dt=0.05, termination="Never terminates early.",
        frames=("World frame: +z is up. up_z is the z component of the torso's up axis (1 "
                "upright, -1 upside down). Lengths in m, angles in rad."),
        task=task, success=success + " (info['is_success']).")


CARDS.update({card.env_id: card for card in (_ant_lie_down(1), _ant_lie_down(2))})

# RouteDrive (envs/driving): its numbers (dt, steering and acceleration scales) are checked
# against the live env's config by the tests.
CARDS["rewardgym/RouteDrive-v1"] = TaskCard(
    env_id="rewardgym/RouteDrive-v1", family="driving", title="RouteDrive (route driving)",
    description=("A car drives a given route through a procedurally generated 2D road scene "
                 "(straight and curved multi-lane roads, signalised 4-way and T junctions, an "
                 "on-ramp merge) among traffic cars that follow their lanes and stop for red "
                 "lights, except a few reckless ones. After CaRL (CoRL 2025)."),
    actions=("steer (x 0.6 rad front-wheel angle, + turns left, at most 2 rad/s)",
             "accel (+1 = +3 m/s^2 throttle, -1 = -6 m/s^2 brake; no reverse)"),
    action_meaning="the car's controls:", dt=0.1,
    termination=("Terminates on a collision, crossing a stop line on red, leaving the road, "
                 "leaving the route, driving the wrong way, standing still too long (blocked), "
                 "or finishing the route (route_done); truncated at the route's time limit."),
    frames=("Speeds in m/s, distances in m, angles in rad; lateral error and steering are "
            "positive to the left. route_completion is a percentage of the route (0-100). The "
            "infraction features are the last step's flags (0/1) or severities (0-1)."),
    task=("Drive the route to its end: make progress along it, keep near the lane centre and "
          "under the speed limit, keep a safe gap to other cars, stop for red lights, never "
          "collide."),
    success=("route_done == 1 (info['is_success']); runs are compared by the driving score: "
             "route completion x 0.6 per collision x 0.7 per red light x the share of the "
             "route driven inside the route's lanes."))



def _shop_slots() -> tuple[str, ...]:
    """What each slot of WebShopDiscrete's default layout clicks (its live labels vary)."""
    from rewardgym.envs.shopping.instruction import N_SEARCH
    from rewardgym.envs.shopping.slots import N_PRODUCTS, NAV_LABELS, SlotEncoder

    layout = SlotEncoder(bow_dim=1)  # the slot env's default option grid
    search = tuple(f"search with candidate query {k + 1} built from the instruction "
                   "(search page only)" for k in range(N_SEARCH))
    nav = tuple(f"click the '{label}' button" for label in NAV_LABELS)
    links = tuple(f"open product {k + 1} of the results page" for k in range(N_PRODUCTS))
    options = tuple(f"choose value {v + 1} of option group {g + 1} on the item page"
                    for g in range(layout.option_groups) for v in range(layout.option_values))
    return search + nav + links + options


SHOP_CARD_VERSION = 1
"""Version of the shopping card's wording (bump on any change; it enters the card hash)."""

CARDS["rewardgym/WebShopDiscrete-v1"] = TaskCard(
    env_id="rewardgym/WebShopDiscrete-v1", family="shopping", title="WebShop (slot actions)",
    description=("A web shop after WebShop (Yao et al., NeurIPS 2022): the agent reads an "
                 "instruction (a product type, attributes such as 'dishwasher safe', options "
                 "such as 'color: navy blue' and a price limit), searches a catalogue (10 "
                 "results per page, at most 50), opens products, reads their detail pages, "
                 "chooses options and buys one product. Actions are slots: a masked slot is a "
                 "no-op that still costs a step."),
    actions=_shop_slots(), dt=None,
    termination=("The episode terminates when the agent clicks 'buy now' (on_done becomes 1) "
                 "and is truncated after max_steps steps. The env's own reward is 0 on every "
                 "step except the purchase, which pays WebShop's score."),
    frames=("Prices are in US dollars; fractions and scores are in [0, 1]; counts are plain "
            "numbers. Features about the product in view are 0 when no product is in view. "
            "The features compare the product in view with the hidden goal (privileged: the "
            "agent only sees the pages). WebShop's score of buying the product in view is "
            "type_match * (attr_matches + option_matches + price_ok) / "
            "(goal_attrs + goal_options + 1)."),
    task=("Buy a product that fits the instruction: the right product type, every goal "
          "attribute and option, within the budget, in few steps."),
    success="purchase_score == 1 (WebShop's reward of the purchase is 1; info['is_success']).",
    version=SHOP_CARD_VERSION)

def card_for(env_id: str) -> TaskCard:
    """The card of a registered env id.

    Raises:
        KeyError: listing the ids that have cards.
    """
    if env_id not in CARDS:
        raise KeyError(f"no prompt card for {env_id!r}; cards exist for {sorted(CARDS)}")
    return CARDS[env_id]


def card_view(env: Any) -> RewardView:
    """The reward view a card renders for ``env`` (the same one programs are checked against)."""
    return view_of(env)
