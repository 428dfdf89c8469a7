"""Words of shop pages and instructions, and their hashed bag of words.

What the slot view (:mod:`rewardgym.envs.shopping.discrete`), the baselines and the reward
view read from text: lower-case alphanumeric words, the content words of an instruction (its
filler such as "i", "need", "find" left out), a crc32-hashed bag of unigrams and bigrams (crc32
is stable across processes, unlike Python's salted ``hash``), and the first price in a text.
"""

from __future__ import annotations

import functools
import itertools
import re
import zlib
from collections.abc import Sequence

import numpy as np

_WORD = re.compile(r"[a-z0-9]+")
_PRICE = re.compile(r"\d+(?:\.\d+)?")
# Instruction filler that carries no product information (left out of content words).
FILLER = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "buy", "by", "can", "d", "find", "for", "get",
    "help", "hoping", "i", "im", "in", "is", "it", "looking", "love", "m", "market", "me", "my",
    "need", "needs", "of", "on", "one", "or", "order", "pick", "please", "preferably", "s",
    "searching", "shopping", "show", "some", "that", "the", "to", "want", "with", "would",
    "you", "am", "like", "wife", "husband", "mom", "dad", "sister", "brother", "friend",
    "roommate", "also", "which", "has", "have", "should", "be", "is", "its",
))


def words(text: str) -> list[str]:
    """Lower-case alphanumeric words of ``text``.

    Example:
        >>> words("Red Mug, 11-oz!")
        ['red', 'mug', '11', 'oz']
    """
    return _WORD.findall(text.lower())


def content_words(text: str) -> list[str]:
    """:func:`words` without instruction filler ("i", "need", "find", "me", "a", ...)."""
    return [w for w in words(text) if w not in FILLER]


@functools.lru_cache(maxsize=1 << 17)
def _bucket(token: str, dim: int) -> int:
    return zlib.crc32(token.encode()) % dim


def hashed_bow(tokens: Sequence[str], dim: int) -> np.ndarray:
    """L2-normalised counts of crc32-hashed unigrams and bigrams (``float32``, shape ``(dim,)``).

    Example:
        >>> v = hashed_bow(["red", "mug"], 64)
        >>> float(round(np.linalg.norm(v), 6)), int((v > 0).sum()) <= 3
        (1.0, True)
    """
    out = np.zeros(dim, dtype=np.float32)
    if not tokens:
        return out
    ids = [_bucket(t, dim) for t in tokens]
    ids += [_bucket(f"{a} {b}", dim) for a, b in itertools.pairwise(tokens)]
    np.add.at(out, ids, 1.0)
    out /= np.sqrt(np.dot(out, out))
    return out


def price_from_text(text: str) -> float | None:
    """The first number in ``text`` (thousands commas ignored), else None.

    Example:
        >>> price_from_text("$1,049.50 to $1,200"), price_from_text("N.A.")
        (1049.5, None)
    """
    match = _PRICE.search(text.replace(",", ""))
    return float(match.group()) if match else None


__all__ = ["FILLER", "content_words", "hashed_bow", "price_from_text", "words"]
