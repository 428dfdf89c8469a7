"""BM25 search over a shopping catalogue with Lucene's scoring formula, in numpy.

WebShop (Yao et al., "WebShop: Towards Scalable Real-World Web Interaction with Grounded Language
Agents", NeurIPS 2022) searches its products with Pyserini/Lucene BM25 (Anserini's defaults
``k1=0.9, b=0.4``, a disjunctive bag-of-words query in which a repeated query term is boosted by
its count) over ``Title + Description + BulletPoints[0] + option text``, lower-cased, and shows
the top 50 hits. This module rebuilds that search offline (no JVM, no index directory):

* score(q, d) = sum over distinct query terms t of
  ``qtf(t) * idf(t) * tf(t, d) / (tf(t, d) + k1 * (1 - b + b * |d| / avgdl))`` with Lucene's
  ``idf(t) = log(1 + (N - n(t) + 0.5) / (n(t) + 0.5))``;
* tokens: lower case, alphanumeric runs, English stop-words dropped, a light plural stemmer
  (the same for documents and queries);
* postings are stored CSR-style (one numpy array of document ids and one of precomputed
  per-posting weights, sliced per term), so a query is a few slices and one ``np.bincount``.

Known differences from Lucene: document lengths are exact (Lucene keeps a lossy one-byte norm),
scores are float64, and the stemmer is a plural stripper rather than Porter's. Ties are broken by
product index, so results are fully deterministic.

Contract enforced by ``tests/envs/shopping/test_search.py``: scores equal a hand-computed BM25 on
a tiny corpus; ranking order and tie-breaking; stop-words and plurals; query normalisation (word
order, case and punctuation do not change results); determinism; one cached index per catalogue.
"""

from __future__ import annotations

import collections
import functools
import math
import re
import weakref
from collections.abc import Sequence

import numpy as np

from rewardgym.envs.shopping.schema import Catalogue

# Lucene's default English stop set (EnglishAnalyzer), plus personal pronouns, which shoppers'
# instructions are full of ("i need ...", "find me ...") and product texts rarely use.
STOP_WORDS: frozenset[str] = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is",
    "it", "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there",
    "these", "they", "this", "to", "was", "will", "with", "i", "me", "my", "we", "our", "you",
    "your",
))

_TOKEN_RE = re.compile(r"[a-z0-9]+")
# Endings kept as they are: "glass", "cactus", "tennis", "its".
_KEEP_ENDINGS = ("ss", "us", "is")
# Plurals that add "es" after a sibilant: "couches", "dishes", "boxes", "buzzes".
_ES_PLURALS = ("ches", "shes", "sses", "xes", "zes")


@functools.lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """Strip an English plural ending from a lower-case word.

    A deliberately light stemmer: it maps "batteries" -> "battery", "couches" -> "couch",
    "sofas" -> "sofa" and leaves "glass", "cactus" and short words alone. It never changes a
    word that does not end in "s", so adjectives and verbs keep their meaning.

    Args:
        word: one lower-case token.

    Returns:
        The singular form (or ``word`` unchanged).
    """
    if len(word) <= 3 or not word.endswith("s") or word.endswith(_KEEP_ENDINGS):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(_ES_PLURALS):
        return word[:-2]
    return word[:-1]


def tokenize(text: str) -> list[str]:
    """Split ``text`` into search terms: lower case, alphanumeric runs, no stop-words, stemmed.

    Example:
        >>> tokenize("Find me two Sofas & Couches for the living-room")
        ['find', 'two', 'sofa', 'couch', 'living', 'room']
    """
    return [stem(tok) for tok in _TOKEN_RE.findall(text.lower()) if tok not in STOP_WORDS]


class _TermIds(dict):
    """Raw token -> term id (``-1`` for a stop-word), growing the vocabulary on first sight.

    One dict lookup per raw token is the whole per-token cost of indexing.
    """

    def __init__(self, vocab: dict[str, int]) -> None:
        super().__init__()
        self.vocab = vocab

    def __missing__(self, token: str) -> int:
        term = -1 if token in STOP_WORDS else self.vocab.setdefault(stem(token), len(self.vocab))
        self[token] = term
        return term


class BM25Index:
    """An inverted index over a list of documents, scored with Lucene's BM25.

    Args:
        documents: the texts to index; result ``i`` refers to ``documents[i]``.
        k1: term-frequency saturation (Anserini's default 0.9).
        b: length normalisation (Anserini's default 0.4).
        cache_size: how many distinct normalised queries keep their results (LRU).

    Example:
        >>> index = BM25Index(["red apple", "green apple pie", "red red cherry"])
        >>> index.search("red apples")
        [0, 2, 1]
        >>> index.search("pie", k=1)
        [1]
    """

    def __init__(self, documents: Sequence[str], *, k1: float = 0.9, b: float = 0.4,
                 cache_size: int = 4096) -> None:
        if not k1 >= 0.0:
            raise ValueError(f"BM25Index: k1 must be >= 0, got {k1!r}")
        if not 0.0 <= b <= 1.0:
            raise ValueError(f"BM25Index: b must be in [0, 1], got {b!r}")
        if cache_size < 0:
            raise ValueError(f"BM25Index: cache_size must be >= 0, got {cache_size!r}")
        self.k1 = float(k1)
        self.b = float(b)
        self.n_docs = len(documents)
        self._cache_size = cache_size
        self._cache: collections.OrderedDict[tuple, tuple[int, ...]] = collections.OrderedDict()
        self._vocab: dict[str, int] = {}
        self._build(documents)

    @classmethod
    def from_catalogue(cls, catalogue: Catalogue, **kwargs: float) -> BM25Index:
        """Index every product's :meth:`Product.search_text` (WebShop's indexed fields)."""
        return cls([p.search_text() for p in catalogue.products], **kwargs)

    def _build(self, documents: Sequence[str]) -> None:
        term_ids = _TermIds(self._vocab)
        # One flat array of term ids (stop-words as -1) and the document each came from.
        per_doc = [[term_ids[tok] for tok in _TOKEN_RE.findall(text.lower())]
                   for text in documents]
        raw_lengths = np.fromiter((len(t) for t in per_doc), dtype=np.int64, count=self.n_docs)
        flat = np.fromiter((t for toks in per_doc for t in toks), dtype=np.int64,
                           count=int(raw_lengths.sum()))
        doc_of = np.repeat(np.arange(self.n_docs, dtype=np.int64), raw_lengths)
        keep = flat >= 0
        flat, doc_of = flat[keep], doc_of[keep]

        n, n_terms = max(self.n_docs, 1), len(self._vocab)
        # Sorting term * N + doc groups postings by term, then by document: CSR order.
        keys, tf = np.unique(flat * n + doc_of, return_counts=True)
        terms, docs = np.divmod(keys, n)
        self._indptr = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(np.bincount(terms, minlength=n_terms), out=self._indptr[1:])
        self._docs = docs.astype(np.int64)

        doc_len = np.bincount(doc_of, minlength=self.n_docs).astype(np.float64)
        avgdl = doc_len.mean() if self.n_docs and doc_len.sum() > 0 else 1.0
        df = np.diff(self._indptr).astype(np.float64)
        self._idf = np.log1p((self.n_docs - df + 0.5) / (df + 0.5))
        tf = tf.astype(np.float64)
        # Everything but idf and the query-term count is fixed per posting: precompute it.
        norm = self.k1 * (1.0 - self.b + self.b * doc_len[self._docs] / avgdl)
        self._weights = tf / (tf + norm)
        self.doc_lengths = doc_len.astype(np.int64)
        self.avgdl = float(avgdl)

    @property
    def vocabulary_size(self) -> int:
        """Number of distinct (stemmed) terms in the index."""
        return len(self._vocab)

    def document_frequency(self, term: str) -> int:
        """How many documents contain ``term`` (after tokenising it; 0 if unknown)."""
        toks = tokenize(term)
        if len(toks) != 1 or toks[0] not in self._vocab:
            return 0
        t = self._vocab[toks[0]]
        return int(self._indptr[t + 1] - self._indptr[t])

    def _query_terms(self, query: str) -> tuple[tuple[int, int], ...]:
        """The normalised query: sorted ``(term id, count)`` pairs of the known terms."""
        counts = collections.Counter(self._vocab[t] for t in tokenize(query) if t in self._vocab)
        return tuple(sorted(counts.items()))

    def _scores(self, terms: tuple[tuple[int, int], ...]) -> np.ndarray:
        if not terms:
            return np.zeros(self.n_docs)
        # Terms are in a canonical order, so the float sums (and ties) do not depend on how the
        # query was worded.
        spans = [(self._indptr[t], self._indptr[t + 1], self._idf[t] * c) for t, c in terms]
        docs = np.concatenate([self._docs[s:e] for s, e, _ in spans])
        weights = np.concatenate([self._weights[s:e] * w for s, e, w in spans])
        return np.bincount(docs, weights=weights, minlength=self.n_docs)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for ``query`` (0 where no query term occurs)."""
        return self._scores(self._query_terms(query))

    def search(self, query: str, k: int = 50) -> list[int]:
        """The ``k`` best documents for ``query``, best first, ties broken by lower index.

        Only documents sharing at least one term with the query are returned (a disjunctive
        query, like Lucene's), so fewer than ``k`` may come back.

        Args:
            query: free text; tokenised like the documents.
            k: how many results at most.

        Returns:
            Document (product) indices.
        """
        if k < 0:
            raise ValueError(f"BM25Index.search: k must be >= 0, got {k!r}")
        terms = self._query_terms(query)
        key = (terms, k)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return list(hit)
        result = self._top_k(self._scores(terms), k)
        if self._cache_size:
            self._cache[key] = result
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return list(result)

    @staticmethod
    def _top_k(scores: np.ndarray, k: int) -> tuple[int, ...]:
        candidates = np.flatnonzero(scores > 0.0)
        if candidates.size > k > 0:
            # Keep everything scoring at least the k-th best, so ties at the cut are all seen
            # by the index tie-break below.
            cand_scores = scores[candidates]
            kth = np.partition(cand_scores, candidates.size - k)[candidates.size - k]
            candidates = candidates[cand_scores >= kth]
        order = np.lexsort((candidates, -scores[candidates]))[:k]
        return tuple(int(i) for i in candidates[order])

    def cache_info(self) -> tuple[int, int]:
        """``(entries, maxsize)`` of the query cache."""
        return len(self._cache), self._cache_size


_INDEXES: weakref.WeakKeyDictionary[Catalogue, BM25Index] = weakref.WeakKeyDictionary()


def index_for(catalogue: Catalogue) -> BM25Index:
    """The BM25 index of ``catalogue`` (default k1/b), built once per catalogue object.

    Envs sharing one catalogue share one index; it goes away with the catalogue.

    Example:
        >>> from rewardgym.envs.shopping.catalogue import generate_catalogue
        >>> cat = generate_catalogue(500, seed=1)
        >>> index_for(cat) is index_for(cat)
        True
    """
    index = _INDEXES.get(catalogue)
    if index is None:
        index = _INDEXES[catalogue] = BM25Index.from_catalogue(catalogue)
    return index


def idf(n_docs: int, doc_freq: int) -> float:
    """Lucene's BM25 idf, ``log(1 + (N - n + 0.5) / (n + 0.5))`` (for tests and docs)."""
    return math.log1p((n_docs - doc_freq + 0.5) / (doc_freq + 0.5))
