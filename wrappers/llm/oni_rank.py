"""ONI's ranking reward model: pairwise preferences of a language model, distilled Bradley-Terry.

After ONI-Ranking (Zheng et al., "Online Intrinsic Rewards for Decision Making Agents from Large
Language Model Feedback", 2024, arXiv 2410.23022; code facebookresearch/oni ``f0f86e8``,
``--llm_reward_type online_motif``), the online form of Motif (Klissarov et al., "Motif:
Intrinsic Motivation from Artificial Intelligence Feedback", 2023, arXiv 2310.00166). Instead of
labelling single captions, the model is shown two event captions at a time and asked which shows
more progress towards the goal (FIRST, SECOND or TIE; an answer that does not parse is a TIE).
A :class:`RankingService` (an :class:`~rewardgym.wrappers.llm.oni.AnnotationService`) pairs
every new caption with a few seen before, batches the pairs into one request on its background
thread (``step`` never waits), persists them, and trains a :class:`BradleyTerryRanker` — a
linear score over the hashed character n-grams of the other ONI models — with the soft
cross-entropy over pairs (sig the logistic function)

    L = -[t log sig(r1 - r2) + (1 - t) log sig(r2 - r1)],   t = 1 (FIRST), 0 (SECOND), 0.5 (TIE)

with gradients clipped to norm 10. The step reward is the score normalised by running statistics
and thresholded, then count-decayed as for the other ONI models:

    z = (r(caption) - mean) / std,   r_int = z if z > eps else 0,   eps = -0.5
    reward = c_ext * r_ext + c_int * r_int / N_episode(caption) ** beta

Where the numbers come from (facebookresearch/oni ``f0f86e8``; ``appo/`` is
``rl_baseline/sample-factory/sample_factory/algorithms/appo/``):

- FIRST = 0, SECOND = 1, TIE = 2: ``rlaif/llms.py`` 33-37; an unparsed answer is a TIE:
  ``appo/llm_annotator.py`` 159-178;
- the loss: ``appo/learner.py`` 2121-2142 (TIE → 0.5 at 2136, ``log_softmax`` at 2141), the
  grad-norm clip at 10.0: 2148-2150; Adam, 32 gradient steps per update, minibatch 256:
  ``scripts/main.py`` 78-80;
- the running statistics (mean 0, var 1, count 1e-4 at the start, the parallel update):
  ``rlaif/reward_model.py`` 22-56; normalise then threshold: ``appo/learner.py`` 1073-1089;
- eps: ``--eps_threshold_quantile`` default -0.5 and ``--rew_norm`` default True,
  ``rl_baseline/sample-factory/sample_factory/algorithms/utils/arguments.py`` 76-87.

The prompt is our own wording (ONI's is NetHack-specific and CC-BY-NC); ``docs/fidelity.md``
lists every difference from ONI's code.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rewardgym.wrappers.llm.backends import LLMBackend
from rewardgym.wrappers.llm.oni import AnnotationService, Distilled, NgramClassifier, _write_json

FIRST, SECOND, TIE = "FIRST", "SECOND", "TIE"
# The probability that the first caption is the better one, per answer (ONI: learner.py 2133-2138).
TARGETS = {FIRST: 1.0, SECOND: 0.0, TIE: 0.5}
# ONI's defaults: eps (arguments.py 77-78) and the grad-norm clip (learner.py 2148-2150).
EPSILON = -0.5
MAX_GRAD_NORM = 10.0

Pair = tuple[str, str]

_ANSWER = re.compile(
    r"^[\s>*-]*(?:pair\s*)?(\d+)\s*[:.)-]\s*[*\"'`(\[]*\s*(?:the\s+)?"
    r"(first|second|tie|none|neither|equal|both|1|2)\b",
    re.IGNORECASE | re.MULTILINE)
_WORDS = {"first": FIRST, "1": FIRST, "second": SECOND, "2": SECOND}


def rank_prompt(goal: str, pairs: Sequence[Pair]) -> list[dict[str, str]]:
    """The pairwise ranking prompt for a batch of caption pairs (our own wording)."""
    listed = "\n".join(f'{k + 1}: first "{a}" / second "{b}"' for k, (a, b) in enumerate(pairs))
    return [{"role": "system", "content": "You compare two events from a game and judge which "
             "one shows more progress towards the agent's goal."},
            {"role": "user", "content": f"Goal: {goal}\nPairs of events:\n{listed}\n\nFor every "
             "pair answer on its own line `<number>: FIRST` if the first event shows more "
             "progress towards the goal, `<number>: SECOND` if the second does, or "
             "`<number>: TIE` if neither does."}]


def parse_rankings(text: str, count: int) -> dict[int, str]:
    """``{index: FIRST, SECOND or TIE}`` for the answer lines that parse (the first per index).

    ``<number>: FIRST|SECOND|TIE`` in any case, with ``1``/``2`` for first/second and ``none``,
    ``neither``, ``equal`` or ``both`` for a tie; list markers, ``Pair``, quotes and bold are
    tolerated. Indices that do not parse are left out: the caller counts them as TIE.
    """
    out: dict[int, str] = {}
    for match in _ANSWER.finditer(text):
        k = int(match.group(1)) - 1
        if 0 <= k < count and k not in out:
            out[k] = _WORDS.get(match.group(2).lower(), TIE)
    return out


def clip_grad_norm(grad: np.ndarray, max_norm: float) -> np.ndarray:
    """``grad`` scaled down to L2 norm ``max_norm`` when it is longer (as torch's clip)."""
    norm = float(np.linalg.norm(grad))
    return grad * (max_norm / norm) if norm > max_norm else grad


class BradleyTerryRanker:
    """A Bradley-Terry score over hashed character 3-grams, fit to pairwise preferences (numpy).

    ``fit(pairs)`` takes ``(first, second, target)`` triples, ``target`` the probability that
    ``first`` is better (1, 0, or 0.5 for a tie), and takes Adam steps of the soft cross-entropy
    ``-[t log sig(r1 - r2) + (1 - t) log sig(r2 - r1)]`` on random minibatches of ``batch_size``
    pairs, the gradient clipped to norm ``max_grad_norm``; like ONI's reward model it keeps
    learning from its current weights on every call. ``predict(text)`` is the score ``r``
    (only differences of scores mean anything).

    Args:
        dim: hashed n-gram features (as :class:`~rewardgym.wrappers.llm.oni.NgramClassifier`).
        lr: Adam step size.
        batch_size: pairs per gradient step (ONI: 256).
        max_grad_norm: the gradient-norm clip (ONI: 10).
        seed: the minibatch sampler's seed.

    Example:
        >>> model = BradleyTerryRanker()
        >>> model.fit([("opened the door", "closed the door", 1.0)], steps=50)
        >>> bool(model.predict("opened the door") > model.predict("closed the door"))
        True
    """

    def __init__(self, dim: int = 512, lr: float = 0.05, batch_size: int = 256,
                 max_grad_norm: float = MAX_GRAD_NORM, seed: int = 0) -> None:
        for key, value in (("dim", dim), ("batch_size", batch_size)):
            if int(value) != value or value < 1:
                raise ValueError(f"BradleyTerryRanker: {key} must be an int >= 1, got {value!r}")
        for key, value in (("lr", lr), ("max_grad_norm", max_grad_norm)):
            if not np.isfinite(value) or value <= 0:
                raise ValueError(f"BradleyTerryRanker: {key} must be finite and > 0, "
                                 f"got {value!r}")
        self.hasher = NgramClassifier(dim)
        self.lr, self.batch_size, self.max_grad_norm = float(lr), int(batch_size), max_grad_norm
        self.w = np.zeros(dim)
        self._m = np.zeros(dim)
        self._v = np.zeros(dim)
        self._t = 0
        self._rng = np.random.default_rng(seed)

    def _differences(self, pairs: Sequence[tuple[str, str, float]]) -> tuple[np.ndarray,
                                                                              np.ndarray]:
        cache: dict[str, np.ndarray] = {}

        def feats(text: str) -> np.ndarray:
            if text not in cache:
                cache[text] = self.hasher.features(text)
            return cache[text]

        d = np.stack([feats(a) - feats(b) for a, b, _ in pairs])
        t = np.array([float(target) for _, _, target in pairs])
        if not np.all((t >= 0.0) & (t <= 1.0)):
            raise ValueError("BradleyTerryRanker: targets must lie in [0, 1]")
        return d, t

    def loss(self, pairs: Sequence[tuple[str, str, float]]) -> float:
        """Mean soft cross-entropy of the current scores on ``pairs``."""
        d, t = self._differences(pairs)
        margin = d @ self.w
        # -log sigmoid(m) = log(1 + e^-m), written with logaddexp so large margins stay finite.
        return float(np.mean(t * np.logaddexp(0.0, -margin) + (1 - t) * np.logaddexp(0.0, margin)))

    def fit(self, pairs: Sequence[tuple[str, str, float]], steps: int = 32) -> None:
        """``steps`` Adam steps of the soft cross-entropy on minibatches of ``pairs``."""
        if not pairs:
            return
        d, t = self._differences(pairs)
        n = len(t)
        for _ in range(steps):
            if n > self.batch_size:
                idx = self._rng.choice(n, self.batch_size, replace=False)
                db, tb = d[idx], t[idx]
            else:
                db, tb = d, t
            p_first = 1.0 / (1.0 + np.exp(-(db @ self.w)))
            grad = clip_grad_norm(db.T @ (p_first - tb) / len(tb), self.max_grad_norm)
            self._t += 1
            self._m = 0.9 * self._m + 0.1 * grad
            self._v = 0.999 * self._v + 0.001 * grad * grad
            m_hat = self._m / (1.0 - 0.9 ** self._t)
            v_hat = self._v / (1.0 - 0.999 ** self._t)
            self.w -= self.lr * m_hat / (np.sqrt(v_hat) + 1e-8)

    def predict(self, text: str) -> float:
        """The score ``r(text)``."""
        return float(self.hasher.features(text) @ self.w)


class RunningMeanStd:
    """Running mean and variance of a stream of scores (the parallel update of Chan et al.).

    Starts at mean 0, variance 1 and a pseudo-count of ``epsilon`` as ONI's
    (``rlaif/reward_model.py`` 22-27); batches of any size, one included (population variance
    of the batch, where ONI's ``torch.var`` is the unbiased one and undefined for one value).

    Example:
        >>> stats = RunningMeanStd()
        >>> stats.update(np.array([1.0, 3.0]))
        >>> round(stats.mean, 3), round(stats.var, 3)  # the prior weighs 1e-4 against 2
        (2.0, 1.0)
    """

    def __init__(self, epsilon: float = 1e-4) -> None:
        self.mean = 0.0
        self.var = 1.0
        self.count = float(epsilon)

    def update(self, x: np.ndarray) -> None:
        """Fold a batch of values into the statistics."""
        x = np.asarray(x, dtype=np.float64).reshape(-1)
        if x.size == 0:
            return
        n, batch_mean, batch_var = x.size, float(x.mean()), float(x.var())
        delta = batch_mean - self.mean
        total = self.count + n
        m2 = self.var * self.count + batch_var * n + delta * delta * self.count * n / total
        self.mean += delta * n / total
        self.var = m2 / total
        self.count = total

    def add(self, x: float) -> None:
        """Fold one value in (the batch update for one value, in plain floats: the step path)."""
        delta = x - self.mean
        total = self.count + 1.0
        m2 = self.var * self.count + delta * delta * self.count / total
        self.mean += delta / total
        self.var = m2 / total
        self.count = total

    def normalise(self, x: float) -> float:
        """``(x - mean) / std``."""
        return (x - self.mean) / math.sqrt(max(self.var, 1e-12))


def _load_pairs(path: Path) -> list[tuple[str, str, str]]:
    """The ``(first, second, answer)`` triples of a pairs file; one clear line if malformed."""
    shape = '{"pairs": [[first, second, "FIRST" | "SECOND" | "TIE"], ...]}'
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"RankingService: cannot read pairs file {path}: "
                         f"{type(err).__name__}: {err}") from None
    if not isinstance(data, dict) or not isinstance(data.get("pairs"), list):
        raise ValueError(f"RankingService: pairs file {path} must hold {shape}")
    out = []
    for k, entry in enumerate(data["pairs"]):
        if not (isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], str)
                and isinstance(entry[1], str) and entry[0] and entry[1]
                and entry[2] in TARGETS):
            raise ValueError(f"RankingService: pairs file {path}: entry {k} is {entry!r}, "
                             f"expected [first, second, \"FIRST\" | \"SECOND\" | \"TIE\"]")
        out.append((entry[0], entry[1], entry[2]))
    return out


class RankingService(AnnotationService):
    """Ranks pairs of captions on a background thread; ``submit`` never waits for a model.

    Each caption not seen before is paired with up to ``pairs_per_caption`` captions seen
    earlier (drawn uniformly, in random order, every unordered pair asked once); the pairs are
    batched ``batch_size`` to a request (:func:`rank_prompt`), the answers parsed
    (:func:`parse_rankings`; an unparsed answer counts as TIE, ``unparsed`` counts them) and
    the pairs kept in ``path`` as ``{"pairs": [[first, second, "FIRST"|"SECOND"|"TIE"], ...]}``
    (loaded back on restart). A request that fails is recorded in ``errors`` and its pairs
    may be drawn again. Distilled models (``distil``) are trained on ``(first, second,
    target)`` after every answered batch, on the worker thread. ``labels()`` stays empty.

    Args:
        backend: any LLM backend.
        goal: the task, as the prompt states it.
        path: the pairs file to load and keep up to date (optional).
        batch_size: pairs per request.
        pairs_per_caption: partners drawn for each new caption.
        seed: the pairing's seed.

    Example:
        >>> from rewardgym.wrappers.llm.backends import ScriptedBackend
        >>> service = RankingService(ScriptedBackend(lambda m, i: "1: SECOND"), "open the door")
        >>> service.submit(["closed the door", "opened the door"])
        >>> service.wait(timeout=5.0)
        True
        >>> sorted(service.pairs()[0][:2]), service.pairs()[0][2] in ("FIRST", "SECOND")
        (['closed the door', 'opened the door'], True)
        >>> service.close()
    """

    def __init__(self, backend: LLMBackend, goal: str, *, path: str | Path | None = None,
                 batch_size: int = 16, pairs_per_caption: int = 4, seed: int = 0) -> None:
        for key, value in (("batch_size", batch_size), ("pairs_per_caption", pairs_per_caption)):
            if int(value) != value or value < 1:
                raise ValueError(f"RankingService: {key} must be an int >= 1, got {value!r}")
        self.pairs_per_caption = int(pairs_per_caption)
        self.unparsed = 0
        self._pairs: list[tuple[str, str, str]] = []
        self._pool: list[str] = []
        self._asked: set[frozenset[str]] = set()
        self._rng = np.random.default_rng(seed)
        super().__init__(backend, goal, path=path, batch_size=batch_size)

    def _load(self, path: Path) -> None:
        self._pairs = _load_pairs(path)
        for a, b, _ in self._pairs:
            self._asked.add(frozenset((a, b)))
            for c in (a, b):
                if c not in self._seen:
                    self._seen.add(c)
                    self._pool.append(c)

    def _training_data(self) -> list[tuple[str, str, float]]:
        return [(a, b, TARGETS[answer]) for a, b, answer in self.pairs()]

    def pairs(self) -> list[tuple[str, str, str]]:
        """A snapshot of the answered pairs: ``(first, second, FIRST|SECOND|TIE)``."""
        with self._lock:
            return list(self._pairs)

    def submit(self, captions: Sequence[str]) -> None:
        """Pair the captions not seen before with earlier ones and queue the pairs."""
        new: list[Pair] = []
        with self._lock:
            for c in captions:
                if not c or c in self._seen:
                    continue
                self._seen.add(c)
                k = min(self.pairs_per_caption, len(self._pool))
                for j in (self._rng.choice(len(self._pool), k, replace=False) if k else ()):
                    other = self._pool[j]
                    key = frozenset((c, other))
                    if key in self._asked:
                        continue
                    self._asked.add(key)
                    new.append((c, other) if self._rng.random() < 0.5 else (other, c))
                self._pool.append(c)
        for pair in new:
            with self._done:
                self._pending += 1
            self._queue.put_nowait(pair)

    def _annotate(self, batch: list[Pair]) -> None:
        try:
            reply = self.backend.complete(rank_prompt(self.goal, batch), n=1, temperature=0.0,
                                          seed=0, max_tokens=16 * len(batch))
            parsed = parse_rankings(reply[0].text, len(batch))
        except Exception as err:  # the worker lives on; these pairs may be drawn again
            self.errors.append(f"{type(err).__name__}: {err}")
            self.requests += 1
            with self._lock:
                self._asked.difference_update(frozenset(pair) for pair in batch)
            return
        self.requests += 1
        with self._lock:
            for k, (a, b) in enumerate(batch):
                self._pairs.append((a, b, parsed.get(k, TIE)))
            self.unparsed += len(batch) - len(parsed)
            snapshot = [list(p) for p in self._pairs]
        if self.path is not None:
            _write_json(self.path, {"pairs": snapshot})


class RankLabel:
    """The intrinsic label of ``model="rank"``: the normalised, thresholded Bradley-Terry score.

    Every captioned step (``__call__``) folds the current model's score of its caption into
    running statistics and pays ``z = (r - mean) / std`` when ``z > epsilon``, else 0 (ONI
    ``appo/learner.py`` 1073-1089). Nothing is paid (and nothing counted) before the first fit.
    Used by :class:`~rewardgym.wrappers.llm.oni.ONIReward` and its vector twin.

    Args:
        name: the wrapper's name, for errors.
        service: the :class:`RankingService` that trains the model.
        steps: gradient steps per answered batch.
        epsilon: the threshold on the normalised score (ONI: -0.5).
        model: the ranker to train (default :class:`BradleyTerryRanker`).

    Example:
        >>> from rewardgym.wrappers.llm.backends import ScriptedBackend
        >>> opened_wins = lambda m, i: ("1: FIRST" if '1: first "opened' in m[-1]["content"]
        ...                             else "1: SECOND")
        >>> service = RankingService(ScriptedBackend(opened_wins), "open the door")
        >>> label = RankLabel("example", service, steps=100)
        >>> label("opened the door")  # nothing fitted yet: nothing paid, nothing counted
        0.0
        >>> service.submit(["opened the door", "closed the door"])
        >>> service.wait(timeout=5.0), label.handle.fitted_on
        (True, 1)
        >>> bool(label.score("opened the door") > label.score("closed the door"))
        True
        >>> service.close()
    """

    def __init__(self, name: str, service: AnnotationService, steps: int,
                 epsilon: float = EPSILON, model: BradleyTerryRanker | None = None) -> None:
        if not isinstance(service, RankingService):
            raise ValueError(f"{name}: model='rank' needs a RankingService (pairwise answers), "
                             f"got {type(service).__name__}")
        if not np.isfinite(epsilon):
            raise ValueError(f"{name}: epsilon must be finite, got {epsilon!r}")
        self.service = service
        self.epsilon = float(epsilon)
        self.handle: Distilled = service.distil(
            BradleyTerryRanker() if model is None else model, steps)
        self.stats = RunningMeanStd()
        self._cache: dict[str, float] = {}
        self._version = -1

    def score(self, caption: str) -> float | None:
        """The current model's raw score of ``caption`` (None before the first fit)."""
        current, version, _ = self.handle.published
        if current is None:
            return None
        if version != self._version:
            self._cache, self._version = {}, version
        if caption not in self._cache:
            self._cache[caption] = current.predict(caption)
        return self._cache[caption]

    def __call__(self, caption: str) -> float:
        """The intrinsic label of one captioned step (updates the running statistics)."""
        raw = self.score(caption)
        if raw is None:
            return 0.0
        self.stats.add(raw)
        z = self.stats.normalise(raw)
        return z if z > self.epsilon else 0.0
