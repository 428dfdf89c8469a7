"""ONI-style intrinsic reward: captions of env events, labelled by a model off the step path.

After ONI (Zheng et al., "Online Intrinsic Rewards for Decision Making Agents from Large Language
Model Feedback", 2024; reimplemented from the paper's description, research notes
``llm_rewards.md`` §4): a :class:`Captioner` turns a transition (the family's reward view before
and after) into a short event caption ("picked up the key", "torso fell below 0.4 m"); unseen
captions go to an :class:`AnnotationService`, a background thread that batches them into one
classification prompt per batch ("is this event helpful for the goal? answer YES or NO"), parses
the labels (a failed parse counts as neutral), persists them to ``labels.json`` and never blocks
``step``. The step-time reward is a lookup (``model="hash"``) or a small learned classifier over
hashed character n-grams (``model="cls"``, which also labels captions not seen yet), scaled down
by the episodic count of the caption:

    r = c_ext * r_ext + c_int * label(caption) / N_episode(caption) ** beta        (beta = 3)

``info["reward_terms"]`` keeps the env's terms (times ``c_ext``) plus ``intrinsic``;
``info["caption"]`` is the caption (or ``""``).
"""

from __future__ import annotations

import json
import queue
import re
import threading
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np

from rewardgym.wrappers.llm.backends import LLMBackend
from rewardgym.wrappers.llm.views import RewardView, view_of

Captioner = Callable[[np.ndarray, np.ndarray], str]


def grid_captioner(view: RewardView) -> Captioner:
    """Captions of grid events: key picked up or dropped, door opened or closed, goal reached."""
    i = {name: view[name].start for name in ("carrying_key", "door_open", "at_goal",
                                             "carrying_object")}

    def caption(before: np.ndarray, after: np.ndarray) -> str:
        if after[i["at_goal"]] > before[i["at_goal"]]:
            return "reached the goal"
        if after[i["door_open"]] > before[i["door_open"]]:
            return "opened the door"
        if after[i["door_open"]] < before[i["door_open"]]:
            return "closed the door"
        if after[i["carrying_key"]] > before[i["carrying_key"]]:
            return "picked up the key"
        if after[i["carrying_key"]] < before[i["carrying_key"]]:
            return "dropped the key"
        if after[i["carrying_object"]] > before[i["carrying_object"]]:
            return "picked up an object"
        return ""

    return caption


def locomotion_captioner(view: RewardView, heights: Sequence[float] = (0.3, 0.5, 1.0, 1.5),
                         speeds: Sequence[float] = (-2.0, -1.0, 1.0, 2.0)) -> Captioner:
    """Captions of locomotion milestones: torso height and x-speed thresholds crossed, flips."""
    z, up, vx = view["torso_z"].start, view["up_z"].start, view["vel_x"].start

    def caption(before: np.ndarray, after: np.ndarray) -> str:
        if before[up] >= 0.0 > after[up]:
            return "turned upside down"
        if before[up] < 0.0 <= after[up]:
            return "turned upright"
        for h in heights:
            if before[z] >= h > after[z]:
                return f"torso fell below {h:g} m"
            if before[z] < h <= after[z]:
                return f"torso rose above {h:g} m"
        for s in speeds:
            if s < 0 and before[vx] > s >= after[vx]:
                return f"moving backwards faster than {-s:g} m/s"
            if s > 0 and before[vx] < s <= after[vx]:
                return f"moving forwards faster than {s:g} m/s"
        return ""

    return caption



def shopping_captioner(view: RewardView) -> Captioner:
    """Captions of shopping page events: searches, products opened, options chosen, purchases.

    Each caption names what happened and how it relates to the goal, in a few fixed phrasings
    (so ONI's per-caption labels and counts stay meaningful): the search listing the wanted
    product or not, the opened product being the wanted one, of the right type with the wanted
    attributes, of the right type, or unrelated, an option chosen that the goal asks for or not,
    and the purchase matching fully, partly or poorly.
    """
    i = {name: view[name].start for name in (
        "on_search", "on_results", "on_item", "on_sub_page", "on_done", "results_page",
        "goal_in_results", "is_goal_product", "type_match", "attr_match", "option_matches",
        "options_chosen", "purchase_score")}

    def caption(before: np.ndarray, after: np.ndarray) -> str:
        def rose(name: str) -> bool:
            return after[i[name]] > before[i[name]]

        if rose("on_done"):
            score = after[i["purchase_score"]]
            if score >= 1.0:
                return "bought a product that matches the goal"
            return ("bought a product that partly matches the goal" if score >= 0.5
                    else "bought a product that does not match the goal")
        if after[i["on_results"]] and before[i["on_search"]]:
            return ("searched and the results list the wanted product"
                    if after[i["goal_in_results"]] else
                    "searched and the results miss the wanted product")
        if after[i["on_results"]] and before[i["on_results"]]:
            if rose("results_page"):
                return "went to the next results page"
            if after[i["results_page"]] < before[i["results_page"]]:
                return "went back a results page"
        if after[i["on_item"]] and before[i["on_results"]]:
            if after[i["is_goal_product"]]:
                return "opened the wanted product"
            if after[i["type_match"]] >= 1.0:
                return ("opened a product of the wanted type with the wanted attributes"
                        if after[i["attr_match"]] >= 1.0 else
                        "opened a product of the wanted type")
            return "opened an unrelated product"
        if after[i["on_results"]] and (before[i["on_item"]] or before[i["on_sub_page"]]):
            return "went back to the results"
        if rose("on_sub_page"):
            return "read a product detail page"
        if after[i["on_item"]] and before[i["on_item"]]:
            if rose("option_matches"):
                return "chose an option the goal asks for"
            if after[i["option_matches"]] < before[i["option_matches"]]:
                return "replaced a wanted option with an unwanted one"
            if rose("options_chosen"):
                return "chose an option the goal does not ask for"
        if rose("on_search"):
            return "went back to search"
        return ""

    return caption

def captioner_for(view: RewardView) -> Captioner:
    """The built-in captioner of a view's family."""
    if view.family == "shopping":
        return shopping_captioner(view)
    return grid_captioner(view) if view.family == "grid" else locomotion_captioner(view)


_LABEL = re.compile(r"^\s*(\d+)\s*[:.)-]\s*(?:<label>)?\s*(YES|NO)\b", re.IGNORECASE | re.MULTILINE)


def label_prompt(goal: str, captions: Sequence[str]) -> list[dict[str, str]]:
    """The classification prompt for a batch of captions (our own wording)."""
    listed = "\n".join(f"{k + 1}: {c}" for k, c in enumerate(captions))
    return [{"role": "system", "content": "You judge whether events in a game help an agent make "
             "progress towards its goal."},
            {"role": "user", "content": f"Goal: {goal}\nEvents:\n{listed}\n\nFor every event "
             "answer on its own line `<number>: YES` if it is helpful progress towards the goal, "
             "else `<number>: NO`."}]


def parse_labels(text: str, count: int) -> dict[int, float]:
    """``{index: 1.0 or 0.0}`` for the lines that parse; the others stay unlabelled (neutral)."""
    out: dict[int, float] = {}
    for match in _LABEL.finditer(text):
        k = int(match.group(1)) - 1
        if 0 <= k < count and k not in out:
            out[k] = 1.0 if match.group(2).upper() == "YES" else 0.0
    return out


class AnnotationService:
    """Labels captions on a background thread; ``submit`` and ``labels`` never wait for a model.

    Args:
        backend: any LLM backend.
        goal: the task, as the prompt states it.
        path: ``labels.json`` to load and keep up to date (optional).
        batch_size: captions per request.

    Example:
        >>> from rewardgym.wrappers.llm.backends import ScriptedBackend
        >>> service = AnnotationService(ScriptedBackend(lambda m, i: "1: YES"), "open the door")
        >>> service.submit(["opened the door"])
        >>> service.wait(timeout=5.0)
        True
        >>> service.labels()
        {'opened the door': 1.0}
        >>> service.close()
    """

    def __init__(self, backend: LLMBackend, goal: str, *, path: str | Path | None = None,
                 batch_size: int = 16) -> None:
        self.backend = backend
        self.goal = goal
        self.path = None if path is None else Path(path)
        self.batch_size = batch_size
        self._labels: dict[str, float] = {}
        if self.path is not None and self.path.exists():
            self._labels = {k: float(v) for k, v in json.loads(self.path.read_text()).items()}
        self._seen: set[str] = set(self._labels)
        self._queue: queue.Queue[str] = queue.Queue()
        self._lock = threading.Lock()
        # Captions queued but not labelled yet; wait() sleeps on the condition until it is 0.
        self._pending = 0
        self._done = threading.Condition()
        self._stop = threading.Event()
        self.errors: list[str] = []
        self.requests = 0
        self._thread = threading.Thread(target=self._work, daemon=True, name="oni-annotator")
        self._thread.start()

    def submit(self, captions: Sequence[str]) -> None:
        """Queue the captions not seen before (non-blocking)."""
        for c in captions:
            if c and c not in self._seen:
                self._seen.add(c)
                with self._done:
                    self._pending += 1
                self._queue.put_nowait(c)

    def labels(self) -> dict[str, float]:
        """A snapshot of the labels so far."""
        with self._lock:
            return dict(self._labels)

    def wait(self, timeout: float) -> bool:
        """Block (tests and shutdown only) until the queue is empty and labelled."""
        with self._done:
            return self._done.wait_for(lambda: self._pending == 0, timeout)

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                first = self._queue.get(timeout=0.05)
            except queue.Empty:
                continue
            batch = [first]
            while len(batch) < self.batch_size:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                reply = self.backend.complete(label_prompt(self.goal, batch), n=1,
                                              temperature=0.0, seed=0, max_tokens=16 * len(batch))
                parsed = parse_labels(reply[0].text, len(batch))
            except Exception as err:  # a failed batch stays neutral; the worker lives on
                self.errors.append(f"{type(err).__name__}: {err}")
                parsed = {}
            self.requests += 1
            with self._lock:
                for k, c in enumerate(batch):
                    self._labels[c] = parsed.get(k, 0.0)  # unparsed: neutral
                snapshot = dict(self._labels)
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                tmp = self.path.with_suffix(".tmp")
                tmp.write_text(json.dumps(snapshot, indent=1, sort_keys=True))
                tmp.replace(self.path)
            with self._done:
                self._pending -= len(batch)
                self._done.notify_all()

    def close(self) -> None:
        """Stop the worker thread."""
        self._stop.set()
        self._thread.join(timeout=5)


class NgramClassifier:
    """A small learned reward model: logistic regression on hashed character 3-grams (numpy).

    Example:
        >>> model = NgramClassifier()
        >>> model.fit({"picked up the key": 1.0, "dropped the key": 0.0}, steps=200)
        >>> bool(model.predict("picked up the yellow key") > 0.5)
        True
    """

    def __init__(self, dim: int = 512, lr: float = 0.5, l2: float = 1e-3) -> None:
        self.dim = dim
        self.lr = lr
        self.l2 = l2
        self.w = np.zeros(dim)
        self.b = 0.0

    def features(self, text: str) -> np.ndarray:
        """L2-normalised counts of hashed character 3-grams (crc32: stable across runs)."""
        x = np.zeros(self.dim)
        padded = f"  {text.lower()} "
        for k in range(len(padded) - 2):
            x[zlib.crc32(padded[k:k + 3].encode()) % self.dim] += 1.0
        norm = np.linalg.norm(x)
        return x / norm if norm > 0 else x

    def fit(self, labels: dict[str, float], steps: int = 100) -> None:
        """Full-batch gradient steps of the cross-entropy on the labelled captions."""
        if not labels:
            return
        x = np.stack([self.features(c) for c in labels])
        y = np.array(list(labels.values()))
        for _ in range(steps):
            p = 1.0 / (1.0 + np.exp(-(x @ self.w + self.b)))
            grad = p - y
            self.w -= self.lr * (x.T @ grad / len(y) + self.l2 * self.w)
            self.b -= self.lr * float(grad.mean())

    def predict(self, text: str) -> float:
        """P(helpful) of a caption."""
        return float(1.0 / (1.0 + np.exp(-(self.features(text) @ self.w + self.b))))


class ONIReward(gym.Wrapper):
    """Add ONI's count-decayed intrinsic reward from model-labelled event captions.

    Args:
        env: a grid or locomotion env.
        service: the :class:`AnnotationService` (shared by several envs if wanted).
        model: ``"hash"`` (label lookup, unlabelled = 0) or ``"cls"`` (:class:`NgramClassifier`
            refitted every ``refit_every`` new labels; reward = 1 when P > ``threshold``).
        c_ext, c_int, beta: ``r = c_ext * r_ext + c_int * label / N_ep(caption) ** beta``.
        captioner: ``captioner(before_row, after_row) -> str`` (default: the family's).

    Example:
        >>> import gymnasium as gym, rewardgym
        >>> from rewardgym.wrappers.llm.backends import ScriptedBackend
        >>> service = AnnotationService(ScriptedBackend(lambda m, i: "1: YES"), "open the door")
        >>> env = ONIReward(gym.make("rewardgym/DoorKey-5x5-v0"), service)
        >>> _ = env.reset(seed=0)
        >>> _, reward, _, _, info = env.step(2)
        >>> info["reward_terms"]["intrinsic"], info["caption"]
        (0.0, '')
        >>> service.close()
    """

    def __init__(self, env: gym.Env, service: AnnotationService, *, model: str = "hash",
                 c_ext: float = 1.0, c_int: float = 0.1, beta: float = 3.0,
                 threshold: float = 0.5, refit_every: int = 1,
                 captioner: Captioner | None = None) -> None:
        super().__init__(env)
        if model not in ("hash", "cls"):
            raise ValueError(f"ONIReward: model must be 'hash' or 'cls', got {model!r}")
        for name, value in (("c_ext", c_ext), ("c_int", c_int), ("beta", beta)):
            if not np.isfinite(value) or (name == "beta" and value < 0):
                raise ValueError(f"ONIReward: {name} must be finite (beta >= 0), got {value!r}")
        self.view = view_of(env)
        self.service = service
        self.model = model
        self.c_ext, self.c_int, self.beta = float(c_ext), float(c_int), float(beta)
        self.threshold = threshold
        self.refit_every = refit_every
        self.captioner = captioner if captioner is not None else captioner_for(self.view)
        self.classifier = NgramClassifier()
        self._fitted_on = 0
        self._counts: dict[str, int] = {}
        self._row = np.zeros(self.view.size)

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        """Reset; the episodic caption counts start again."""
        obs, info = self.env.reset(**kwargs)
        self._counts = {}
        self._row = self.view.rows(self.env)[0]
        return obs, info

    def _label(self, caption: str) -> float:
        labels = self.service.labels()
        if self.model == "hash":
            return labels.get(caption, 0.0)
        if len(labels) - self._fitted_on >= self.refit_every:
            self.classifier.fit(labels)
            self._fitted_on = len(labels)
        if not self._fitted_on:
            return 0.0
        return 1.0 if self.classifier.predict(caption) > self.threshold else 0.0

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Step, caption the transition, queue it for labelling, pay the decayed label."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        after = self.view.rows(self.env)[0]
        caption = self.captioner(self._row, after)
        self._row = after
        intrinsic = 0.0
        if caption:
            self.service.submit([caption])
            self._counts[caption] = self._counts.get(caption, 0) + 1
            intrinsic = self.c_int * self._label(caption) / self._counts[caption] ** self.beta
        info = dict(info)
        info["base_reward"] = reward
        terms = {k: self.c_ext * float(v) for k, v in info.get("reward_terms", {}).items()}
        terms["intrinsic"] = intrinsic
        info["reward_terms"] = terms
        info["caption"] = caption
        return obs, self.c_ext * float(reward) + intrinsic, terminated, truncated, info
