"""rules.tokenizer: the position of offsets in the HTML5 token stream, in C and in Python.

Three oracles: a table of every state transition the tokenizer relies on; a
transcription of the WHATWG tokenizer, one state per method and one byte at a
time, that both implementations must match at every offset of random HTML-ish
bytes; and the real pages of ../shared/corpus, where C and Python must agree at
thousands of offsets and selectolax's DOM must hold the words found in text.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser, LexborNode

from rules import tokenizer
from rules.tokenizer import HIDDEN, NATIVE, START_TAG, TEXT, Classified, Position, classify_python

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
PAGES = sorted((CORPUS / "pages").glob("*.html"))
no_native = pytest.mark.skipif(NATIVE is None, reason="rules._html5 was not built (no C compiler)")
needs_corpus = pytest.mark.skipif(not PAGES, reason=f"no corpus pages at {CORPUS}")

Classify = Callable[..., Classified]
IMPLEMENTATIONS = [
    pytest.param(classify_python, id="python"),
    pytest.param(NATIVE, id="c", marks=no_native),
]

# The offset under test is where this marker stands; it is removed from the page.
MARK = "¦"

TEXT_CASES = [
    pytest.param("Tél : 0¦4 90", id="plain-text"),
    pytest.param("a¦<b>x</b>", id="the-lt-that-starts-a-tag"),
    pytest.param("a ¦< b", id="lt-before-space-is-text"),
    pytest.param("a <¦ b", id="after-lt-before-space"),
    pytest.param("I <¦3 HTML", id="lt-before-digit"),
    pytest.param("x¦<", id="lt-at-the-end"),
    pytest.param("x<¦/", id="lt-slash-at-the-end"),
    pytest.param("</>¦0490", id="after-empty-end-tag"),
    pytest.param("<!-->¦0490", id="after-abruptly-closed-empty-comment"),
    pytest.param("<!--->¦0490", id="after-abruptly-closed-comment-with-hyphen"),
    pytest.param("<!---->¦0490", id="after-empty-comment"),
    pytest.param("<!-- x --!>¦0490", id="after-comment-closed-by-bang"),
    pytest.param("<!-- a -- b -->¦0490", id="after-comment-with-double-hyphen"),
    pytest.param("<?php x ?>¦0490", id="after-processing-instruction"),
    pytest.param('<!DOCTYPE html PUBLIC "a>¦b">', id="doctype-ends-at-first-gt-even-quoted"),
    pytest.param("</ x>¦0490", id="after-bogus-end-tag"),
    pytest.param("<script>x</script >¦0490", id="after-script-end-tag-with-space"),
    pytest.param("<script>x</SCRIPT>¦0490", id="after-upper-case-script-end"),
    pytest.param("<script>'</script>¦0490", id="after-script-with-unbalanced-quote"),
    pytest.param('<script>var s = "</script>¦0490";</script>', id="script-ends-inside-a-string"),
    pytest.param("<script><!-- a</script>¦0490", id="after-escaped-script"),
    pytest.param("<script><!--<script>--></script>¦0490", id="double-escape-left-by-arrow"),
    pytest.param("<script><!--></script>¦0490", id="empty-escape-in-script-escapes-nothing"),
    pytest.param("<a b=>¦0490", id="after-missing-value"),
    pytest.param("<style>p{}</style/>¦0490", id="after-style-end-with-slash"),
    pytest.param("<textarea>x</textarea>¦0490", id="after-textarea"),
    pytest.param("<title>x</title>¦0490", id="after-title"),
    pytest.param('<img src="a.png"/>¦0490', id="after-self-closing-tag"),
    pytest.param('<p title="x>y">¦0490', id="after-gt-in-quoted-value"),
    pytest.param('<p title="<!--">¦0490</p><p>--></p>', id="comment-open-in-attribute"),
    pytest.param("<p title='a<b>c<!--'>a</p><p>¦0490</p>", id="markup-in-attribute-then-text"),
    pytest.param('<p data-x="<script>">¦0490</p>', id="script-tag-inside-attribute"),
    pytest.param("<noscript>¦0490</noscript>", id="noscript-is-markup"),
    pytest.param("<template>¦0490</template>", id="template-is-markup"),
    pytest.param("<scripts>¦0490</scripts>", id="longer-name-is-not-script"),
    pytest.param("<svg><text>¦0490</text></svg>", id="svg-text"),
    pytest.param("<a></a\n>¦0490", id="after-end-tag-with-newline"),
]

# (page, the construct's span as text)
HIDDEN_CASES = [
    pytest.param("<!-- 0¦490 -->", "<!-- 0490 -->", id="comment"),
    pytest.param("<!-- a -- 0¦490 -->", "<!-- a -- 0490 -->", id="comment-double-hyphen"),
    pytest.param("<!-- <!-- 0¦490 -->", "<!-- <!-- 0490 -->", id="comment-nested-opener"),
    pytest.param("<!-- x -¦->", "<!-- x -->", id="comment-closer"),
    pytest.param("<!-- 0¦490 --!>", "<!-- 0490 --!>", id="comment-closed-by-bang"),
    pytest.param("<!-- 0¦490", "<!-- 0490", id="comment-to-the-end"),
    pytest.param("<!--¦>", "<!-->", id="abrupt-empty-comment"),
    pytest.param("<!-¦--->", "<!---->", id="comment-opener"),
    pytest.param("<? 0¦490 >", "<? 0490 >", id="bogus-question-mark"),
    pytest.param("<! 0¦490 >", "<! 0490 >", id="bogus-bang"),
    pytest.param("<!DOCTYPE h¦tml>", "<!DOCTYPE html>", id="doctype"),
    pytest.param("<![CDATA[ 0¦490 ]]>", "<![CDATA[ 0490 ]]>", id="cdata-is-bogus-in-html"),
    pytest.param("</ 0¦490>", "</ 0490>", id="bogus-end-tag-space"),
    pytest.param("</3¦0>", "</30>", id="bogus-end-tag-digit"),
    pytest.param("<¦/>", "</>", id="empty-end-tag"),
    pytest.param('</p cla¦ss="x">', '</p class="x">', id="end-tag"),
    pytest.param('</p title="a>0¦4">', '</p title="a>04">', id="end-tag-gt-in-quotes"),
    pytest.param(
        "<script>var t = '0¦490';</script>", "<script>var t = '0490';</script>", id="script"
    ),
    pytest.param("<script>0¦4</scriptx></script>", "<script>04</scriptx></script>", id="script-x"),
    pytest.param(
        "<script><!--<script></script>0¦490--></script>",
        "<script><!--<script></script>0490--></script>",
        id="script-double-escaped",
    ),
    pytest.param(
        "<script><!--<script>-->0¦490</script>",
        "<script><!--<script>-->0490</script>",
        id="script-after-double-escape-ends",
    ),
    pytest.param("<script>x</scr¦ipt>", "<script>x</script>", id="script-end-tag"),
    pytest.param(
        '<script>x</script a=">0¦4">', '<script>x</script a=">04">', id="script-end-tag-attribute"
    ),
    pytest.param("<script>0¦4", "<script>04", id="script-to-the-end"),
    pytest.param("<SCRIPT>0¦4</SCRIPT>", "<SCRIPT>04</SCRIPT>", id="script-upper-case"),
    pytest.param("<style>a{b:0¦4}</style>", "<style>a{b:04}</style>", id="style"),
    pytest.param("<xmp><b>0¦4</b></xmp>", "<xmp><b>04</b></xmp>", id="xmp"),
    pytest.param("<iframe>0¦4</iframe>", "<iframe>04</iframe>", id="iframe"),
    pytest.param("<noembed>0¦4</noembed>", "<noembed>04</noembed>", id="noembed"),
    pytest.param("<noframes>0¦4</noframes>", "<noframes>04</noframes>", id="noframes"),
    pytest.param(
        "<textarea><b>0¦4</b></textarea>", "<textarea><b>04</b></textarea>", id="textarea"
    ),
    pytest.param("<title>0¦4</title>", "<title>04</title>", id="title"),
    pytest.param("<plaintext>0¦4</plaintext>x", "<plaintext>04</plaintext>x", id="plaintext"),
    pytest.param("<style>¦</style>", "<style></style>", id="empty-raw-text"),
    pytest.param('<p title="0¦4', '<p title="04', id="start-tag-cut-by-end-of-page"),
    pytest.param("<p ti¦tle", "<p title", id="attribute-name-cut-by-end-of-page"),
    pytest.param("</p 0¦4", "</p 04", id="end-tag-cut-by-end-of-page"),
]

# (page, the tag as text, attribute name or None, attribute value or None)
START_TAG_CASES = [
    pytest.param("<di¦v>", "<div>", None, None, id="tag-name"),
    pytest.param('<a ¦href="x">', '<a href="x">', None, None, id="between-attributes"),
    pytest.param('<a hr¦ef="x">', '<a href="x">', None, None, id="attribute-name"),
    pytest.param('<a href=¦"x">', '<a href="x">', None, None, id="opening-quote"),
    pytest.param('<a href="te¦l:04">', '<a href="tel:04">', "href", "tel:04", id="double-quoted"),
    pytest.param("<a href='te¦l:04'>", "<a href='tel:04'>", "href", "tel:04", id="single-quoted"),
    pytest.param("<a href=te¦l:04>", "<a href=tel:04>", "href", "tel:04", id="unquoted"),
    pytest.param('<a href = "te¦l">', '<a href = "tel">', "href", "tel", id="spaces-around-equals"),
    pytest.param('<a title="a>0¦4">', '<a title="a>04">', "title", "a>04", id="gt-in-quotes"),
    pytest.param(
        '<a title="<b>0¦4</b>">', '<a title="<b>04</b>">', "title", "<b>04</b>", id="tags"
    ),
    pytest.param('<a ="0¦4">', '<a ="04">', None, None, id="name-starting-with-equals"),
    pytest.param('<a "0¦4">', '<a "04">', None, None, id="quote-not-after-equals"),
    pytest.param('<a b=c"0¦4">', '<a b=c"04">', "b", 'c"04"', id="quote-inside-unquoted-value"),
    pytest.param('<a b="x"c="0¦4">', '<a b="x"c="04">', "c", "04", id="no-space-between"),
    pytest.param('<a b="x"="0¦4">', '<a b="x"="04">', None, None, id="equals-after-quoted-value"),
    pytest.param('<a b / ="0¦4">', '<a b / ="04">', None, None, id="slash-breaks-name-value"),
    pytest.param('<a/b="0¦4">', '<a/b="04">', "b", "04", id="slash-as-separator"),
    pytest.param('<a b= ="0¦4">', '<a b= ="04">', "b", '="04"', id="value-starting-with-equals"),
    pytest.param('<a x=1 x="0¦4">', '<a x=1 x="04">', "x", "04", id="duplicate-attribute"),
    pytest.param('<A HREF="0¦4">', '<A HREF="04">', "HREF", "04", id="upper-case"),
    pytest.param('<script src="0¦4">', '<script src="04">', "src", "04", id="script-start-tag"),
    pytest.param('<title lang="f¦r">', '<title lang="fr">', "lang", "fr", id="title-start-tag"),
    pytest.param('<a href="x"\n\ttitle="0¦4"/>', None, "title", "04", id="whitespace-and-slash"),
]


def marked(page: str) -> tuple[bytes, int]:
    offset = page.index(MARK)
    return page.replace(MARK, "", 1).encode(), len(page[:offset].encode())


def text_of(body: bytes, start: int, end: int) -> str | None:
    return None if start < 0 else body[start:end].decode()


@pytest.mark.parametrize("classify", IMPLEMENTATIONS)
@pytest.mark.parametrize("page", TEXT_CASES)
def test_text(classify: Classify, page: str) -> None:
    body, offset = marked(page)
    assert classify(body, [offset])[0] == [(TEXT, -1, -1, -1, -1, -1, -1)]


@pytest.mark.parametrize("classify", IMPLEMENTATIONS)
@pytest.mark.parametrize(("page", "span"), HIDDEN_CASES)
def test_hidden(classify: Classify, page: str, span: str) -> None:
    body, offset = marked(page)
    [(kind, start, end, *rest)] = classify(body, [offset])[0]
    assert (kind, text_of(body, start, end), rest) == (HIDDEN, span, [-1, -1, -1, -1])


@pytest.mark.parametrize("classify", IMPLEMENTATIONS)
@pytest.mark.parametrize(("page", "tag", "name", "value"), START_TAG_CASES)
def test_start_tag(
    classify: Classify, page: str, tag: str | None, name: str | None, value: str | None
) -> None:
    body, offset = marked(page)
    [(kind, start, end, ns, ne, vs, ve)] = classify(body, [offset])[0]
    assert kind == START_TAG
    assert text_of(body, start, end) == (tag or body.decode())
    assert (text_of(body, ns, ne), text_of(body, vs, ve)) == (name, value)


TITLE_CASES = [
    pytest.param("<title>Plomberie</title>", "Plomberie", id="title"),
    pytest.param("<TITLE lang=fr>Plomberie</Title >", "Plomberie", id="upper-case-with-attribute"),
    pytest.param("<title/>Plomberie</title>", "Plomberie", id="self-closing-is-ignored"),
    pytest.param("<title><b>x</b></title>", "<b>x</b>", id="tags-are-text"),
    pytest.param("<title>Plomberie", "Plomberie", id="to-the-end"),
    pytest.param("<title>a</title><title>b</title>", "a", id="first-one"),
    pytest.param("<!-- <title>a</title> --><title>b</title>", "b", id="not-in-a-comment"),
    pytest.param("<script>'<title>a</title>'</script><title>b</title>", "b", id="not-in-script"),
    pytest.param('<p title="<title>a</title>">x</p><title>b</title>', "b", id="not-in-attribute"),
    pytest.param("<titles>a</titles>", None, id="other-element"),
    pytest.param("<p>no title</p>", None, id="none"),
]


@pytest.mark.parametrize("classify", IMPLEMENTATIONS)
@pytest.mark.parametrize(("page", "title"), TITLE_CASES)
def test_title(classify: Classify, page: str, title: str | None) -> None:
    body = page.encode()
    _, span = classify(body, [], True)
    assert (None if span is None else body[span[0] : span[1]].decode()) == title


@pytest.mark.parametrize("classify", IMPLEMENTATIONS)
def test_title_without_asking_only_when_met_before_the_last_offset(classify: Classify) -> None:
    body = b"<p>04</p><title>Plomberie</title><p>04</p>"
    title = (16, 25)
    assert classify(body, [3], False)[1] is None
    assert classify(body, [9], False)[1] is None  # the title's own `<`
    assert classify(body, [38], False)[1] == title
    assert classify(body, [3], True)[1] == title


@pytest.mark.parametrize("classify", IMPLEMENTATIONS)
@pytest.mark.parametrize(
    "offsets", [[5, 3], [-1], [100]], ids=["unsorted", "negative", "past-the-end"]
)
def test_bad_offsets(classify: Classify, offsets: list[int]) -> None:
    with pytest.raises(ValueError):
        classify(b"<p>0490260716</p>", offsets)


def test_classify_uses_the_c_module_when_it_was_built() -> None:
    try:
        from rules import _html5
    except ImportError:
        assert tokenizer.NATIVE is None
    else:
        assert tokenizer.NATIVE is _html5.classify
    assert tokenizer.classify(b"<p>x</p>", [1]) == classify_python(b"<p>x</p>", [1])


# --- the reference: WHATWG HTML §13.2.5, one state per method -------------------------

SPACE = frozenset(b"\t\n\f\r ")
ALPHA = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
RAW_STATES = {
    b"script": "script_data",
    b"style": "rawtext",
    b"xmp": "rawtext",
    b"iframe": "rawtext",
    b"noembed": "rawtext",
    b"noframes": "rawtext",
    b"textarea": "rawtext",  # RCDATA: character references aside, the same states
    b"title": "rawtext",
    b"plaintext": "plaintext",
}
LT, GT, SLASH, BANG, DASH, EQ = (ord(c) for c in "<>/!-=")
QUOTES = frozenset(b"\"'")


def lower(c: int) -> int:
    return c | 0x20 if c in ALPHA else c


class Reference:
    """The tokenizer as the standard writes it, one byte at a time; each state method
    takes the current byte (None at the end) and returns the next index: i + 1 when
    it consumes the byte, i to reconsume it. Character references are left out (they
    never move a boundary) and the DOCTYPE states are one (each ends at `>`)."""

    def __init__(self, body: bytes) -> None:
        self.body, self.n = body, len(body)
        self.rows: list[Position | None] = [None] * len(body)
        self.title: tuple[int, int] | None = None
        self.title_start = -1
        self.state = self.data
        self.token = self.lt = self.raw_start = self.content_start = -1
        self.is_start, self.closing = False, False
        self.name, self.buffer = bytearray(), bytearray()
        self.attrs: list[list[int]] = []
        self.raw: bytes | None = None
        self.quote = 0

    def run(self) -> Reference:
        i = 0
        while i <= self.n:
            c = self.body[i] if i < self.n else None
            self.i = i
            if c is None:
                self.eof()
                break
            i = self.state(c)
        return self

    # -- bookkeeping --
    def fill(self, start: int, end: int, row: Position) -> None:
        for p in range(start, end):
            self.rows[p] = row

    def go(self, state: Callable[[int], int], consume: bool = True) -> int:
        self.state = state
        return self.i + 1 if consume else self.i

    def hidden(self) -> int:
        end = self.i + 1
        self.fill(self.token + 1, end, (HIDDEN, self.token, end, -1, -1, -1, -1))
        return self.go(self.data)

    def emit_tag(self) -> int:
        end = self.i + 1
        if self.closing:
            self.fill(self.content_start, end, (HIDDEN, self.raw_start, end, -1, -1, -1, -1))
            self.end_raw(self.lt)
            return self.go(self.data)
        if not self.is_start:
            return self.hidden()
        for p in range(self.token + 1, end):
            value = [a for a in self.attrs if len(a) == 4 and a[2] <= p < a[3]]
            ns, ne, vs, ve = value[0] if value else (-1, -1, -1, -1)
            self.rows[p] = (START_TAG, self.token, end, ns, ne, vs, ve)
        name = bytes(self.name)
        if name not in RAW_STATES:
            return self.go(self.data)
        self.raw, self.raw_start, self.content_start = name, self.token, end
        return self.go(getattr(self, RAW_STATES[name]))

    def end_raw(self, close: int) -> None:
        if self.raw == b"title" and self.title is None:
            self.title, self.title_start = (self.content_start, close), self.raw_start
        self.raw, self.closing = None, False

    def eof(self) -> None:
        if self.raw is not None:
            row = (HIDDEN, self.raw_start, self.n, -1, -1, -1, -1)
            self.fill(self.content_start, self.n, row)
            self.end_raw(self.lt if self.closing else self.n)
        elif self.state == self.end_tag_open:
            self.rows[self.token + 1] = (TEXT, -1, -1, -1, -1, -1, -1)
        elif self.state not in (self.data, self.tag_open):
            self.fill(self.token + 1, self.n, (HIDDEN, self.token, self.n, -1, -1, -1, -1))

    def new_tag(self, is_start: bool) -> None:
        self.is_start, self.closing = is_start, False
        self.name, self.attrs = bytearray(), []

    # -- data, tags, attributes --
    def data(self, c: int) -> int:
        self.rows[self.i] = (TEXT, -1, -1, -1, -1, -1, -1)
        if c == LT:
            self.token = self.i
            return self.go(self.tag_open)
        return self.go(self.data)

    def tag_open(self, c: int) -> int:
        if c == BANG:
            return self.go(self.markup_declaration_open)
        if c == SLASH:
            return self.go(self.end_tag_open)
        if c in ALPHA:
            self.new_tag(True)
            return self.go(self.tag_name, False)
        return self.go(self.bogus_comment if c == ord("?") else self.data, False)

    def end_tag_open(self, c: int) -> int:
        if c in ALPHA:
            self.new_tag(False)
            return self.go(self.tag_name, False)
        return self.hidden() if c == GT else self.go(self.bogus_comment, False)

    def tag_name(self, c: int) -> int:
        if c in SPACE:
            return self.go(self.before_attribute_name)
        if c == SLASH:
            return self.go(self.self_closing_start_tag)
        if c == GT:
            return self.emit_tag()
        self.name.append(lower(c))
        return self.go(self.tag_name)

    def before_attribute_name(self, c: int) -> int:
        if c in SPACE:
            return self.go(self.before_attribute_name)
        if c in (SLASH, GT):
            return self.go(self.after_attribute_name, False)
        self.attrs.append([self.i])
        return self.go(self.attribute_name, c == EQ)  # a name may start with `=`

    def attribute_name(self, c: int) -> int:
        if c in SPACE or c in (SLASH, GT):
            self.attrs[-1].append(self.i)
            return self.go(self.after_attribute_name, False)
        if c == EQ:
            self.attrs[-1].append(self.i)
            return self.go(self.before_attribute_value)
        return self.go(self.attribute_name)

    def after_attribute_name(self, c: int) -> int:
        if c in SPACE:
            return self.go(self.after_attribute_name)
        if c == SLASH:
            return self.go(self.self_closing_start_tag)
        if c == EQ:
            return self.go(self.before_attribute_value)
        if c == GT:
            return self.emit_tag()
        self.attrs.append([self.i])
        return self.go(self.attribute_name, False)

    def before_attribute_value(self, c: int) -> int:
        if c in SPACE:
            return self.go(self.before_attribute_value)
        if c in QUOTES:
            self.quote = c
            self.attrs[-1].append(self.i + 1)
            return self.go(self.attribute_value_quoted)
        if c == GT:
            return self.emit_tag()
        self.attrs[-1].append(self.i)
        return self.go(self.attribute_value_unquoted, False)

    def attribute_value_quoted(self, c: int) -> int:
        if c == self.quote:
            self.attrs[-1].append(self.i)
            return self.go(self.after_attribute_value_quoted)
        return self.go(self.attribute_value_quoted)

    def attribute_value_unquoted(self, c: int) -> int:
        if c in SPACE or c == GT:
            self.attrs[-1].append(self.i)
            return self.go(self.before_attribute_name) if c != GT else self.emit_tag()
        return self.go(self.attribute_value_unquoted)

    def after_attribute_value_quoted(self, c: int) -> int:
        if c in SPACE:
            return self.go(self.before_attribute_name)
        if c == SLASH:
            return self.go(self.self_closing_start_tag)
        return self.emit_tag() if c == GT else self.go(self.before_attribute_name, False)

    def self_closing_start_tag(self, c: int) -> int:
        return self.emit_tag() if c == GT else self.go(self.before_attribute_name, False)

    # -- comments, bogus comments, doctype --
    def markup_declaration_open(self, c: int) -> int:
        ahead = self.body[self.i : self.i + 7]
        if ahead.startswith(b"--"):
            self.i += 1
            return self.go(self.comment_start)
        if ahead.lower() == b"doctype":
            self.i += 6
            return self.go(self.doctype)
        if ahead == b"[CDATA[":  # outside foreign content: a bogus comment
            self.i += 6
            return self.go(self.bogus_comment)
        return self.go(self.bogus_comment, False)

    def bogus_comment(self, c: int) -> int:
        return self.hidden() if c == GT else self.go(self.bogus_comment)

    def doctype(self, c: int) -> int:
        return self.hidden() if c == GT else self.go(self.doctype)

    def comment_start(self, c: int) -> int:
        if c == DASH:
            return self.go(self.comment_start_dash)
        return self.hidden() if c == GT else self.go(self.comment, False)

    def comment_start_dash(self, c: int) -> int:
        if c == DASH:
            return self.go(self.comment_end)
        return self.hidden() if c == GT else self.go(self.comment, False)

    def comment(self, c: int) -> int:
        if c == LT:
            return self.go(self.comment_less_than_sign)
        return self.go(self.comment_end_dash if c == DASH else self.comment)

    def comment_less_than_sign(self, c: int) -> int:
        if c == BANG:
            return self.go(self.comment_less_than_sign_bang)
        return self.go(self.comment_less_than_sign) if c == LT else self.go(self.comment, False)

    def comment_less_than_sign_bang(self, c: int) -> int:
        if c == DASH:
            return self.go(self.comment_less_than_sign_bang_dash)
        return self.go(self.comment, False)

    def comment_less_than_sign_bang_dash(self, c: int) -> int:
        if c == DASH:
            return self.go(self.comment_less_than_sign_bang_dash_dash)
        return self.go(self.comment_end_dash, False)

    def comment_less_than_sign_bang_dash_dash(self, c: int) -> int:
        return self.go(self.comment_end, False)  # `>`, or a nested-comment error

    def comment_end_dash(self, c: int) -> int:
        return self.go(self.comment_end) if c == DASH else self.go(self.comment, False)

    def comment_end(self, c: int) -> int:
        if c == GT:
            return self.hidden()
        if c == BANG:
            return self.go(self.comment_end_bang)
        return self.go(self.comment_end) if c == DASH else self.go(self.comment, False)

    def comment_end_bang(self, c: int) -> int:
        if c == DASH:
            return self.go(self.comment_end_dash)
        return self.hidden() if c == GT else self.go(self.comment, False)

    # -- RCDATA, RAWTEXT, PLAINTEXT --
    def rawtext(self, c: int) -> int:
        if c == LT:
            self.lt = self.i
            return self.go(self.rawtext_less_than_sign)
        return self.go(self.rawtext)

    def rawtext_less_than_sign(self, c: int) -> int:
        if c == SLASH:
            self.buffer = bytearray()
            return self.go(self.rawtext_end_tag_open)
        return self.go(self.rawtext, False)

    def rawtext_end_tag_open(self, c: int) -> int:
        return self.go(self.rawtext_end_tag_name if c in ALPHA else self.rawtext, False)

    def rawtext_end_tag_name(self, c: int) -> int:
        return self.end_tag_name(c, self.rawtext)

    def end_tag_name(self, c: int, otherwise: Callable[[int], int]) -> int:
        """The end tag name states of raw text: only the appropriate end tag counts."""
        if c in ALPHA:
            self.buffer.append(lower(c))
            return self.go(self.state)
        if (c in SPACE or c in (SLASH, GT)) and bytes(self.buffer) == self.raw:
            self.new_tag(False)
            self.closing = True
            if c == GT:
                return self.emit_tag()
            return self.go(
                self.before_attribute_name if c in SPACE else self.self_closing_start_tag
            )
        return self.go(otherwise, False)

    def plaintext(self, c: int) -> int:
        return self.go(self.plaintext)

    # -- script data and its escapes --
    def script_data(self, c: int) -> int:
        if c == LT:
            self.lt = self.i
            return self.go(self.script_data_less_than_sign)
        return self.go(self.script_data)

    def script_data_less_than_sign(self, c: int) -> int:
        if c == SLASH:
            self.buffer = bytearray()
            return self.go(self.script_data_end_tag_open)
        if c == BANG:
            return self.go(self.script_data_escape_start)
        return self.go(self.script_data, False)

    def script_data_end_tag_open(self, c: int) -> int:
        return self.go(self.script_data_end_tag_name if c in ALPHA else self.script_data, False)

    def script_data_end_tag_name(self, c: int) -> int:
        return self.end_tag_name(c, self.script_data)

    def script_data_escape_start(self, c: int) -> int:
        if c == DASH:
            return self.go(self.script_data_escape_start_dash)
        return self.go(self.script_data, False)

    def script_data_escape_start_dash(self, c: int) -> int:
        if c == DASH:
            return self.go(self.script_data_escaped_dash_dash)
        return self.go(self.script_data, False)

    def script_data_escaped(self, c: int) -> int:
        if c == DASH:
            return self.go(self.script_data_escaped_dash)
        return self.escaped_lt() if c == LT else self.go(self.script_data_escaped)

    def script_data_escaped_dash(self, c: int) -> int:
        if c == DASH:
            return self.go(self.script_data_escaped_dash_dash)
        return self.escaped_lt() if c == LT else self.go(self.script_data_escaped)

    def script_data_escaped_dash_dash(self, c: int) -> int:
        if c == DASH:
            return self.go(self.script_data_escaped_dash_dash)
        if c == LT:
            return self.escaped_lt()
        return self.go(self.script_data if c == GT else self.script_data_escaped)

    def escaped_lt(self) -> int:
        self.lt = self.i
        return self.go(self.script_data_escaped_less_than_sign)

    def script_data_escaped_less_than_sign(self, c: int) -> int:
        self.buffer = bytearray()
        if c == SLASH:
            return self.go(self.script_data_escaped_end_tag_open)
        if c in ALPHA:
            return self.go(self.script_data_double_escape_start, False)
        return self.go(self.script_data_escaped, False)

    def script_data_escaped_end_tag_open(self, c: int) -> int:
        if c in ALPHA:
            return self.go(self.script_data_escaped_end_tag_name, False)
        return self.go(self.script_data_escaped, False)

    def script_data_escaped_end_tag_name(self, c: int) -> int:
        return self.end_tag_name(c, self.script_data_escaped)

    def script_data_double_escape_start(self, c: int) -> int:
        if c in SPACE or c in (SLASH, GT):
            script = bytes(self.buffer) == b"script"
            return self.go(self.script_data_double_escaped if script else self.script_data_escaped)
        if c in ALPHA:
            self.buffer.append(lower(c))
            return self.go(self.script_data_double_escape_start)
        return self.go(self.script_data_escaped, False)

    def script_data_double_escaped(self, c: int) -> int:
        if c == DASH:
            return self.go(self.script_data_double_escaped_dash)
        if c == LT:
            return self.go(self.script_data_double_escaped_less_than_sign)
        return self.go(self.script_data_double_escaped)

    def script_data_double_escaped_dash(self, c: int) -> int:
        if c == DASH:
            return self.go(self.script_data_double_escaped_dash_dash)
        if c == LT:
            return self.go(self.script_data_double_escaped_less_than_sign)
        return self.go(self.script_data_double_escaped)

    def script_data_double_escaped_dash_dash(self, c: int) -> int:
        if c == DASH:
            return self.go(self.script_data_double_escaped_dash_dash)
        if c == LT:
            return self.go(self.script_data_double_escaped_less_than_sign)
        return self.go(self.script_data if c == GT else self.script_data_double_escaped)

    def script_data_double_escaped_less_than_sign(self, c: int) -> int:
        if c == SLASH:
            self.buffer = bytearray()
            return self.go(self.script_data_double_escape_end)
        return self.go(self.script_data_double_escaped, False)

    def script_data_double_escape_end(self, c: int) -> int:
        if c in SPACE or c in (SLASH, GT):
            script = bytes(self.buffer) == b"script"
            return self.go(self.script_data_escaped if script else self.script_data_double_escaped)
        if c in ALPHA:
            self.buffer.append(lower(c))
            return self.go(self.script_data_double_escape_end)
        return self.go(self.script_data_double_escaped, False)


def reference(body: bytes) -> Reference:
    return Reference(body).run()


# --- random HTML-ish bytes against the reference -----------------------------------------

FRAGMENTS = [
    *(bytes([c]) for c in b"<>/!-=\"' \n\t\r\x0cab1?\x00"),
    *b"<!-- --> --!> <!--> <!---> <script> </script> <script </script <SCRIPT/ <title>".split(),
    *b"</title> <style> </style> <textarea> </textarea> <plaintext> <!DOCTYPE <? </ <!".split(),
    *b"<a href=\" href='tel: </a> <b> </p > <![CDATA[ ]]> <xmp> \xc3\xa9 <svg>".split(),
    *b"</SCRIPT> <TiTlE> </tItle <scripts> <iframe>".split(),
    b'<a href="',
    b"</xmp ",
    b"</iframe\x0c",
]
HTMLISH = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map(b"".join) | st.binary(max_size=40)


def rows_of(classify: Classify, body: bytes) -> Classified:
    return classify(body, range(len(body)), True)


@given(HTMLISH)
@example(b"<script><!--<script></script>x--></script>y")
@example(b"<script><!--->x</script>")
@example(b'<a b= ="x>">')
@example(b"<title>a</title a='>'>b")
@example(b"<!--<!--->x")
@example(b"<p title='a<b>c<!--'>a</p>")
@example(b"<script><!--<script>--></script>")
@example(b"<script><!--<scr--></script>")
@example(b"<script><!--</script-->")
def test_both_implementations_match_the_reference(body: bytes) -> None:
    ref = reference(body)
    expected = (ref.rows, ref.title)
    assert rows_of(classify_python, body) == expected
    if NATIVE is not None:
        assert rows_of(NATIVE, body) == expected


@given(HTMLISH, st.data())
def test_classifying_fewer_offsets_gives_the_same_rows(body: bytes, data: st.DataObject) -> None:
    if not body:
        return
    ref = reference(body)
    offsets = sorted(data.draw(st.lists(st.integers(0, len(body) - 1), min_size=1, max_size=6)))
    for classify in (classify_python, NATIVE) if NATIVE is not None else (classify_python,):
        rows, title = classify(body, offsets, False)
        assert rows == [ref.rows[o] for o in offsets]
        met = ref.title_start >= 0 and ref.title_start < offsets[-1]
        assert title == (ref.title if met else None)


# --- the corpus ----------------------------------------------------------------------------

PROBES = re.compile(rb"[<0-9]")
WORD = re.compile(rb"(?<=[ \n>])[A-Za-z0-9]{4,}(?=[ \n<])")


def probe_offsets(body: bytes) -> list[int]:
    """Every 97th byte, every `<` and every digit."""
    return sorted(set(range(0, len(body), 97)) | {m.start() for m in PROBES.finditer(body)})


@no_native
@needs_corpus
@pytest.mark.parametrize("page", PAGES, ids=lambda path: path.stem)
def test_c_and_python_agree_on_real_pages(page: Path) -> None:
    body = page.read_bytes()
    offsets = probe_offsets(body)
    assert NATIVE is not None
    assert NATIVE(body, offsets, True) == classify_python(body, offsets, True)


# The reference walks a byte per Python call: the smaller pages keep the suite fast.
REFERENCE_PAGE_MAX = 40_000


@needs_corpus
@pytest.mark.parametrize(
    "page",
    [page for page in PAGES if page.stat().st_size <= REFERENCE_PAGE_MAX],
    ids=lambda path: path.stem,
)
def test_real_pages_match_the_reference_at_every_offset(page: Path) -> None:
    body = page.read_bytes()
    ref = reference(body)
    assert rows_of(tokenizer.classify, body) == (ref.rows, ref.title)


def dom_strings(body: bytes) -> tuple[str, str, str]:
    """All text nodes, comments and attribute values of selectolax's DOM (template
    content included), joined."""
    texts: list[str] = []
    comments: list[str] = []
    values: list[str] = []
    tree = LexborHTMLParser(body)
    root = tree.root
    stack: list[LexborNode] = [root.parent or root] if root is not None else []
    stack.extend(tree.template_fragments())  # template content is not in the tree
    while stack:
        node = stack.pop()
        if node.is_text_node:
            texts.append(node.text_content or "")
        elif node.is_comment_node:
            comments.append(node.comment_content or "")
        elif node.is_element_node:
            values.extend(value or "" for value in node.attributes.values())
        stack.extend(node.iter(include_text=True))
    return "\x00".join(texts), "\x00".join(comments), "\x00".join(values)


@needs_corpus
@pytest.mark.parametrize("page", PAGES, ids=lambda path: path.stem)
def test_words_land_where_the_dom_puts_them(page: Path) -> None:
    body = page.read_bytes()
    words = [(m.start(), m[0].decode()) for m in WORD.finditer(body)]
    rows, _ = tokenizer.classify(body, [start for start, _ in words])
    texts, comments, values = dom_strings(body)
    for (start, word), (kind, tag_start, _, _, _, value_start, _) in zip(words, rows, strict=True):
        if kind == TEXT:
            assert word in texts, (start, word)
        elif kind == START_TAG and value_start >= 0:
            assert word in values, (start, word)
        elif kind == HIDDEN and body.startswith(b"<!--", tag_start):
            assert word in comments, (start, word)


# --- huge and adversarial pages --------------------------------------------------------------

SIZE = 1_000_000
ADVERSARIAL = [
    pytest.param(b"<" * SIZE, id="lt"),
    pytest.param(b"</" * (SIZE // 2), id="lt-slash"),
    pytest.param(b"<a" * (SIZE // 2), id="endless-tag-name"),
    pytest.param(b'<a b="' + b"x" * SIZE, id="unterminated-quote"),
    pytest.param(b"<a " + b"b=c " * (SIZE // 4) + b">", id="many-attributes"),
    pytest.param(b"<!--" + b"-" * SIZE, id="dashes"),
    pytest.param(b"<!-" * (SIZE // 3), id="almost-comments"),
    pytest.param(b"<title>" + b"</titl" * (SIZE // 6), id="almost-end-tags"),
    pytest.param(b"<script><!--" + b"<" * SIZE + b"-->", id="escaped-script-far-arrow"),
    pytest.param(b"<script><!--" + b"<script></script x>" * (SIZE // 20), id="double-escapes"),
    pytest.param(b"<script>" + b"<!-->" * (SIZE // 5), id="empty-escapes"),
    pytest.param(b"<p title='" + b"<!--" * (SIZE // 4) + b"'>x", id="openers-in-attribute"),
]


@pytest.mark.parametrize("body", ADVERSARIAL)
def test_huge_adversarial_pages_take_linear_time(body: bytes) -> None:
    offsets = [*range(0, len(body), 997), len(body) - 1]
    started = time.perf_counter()
    expected = classify_python(body, offsets, True)
    if NATIVE is not None:
        assert NATIVE(body, offsets, True) == expected
    # Generous: a quadratic walk over a megabyte takes minutes, a linear one milliseconds.
    assert time.perf_counter() - started < 10


CONTAINS = [
    pytest.param(b"<p data-dni-skip>x</p>", b"data-dni-skip", id="present"),
    pytest.param(b"<p data-dni-ski>x</p>", b"data-dni-skip", id="almost"),
    pytest.param(b"", b"data-dni-skip", id="empty-body"),
    pytest.param(b"abc", b"", id="empty-needle"),
    pytest.param(b"\x00data-dni-skip\x00", b"data-dni-skip", id="nul-bytes"),
]


@pytest.mark.parametrize(("body", "needle"), CONTAINS)
def test_contains_is_the_in_operator(body: bytes, needle: bytes) -> None:
    assert tokenizer.contains(body, needle) is (needle in body)
