"""The named reward view every env family shares: a layout of named features and row access.

A family's reward view is one float64 row per env with fixed indices. Reference rewards, success
predicates, potentials and LLM-written programs read only this row: by name in Python
(``view.speed``) or by the fixed index in numba kernels. Text2Reward (Xie et al., ICLR 2024)
found that such a compact, typed description of the state, with units and meanings, is what lets
a language model write a working reward; here the description is data, so the same table
documents the view, renders the prompt (``describe()``) and checks the programs' names.

* :class:`Feature`: one named entry, a scalar or a fixed-length vector (``labels`` name its
  components), with its unit and a one-line meaning.
* :class:`ViewLayout`: the ordered features of one family (or one robot, one task), with
  ``layout["name"]``, ``names``, ``size`` and ``describe()``. :meth:`ViewLayout.scalars`
  builds a layout of one-float features from ``(name, unit, meaning)`` rows.
* :class:`FeatureRows`: named access to one row (``view.x`` is a float) or a batch
  (``view.x`` is an array ``(n,)``); ``np.asarray(view)`` is the raw rows.

Families fill the rows with an ``@njit`` kernel over the whole batch (no per-env Python loop) and
expose ``features(env)`` / ``features_batch(envs)`` returning :class:`FeatureRows` (or a subclass).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Feature:
    """One named entry of a feature row: ``size`` floats from index ``start``.

    Args:
        name: the feature's name (a Python identifier).
        start: its first index in the row.
        size: how many floats it spans (1 for a scalar).
        unit: its unit (``"m"``, ``"m/s"``, ``"0/1"``, ...).
        doc: a one-line meaning.
        labels: names of a vector feature's components (empty for a scalar).

    Example:
        >>> Feature("speed", 0, 1, "m/s", "ego speed").scalar
        True
    """

    name: str
    start: int
    size: int
    unit: str
    doc: str
    labels: tuple[str, ...] = ()

    @property
    def scalar(self) -> bool:
        """True when the feature reads as one float (size 1 and no component labels)."""
        return self.size == 1 and not self.labels

    @property
    def index(self) -> str:
        """The row index as text: ``"3"`` for a scalar, ``"3:6"`` for a vector."""
        return str(self.start) if self.size == 1 else f"{self.start}:{self.start + self.size}"


class ViewLayout:
    """Names, units, one-line meanings and fixed indices of one feature row.

    Args:
        features: the features in row order; they must tile ``0..size`` without gaps and have
            distinct identifier names.

    Raises:
        ValueError: naming the feature that overlaps, leaves a gap, repeats a name or has a
            name that is not an identifier.

    Example:
        >>> layout = ViewLayout.scalars((("speed", "m/s", "ego speed"),
        ...                              ("gap", "m", "gap to the car ahead")))
        >>> layout["gap"].start, layout.size, layout.names
        (1, 2, ('speed', 'gap'))
        >>> print(layout.describe())
        | feature | index | unit | meaning |
        |---|---|---|---|
        | speed | 0 | m/s | ego speed |
        | gap | 1 | m | gap to the car ahead |
    """

    def __init__(self, features: Iterable[Feature]) -> None:
        feats = tuple(features)
        by_name: dict[str, Feature] = {}
        start = 0
        for f in feats:
            if not f.name.isidentifier() or f.name.startswith("_"):
                raise ValueError(f"feature name {f.name!r} must be a public Python identifier")
            if f.name in by_name:
                raise ValueError(f"feature {f.name!r} is listed twice")
            if f.start != start or f.size < 1:
                raise ValueError(f"feature {f.name!r} spans {f.start}:{f.start + f.size}, "
                                 f"expected to start at {start} with size >= 1")
            by_name[f.name] = f
            start += f.size
        self.features: tuple[Feature, ...] = feats
        self.size = start
        self._by_name = by_name

    @classmethod
    def scalars(cls, table: Sequence[tuple[str, str, str]]) -> ViewLayout:
        """A layout of one-float features from ``(name, unit, meaning)`` rows, in order."""
        return cls(Feature(name, i, 1, unit, doc) for i, (name, unit, doc) in enumerate(table))

    def __getitem__(self, name: str) -> Feature:
        """The :class:`Feature` called ``name`` (KeyError listing the names otherwise)."""
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no feature {name!r}; features: {list(self._by_name)}") from None

    def __contains__(self, name: object) -> bool:
        """Whether the layout has a feature called ``name``."""
        return name in self._by_name

    @property
    def names(self) -> tuple[str, ...]:
        """Feature names in row order (vector features once)."""
        return tuple(f.name for f in self.features)

    def index(self) -> dict[str, int]:
        """``{name: start}`` for every feature (the fixed indices numba code uses)."""
        return {f.name: f.start for f in self.features}

    def mask(self, names: Iterable[str] | None = None) -> np.ndarray:
        """A ``(size,)`` bool mask of the columns of ``names`` (None: every feature).

        What a reader computes (a reward program's features only).

        Example:
            >>> layout = ViewLayout.scalars((("speed", "m/s", "ego speed"),
            ...                              ("gap", "m", "gap to the car ahead")))
            >>> layout.mask(["gap"]).tolist(), layout.mask().tolist()
            ([False, True], [True, True])
        """
        need = np.zeros(self.size, dtype=np.bool_)
        for name in self.names if names is None else names:
            feature = self[name]
            need[feature.start:feature.start + feature.size] = True
        return need

    def new_rows(self, n: int) -> np.ndarray:
        """A zeroed float64 batch ``(n, size)``, the array the family's kernel fills."""
        return np.zeros((n, self.size), dtype=np.float64)

    def describe(self) -> str:
        """A markdown table of the features (for documentation and reward-writing prompts)."""
        lines = ["| feature | index | unit | meaning |", "|---|---|---|---|"]
        for f in self.features:
            labels = f" ({', '.join(f.labels)})" if f.labels else ""
            lines.append(f"| {f.name} | {f.index} | {f.unit} | {f.doc}{labels} |")
        return "\n".join(lines)


class FeatureRows:
    """Named access to feature rows: ``view.name`` is a float (one row) or an array (a batch).

    Scalar features read as a float for a single row and as an ``(n,)`` array for a batch;
    vector features read as ``(size,)`` or ``(n, size)`` slices of the rows.

    Args:
        values: the rows, ``(size,)`` or ``(n, size)`` float64.
        layout: the :class:`ViewLayout` that names them.

    Example:
        >>> layout = ViewLayout.scalars((("speed", "m/s", "ego speed"),
        ...                              ("gap", "m", "gap to the car ahead")))
        >>> view = FeatureRows(np.array([[3.0, 10.0], [4.0, 20.0]]), layout)
        >>> view.gap.tolist(), FeatureRows(np.array([3.0, 10.0]), layout).speed
        ([10.0, 20.0], 3.0)
    """

    def __init__(self, values: np.ndarray, layout: ViewLayout) -> None:
        self.values = values
        self.layout = layout

    def __getattr__(self, name: str) -> Any:
        """The feature ``name``: a scalar per row for scalar features, else a vector per row.

        Raises:
            AttributeError: for a name that is not a feature (listing the features), so
                ``hasattr``, ``getattr(view, name, None)``, copying and pickling behave.
        """
        # Private and dunder names (``__array__``, ``__deepcopy__``, ``values`` while
        # unpickling, ...) are never features: look-ups of them must fail as attributes do.
        if name.startswith("_") or name in ("values", "layout"):
            raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")
        try:
            f = self.layout[name]
        except KeyError as exc:
            raise AttributeError(f"{type(self).__name__} has no feature {name!r}; features: "
                                 f"{list(self.layout.names)}") from exc
        if f.scalar:
            value = self.values[..., f.start]
            return float(value) if value.ndim == 0 else value
        return self.values[..., f.start:f.start + f.size]

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """The raw feature rows, so ``np.asarray(view)`` is the ``values`` array."""
        if copy:
            return np.array(self.values, dtype=dtype, copy=True)
        return np.asarray(self.values, dtype=dtype)

    def __dir__(self) -> list[str]:
        """Attributes plus the feature names (for tab completion)."""
        return sorted({*super().__dir__(), *self.layout.names})

    def as_dict(self) -> dict[str, Any]:
        """Every feature by name (the single-row form is handy in tests and prompts)."""
        return {name: getattr(self, name) for name in self.layout.names}


__all__ = ["Feature", "FeatureRows", "ViewLayout"]
