"""BM25 search: Lucene's formula, tokenisation, ranking, caching and the per-catalogue index."""

import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rewardgym.envs.shopping.catalogue import generate_catalogue
from rewardgym.envs.shopping.schema import Catalogue, Product
from rewardgym.envs.shopping.search import (
    STOP_WORDS,
    BM25Index,
    idf,
    index_for,
    stem,
    tokenize,
)

DOCS = ["red apple", "green apple pie", "red red cherry"]


def test_scores_equal_hand_computed_bm25():
    # N = 3 docs of lengths 2, 3, 3 -> avgdl = 8/3.  "red" and "apple" each occur in 2 docs:
    # idf = ln(1 + (3 - 2 + 0.5) / (2 + 0.5)) = ln(1.6) = 0.4700036.
    # Length norms with k1=0.9, b=0.4: |d|=2 -> 0.9 * (0.6 + 0.4 * 0.75) = 0.81;
    #                                   |d|=3 -> 0.9 * (0.6 + 0.4 * 1.125) = 0.945.
    # doc 0: 2 terms * 0.4700036 * 1 / (1 + 0.81)          = 0.5193410
    # doc 1: "apple" once:  0.4700036 * 1 / (1 + 0.945)     = 0.2416471
    # doc 2: "red" twice:   0.4700036 * 2 / (2 + 0.945)     = 0.3191875
    index = BM25Index(DOCS)
    np.testing.assert_allclose(index.scores("red apple"), [0.5193410, 0.2416471, 0.3191875],
                               rtol=1e-6)
    assert index.avgdl == pytest.approx(8 / 3)
    assert idf(3, 2) == pytest.approx(math.log(1.6))
    assert index.document_frequency("apples") == 2
    assert index.document_frequency("banana") == 0


def _reference_scores(docs, query, k1, b):
    """Plain-Python Lucene BM25 with Anserini's query-term boosting, for comparison."""
    tokenized = [tokenize(d) for d in docs]
    n = len(docs)
    avgdl = sum(map(len, tokenized)) / n or 1.0
    out = []
    for toks in tokenized:
        tf = Counter(toks)
        score = 0.0
        for term, qtf in Counter(tokenize(query)).items():
            if tf[term]:
                df = sum(term in t for t in tokenized)
                norm = k1 * (1 - b + b * len(toks) / avgdl)
                score += qtf * idf(n, df) * tf[term] / (tf[term] + norm)
        out.append(score)
    return out


WORDS = ["sofa", "sofas", "couch", "couches", "red", "navy", "blue", "foam", "memory", "the",
         "with", "battery", "batteries", "glass", "glasses", "x", "2"]


@settings(max_examples=40, deadline=None)
@given(docs=st.lists(st.lists(st.sampled_from(WORDS), max_size=12).map(" ".join), min_size=1,
                     max_size=12),
       query=st.lists(st.sampled_from(WORDS), min_size=1, max_size=6).map(" ".join),
       k1=st.floats(0.1, 3.0), b=st.floats(0.0, 1.0))
def test_scores_match_reference_formula(docs, query, k1, b):
    index = BM25Index(docs, k1=k1, b=b)
    np.testing.assert_allclose(index.scores(query), _reference_scores(docs, query, k1, b),
                               rtol=1e-9, atol=1e-12)


def test_k1_and_b_change_scores():
    docs = ["red apple", "red apple apple apple pie with crust", "apple"]
    base = BM25Index(docs).scores("apple")
    assert not np.allclose(BM25Index(docs, k1=2.0).scores("apple"), base)
    assert not np.allclose(BM25Index(docs, b=0.0).scores("apple"), base)


@pytest.mark.parametrize(("kwargs", "name"), [({"k1": -1.0}, "k1"), ({"b": 1.5}, "b"),
                                              ({"cache_size": -1}, "cache_size")])
def test_bad_parameters_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        BM25Index(DOCS, **kwargs)


def test_tokenizer_lowercases_drops_stop_words_and_plurals():
    assert tokenize("The Batteries AND Couches, glasses; Sofas!") == [
        "battery", "couch", "glass", "sofa"]
    assert tokenize("i need a 6.76 fl oz bottle for my dog") == [
        "need", "6", "76", "fl", "oz", "bottle", "dog"]
    assert {"the", "and", "with", "for", "me"} <= STOP_WORDS


@pytest.mark.parametrize(("word", "stemmed"), [
    ("sofas", "sofa"), ("couches", "couch"), ("batteries", "battery"), ("boxes", "box"),
    ("dresses", "dress"), ("shoes", "shoe"), ("dress", "dress"), ("cactus", "cactus"),
    ("tennis", "tennis"), ("gas", "gas"), ("red", "red"), ("washable", "washable"),
])
def test_light_plural_stemmer(word, stemmed):
    assert stem(word) == stemmed


def test_plural_query_finds_singular_documents():
    index = BM25Index(["leather sofa", "wooden chair"])
    assert index.search("sofas") == [0]
    assert index.search("Chairs!") == [1]


def test_ranking_is_by_score_then_index_and_disjunctive():
    index = BM25Index(DOCS)
    assert index.search("red apple") == [0, 2, 1]
    assert index.search("pie") == [1]
    assert index.search("banana") == []
    assert index.search("the and of") == []  # stop-words only
    assert index.search("") == []


def test_ties_are_broken_by_lower_index_even_at_the_cut():
    docs = ["blue mug"] * 6 + ["blue blue mug mug"]
    index = BM25Index(docs)
    assert index.search("mug") == [6, 0, 1, 2, 3, 4, 5]
    assert index.search("mug", k=3) == [6, 0, 1]
    assert index.search("mug", k=0) == []
    with pytest.raises(ValueError, match="k must be"):
        index.search("mug", k=-1)


def test_query_normalisation_and_term_boost():
    index = BM25Index(DOCS)
    assert index.search("Red, APPLE!") == index.search("apple red")
    np.testing.assert_array_equal(index.scores("apple red"), index.scores("red apple"))
    # Anserini boosts a repeated query term by its count.
    np.testing.assert_allclose(index.scores("red red"), 2 * index.scores("red"))


def test_cache_returns_copies_and_is_bounded():
    index = BM25Index(DOCS, cache_size=2)
    first = index.search("red")
    first.append(99)
    assert index.search("red") == [2, 0]
    index.search("apple")
    index.search("pie")
    assert index.cache_info() == (2, 2)
    assert BM25Index(DOCS, cache_size=0).search("red") == [2, 0]


@pytest.fixture(scope="module")
def catalogue():
    return generate_catalogue(800, seed=5)


def test_index_covers_search_text_fields(catalogue):
    index = index_for(catalogue)
    assert index.n_docs == len(catalogue)
    # Option values are indexed (WebShop's option text), other bullets are not.
    p = next(p for p in catalogue.products if "color" in p.options and len(p.bullet_points) > 1)
    colour = p.options["color"][0]
    assert catalogue.index_of(p.asin) in index.search(colour, k=len(catalogue))
    product = Product(asin="B000000001", title="Mug", description="", bullet_points=(
        "first", "zebra"), attributes=(), options={}, price=1.0, price_text="$1.00",
        category="garden", query="mugs", product_category="", title_nouns=("mug",))
    small = BM25Index.from_catalogue(Catalogue([product]))
    assert small.search("first") == [0]
    assert small.search("zebra") == []


def test_index_is_deterministic_and_cached_per_catalogue(catalogue):
    queries = [f"{p.title_nouns[0]} {' '.join(p.attributes)}" for p in catalogue.products[:60]]
    again = BM25Index.from_catalogue(generate_catalogue(800, seed=5))
    assert [index_for(catalogue).search(q) for q in queries] == [again.search(q)
                                                                 for q in queries]
    assert index_for(catalogue) is index_for(catalogue)
    assert index_for(generate_catalogue(800, seed=5)) is not index_for(catalogue)
