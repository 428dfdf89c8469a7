"""The shared reward-view layout: fixed indices, names, units, describe(), named row access."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from rewardgym.envs.native.view import Feature, FeatureRows, ViewLayout


def _layout() -> ViewLayout:
    return ViewLayout((Feature("speed", 0, 1, "m/s", "ego speed"),
                       Feature("gaps", 1, 3, "m", "gaps to three cars", ("a", "b", "c")),
                       Feature("flag", 4, 1, "0/1", "a flag")))


def test_layout_indices_names_and_describe():
    layout = _layout()
    assert layout.size == 5
    assert layout.names == ("speed", "gaps", "flag")
    assert layout.index() == {"speed": 0, "gaps": 1, "flag": 4}
    assert "gaps" in layout
    assert "nope" not in layout
    assert layout["flag"].start == 4
    assert layout["gaps"].index == "1:4"
    table = layout.describe().splitlines()
    assert table[3] == "| gaps | 1:4 | m | gaps to three cars (a, b, c) |"
    assert len(table) == 2 + 3
    assert layout.new_rows(2).shape == (2, 5)
    with pytest.raises(KeyError, match="no feature 'nope'; features:"):
        layout["nope"]


def test_scalars_builds_consecutive_scalar_features():
    layout = ViewLayout.scalars((("a", "m", "x"), ("b", "s", "y")))
    assert [(f.name, f.start, f.size, f.scalar) for f in layout.features] == [
        ("a", 0, 1, True), ("b", 1, 1, True)]


@pytest.mark.parametrize(("features", "message"), [
    ((Feature("a", 0, 1, "", ""), Feature("a", 1, 1, "", "")), "listed twice"),
    ((Feature("a", 0, 1, "", ""), Feature("b", 2, 1, "", "")), "'b' spans 2:3, expected"),
    ((Feature("a", 0, 0, "", ""),), "size >= 1"),
    ((Feature("not valid", 0, 1, "", ""),), "public Python identifier"),
    ((Feature("_private", 0, 1, "", ""),), "public Python identifier"),
])
def test_layout_refuses_bad_tables(features, message):
    with pytest.raises(ValueError, match=message):
        ViewLayout(features)


def test_rows_read_scalars_as_floats_and_vectors_as_slices():
    layout = _layout()
    single = FeatureRows(np.arange(5, dtype=np.float64), layout)
    assert single.speed == 0.0
    assert isinstance(single.speed, float)
    assert single.gaps.tolist() == [1.0, 2.0, 3.0]
    batch = FeatureRows(np.arange(10, dtype=np.float64).reshape(2, 5), layout)
    assert batch.flag.tolist() == [4.0, 9.0]
    assert batch.gaps.shape == (2, 3)
    assert np.asarray(batch) is batch.values
    assert single.as_dict()["flag"] == 4.0
    assert "speed" in dir(single)


def test_rows_fail_as_attributes_for_unknown_and_private_names():
    view = FeatureRows(np.zeros(5), _layout())
    with pytest.raises(AttributeError, match="no feature 'nope'"):
        _ = view.nope
    assert getattr(view, "__deepcopy__", None) is None
    assert not hasattr(view, "_x")
    again = pickle.loads(pickle.dumps(view))
    assert again.values.tolist() == view.values.tolist()
    assert copy.deepcopy(view).layout.names == view.layout.names
