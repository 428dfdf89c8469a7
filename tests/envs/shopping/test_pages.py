"""Page content and WebShop's text/text_rich/html/url formats (research/webshop.md §1.2-1.4)."""

import dataclasses
import doctest
import string
from html.parser import HTMLParser

import pytest

from rewardgym.envs.shopping import pages
from rewardgym.envs.shopping.pages import PageState, page_nodes
from rewardgym.envs.shopping.schema import Catalogue
from tests.envs.shopping import tiny_world

CAT = tiny_world.catalogue()
INSTR = "i need a mug"
MUGS = tuple(range(23))


def nodes(state, **kwargs):
    return page_nodes(state, catalogue=CAT, instruction=INSTR, **kwargs)


def text(state, **kwargs):
    return pages.to_text(nodes(state, **kwargs))


def clickables(state, **kwargs):
    return pages.available_actions(nodes(state, **kwargs))["clickables"]


def item(**fields):
    return PageState(**{"kind": "item", "keywords": "mug", "results": MUGS, "product": 4,
                        **fields})


def test_doctests():
    assert doctest.testmod(pages, raise_on_error=False).failed == 0


def test_search_page():
    state = PageState()
    assert text(state) == "WebShop [SEP] Instruction: [SEP] i need a mug [SEP] Search"
    assert pages.available_actions(nodes(state)) == {"has_search_bar": True,
                                                     "clickables": ["search"]}


def test_results_pages_show_ten_with_prev_only_after_page_one_and_next_always():
    first = PageState(kind="results", keywords="mug", results=MUGS)
    expected_items = " [SEP] ".join(
        f"{CAT.products[i].asin} [SEP] {CAT.products[i].title} [SEP] ${5 + i}.00"
        for i in range(10))
    assert text(first) == ("Instruction: [SEP] i need a mug [SEP] Back to Search [SEP] Page 1 "
                           f"(Total results: 23) [SEP] Next > [SEP] {expected_items}")
    assert clickables(first) == ["back to search", "next >",
                                 *(f"b0mug{i:05d}" for i in range(10))]
    third = dataclasses.replace(first, page=3)
    assert "Page 3 (Total results: 23) [SEP] < Prev [SEP] Next > [SEP] B0MUG00020" in text(third)
    assert clickables(third) == ["back to search", "< prev", "next >",
                                 "b0mug00020", "b0mug00021", "b0mug00022"]
    beyond = dataclasses.replace(first, page=4)  # WebShop still renders it, empty
    assert text(beyond).endswith("Page 4 (Total results: 23) [SEP] < Prev [SEP] Next >")
    assert first.page_results == tuple(range(10))


def test_item_page_format_and_clickables():
    assert text(item()) == (
        "Instruction: [SEP] i need a mug [SEP] Back to Search [SEP] < Prev [SEP] color [SEP] "
        "black [SEP] navy blue [SEP] white [SEP] size [SEP] 11 oz [SEP] 15 oz [SEP] Brand4 "
        "Ceramic Coffee Mug, Dishwasher Safe [SEP] Price: $9.00 [SEP] Rating: 4.5 [SEP] "
        "Description [SEP] Features [SEP] Reviews [SEP] Buy Now")
    assert clickables(item()) == ["back to search", "< prev", "description", "features",
                                  "reviews", "buy now", "black", "navy blue", "white", "11 oz",
                                  "15 oz"]
    with_attrs = clickables(item(), show_attrs=True)
    assert with_attrs[2:7] == ["description", "features", "reviews", "attributes", "buy now"]
    assert "Reviews [SEP] Attributes [SEP] Buy Now" in text(item(), show_attrs=True)


@pytest.mark.parametrize(("sub", "content"), [
    ("Description", "A ceramic mug number 4. Great for coffee and tea."),
    ("Features", "dishwasher safe ceramic [SEP] holds hot drinks"),
    ("Reviews", "4/5 [SEP] Nice mug. [SEP] 5/5 [SEP] Love it."),
    ("Attributes", "dishwasher safe [SEP] ceramic [SEP] garden [SEP] mugs [SEP] Home & Kitchen "
                   "> Kitchen & Dining > Mugs"),
])
def test_sub_pages(sub, content):
    state = item(kind="item_sub", sub_page=sub)
    assert text(state) == ("Instruction: [SEP] i need a mug [SEP] Back to Search [SEP] < Prev "
                           f"[SEP] {content}")
    assert clickables(state) == ["back to search", "< prev"]


def test_unknown_sub_page_raises():
    with pytest.raises(ValueError, match="sub-page"):
        text(item(kind="item_sub", sub_page="Specs"))


def test_done_page_has_no_clickables():
    state = item(kind="done", options=(("color", "white"),), score=0.5)
    assert text(state) == ('Thank you for shopping with us! [SEP] Purchased [SEP] asin [SEP] '
                           'B0MUG00004 [SEP] options [SEP] {"color": "white"} [SEP] Your score '
                           '(min 0.0, max 1.0) [SEP] 0.5000')
    assert pages.available_actions(nodes(state)) == {"has_search_bar": False, "clickables": []}


def test_text_rich_marks_buttons_choices_and_visited_products():
    chosen = item(options=(("color", "navy blue"), ("size", "15 oz")))
    rich = pages.to_text_rich(nodes(chosen))
    lines = rich.split("\n")
    assert lines[:4] == ["You have clicked 15 oz.", "You have clicked navy blue.",
                         "Instruction:", INSTR]
    assert "[button] Back to Search [button_]" in lines
    assert "  [clicked button] navy blue [clicked button_]" in lines
    assert "  [button] white [button_]" in lines
    assert "[button] Buy Now [button_]" in lines
    results = PageState(kind="results", keywords="mug", results=MUGS)
    rich = pages.to_text_rich(nodes(results, visited={3}))
    assert "[clicked button] B0MUG00003 [clicked button_]" in rich.split("\n")
    assert "[button] B0MUG00002 [button_]" in rich.split("\n")
    assert "You have clicked" not in rich


class _WebShopParse(HTMLParser):
    """Reads our HTML the way WebShop's text env reads its own pages."""

    def __init__(self):
        super().__init__()
        self.stack, self.texts, self.buttons, self.links, self.radios = [], [], [], [], []
        self.search_bar = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "radio":
            self.radios.append(attrs["value"])
        if tag == "input" and attrs.get("id") == "search_input":
            self.search_bar = True
        if tag not in ("input", "br", "meta"):
            self.stack.append((tag, attrs.get("class", "")))

    def handle_endtag(self, tag):
        if tag not in ("input", "br", "meta"):
            self.stack.pop()

    def handle_data(self, data):
        if not data.strip() or any(tag in ("head", "title") for tag, _ in self.stack):
            return
        self.texts.append(data.strip())
        cls = self.stack[-1][1]
        if "btn" in cls.split():
            self.buttons.append(data.strip().lower())
        if "product-link" in cls.split():
            self.links.append(data.strip().lower())


STATES = [
    PageState(),
    PageState(kind="results", keywords="mug", results=MUGS, page=2),
    item(options=(("color", "white"),)),
    item(kind="item_sub", sub_page="Reviews"),
    item(kind="done", score=1.0),
]


@pytest.mark.parametrize("state", STATES, ids=lambda s: s.kind)
def test_html_parsed_like_webshop_gives_text_and_clickables(state):
    page = nodes(state, show_attrs=True)
    parsed = _WebShopParse()
    parsed.feed(pages.to_html(page))
    assert " [SEP] ".join(parsed.texts) == pages.to_text(page)
    expected = list(dict.fromkeys(parsed.buttons + parsed.links + parsed.radios))
    assert pages.available_actions(page) == {"has_search_bar": parsed.search_bar,
                                             "clickables": expected}
    html = pages.to_html(page)
    assert "http" not in html  # self-contained: no CDN
    if state.kind == "item":
        assert 'name="color" value="white" checked>' in html


def test_url_encodes_session_keywords_page_asin_and_options():
    session = "test-3"
    assert pages.to_url(PageState(), CAT, session) == "http://127.0.0.1:3000/test-3"
    results = PageState(kind="results", keywords="red mug", results=MUGS, page=2)
    assert pages.to_url(results, CAT, session) == (
        "http://127.0.0.1:3000/search_results/test-3/red%20mug/2")
    chosen = dataclasses.replace(results, kind="item", product=4, options=(("size", "15 oz"),))
    assert pages.to_url(chosen, CAT, session) == (
        "http://127.0.0.1:3000/item_page/test-3/B0MUG00004/red%20mug/2/"
        "%7B%22size%22%3A%2215%20oz%22%7D")
    sub = dataclasses.replace(chosen, kind="item_sub", sub_page="Features")
    assert "/item_sub_page/test-3/B0MUG00004/red%20mug/2/Features/%7B" in pages.to_url(
        sub, CAT, session)
    assert "/done/test-3/B0MUG00004/" in pages.to_url(
        dataclasses.replace(chosen, kind="done"), CAT, session)


def test_everything_rendered_is_printable():
    odd = dataclasses.replace(tiny_world.mug(0), asin="B0ODD00001",
                              title="Café “Crème” Mug — 12\u00a0oz\x00",
                              options={"color": ("rosé", "black")})
    cat = Catalogue([odd])
    for state in (PageState(kind="results", results=(0,)), PageState(kind="item", product=0),
                  PageState(kind="item_sub", product=0, sub_page="Attributes")):
        page = page_nodes(state, catalogue=cat, instruction="i want a café mug › now",
                          show_attrs=True)
        for render in (pages.to_text(page), pages.to_text_rich(page), pages.to_html(page),
                       pages.to_url(state, cat, "s")):
            assert set(render) <= set(string.printable)
    page = page_nodes(PageState(kind="item", product=0), catalogue=cat, instruction="x")
    assert 'Cafe "Creme" Mug - 12 oz' in pages.to_text(page)
    assert pages.clickable_map(page)["rose"].ref == 0  # the stored value is found by position


def test_repeated_labels_keep_first_position_and_map_to_last_node():
    both = dataclasses.replace(tiny_world.mug(0), options={"color": ("white", "black"),
                                                           "style": ("white",)})
    page = page_nodes(PageState(kind="item", product=0), catalogue=Catalogue([both]),
                      instruction="x")
    mapping = pages.clickable_map(page)
    assert list(mapping).count("white") == 1
    assert list(mapping)[-2:] == ["white", "black"]
    assert mapping["white"].group == "style"


def test_with_option_updates_in_place_like_a_dict():
    state = item().with_option("size", "11 oz").with_option("color", "black")
    assert state.with_option("size", "15 oz").options == (("size", "15 oz"), ("color", "black"))
