"""``finish_rows``: the vector wrappers' guard, scale and pay, against a NumPy reference."""

import numpy as np
import pytest

from rewardgym.wrappers.llm.runtime import finish_rows


def _reference(totals, terms, k, coef, base, add):
    bad = ~np.isfinite(totals) | ~np.isfinite(terms[:, :k]).all(axis=1)
    totals = np.where(bad, 0.0, totals)
    out = terms.copy()
    if terms.shape[1] > k:
        rest = totals.copy()
        for j in range(k):  # the same order of subtractions as the kernel
            rest = rest - terms[:, j]
        out[:, k] = rest
    out = np.where(bad[:, None], 0.0, coef * out)
    shaped = coef * totals + (base if add else 0.0)
    return totals, out, shaped, bad


@pytest.mark.parametrize("other", [False, True])
@pytest.mark.parametrize("add", [False, True])
@pytest.mark.parametrize("coef", [1.0, -0.5])
def test_finish_rows_matches_reference(other, add, coef):
    rng = np.random.default_rng(int(other) + 2 * int(add) + (4 if coef < 0 else 0))
    n, k = 257, 3
    totals = rng.normal(size=n)
    block = rng.normal(size=(k + other, n))  # term-major, as the wrappers pass it (block.T)
    # Non-finite values in the total or in one term, never in the "other" column alone.
    totals[rng.choice(n, 9, replace=False)] = np.nan
    block[1, rng.choice(n, 7, replace=False)] = np.inf
    block[0, rng.choice(n, 5, replace=False)] = -np.inf
    base = rng.normal(size=n)
    expected = _reference(totals.copy(), block.T.copy(), k, coef, base, add)
    shaped, bad = np.empty(n), np.empty(n, dtype=np.bool_)
    count = finish_rows(totals, block.T, k, coef, base, add, shaped, bad)
    np.testing.assert_array_equal(bad, expected[3])
    assert count == int(expected[3].sum()) > 10
    np.testing.assert_array_equal(totals, expected[0])
    # Same operations in the same order: equal to the last bit, rows with bad values included.
    np.testing.assert_array_equal(block.T, expected[1])
    np.testing.assert_array_equal(shaped, expected[2])
    assert np.isfinite(block).all()
    assert np.isfinite(shaped).all()
