"""The shop's pages: their state, their content, and WebShop's four ways of showing them.

WebShop (Yao et al., "WebShop: Towards Scalable Real-World Web Interaction with Grounded
Language Agents", NeurIPS 2022) renders Flask/Jinja pages and converts the HTML back to text.
We skip the round trip: a page is a :class:`PageState` (which page, keywords, results page,
product, chosen options), :func:`page_nodes` lists its content as :class:`Node` s in document
order, and every observation mode is a rendering of that one list:

* ``text`` (WebShop's "simple"): the visible texts joined by ``" [SEP] "``, e.g.
  ``WebShop [SEP] Instruction: [SEP] i need ... [SEP] Search`` on the search page,
  ``Instruction: [SEP] ... [SEP] Back to Search [SEP] Page 1 (Total results: 50) [SEP] Next >
  [SEP] B0... [SEP] <title> [SEP] $12.99 ...`` on results (10 per page, ``< Prev`` only after
  page 1, ``Next >`` always, as WebShop's template does), and ``... [SEP] < Prev [SEP] color
  [SEP] black [SEP] ... [SEP] <title> [SEP] Price: $x [SEP] Rating: N.A. [SEP] Description
  [SEP] Features [SEP] Reviews [SEP] Buy Now`` on an item page;
* ``text_rich``: one line per text, buttons as ``[button] X [button_]``, chosen options and
  visited products as ``[clicked button] X [clicked button_]``, each chosen option announced by
  a leading ``You have clicked X.`` line (whitespace is tidier than upstream's);
* ``html``: a minimal CDN-free page with WebShop's hooks (``#instruction-text``,
  ``#search_input``, ``.btn``, ``.product-link``, ``input[type=radio]``);
* ``url``: the simulated address (session, keywords, page, ASIN, options).

:func:`available_actions` gives WebShop's ``{"has_search_bar", "clickables"}``: button texts in
document order, then product links (lower-cased), then option values; deduplicated as a dict
would, so a repeated label keeps its first position and maps to its last element.

Every rendered string contains only ``string.printable`` characters (``›`` becomes ``>``,
accents are stripped), so observations always lie in the env's ``Text`` space.

Contract enforced by ``tests/envs/shopping/test_pages.py``: the formats above; parsing our HTML
the way WebShop does (visible text nodes, ``.btn``/``.product-link``/radio values) gives back
exactly the ``text`` observation and the clickables.
"""

from __future__ import annotations

import dataclasses
import html
import json
import string
import unicodedata
from collections.abc import Collection, Sequence
from typing import Literal, NamedTuple
from urllib.parse import quote

from rewardgym.envs.shopping.schema import Catalogue, Product

RESULTS_PER_PAGE = 10
"""Products per results page (WebShop's ``PRODUCT_WINDOW``)."""
MAX_RESULTS = 50
"""Hits kept per search (WebShop's ``SEARCH_RETURN_N``)."""
SEP = " [SEP] "
SITE = "http://127.0.0.1:3000"

SEARCH = "Search"
BACK_TO_SEARCH = "Back to Search"
NEXT_PAGE = "Next >"
PREV_PAGE = "< Prev"
BUY_NOW = "Buy Now"
SUB_PAGES = ("Description", "Features", "Reviews", "Attributes")
"""Item sub-pages; ``Attributes`` is offered only with ``show_attrs``."""

PageKind = Literal["search", "results", "item", "item_sub", "done"]
NodeKind = Literal["text", "instruction", "search_input", "button", "link", "option"]


@dataclasses.dataclass(frozen=True, slots=True)
class PageState:
    """Where the shopper is: everything a page needs besides the catalogue and instruction.

    Attributes:
        kind: ``"search"``, ``"results"``, ``"item"``, ``"item_sub"`` or ``"done"``.
        keywords: the last search's keywords (results and the pages reached from them).
        page: the results page number, 1-based.
        results: catalogue indices of the search hits (at most :data:`MAX_RESULTS`).
        product: catalogue index of the product in view (item, sub-page, done), else -1.
        options: chosen ``(group, value)`` pairs, in order of first choice.
        sub_page: the sub-page shown (one of :data:`SUB_PAGES`) on ``item_sub``.
        score: the purchase's reward, shown on the done page.

    Example:
        >>> s = PageState(kind="item", product=3).with_option("size", "s")
        >>> s.with_option("color", "red").with_option("size", "m").options
        (('size', 'm'), ('color', 'red'))
    """

    kind: PageKind = "search"
    keywords: str = ""
    page: int = 1
    results: tuple[int, ...] = ()
    product: int = -1
    options: tuple[tuple[str, str], ...] = ()
    sub_page: str = ""
    score: float = 0.0

    def with_option(self, group: str, value: str) -> PageState:
        """This state with ``options[group] = value`` (a dict's update semantics)."""
        chosen = dict(self.options)
        chosen[group] = value
        return dataclasses.replace(self, options=tuple(chosen.items()))

    @property
    def page_results(self) -> tuple[int, ...]:
        """The catalogue indices shown on the current results page."""
        start = (self.page - 1) * RESULTS_PER_PAGE
        return self.results[start:start + RESULTS_PER_PAGE]


class Node(NamedTuple):
    """One piece of a page, in document order.

    ``text`` is what is displayed; ``group`` is the option group of an ``option`` node;
    ``ref`` the catalogue index a ``link`` opens, or an option's position in its group (the
    displayed text may be a printable rendering of the stored value); ``selected`` marks a
    chosen option or a product already visited this episode.
    """

    kind: NodeKind
    text: str
    group: str = ""
    ref: int = -1
    selected: bool = False


_PRINTABLE = frozenset(string.printable)
# Typographic characters common in product data, spelled as escapes to keep the source ASCII.
_REPLACEMENTS = str.maketrans({
    "\u203a": ">", "\u2039": "<", "\u00bb": ">>", "\u00ab": "<<", "\u2018": "'",
    "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
    "\u2026": "...", "\u2022": "*", "\u00d7": "x", "\u00a0": " ", "\u00ae": "(R)",
    "\u2122": "(TM)", "\u00a9": "(C)", "\u00b0": " deg",
})


def printable(text: str) -> str:
    """``text`` with only ``string.printable`` characters (the observation space's charset).

    Example:
        >>> printable("Home › Décor › Rugs")
        'Home > Decor > Rugs'
    """
    if text.isascii() and all(c in _PRINTABLE for c in text):
        return text
    text = unicodedata.normalize("NFKD", text.translate(_REPLACEMENTS))
    return "".join(c if c in _PRINTABLE else (" " if c.isspace() else "")
                   for c in text if not unicodedata.combining(c))


def _text(value: str) -> Node:
    return Node("text", printable(value).strip())


def page_nodes(state: PageState, *, catalogue: Catalogue, instruction: str,
               show_attrs: bool = False, visited: Collection[int] = ()) -> list[Node]:
    """The content of ``state``'s page, in document order.

    Args:
        state: the page to render.
        catalogue: where ``state``'s product indices point.
        instruction: the goal's instruction, shown on every page but the done page.
        show_attrs: offer the ``Attributes`` sub-page (WebShop's ``show_attrs``).
        visited: catalogue indices clicked this episode (marked in ``text_rich``).
    """
    if state.kind == "done":
        return _done_nodes(state, catalogue)
    nodes = [Node("instruction", printable(instruction).strip())]
    if state.kind == "search":
        return [Node("text", "WebShop"), *nodes, Node("search_input", ""),
                Node("button", SEARCH)]
    nodes.append(Node("button", BACK_TO_SEARCH))
    if state.kind == "results":
        nodes.append(Node("text", f"Page {state.page} (Total results: {len(state.results)})"))
        if state.page > 1:
            nodes.append(Node("button", PREV_PAGE))
        nodes.append(Node("button", NEXT_PAGE))
        for index in state.page_results:
            product = catalogue.products[index]
            nodes += (Node("link", printable(product.asin), ref=index, selected=index in visited),
                      _text(product.title), _text(product.price_text))
        return nodes
    product = catalogue.products[state.product]
    nodes.append(Node("button", PREV_PAGE))
    if state.kind == "item":
        nodes += _item_nodes(product, dict(state.options), show_attrs)
    else:
        nodes += _sub_page_nodes(product, state.sub_page)
    return nodes


def _item_nodes(product: Product, chosen: dict[str, str], show_attrs: bool) -> list[Node]:
    nodes = []
    for group, values in product.options.items():
        nodes.append(_text(group))
        nodes += (Node("option", printable(v), group=group, ref=j, selected=chosen.get(group) == v)
                  for j, v in enumerate(values))
    nodes += (_text(product.title), _text(f"Price: {product.price_text}"),
              _text(f"Rating: {product.rating}"))
    labels = SUB_PAGES if show_attrs else SUB_PAGES[:3]
    nodes += (Node("button", label) for label in labels)
    nodes.append(Node("button", BUY_NOW))
    return nodes


def _sub_page_nodes(product: Product, sub_page: str) -> list[Node]:
    if sub_page == "Description":
        return [_text(product.description)]
    if sub_page == "Features":
        return [_text(line) for line in product.bullet_points]
    if sub_page == "Reviews":
        return [_text(part) for review in product.reviews
                for part in (f"{review.score}/5", review.text)]
    if sub_page == "Attributes":
        return [_text(part) for part in (*product.attributes, product.category, product.query,
                                         product.product_category)]
    raise ValueError(f"unknown sub-page {sub_page!r}, expected one of {SUB_PAGES}")


def _done_nodes(state: PageState, catalogue: Catalogue) -> list[Node]:
    product = catalogue.products[state.product]
    parts = ("Thank you for shopping with us!", "Purchased", "asin", product.asin, "options",
             json.dumps(dict(state.options), sort_keys=True), "Your score (min 0.0, max 1.0)",
             f"{state.score:.4f}")
    return [_text(part) for part in parts]


def to_text(nodes: Sequence[Node]) -> str:
    """WebShop's ``text`` ("simple") observation: visible texts joined by ``" [SEP] "``."""
    parts = []
    for node in nodes:
        if node.kind == "instruction":
            parts += ("Instruction:", node.text)
        elif node.kind != "search_input":
            parts.append(node.text)
    return SEP.join(p for p in parts if p)


def to_text_rich(nodes: Sequence[Node]) -> str:
    """WebShop's ``text_rich`` observation: one line per text, buttons marked."""
    lines, clicked = [], []
    for node in nodes:
        if node.kind == "instruction":
            lines += ("Instruction:", node.text)
        elif node.kind == "text":
            lines.append(node.text)
        elif node.kind == "option":
            mark = "clicked button" if node.selected else "button"
            lines.append(f"  [{mark}] {node.text} [{mark}_]")
            if node.selected:
                clicked.append(node.text)
        elif node.kind in ("button", "link"):
            mark = "clicked button" if node.selected else "button"
            lines.append(f"[{mark}] {node.text} [{mark}_]")
    # Upstream prepends one line per chosen option as it meets them, so the last comes first.
    prefix = [f"You have clicked {value}." for value in reversed(clicked)]
    return "\n".join(prefix + [line for line in lines if line.strip()])


def _html_node(node: Node, i: int) -> str:
    text = html.escape(node.text)
    if node.kind == "instruction":
        return f'<div id="instruction-text"><h4>Instruction:<br>{text}</h4></div>'
    if node.kind == "search_input":
        return '<input id="search_input" type="text" name="search_query" placeholder="Search...">'
    if node.kind == "button":
        return f'<button type="button" class="btn">{text}</button>'
    if node.kind == "link":
        return f'<a class="product-link" href="#{text}">{text}</a>'
    if node.kind == "option":
        checked = " checked" if node.selected else ""
        return (f'<input type="radio" id="option-{i}" name="{html.escape(node.group)}" '
                f'value="{text}"{checked}><label for="option-{i}">{text}</label>')
    return f"<p>{text}</p>"


def to_html(nodes: Sequence[Node]) -> str:
    """A minimal self-contained HTML page (no CDN, no scripts) with WebShop's ids and classes."""
    body = "\n".join(_html_node(node, i) for i, node in enumerate(nodes) if node.text
                     or node.kind == "search_input")
    return ('<!DOCTYPE html>\n<html>\n<head><meta charset="utf-8"><title>WebShop</title></head>'
            f"\n<body>\n{body}\n</body>\n</html>")


def to_url(state: PageState, catalogue: Catalogue, session: str) -> str:
    """The simulated address of ``state`` (the ``url`` observation)."""
    def part(value: str) -> str:
        return quote(printable(value), safe="")

    if state.kind == "search":
        return f"{SITE}/{part(session)}"
    prefix = f"{SITE}/{{}}/{part(session)}"
    where = f"{part(state.keywords)}/{state.page}"
    if state.kind == "results":
        return f"{prefix.format('search_results')}/{where}"
    asin = part(catalogue.products[state.product].asin)
    options = part(json.dumps(dict(state.options), separators=(",", ":")))
    if state.kind == "item":
        return f"{prefix.format('item_page')}/{asin}/{where}/{options}"
    if state.kind == "item_sub":
        return f"{prefix.format('item_sub_page')}/{asin}/{where}/{state.sub_page}/{options}"
    return f"{prefix.format('done')}/{asin}/{options}"


def clickable_map(nodes: Sequence[Node]) -> dict[str, Node]:
    """Lower-cased clickable label -> the node a click on it reaches, in WebShop's order.

    Buttons (document order), then product links, then option values; a repeated label keeps
    its first position and maps to its last node, as WebShop's ``text_to_clickable`` dict does.
    """
    mapping: dict[str, Node] = {}
    for kinds in (("button",), ("link",), ("option",)):
        for node in nodes:
            if node.kind in kinds:
                mapping[node.text.lower()] = node
    return mapping


def available_actions(nodes: Sequence[Node], clickables: dict[str, Node] | None = None
                      ) -> dict[str, bool | list[str]]:
    """WebShop's ``get_available_actions()``: ``{"has_search_bar": bool, "clickables": [...]}``.

    Args:
        nodes: the page content.
        clickables: :func:`clickable_map` of ``nodes`` when the caller already has it.
    """
    mapping = clickable_map(nodes) if clickables is None else clickables
    return {"has_search_bar": any(node.kind == "search_input" for node in nodes),
            "clickables": list(mapping)}
