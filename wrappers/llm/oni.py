"""ONI-style intrinsic reward: captions of env events, labelled by a model off the step path.

After ONI (Zheng et al., "Online Intrinsic Rewards for Decision Making Agents from Large Language
Model Feedback", 2024; reimplemented from the paper's description, research notes
``llm_rewards.md`` §4): a :class:`Captioner` turns a transition (the family's reward view before
and after) into a short event caption ("picked up the key", "torso fell below 0.4 m"); unseen
captions go to an :class:`AnnotationService`, a background thread that batches them into one
classification prompt per batch ("is this event helpful for the goal? answer YES or NO"), parses
the labels (a failed parse counts as neutral), persists them to ``labels.json`` and never blocks
``step``. The step-time reward is a lookup (``model="hash"``) or a small learned classifier over
hashed character n-grams (``model="cls"``, which also labels captions not seen yet), or
(``model="rank"``, :mod:`.oni_rank`) a Bradley-Terry score fit to pairwise preferences, scaled
down by the episodic count of the caption:

    r = c_ext * r_ext + c_int * label(caption) / N_episode(caption) ** beta        (beta = 3)

``info["reward_terms"]`` keeps the env's terms (times ``c_ext``) plus ``intrinsic``;
``info["caption"]`` is the caption (or ``""``).
"""

from __future__ import annotations

import copy
import json
import os
import queue
import re
import threading
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv, VectorWrapper

from rewardgym.envs.native.masks import reset_mask
from rewardgym.wrappers.llm.backends import LLMBackend
from rewardgym.wrappers.llm.views import RewardView, step_and_read, view_of
from rewardgym.wrappers.vector_infos import stepping_autoreset_mode

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


# Driving events, most important first: (view feature, caption when it turns on).
_DRIVING_EVENTS = (("collision", "collided with another car"),
                   ("red_light", "ran a red light"),
                   ("off_road", "drove off the road"),
                   ("off_route", "left the route"),
                   ("wrong_way", "drove the wrong way"),
                   ("blocked", "stood still too long"),
                   ("route_done", "finished the route"))


def driving_captioner(view: RewardView, milestones: Sequence[float] = (25.0, 50.0, 75.0),
                      stop_speed: float = 0.5) -> Captioner:
    """Captions of driving events: infractions, route finished, route milestones, red-light stops.

    The ends of an episode first (collision, red light, off road, off route, wrong way, blocked,
    route done: a flag turning on), then route completion crossing each of ``milestones`` (%),
    then stopping (speed falling below ``stop_speed`` m/s) in front of a red light.
    """
    i = {name: view[name].start for name in ("route_completion", "speed", "light_red")}
    events = tuple((view[name].start, text) for name, text in _DRIVING_EVENTS)

    def caption(before: np.ndarray, after: np.ndarray) -> str:
        for j, text in events:
            if after[j] > 0.0 >= before[j]:
                return text
        rc0, rc1 = before[i["route_completion"]], after[i["route_completion"]]
        for m in milestones:
            if rc0 < m <= rc1:
                return f"completed {m:g}% of the route"
        if after[i["light_red"]] > 0.0 and before[i["speed"]] >= stop_speed > after[i["speed"]]:
            return "stopped at a red light"
        return ""

    return caption


def captioner_for(view: RewardView) -> Captioner:
    """The built-in captioner of a view's family."""
    if view.family == "shopping":
        return shopping_captioner(view)
    if view.family == "driving":
        return driving_captioner(view)
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


def _write_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON through a temporary file, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    tmp.replace(path)


def _load_labels(path: Path) -> dict[str, float]:
    """``{caption: 0.0 or 1.0}`` from a labels file; a clear one-line error when malformed."""
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"AnnotationService: cannot read labels file {path}: "
                         f"{type(err).__name__}: {err}") from None
    if not isinstance(data, dict) or not all(
            isinstance(k, str) and v in (0, 1) and not isinstance(v, bool)
            for k, v in data.items()):
        raise ValueError(f"AnnotationService: labels file {path} must hold a JSON object "
                         "{caption: 0.0 or 1.0}")
    return {k: float(v) for k, v in data.items()}


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
        self._seen: set[str] = set()
        if self.path is not None and self.path.exists():
            self._load(self.path)
        self._queue: queue.Queue[Any] = queue.Queue()
        self._lock = threading.Lock()
        # Captions queued but not labelled yet; wait() sleeps on the condition until it is 0.
        self._pending = 0
        self._done = threading.Condition()
        self._stop = threading.Event()
        self.errors: list[str] = []
        self.requests = 0
        self._models: list[Distilled] = []
        self._retrain = threading.Event()
        self._thread = threading.Thread(target=self._work, daemon=True, name="oni-annotator")
        self._thread.start()

    def _load(self, path: Path) -> None:
        """Take up the labels of an earlier run (constructor; a subclass may keep other data)."""
        self._labels = _load_labels(path)
        self._seen = set(self._labels)

    def distil(self, model: RewardModel, steps: int = 32) -> Distilled:
        """Train ``model`` on the labels, on the worker thread, after every labelled batch.

        ONI's classification variant: ``steps`` gradient steps on all labels so far after each
        batch of new labels, never on the step path. Returns the handle whose ``current``
        model (None until the first fit) the wrappers predict with.
        """
        handle = Distilled(model, steps)
        with self._lock:
            self._models.append(handle)
        if self._training_data():
            self._retrain.set()  # labels loaded from labels.json: fit them without waiting
        return handle

    def _training_data(self) -> Any:
        """What the distilled models fit (a subclass may train on something else)."""
        return self.labels()

    def _train_models(self) -> None:
        snapshot = self._training_data()
        with self._lock:
            models = list(self._models)
        for handle in models:
            if snapshot:
                handle.train(snapshot)

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
            if self._retrain.is_set():
                self._retrain.clear()
                self._train_models()
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
            self._annotate(batch)
            self._train_models()
            with self._done:
                self._pending -= len(batch)
                self._done.notify_all()

    def _annotate(self, batch: list[Any]) -> None:
        """One request for a batch of queued items; store and persist the answers (worker)."""
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
            _write_json(self.path, snapshot)

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


class MLPClassifier:
    """A small learned reward model: a one-hidden-layer MLP on hashed character 3-grams.

    ONI's classification model is a network trained with cross-entropy on the LLM's labels and
    queried for captions it never sent (Zheng et al. 2024); this is a CPU-sized version (numpy,
    Adam): :meth:`fit` takes ``steps`` more gradient steps from the current weights, so it
    keeps learning as labels arrive instead of starting over.

    Example:
        >>> model = MLPClassifier(seed=0)
        >>> model.fit({"picked up the key": 1.0, "dropped the key": 0.0}, steps=200)
        >>> bool(model.predict("picked up the yellow key") > 0.5)
        True
    """

    def __init__(self, dim: int = 512, hidden: int = 32, lr: float = 0.01, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.hasher = NgramClassifier(dim)
        self.params = [rng.normal(0.0, 1.0 / np.sqrt(dim), (dim, hidden)), np.zeros(hidden),
                       rng.normal(0.0, 1.0 / np.sqrt(hidden), hidden), np.zeros(1)]
        self.lr = lr
        self._m = [np.zeros_like(p) for p in self.params]
        self._v = [np.zeros_like(p) for p in self.params]
        self._t = 0

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        w1, b1, w2, b2 = self.params
        h = np.tanh(x @ w1 + b1)
        return h, 1.0 / (1.0 + np.exp(-(h @ w2 + b2[0])))

    def fit(self, labels: dict[str, float], steps: int = 32) -> None:
        """``steps`` Adam steps of the cross-entropy on every labelled caption."""
        if not labels:
            return
        x = np.stack([self.hasher.features(c) for c in labels])
        y = np.array(list(labels.values()))
        for _ in range(steps):
            w2 = self.params[2]
            h, p = self._forward(x)
            g_logit = (p - y) / len(y)
            g_h = np.outer(g_logit, w2) * (1.0 - h * h)
            grads = [x.T @ g_h, g_h.sum(axis=0), h.T @ g_logit, np.array([g_logit.sum()])]
            self._t += 1
            for k, (param, grad) in enumerate(zip(self.params, grads, strict=True)):
                self._m[k] = 0.9 * self._m[k] + 0.1 * grad
                self._v[k] = 0.999 * self._v[k] + 0.001 * grad * grad
                m_hat = self._m[k] / (1.0 - 0.9 ** self._t)
                v_hat = self._v[k] / (1.0 - 0.999 ** self._t)
                param -= self.lr * m_hat / (np.sqrt(v_hat) + 1e-8)

    def predict(self, text: str) -> float:
        """P(helpful) of a caption."""
        return float(self._forward(self.hasher.features(text)[None])[1][0])


class RewardModel(Protocol):
    """What :meth:`AnnotationService.distil` trains: ``fit(labels, steps)``, ``predict(text)``."""

    def fit(self, labels: dict[str, float], steps: int) -> None:
        """Train on ``{caption: label}``."""
        ...

    def predict(self, text: str) -> float:
        """P(helpful) of a caption."""
        ...


class Distilled:
    """A reward model trained by the annotation thread; the fitted model is swapped in whole.

    The worker trains a copy and publishes ``(model, version, fitted_on)`` as one tuple (one
    reference assignment), so a step that predicts never sees a half-updated model, never a
    model with another fit's version or count, and never waits for training.
    """

    def __init__(self, model: RewardModel, steps: int) -> None:
        self._next = model
        self.steps = steps
        self.published: tuple[RewardModel | None, int, int] = (None, 0, 0)

    @property
    def current(self) -> RewardModel | None:
        """The latest fitted model (None before the first fit)."""
        return self.published[0]

    @property
    def version(self) -> int:
        """How many fits have been published."""
        return self.published[1]

    @property
    def fitted_on(self) -> int:
        """How many labels (or pairs) the latest fit saw."""
        return self.published[2]

    def train(self, labels: Any) -> None:
        """Fit on ``labels`` (worker thread) and publish the result."""
        model = copy.deepcopy(self._next)
        model.fit(labels, self.steps)
        self._next = model
        self.published = (copy.deepcopy(model), self.version + 1, len(labels))


class _Labeller:
    """The label a caption pays: the LLM's own, a distilled guess, or a ranking score.

    ``hash``: the LLM's label; ``cls``/``mlp``: a distilled model's thresholded guess;
    ``rank``: the normalised, thresholded Bradley-Terry score of :mod:`.oni_rank`.
    """

    def __init__(self, name: str, service: AnnotationService, model: str, threshold: float,
                 steps: int, epsilon: float) -> None:
        if model not in MODELS:
            raise ValueError(f"{name}: model must be one of {MODELS}, got {model!r}")
        self.service = service
        self.model = model
        self.threshold = threshold
        self._rank = None
        if model == "rank":
            from rewardgym.wrappers.llm.oni_rank import RankLabel  # it imports this module

            self._rank = RankLabel(name, service, steps, epsilon)
            self.handle: Distilled | None = self._rank.handle
        else:
            self.handle = None if model == "hash" else service.distil(
                NgramClassifier() if model == "cls" else MLPClassifier(), steps)
        self._cache: dict[str, float] = {}
        self._version = -1

    def __call__(self, caption: str) -> float:
        if self._rank is not None:
            return self._rank(caption)
        if self.handle is None:
            return self.service.labels().get(caption, 0.0)
        current, version, _ = self.handle.published
        if current is None:
            return 0.0
        if version != self._version:
            self._cache, self._version = {}, version
        if caption not in self._cache:
            self._cache[caption] = 1.0 if current.predict(caption) > self.threshold else 0.0
        return self._cache[caption]


def _check(name: str, c_ext: float, c_int: float, beta: float) -> None:
    for key, value in (("c_ext", c_ext), ("c_int", c_int), ("beta", beta)):
        if not np.isfinite(value) or (key == "beta" and value < 0):
            raise ValueError(f"{name}: {key} must be finite (beta >= 0), got {value!r}")


MODELS = ("hash", "cls", "mlp", "rank")


class ONIReward(gym.Wrapper):
    """Add ONI's count-decayed intrinsic reward from model-labelled event captions.

    Args:
        env: a grid or locomotion env.
        service: the :class:`AnnotationService` (shared by several envs if wanted).
        model: ``"hash"`` (the LLM's label, unlabelled = 0), ``"cls"`` (:class:`NgramClassifier`,
            logistic regression) or ``"mlp"`` (:class:`MLPClassifier`): a model distilled from
            the labels on the annotation thread (``train_steps`` per labelled batch), which
            also labels captions the LLM has not seen; reward 1 when P > ``threshold``.
            ``"rank"`` (ONI-Ranking, :mod:`.oni_rank`; needs a
            :class:`~rewardgym.wrappers.llm.oni_rank.RankingService`): a Bradley-Terry score
            fit to the model's pairwise preferences, paid as its running-normalised value
            ``z`` when ``z > epsilon``.
        c_ext, c_int, beta: ``r = c_ext * r_ext + c_int * label / N_ep(caption) ** beta``.
        epsilon: ``model="rank"`` only: the threshold on the normalised score (ONI: -0.5).
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
                 threshold: float = 0.5, train_steps: int = 32, epsilon: float = -0.5,
                 captioner: Captioner | None = None) -> None:
        super().__init__(env)
        _check("ONIReward", c_ext, c_int, beta)
        self.view = view_of(env)
        self.service = service
        self.model = model
        self.c_ext, self.c_int, self.beta = float(c_ext), float(c_int), float(beta)
        self._label = _Labeller("ONIReward", service, model, threshold, train_steps, epsilon)
        self.captioner = captioner if captioner is not None else captioner_for(self.view)
        self._counts: dict[str, int] = {}
        self._row = np.zeros(self.view.size)

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        """Reset; the episodic caption counts start again."""
        obs, info = self.env.reset(**kwargs)
        self._counts = {}
        self._row = self.view.rows(self.env)[0]
        return obs, info

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


class ONIRewardVector(VectorWrapper):
    """:class:`ONIReward` for native vector envs (one service, one model, every sub-env).

    ``NEXT_STEP`` (the reset step pays nothing) and ``SAME_STEP`` autoreset (the finishing step
    is captioned on the state the episode ended in, see
    :meth:`~rewardgym.wrappers.llm.views.ViewReader.final_rows`, and its terms and caption are
    also written into ``final_info``) are supported. Captions are made per env in Python (a
    few string comparisons; the rows come from one batched read), so it suits training-sized
    batches. ``infos["caption"]`` is an object array of captions (``""`` for none).

    Example:
        >>> import gymnasium as gym, rewardgym
        >>> from rewardgym.wrappers.llm.backends import ScriptedBackend
        >>> service = AnnotationService(ScriptedBackend(lambda m, i: "1: YES"), "open the door")
        >>> envs = gym.make_vec("rewardgym/DoorKey-5x5-v0", 2,
        ...                     vectorization_mode="vector_entry_point")
        >>> envs = ONIRewardVector(envs, service)
        >>> _ = envs.reset(seed=0)
        >>> _, rewards, _, _, infos = envs.step(np.array([2, 2]))
        >>> infos["reward_terms"]["intrinsic"].tolist(), infos["caption"].tolist()
        ([0.0, 0.0], ['', ''])
        >>> service.close()
    """

    def __init__(self, env: VectorEnv, service: AnnotationService, *, model: str = "hash",
                 c_ext: float = 1.0, c_int: float = 0.1, beta: float = 3.0,
                 threshold: float = 0.5, train_steps: int = 32, epsilon: float = -0.5,
                 captioner: Captioner | None = None) -> None:
        super().__init__(env)
        _check("ONIRewardVector", c_ext, c_int, beta)
        self.autoreset_mode = stepping_autoreset_mode(env, "ONIRewardVector")
        self.view = view_of(env)
        self.service = service
        self.model = model
        self.c_ext, self.c_int, self.beta = float(c_ext), float(c_int), float(beta)
        self._label = _Labeller("ONIRewardVector", service, model, threshold, train_steps,
                                epsilon)
        self.captioner = captioner if captioner is not None else captioner_for(self.view)
        self._reader = self.view.reader(env)
        self._rows = self._reader.new_rows()
        self._next = self._reader.new_rows()
        n = self.num_envs
        self._counts: list[dict[str, int]] = [{} for _ in range(n)]
        self._pending = np.zeros(n, dtype=np.bool_)

    def reset(self, *, seed: int | list[int] | None = None,
              options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Reset; the reset envs' episodic caption counts start again."""
        obs, infos = self.env.reset(seed=seed, options=options)
        rows = self._reader.read(self._next)
        mask = reset_mask(options, self.num_envs, type(self).__name__)
        self._rows[mask] = rows[mask]
        self._pending[mask] = False
        for i in np.flatnonzero(mask):
            self._counts[i] = {}
        return obs, infos

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict]:
        """Step, caption every env's transition, queue new captions, pay the decayed labels."""
        same_step = self.autoreset_mode == AutoresetMode.SAME_STEP
        n = self.num_envs
        obs, rewards, terminated, truncated, infos, after, paid, done = step_and_read(
            self.env, self._reader, actions, self.view.actions(actions, n), self._next,
            same_step=same_step)
        captions = np.full(n, "", dtype=object)
        intrinsic = np.zeros(n)
        for i in range(n):
            if self._pending[i]:
                self._counts[i] = {}  # this step started a new episode (NEXT_STEP)
                continue
            caption = self.captioner(self._rows[i], paid[i])
            if caption:
                captions[i] = caption
                self._counts[i][caption] = self._counts[i].get(caption, 0) + 1
                intrinsic[i] = self.c_int * self._label(caption) / \
                    self._counts[i][caption] ** self.beta
        new = [c for c in captions if c]
        if new:
            self.service.submit(new)
        self._rows, self._next = after, self._rows
        if same_step:
            for i in np.flatnonzero(done):
                self._counts[i] = {}
        else:
            self._pending = done
        base = np.asarray(rewards, dtype=np.float64)
        infos = _with_intrinsic(dict(infos), base, intrinsic, captions, self.c_ext,
                                np.ones(n, dtype=np.bool_))
        if same_step and done.any():
            infos["final_info"] = _with_intrinsic(dict(infos.get("final_info", {})), base,
                                                  intrinsic, captions, self.c_ext, done)
        return obs, self.c_ext * base + intrinsic, terminated, truncated, infos


def _with_intrinsic(infos: dict[str, Any], base: np.ndarray, intrinsic: np.ndarray,
                    captions: np.ndarray, c_ext: float, rows: np.ndarray) -> dict[str, Any]:
    """``infos`` with the base reward, scaled env terms plus ``intrinsic``, and the caption.

    The new keys are masked to ``rows``.
    """
    terms: dict[str, np.ndarray] = {}
    for name, values in infos.get("reward_terms", {}).items():
        terms[name] = values if name.startswith("_") else c_ext * np.asarray(values, np.float64)
    terms["intrinsic"] = np.where(rows, intrinsic, 0.0)
    terms["_intrinsic"] = rows.copy()
    infos["reward_terms"], infos["_reward_terms"] = terms, rows.copy()
    infos["base_reward"], infos["_base_reward"] = np.where(rows, base, 0.0), rows.copy()
    infos["caption"] = np.where(rows, captions, "")
    infos["_caption"] = rows.copy()
    return infos


_SERVICES: dict[tuple[str, ...], AnnotationService] = {}


def _service_from_environment(name: str) -> tuple[AnnotationService, str, float]:
    """The shared :class:`AnnotationService`, model kind and ``c_int`` the variables name."""
    from rewardgym.wrappers.llm.backends import OpenAICompatBackend

    goal = os.environ.get("ONI_GOAL")
    if not goal:
        raise ValueError(f"{name}: set ONI_GOAL to the goal the labeller judges "
                         "against (and LLM_BASE_URL/LLM_MODEL for the server)")
    backend = OpenAICompatBackend()
    model = os.environ.get("ONI_MODEL", "mlp")
    path = Path(os.environ.get("ONI_LABELS", "oni_labels.json"))
    if model == "rank":  # pairs, not labels: kept next to the labels file
        path = path.with_suffix(".pairs.json")
    key = (backend.base_url, backend.model, goal, str(path.resolve()))
    if key not in _SERVICES:
        if model == "rank":
            from rewardgym.wrappers.llm.oni_rank import RankingService  # it imports this module

            _SERVICES[key] = RankingService(backend, goal, path=path)
        else:
            _SERVICES[key] = AnnotationService(backend, goal, path=path)
    return _SERVICES[key], model, float(os.environ.get("ONI_C_INT", "0.1"))


def oni_from_environment(env: gym.Env) -> ONIReward:
    """:class:`ONIReward` configured from environment variables (a ``env_wrappers`` entry).

    ``rewardgym train ENV --set 'env_wrappers=[rewardgym.wrappers.llm.oni:oni_from_environment]'``
    trains with ONI's intrinsic reward: ``ONI_GOAL`` (the goal the labeller judges against,
    required), ``LLM_BASE_URL``/``LLM_MODEL``/``LLM_API_KEY`` (the OpenAI-compatible server),
    ``ONI_LABELS`` (the ``labels.json`` to load and keep; default ``oni_labels.json``),
    ``ONI_MODEL`` (``hash``, ``cls``, ``mlp`` or ``rank``; default ``mlp``; ``rank`` keeps its
    pairs in ``<ONI_LABELS stem>.pairs.json`` and uses a ranking service), ``ONI_C_INT``
    (default 0.1).
    Every wrapper of a process shares one :class:`AnnotationService` (one annotation thread,
    one label file). Its ``vector_twin`` (:func:`oni_vector_from_environment`) lets
    ``make_sb3_vec_env`` train on the env's native vector env under one
    :class:`ONIRewardVector` instead of wrapping sub-envs of a ``SyncVectorEnv``.

    Raises:
        ValueError: when ``ONI_GOAL`` is not set.
    """
    service, model, c_int = _service_from_environment("oni_from_environment")
    return ONIReward(env, service, model=model, c_int=c_int)


def oni_vector_from_environment(envs: VectorEnv) -> ONIRewardVector:
    """:class:`ONIRewardVector` configured as :func:`oni_from_environment` (its vector twin).

    Raises:
        ValueError: when ``ONI_GOAL`` is not set.
    """
    service, model, c_int = _service_from_environment("oni_vector_from_environment")
    return ONIRewardVector(envs, service, model=model, c_int=c_int)


oni_from_environment.vector_twin = oni_vector_from_environment  # type: ignore[attr-defined]
