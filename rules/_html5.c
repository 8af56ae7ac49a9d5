/* Where byte offsets stand in a page's HTML5 token stream (WHATWG HTML §13.2.5).
 *
 * classify(body, offsets, want_title) runs the tokenizer from the start of the
 * page only as far as the last offset (and the first <title> when asked), and
 * tells for each offset whether it is in text, inside a start tag (and which
 * attribute value), or inside something never rewritten: a comment, a bogus
 * comment or doctype, an end tag, or the content of a raw-text element.
 *
 * Theory of operation. The tokenizer is not run state by state: each kind of
 * construct is found whole by jumping with memchr to the only bytes that can
 * end it. In the data state only `<` matters; a tag ends at the first `>`
 * outside a quoted value, and a quote opens a value only after `=`; a comment
 * ends at the first `-->` or `--!>`; raw text ends at its own end tag, which
 * script data finds through the escape states (`<!--`, `<script`, `-->`). The
 * rules mirror the pure-Python twin in rules/tokenizer.py, and the tests hold
 * both to the same answers. Foreign content (svg, math CDATA) is not modelled.
 *
 * Every search moves forward, and the one search a loop could repeat (the next
 * `-->` in escaped script data) is cached, so any input costs linear time.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#define HAVE_SSE2 1
#endif

/* AVX2 code is compiled for its own functions and run only where the CPU has it. */
#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#include <stdint.h>
#define HAVE_AVX2 1
static int has_avx2;
#endif

enum { TEXT = 0, HIDDEN = 1, START_TAG = 2 };
enum { FIELDS = 7 };
/* Blocks of 16 bytes `find` reads itself before handing a long run to memchr. */
enum { NEAR_BLOCKS = 4 };

typedef enum { RAW_TEXT, SCRIPT, PLAINTEXT } Content;

/* Start tags after which the content is not markup, as the tree builder
 * switches the tokenizer (RCDATA and RAWTEXT end the same way for us). */
static const struct {
    const char *name;
    Py_ssize_t len;
    Content content;
} RAW_ELEMENTS[] = {
    {"script", 6, SCRIPT},     {"style", 5, RAW_TEXT},    {"xmp", 3, RAW_TEXT},
    {"iframe", 6, RAW_TEXT},   {"noembed", 7, RAW_TEXT},  {"noframes", 8, RAW_TEXT},
    {"textarea", 8, RAW_TEXT}, {"title", 5, RAW_TEXT},    {"plaintext", 9, PLAINTEXT},
};
#define RAW_COUNT (sizeof(RAW_ELEMENTS) / sizeof(RAW_ELEMENTS[0]))

/* Byte classes. Whitespace includes CR: the input stream turns it into LF. */
static unsigned char IS_SPACE[256];       /* \t \n \f \r space */
static unsigned char ENDS_TAG_NAME[256];  /* whitespace / > */
static unsigned char ENDS_ATTR_NAME[256]; /* whitespace / > = */
static unsigned char ENDS_UNQUOTED[256];  /* whitespace > */

#define IS_ALPHA(c) ((unsigned)(((c) | 0x20) - 'a') < 26u)

static void
init_classes(void)
{
    static const char spaces[] = "\t\n\f\r ";
    for (const char *s = spaces; *s; s++) {
        unsigned char c = (unsigned char)*s;
        IS_SPACE[c] = ENDS_TAG_NAME[c] = ENDS_ATTR_NAME[c] = ENDS_UNQUOTED[c] = 1;
    }
    ENDS_TAG_NAME['/'] = ENDS_TAG_NAME['>'] = 1;
    ENDS_ATTR_NAME['/'] = ENDS_ATTR_NAME['>'] = ENDS_ATTR_NAME['='] = 1;
    ENDS_UNQUOTED['>'] = 1;
}

typedef struct {
    const unsigned char *b;
    Py_ssize_t n;
} Page;

/* The index of the next `ch` at or after `from`, or n. Markup is dense: the
 * byte is often the very next one (`</td><td>`), or a few bytes on (a tag's
 * text, an attribute's value), which spares a memchr call. */
static inline Py_ssize_t
find(Page pg, Py_ssize_t from, unsigned char ch)
{
    if (from >= pg.n) {
        return pg.n;
    }
    if (pg.b[from] == ch) {
        return from;
    }
#ifdef HAVE_SSE2
    const __m128i wanted = _mm_set1_epi8((char)ch);
    for (int k = 0; k < NEAR_BLOCKS && from + 16 <= pg.n; k++, from += 16) {
        __m128i block = _mm_loadu_si128((const __m128i *)(pg.b + from));
        unsigned mask = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(block, wanted));
        if (mask) {
            return from + __builtin_ctz(mask);
        }
    }
#endif
    const unsigned char *hit = memchr(pg.b + from, ch, (size_t)(pg.n - from));
    return hit ? hit - pg.b : pg.n;
}

/* The end of a tag or attribute name from `p`: the first byte in `ends`. */
static inline Py_ssize_t
skip_name(Page pg, Py_ssize_t p, const unsigned char *ends)
{
    while (p < pg.n && !ends[pg.b[p]]) {
        p++;
    }
    return p;
}

static int
ascii_lower_equals(const unsigned char *s, const char *lower, Py_ssize_t len)
{
    for (Py_ssize_t i = 0; i < len; i++) {
        if ((s[i] | 0x20) != (unsigned char)lower[i]) {
            return 0;
        }
    }
    return 1;
}

/* `</name` followed by whitespace, `/` or `>`: the end tag that closes raw text. */
static int
is_end_tag(Page pg, Py_ssize_t i, const char *name, Py_ssize_t len)
{
    return i + 2 + len < pg.n && pg.b[i + 1] == '/' &&
           ascii_lower_equals(pg.b + i + 2, name, len) && ENDS_TAG_NAME[pg.b[i + 2 + len]];
}

/* ---- attributes ------------------------------------------------------- */

/* The offsets that fall inside one start tag, with their result rows, so the
 * attribute walk can fill in the value each one stands in. */
typedef struct {
    const Py_ssize_t *offset;
    Py_ssize_t *row;
    Py_ssize_t left;
} Probe;

static void
probe_value(Probe *probe, Py_ssize_t ns, Py_ssize_t ne, Py_ssize_t vs, Py_ssize_t ve)
{
    while (probe->left && *probe->offset < vs) {
        probe->offset++, probe->row += FIELDS, probe->left--;
    }
    while (probe->left && *probe->offset < ve) {
        Py_ssize_t *row = probe->row;
        row[3] = ns, row[4] = ne, row[5] = vs, row[6] = ve;
        probe->offset++, probe->row += FIELDS, probe->left--;
    }
}

/* A tag's attributes from `p` (the byte after its name) through its `>`: the
 * tag's end, or -1 when the page ends first. The loop top is the "before
 * attribute name" state; `/` there (and after a name or a quoted value) only
 * ever leads back to it or to `>`, so it is skipped like whitespace. */
static Py_ssize_t
tag_rest(Page pg, Py_ssize_t p, Probe *probe)
{
    const unsigned char *b = pg.b;
    const Py_ssize_t n = pg.n;
    for (;;) {
        while (p < n && (IS_SPACE[b[p]] || b[p] == '/')) {
            p++;
        }
        if (p >= n) {
            return -1;
        }
        if (b[p] == '>') {
            return p + 1;
        }
        Py_ssize_t ns = p; /* a name may start with `=` */
        Py_ssize_t ne = p = skip_name(pg, p + 1, ENDS_ATTR_NAME);
        while (p < n && IS_SPACE[b[p]]) {
            p++;
        }
        if (p >= n) {
            return -1;
        }
        if (b[p] != '=') {
            continue; /* `/`, `>` or the next attribute's name */
        }
        p++;
        while (p < n && IS_SPACE[b[p]]) {
            p++;
        }
        if (p >= n) {
            return -1;
        }
        Py_ssize_t vs, ve;
        unsigned char c = b[p];
        if (c == '"' || c == '\'') {
            vs = p + 1;
            ve = find(pg, vs, c);
            if (ve >= n) {
                return -1;
            }
            p = ve + 1;
        }
        else if (c == '>') {
            return p + 1; /* `name=>`: an empty value */
        }
        else {
            vs = p;
            while (p < n && !ENDS_UNQUOTED[b[p]]) {
                p++;
            }
            ve = p;
        }
        if (probe) {
            probe_value(probe, ns, ne, vs, ve);
        }
    }
}

/* `tag_rest` without probes, with the common tag that has no attributes
 * (`<td>`, `</p>`) decided on the spot. */
static inline Py_ssize_t
skip_tag_rest(Page pg, Py_ssize_t p)
{
    if (p < pg.n && pg.b[p] == '>') {
        return p + 1;
    }
    return tag_rest(pg, p, NULL);
}

/* ---- raw text --------------------------------------------------------- */

/* The `<` of the end tag that closes RAWTEXT/RCDATA content from `p`, or n. */
static Py_ssize_t
raw_text_end(Page pg, Py_ssize_t p, const char *name, Py_ssize_t len)
{
    for (Py_ssize_t i = find(pg, p, '<'); i < pg.n; i = find(pg, i + 1, '<')) {
        if (is_end_tag(pg, i, name, len)) {
            return i;
        }
    }
    return pg.n;
}

/* The start of the first `-->` at or after `p`, or n; cached across calls
 * because a search may run far past the `<` bytes the caller stops at. */
typedef struct {
    Py_ssize_t from, at;
} Cache;

static Py_ssize_t
escape_end(Page pg, Py_ssize_t p, Cache *cache)
{
    if (cache->from >= 0 && cache->from <= p && p <= cache->at) {
        return cache->at;
    }
    Py_ssize_t at = pg.n;
    for (Py_ssize_t g = find(pg, p + 2, '>'); g < pg.n; g = find(pg, g + 1, '>')) {
        if (pg.b[g - 1] == '-' && pg.b[g - 2] == '-') {
            at = g - 2;
            break;
        }
    }
    cache->from = p, cache->at = at;
    return at;
}

/* The `<` of the `</script` that ends script data from `p`, or n. Inside
 * `<!--` (escaped) a `<script` starts a double-escaped run in which
 * `</script` only returns to escaped; `-->` leaves both. The dashes of `<!--`
 * count towards `-->`, so `<!-->` escapes nothing. */
static Py_ssize_t
script_end(Page pg, Py_ssize_t p)
{
    enum { DATA, ESCAPED, DOUBLE_ESCAPED } state = DATA;
    Cache cache = {-1, -1};
    const unsigned char *b = pg.b;
    for (;;) {
        Py_ssize_t i = find(pg, p, '<');
        if (state != DATA) {
            Py_ssize_t e = escape_end(pg, p, &cache);
            if (e < i) {
                state = DATA, p = e + 3;
                continue;
            }
        }
        if (i >= pg.n) {
            return pg.n;
        }
        if (is_end_tag(pg, i, "script", 6)) {
            if (state != DOUBLE_ESCAPED) {
                return i;
            }
            state = ESCAPED, p = i + 9;
        }
        else if (state == DATA && i + 3 < pg.n && b[i + 1] == '!' && b[i + 2] == '-' &&
                 b[i + 3] == '-') {
            state = ESCAPED, p = i + 2;
        }
        else if (state == ESCAPED && i + 7 < pg.n && ascii_lower_equals(b + i + 1, "script", 6) &&
                 ENDS_TAG_NAME[b[i + 7]]) {
            state = DOUBLE_ESCAPED, p = i + 8;
        }
        else {
            p = i + 1;
        }
    }
}

/* ---- constructs ------------------------------------------------------- */

/* Reading a construct is inlined into the walks: a construct returned by value
 * otherwise goes through memory, a fifth of the walk's time. */
#if defined(__GNUC__)
#define WALK_INLINE inline __attribute__((always_inline))
#else
#define WALK_INLINE inline
#endif

/* One construct from its `<`: [start, end), and for a start tag where its
 * attributes begin and where the tag itself ends (raw text may follow). */
typedef struct {
    Py_ssize_t start, end, attrs, tag_end;
} Construct;

/* The first `<` at or after `p` that starts a construct (a tag, `</`, `<!`,
 * `<?`), or n. Any other `<` is text. */
static Py_ssize_t
next_construct(Page pg, Py_ssize_t p)
{
    for (Py_ssize_t i = find(pg, p, '<'); i + 1 < pg.n; i = find(pg, i + 1, '<')) {
        unsigned char c = pg.b[i + 1];
        if (IS_ALPHA(c) || c == '!' || c == '?' || (c == '/' && i + 2 < pg.n)) {
            return i;
        }
    }
    return pg.n;
}

/* A bogus comment (also every doctype) runs to the first `>` from `p`. */
static Py_ssize_t
bogus_end(Page pg, Py_ssize_t p)
{
    Py_ssize_t g = find(pg, p, '>');
    return g < pg.n ? g + 1 : pg.n;
}

/* A comment from its `<`: `<!-->` and `<!--->` close at once, otherwise the
 * first `-->` or `--!>` after `<!--` does. */
static Py_ssize_t
comment_end(Page pg, Py_ssize_t start)
{
    const unsigned char *b = pg.b;
    Py_ssize_t p = start + 4;
    if (p < pg.n && b[p] == '>') {
        return p + 1;
    }
    if (p + 1 < pg.n && b[p] == '-' && b[p + 1] == '>') {
        return p + 2;
    }
    for (Py_ssize_t g = find(pg, p + 2, '>'); g < pg.n; g = find(pg, g + 1, '>')) {
        if (b[g - 1] == '-' && b[g - 2] == '-') {
            return g + 1;
        }
        if (g - 3 >= p && b[g - 1] == '!' && b[g - 2] == '-' && b[g - 3] == '-') {
            return g + 1;
        }
    }
    return pg.n;
}

static Py_ssize_t
name_end(Page pg, Py_ssize_t p)
{
    return skip_name(pg, p, ENDS_TAG_NAME);
}

/* An end tag from its `<`: ends after its `>`, or at the end of the page. */
static Py_ssize_t
end_tag_end(Page pg, Py_ssize_t start)
{
    Py_ssize_t end = skip_tag_rest(pg, name_end(pg, start + 2));
    return end < 0 ? pg.n : end;
}

static int
raw_element(Page pg, Py_ssize_t start, Py_ssize_t ne)
{
    Py_ssize_t len = ne - start - 1;
    if (len < 3 || len > 9) {
        return -1; /* most tags: p, a, li, td, span, div */
    }
    for (size_t k = 0; k < RAW_COUNT; k++) {
        if (RAW_ELEMENTS[k].len == len &&
            ascii_lower_equals(pg.b + start + 1, RAW_ELEMENTS[k].name, len)) {
            return (int)k;
        }
    }
    return -1;
}

/* A start tag and, after a raw-text element's, its content and end tag. The
 * first <title> sets `title` to its content span. */
static WALK_INLINE Construct
start_tag(Page pg, Py_ssize_t start, Py_ssize_t title[2])
{
    Construct t = {start, pg.n, -1, -1};
    Py_ssize_t ne = name_end(pg, start + 1);
    Py_ssize_t tag_end = skip_tag_rest(pg, ne);
    if (tag_end < 0) {
        return t; /* cut off by the end of the page: hidden to the end */
    }
    t.attrs = ne, t.tag_end = t.end = tag_end;
    int k = raw_element(pg, start, ne);
    if (k < 0) {
        return t;
    }
    const char *name = RAW_ELEMENTS[k].name;
    Py_ssize_t len = RAW_ELEMENTS[k].len;
    Py_ssize_t close = RAW_ELEMENTS[k].content == PLAINTEXT ? pg.n
                       : RAW_ELEMENTS[k].content == SCRIPT
                           ? script_end(pg, tag_end)
                           : raw_text_end(pg, tag_end, name, len);
    t.end = close < pg.n ? skip_tag_rest(pg, close + 2 + len) : pg.n;
    if (t.end < 0) {
        t.end = pg.n;
    }
    if (title[0] < 0 && len == 5 && memcmp(name, "title", 5) == 0) {
        title[0] = tag_end, title[1] = close;
    }
    return t;
}

static WALK_INLINE Construct
construct(Page pg, Py_ssize_t start, Py_ssize_t title[2])
{
    const unsigned char *b = pg.b;
    Construct t = {start, pg.n, -1, -1};
    unsigned char c = b[start + 1];
    if (IS_ALPHA(c)) {
        return start_tag(pg, start, title);
    }
    if (c == '!') {
        int comment = start + 3 < pg.n && b[start + 2] == '-' && b[start + 3] == '-';
        t.end = comment ? comment_end(pg, start) : bogus_end(pg, start + 2);
    }
    else if (c == '?') {
        t.end = bogus_end(pg, start + 1);
    }
    else { /* `</` and at least one more byte */
        unsigned char d = b[start + 2];
        t.end = IS_ALPHA(d) ? end_tag_end(pg, start)
                : d == '>'  ? start + 3 /* `</>` is dropped */
                            : bogus_end(pg, start + 2);
    }
    return t;
}

/* ---- the walk --------------------------------------------------------- */

static inline void
set_row(Py_ssize_t *row, Py_ssize_t kind, Py_ssize_t start, Py_ssize_t end)
{
    row[0] = kind, row[1] = start, row[2] = end;
    row[3] = row[4] = row[5] = row[6] = -1;
}

/* Fills one row per offset (sorted, each in [0, n)); `title` gets the first
 * title's content span or stays {-1, -1}. */
static void
walk(Page pg, const Py_ssize_t *offset, Py_ssize_t count, Py_ssize_t *rows, int want_title,
     Py_ssize_t title[2])
{
    Py_ssize_t pos = 0, k = 0;
    title[0] = title[1] = -1;
    for (;;) {
        int more = k < count || (want_title && title[0] < 0);
        if (!more) {
            return;
        }
        Py_ssize_t c = next_construct(pg, pos);
        for (; k < count && offset[k] <= c; k++) {
            set_row(rows + k * FIELDS, TEXT, -1, -1);
        }
        if (c >= pg.n || (k >= count && !(want_title && title[0] < 0))) {
            return;
        }
        Construct t = construct(pg, c, title);
        Py_ssize_t first = k;
        for (; k < count && offset[k] < t.end; k++) {
            if (offset[k] < t.tag_end) {
                set_row(rows + k * FIELDS, START_TAG, c, t.tag_end);
            }
            else {
                set_row(rows + k * FIELDS, HIDDEN, c, t.end);
            }
        }
        if (k > first && t.tag_end >= 0 && offset[first] < t.tag_end) {
            Probe probe = {offset + first, rows + first * FIELDS, 0};
            while (first + probe.left < k && offset[first + probe.left] < t.tag_end) {
                probe.left++;
            }
            tag_rest(pg, t.attrs, &probe);
        }
        pos = t.end;
    }
}

/* ---- the Python face -------------------------------------------------- */

static Py_ssize_t *
read_offsets(PyObject *seq, Py_ssize_t n, Py_ssize_t *count)
{
    PyObject *fast = PySequence_Fast(seq, "offsets must be a sequence of int");
    if (!fast) {
        return NULL;
    }
    *count = PySequence_Fast_GET_SIZE(fast);
    Py_ssize_t *offsets = PyMem_Malloc(((size_t)*count + 1) * sizeof(Py_ssize_t));
    if (!offsets) {
        Py_DECREF(fast);
        PyErr_NoMemory();
        return NULL;
    }
    PyObject **items = PySequence_Fast_ITEMS(fast);
    for (Py_ssize_t i = 0; i < *count; i++) {
        Py_ssize_t v = PyLong_AsSsize_t(items[i]);
        if (v == -1 && PyErr_Occurred()) {
            goto fail;
        }
        if (v < 0 || v >= n) {
            PyErr_Format(PyExc_ValueError, "offset %zd is outside the body (%zd bytes)", v, n);
            goto fail;
        }
        if (i && v < offsets[i - 1]) {
            PyErr_SetString(PyExc_ValueError, "offsets must be sorted");
            goto fail;
        }
        offsets[i] = v;
    }
    Py_DECREF(fast);
    return offsets;
fail:
    Py_DECREF(fast);
    PyMem_Free(offsets);
    return NULL;
}

/* A tuple of `count` ints: what Py_BuildValue("(n...)") makes, without parsing
 * a format for each row. */
static PyObject *
int_tuple(const Py_ssize_t *values, Py_ssize_t count)
{
    PyObject *tuple = PyTuple_New(count);
    if (!tuple) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *value = PyLong_FromSsize_t(values[i]);
        if (!value) {
            Py_DECREF(tuple);
            return NULL;
        }
        PyTuple_SET_ITEM(tuple, i, value);
    }
    return tuple;
}

static PyObject *
build_result(const Py_ssize_t *rows, Py_ssize_t count, const Py_ssize_t title[2])
{
    PyObject *list = PyList_New(count);
    if (!list) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *row = int_tuple(rows + i * FIELDS, FIELDS);
        if (!row) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, row);
    }
    if (title[0] < 0) {
        return Py_BuildValue("(NO)", list, Py_None);
    }
    return Py_BuildValue("(N(nn))", list, title[0], title[1]);
}

static PyObject *
classify(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 2 && nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "classify(body, offsets, want_title=False)");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    PyObject *result = NULL;
    Py_ssize_t *rows = NULL, count = 0;
    Py_ssize_t *offsets = read_offsets(args[1], view.len, &count);
    int want_title = !offsets ? -1 : nargs == 3 ? PyObject_IsTrue(args[2]) : 0;
    if (want_title < 0) {
        goto done;
    }
    rows = PyMem_Malloc(((size_t)count * FIELDS + 1) * sizeof(Py_ssize_t));
    if (!rows) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t title[2];
    walk((Page){(const unsigned char *)view.buf, view.len}, offsets, count, rows, want_title,
         title);
    result = build_result(rows, count, title);
done:
    PyMem_Free(rows);
    PyMem_Free(offsets);
    PyBuffer_Release(&view);
    return result;
}

/* ---- the skeleton ----------------------------------------------------- */

typedef struct {
    char *buf;
    Py_ssize_t len, cap;
} Out;

static int
out_put(Out *o, const void *data, Py_ssize_t len)
{
    if (o->len + len > o->cap) {
        Py_ssize_t cap = (o->cap + len) * 2;
        char *buf = PyMem_Realloc(o->buf, (size_t)cap);
        if (!buf) {
            PyErr_NoMemory();
            return -1;
        }
        o->buf = buf, o->cap = cap;
    }
    memcpy(o->buf + o->len, data, (size_t)len);
    o->len += len;
    return 0;
}

static int
out_mark(Out *o, Py_ssize_t k)
{
    char mark[40];
    int len = snprintf(mark, sizeof mark, "dniMark%zdQ", k);
    return out_put(o, mark, len);
}

/* Whether the construct at `start` (`<!`) is a doctype, which sets quirks mode. */
static int
is_doctype(Page pg, Py_ssize_t start)
{
    return start + 9 <= pg.n && ascii_lower_equals(pg.b + start + 2, "doctype", 7);
}

/* The page's element structure without its content: start and end tags and the
 * doctype as written, raw-text elements emptied, text and comments dropped, and
 * "dniMark<k>Q" at the k-th mark (sorted offsets, each in [0, n]). A tree builder
 * gives the marks the ancestors they have in the page, in a fraction of the time. */
static int
build_skeleton(Page pg, const Py_ssize_t *mark, Py_ssize_t count, Out *o)
{
    Py_ssize_t pos = 0, k = 0, title[2] = {0, 0};
    for (;;) {
        Py_ssize_t c = next_construct(pg, pos);
        for (; k < count && mark[k] <= c; k++) {
            if (out_mark(o, k) < 0) {
                return -1;
            }
        }
        if (c >= pg.n) {
            break;
        }
        Construct t = construct(pg, c, title);
        unsigned char kind = pg.b[c + 1];
        int ok = 0;
        if (IS_ALPHA(kind)) {
            if (t.tag_end < 0) {
                break; /* cut off by the end of the page */
            }
            ok = out_put(o, pg.b + c, t.tag_end - c);
            if (!ok && t.end > t.tag_end) { /* a raw-text element: its end tag, no content */
                ok = out_put(o, "</", 2) || out_put(o, pg.b + c + 1, t.attrs - c - 1) ||
                     out_put(o, ">", 1);
            }
        }
        else if ((kind == '/' && IS_ALPHA(pg.b[c + 2])) || (kind == '!' && is_doctype(pg, c))) {
            ok = out_put(o, pg.b + c, t.end - c);
        }
        if (ok < 0) {
            return -1;
        }
        for (; k < count && mark[k] < t.end; k++) { /* never expected inside a construct */
            if (out_mark(o, k) < 0) {
                return -1;
            }
        }
        pos = t.end;
    }
    for (; k < count; k++) {
        if (out_mark(o, k) < 0) {
            return -1;
        }
    }
    return 0;
}

static PyObject *
skeleton(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "skeleton(body, marks)");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    PyObject *result = NULL, *fast = PySequence_Fast(args[1], "marks must be a sequence of int");
    Py_ssize_t *marks = NULL;
    Out o = {NULL, 0, 0};
    if (!fast) {
        goto done;
    }
    Py_ssize_t count = PySequence_Fast_GET_SIZE(fast);
    marks = PyMem_Malloc(((size_t)count + 1) * sizeof(Py_ssize_t));
    if (!marks) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_ssize_t v = PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(fast, i));
        if (v == -1 && PyErr_Occurred()) {
            goto done;
        }
        if (v < 0 || v > view.len || (i && v < marks[i - 1])) {
            PyErr_SetString(PyExc_ValueError, "marks must be sorted offsets within the body");
            goto done;
        }
        marks[i] = v;
    }
    o.cap = view.len / 2 + 64 * (count + 1);
    o.buf = PyMem_Malloc((size_t)o.cap);
    if (!o.buf) {
        PyErr_NoMemory();
        goto done;
    }
    if (build_skeleton((Page){(const unsigned char *)view.buf, view.len}, marks, count, &o) == 0) {
        result = PyBytes_FromStringAndSize(o.buf, o.len);
    }
done:
    PyMem_Free(o.buf);
    PyMem_Free(marks);
    Py_XDECREF(fast);
    PyBuffer_Release(&view);
    return result;
}

#ifdef HAVE_AVX2
/* Whether `needle` (two bytes or more) starts at one of the positions tested,
 * thirty-two at a time: only those holding its first byte and, m - 1 bytes on,
 * its last are compared whole, and in a page that pair is rare. When it is not
 * found, `*from` is the first position left untested. */
__attribute__((target("avx2"))) static int
pair_search(const unsigned char *hay, Py_ssize_t n, const unsigned char *needle, Py_ssize_t m,
            Py_ssize_t *from)
{
    const __m256i first = _mm256_set1_epi8((char)needle[0]);
    const __m256i last = _mm256_set1_epi8((char)needle[m - 1]);
    Py_ssize_t i = 0;
    for (; i + m - 1 + 32 <= n; i += 32) {
        __m256i starts = _mm256_loadu_si256((const __m256i *)(hay + i));
        __m256i ends = _mm256_loadu_si256((const __m256i *)(hay + i + m - 1));
        uint32_t mask = (uint32_t)_mm256_movemask_epi8(
            _mm256_and_si256(_mm256_cmpeq_epi8(starts, first), _mm256_cmpeq_epi8(ends, last)));
        while (mask) {
            Py_ssize_t at = i + __builtin_ctz(mask);
            mask &= mask - 1;
            if (memcmp(hay + at + 1, needle + 1, (size_t)(m - 2)) == 0) {
                return 1;
            }
        }
    }
    *from = i;
    return 0;
}
#endif

/* Whether `needle` occurs in `hay`: the AVX2 pair filter where the CPU has it,
 * the C library's memmem for the rest. */
static int
find_needle(const unsigned char *hay, Py_ssize_t n, const unsigned char *needle, Py_ssize_t m)
{
    Py_ssize_t from = 0;
    if (m == 0) {
        return 1;
    }
#ifdef HAVE_AVX2
    if (has_avx2 && m >= 2 && pair_search(hay, n, needle, m, &from)) {
        return 1;
    }
#endif
    return from < n && memmem(hay + from, (size_t)(n - from), needle, (size_t)m) != NULL;
}

/* contains(body, needle) -> bool: `needle in body`, several times faster than
 * bytes.__contains__ for a word a page rarely holds. */
static PyObject *
contains(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "contains(body, needle)");
        return NULL;
    }
    Py_buffer hay, needle;
    if (PyObject_GetBuffer(args[0], &hay, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    if (PyObject_GetBuffer(args[1], &needle, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&hay);
        return NULL;
    }
    int found = find_needle(hay.buf, hay.len, needle.buf, needle.len);
    PyBuffer_Release(&needle);
    PyBuffer_Release(&hay);
    return PyBool_FromLong(found);
}

static PyMethodDef METHODS[] = {
    {"skeleton", (PyCFunction)(void (*)(void))skeleton, METH_FASTCALL,
     "skeleton(body, marks) -> bytes: the page's tags without text, comments or\n"
     "raw-text content, with dniMark<k>Q at the k-th of the sorted mark offsets."},
    {"contains", (PyCFunction)(void (*)(void))contains, METH_FASTCALL,
     "contains(body, needle) -> bool: whether needle occurs in body."},
    {"classify", (PyCFunction)(void (*)(void))classify, METH_FASTCALL,
     "classify(body, offsets, want_title=False) -> (rows, title_span)\n\n"
     "For each sorted offset, (kind, tag_start, tag_end, name_start, name_end,\n"
     "value_start, value_end) with kind 0 text, 1 hidden, 2 start tag; and the\n"
     "content span of the first <title>, or None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_html5",
    .m_doc = "HTML5 token positions of byte offsets.",
    .m_size = -1,
    .m_methods = METHODS,
};

PyMODINIT_FUNC
PyInit__html5(void)
{
    init_classes();
#ifdef HAVE_AVX2
    __builtin_cpu_init();
    has_avx2 = __builtin_cpu_supports("avx2");
#endif
    return PyModule_Create(&MODULE);
}
