/* Where byte offsets stand in a page's HTML5 token stream (WHATWG HTML §13.2.5).
 *
 * classify(body, offsets, want_title) runs the tokenizer from the start of the
 * page only as far as the last offset (and the first <title> when asked), and
 * tells for each offset whether it is in text, inside a start tag (and which
 * attribute value), or inside something never rewritten: a comment, a bogus
 * comment or doctype, an end tag, or the content of a raw-text element.
 *
 * place(body, spans, attribute, inline_elements, want_title) does the scanner's
 * whole placing of its matches in one call: it classifies each match's first and
 * last bytes and the byte after each `<` in it, keeps the matches that stand in
 * text (across inline tags only) or in the value of `attribute`, and reads a
 * plain match's digits. Its pure-Python twin is rules/html.py `place_python`.
 *
 * Theory of operation. The tokenizer is not run state by state: each kind of
 * construct is found whole by jumping with memchr to the only bytes that can
 * end it. In the data state only `<` matters; a tag ends at the first `>`
 * outside a quoted value, and a quote opens a value only after a `=` that ends
 * an attribute name, so a tag is read from one `>` or `=` to the next; a comment
 * ends at the first `-->` or `--!>`; raw text ends at its own end tag, which
 * script data finds through the escape states (`<!--`, `<script`, `-->`). The
 * rules mirror the pure-Python twin in rules/tokenizer.py, and the tests hold
 * both to the same answers. Foreign content (svg, math CDATA) is not modelled.
 *
 * Every search moves forward (but for the whitespace before a `=`, looked at
 * once), and the one search a loop could repeat (the next `-->` in escaped
 * script data) is cached, so any input costs linear time.
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
/* What the byte after a `<` makes of it: text, or the kind of construct. */
enum { OPENS_NOTHING, OPENS_START_TAG, OPENS_END_TAG, OPENS_MARKUP_DECLARATION, OPENS_BOGUS };
static unsigned char OPENS[256];
/* The first letters of the raw-text elements' names, either case. */
static unsigned char RAW_FIRST[256];

#define IS_ALPHA(c) ((unsigned)(((c) | 0x20) - 'a') < 26u)
#define IS_DIGIT(c) ((unsigned)((c) - '0') < 10u)
#define LOWER_ASCII(c) ((unsigned)((c) - 'A') < 26u ? (c) | 0x20 : (c))

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
    for (int c = 'a'; c <= 'z'; c++) {
        OPENS[c] = OPENS[c - 32] = OPENS_START_TAG;
    }
    OPENS['/'] = OPENS_END_TAG;
    OPENS['!'] = OPENS_MARKUP_DECLARATION;
    OPENS['?'] = OPENS_BOGUS;
    for (size_t k = 0; k < RAW_COUNT; k++) {
        unsigned char first = (unsigned char)RAW_ELEMENTS[k].name[0];
        RAW_FIRST[first] = RAW_FIRST[first - 32] = 1;
    }
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
        probe_value(probe, ns, ne, vs, ve);
    }
}

/* The index of the first `x` or `y` at or after `from`, or n. */
static inline Py_ssize_t
find_either(Page pg, Py_ssize_t from, unsigned char x, unsigned char y)
{
#ifdef HAVE_SSE2
    const __m128i wx = _mm_set1_epi8((char)x), wy = _mm_set1_epi8((char)y);
    for (; from + 16 <= pg.n; from += 16) {
        __m128i block = _mm_loadu_si128((const __m128i *)(pg.b + from));
        unsigned mask = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(block, wx), _mm_cmpeq_epi8(block, wy)));
        if (mask) {
            return from + __builtin_ctz(mask);
        }
    }
#endif
    for (; from < pg.n; from++) {
        if (pg.b[from] == x || pg.b[from] == y) {
            return from;
        }
    }
    return pg.n;
}

/* `tag_rest` without probes: where the tag from `p` ends, or -1. Only `>` and a
 * `=` that ends an attribute name decide it (a quote opens a value only right
 * after such a `=`), so the walk jumps from one of those bytes to the next,
 * over each value. A `=` starts a name instead when no name stands before it
 * since the tag's name, the last value or a `/`. */
static Py_ssize_t
attributes_end(Page pg, Py_ssize_t p)
{
    const unsigned char *b = pg.b;
    const Py_ssize_t n = pg.n;
    Py_ssize_t names_from = p; /* where the "before attribute name" state began */
    for (;;) {
        Py_ssize_t e = find_either(pg, p, '>', '=');
        if (e >= n) {
            return -1;
        }
        if (b[e] == '>') {
            return e + 1;
        }
        Py_ssize_t q = e;
        while (q > names_from && IS_SPACE[b[q - 1]]) {
            q--;
        }
        p = e + 1;
        if (q == names_from || b[q - 1] == '/') {
            continue; /* the `=` starts a name */
        }
        while (p < n && IS_SPACE[b[p]]) {
            p++;
        }
        if (p >= n) {
            return -1;
        }
        unsigned char c = b[p];
        if (c == '"' || c == '\'') {
            p = find(pg, p + 1, c);
            if (p >= n) {
                return -1;
            }
            p++;
        }
        else if (c == '>') {
            return p + 1; /* `name=>`: an empty value */
        }
        else {
            while (p < n && !ENDS_UNQUOTED[b[p]]) {
                p++;
            }
        }
        names_from = p;
    }
}

/* Where a tag from `p` (the byte after its name) ends, or -1; the common tag
 * without attributes (`<td>`, `</p>`) is decided on the spot. */
static inline Py_ssize_t
tag_close(Page pg, Py_ssize_t p)
{
    if (p < pg.n && pg.b[p] == '>') {
        return p + 1;
    }
    return attributes_end(pg, p);
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
static inline Py_ssize_t
next_construct(Page pg, Py_ssize_t p)
{
    for (Py_ssize_t i = find(pg, p, '<'); i + 1 < pg.n; i = find(pg, i + 1, '<')) {
        unsigned opens = OPENS[pg.b[i + 1]];
        if (opens && (opens != OPENS_END_TAG || i + 2 < pg.n)) {
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
    Py_ssize_t end = tag_close(pg, name_end(pg, start + 2));
    return end < 0 ? pg.n : end;
}

static int
raw_element(Page pg, Py_ssize_t start, Py_ssize_t ne)
{
    Py_ssize_t len = ne - start - 1;
    if (len < 3 || len > 9 || !RAW_FIRST[pg.b[start + 1]]) {
        return -1; /* most tags: p, a, li, td, div, img */
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
    Py_ssize_t tag_end = tag_close(pg, ne);
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
    t.end = close < pg.n ? tag_close(pg, close + 2 + len) : pg.n;
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
    switch (OPENS[b[start + 1]]) {
    case OPENS_START_TAG:
        return start_tag(pg, start, title);
    case OPENS_END_TAG: { /* `</` and at least one more byte */
        unsigned char d = b[start + 2];
        t.end = IS_ALPHA(d) ? end_tag_end(pg, start)
                : d == '>'  ? start + 3 /* `</>` is dropped */
                            : bogus_end(pg, start + 2);
        break;
    }
    case OPENS_MARKUP_DECLARATION: {
        int comment = start + 3 < pg.n && b[start + 2] == '-' && b[start + 3] == '-';
        t.end = comment ? comment_end(pg, start) : bogus_end(pg, start + 2);
        break;
    }
    default: /* `<?` */
        t.end = bogus_end(pg, start + 1);
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
    while (k < count) {
        Py_ssize_t c = next_construct(pg, pos);
        Construct t = {0, 0, -1, -1};
        int holds_offset = 0;
        /* The hot loop: constructs wholly before the next offset. */
        while (c < offset[k]) {
            t = construct(pg, c, title);
            if (t.end > offset[k]) {
                holds_offset = 1;
                break;
            }
            pos = t.end;
            c = next_construct(pg, pos);
        }
        if (!holds_offset) {
            for (; k < count && offset[k] <= c; k++) {
                set_row(rows + k * FIELDS, TEXT, -1, -1);
            }
            if (c >= pg.n || k >= count) {
                pos = c;
                break;
            }
            t = construct(pg, c, title);
        }
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
    while (want_title && title[0] < 0) {
        Py_ssize_t c = next_construct(pg, pos);
        if (c >= pg.n) {
            return;
        }
        pos = construct(pg, c, title).end;
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

/* A tuple of `size` items, the first `count` of them these ints (the caller sets
 * the rest): what Py_BuildValue("(n...)") makes, without parsing a format. */
static PyObject *
int_tuple_of(const Py_ssize_t *values, Py_ssize_t count, Py_ssize_t size)
{
    PyObject *tuple = PyTuple_New(size);
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
int_tuple(const Py_ssize_t *values, Py_ssize_t count)
{
    return int_tuple_of(values, count, count);
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

/* ---- placing matches -------------------------------------------------- */

/* A kept match: start, end, kind, tag_start, tag_end, name_start, value_start,
 * value_end, and whether it is plain (then its digits are read here). */
enum { PLACED_INTS = 8, PLAIN = 8, PLACED_FIELDS = 9 };

typedef struct {
    const Py_ssize_t *offset; /* sorted probe offsets and their rows */
    const Py_ssize_t *rows;
    Py_ssize_t count;
} Places;

/* The row of a probe offset (every offset looked up is one). */
static const Py_ssize_t *
row_of(const Places *places, Py_ssize_t offset)
{
    Py_ssize_t lo = 0, hi = places->count - 1;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (places->offset[mid] < offset) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    return places->rows + lo * FIELDS;
}

/* Whether the construct at `start` is a comment, or a whole tag named in
 * `inline_elements` (a frozenset of lower-case names): html.INLINE_ELEMENTS. */
static int
inline_markup(Page pg, Py_ssize_t start, PyObject *inline_elements)
{
    const unsigned char *b = pg.b;
    if (start + 4 <= pg.n && memcmp(b + start, "<!--", 4) == 0) {
        return 1;
    }
    Py_ssize_t p = start + 1 + (start + 1 < pg.n && b[start + 1] == '/');
    if (p >= pg.n || !IS_ALPHA(b[p])) {
        return 0;
    }
    Py_ssize_t ne = name_end(pg, p);
    if (tag_close(pg, ne) < 0) {
        return 0;
    }
    PyObject *name = PyBytes_FromStringAndSize(NULL, ne - p);
    if (!name) {
        return -1;
    }
    char *lower = PyBytes_AS_STRING(name);
    for (Py_ssize_t i = p; i < ne; i++) {
        lower[i - p] = (char)LOWER_ASCII(b[i]);
    }
    int found = PySet_Contains(inline_elements, name);
    Py_DECREF(name);
    return found;
}

/* A match in text stays in text: the byte after each `<` in it is text, or in a
 * comment or inline tag that ends within the match. */
static int
visible_throughout(Page pg, const Places *places, Py_ssize_t start, Py_ssize_t end,
                   PyObject *inline_elements)
{
    for (const unsigned char *lt = memchr(pg.b + start, '<', (size_t)(end - start)); lt;
         lt = memchr(lt + 1, '<', (size_t)(end - (lt + 1 - pg.b)))) {
        const Py_ssize_t *row = row_of(places, lt + 1 - pg.b);
        if (row[0] == TEXT) {
            continue;
        }
        int inline_ = row[2] <= end ? inline_markup(pg, row[1], inline_elements) : 0;
        if (inline_ <= 0) {
            return inline_;
        }
    }
    return 1;
}

/* Whether a match has none of the bytes that start markup or an escape
 * (numbers.plain: `<`, `&`, `%`, 0xEF). */
static int
plain(Page pg, Py_ssize_t start, Py_ssize_t end)
{
    for (Py_ssize_t i = start; i < end; i++) {
        unsigned char c = pg.b[i];
        if (c == '<' || c == '&' || c == '%' || c == 0xef) {
            return 0;
        }
    }
    return 1;
}

/* One match's row in `out`, or 0 when it is not kept, or -1 on error. */
static int
place_one(Page pg, const Places *places, Py_ssize_t start, Py_ssize_t end, PyObject *attribute,
          PyObject *inline_elements, Py_ssize_t *out)
{
    const Py_ssize_t *row = row_of(places, start);
    out[0] = start, out[1] = end, out[2] = row[0];
    for (int i = 3; i < PLACED_INTS; i++) {
        out[i] = -1;
    }
    out[PLAIN] = plain(pg, start, end);
    if (row[0] == TEXT) {
        if (row_of(places, end - 1)[0] != TEXT) {
            return 0;
        }
        return out[PLAIN] ? 1 : visible_throughout(pg, places, start, end, inline_elements);
    }
    Py_ssize_t ns = row[3], ne = row[4], vs = row[5], ve = row[6];
    if (row[0] != START_TAG || start < vs || ve < end ||
        ne - ns != PyBytes_GET_SIZE(attribute)) {
        return 0;
    }
    const char *name = PyBytes_AS_STRING(attribute);
    for (Py_ssize_t i = ns; i < ne; i++) {
        if (LOWER_ASCII(pg.b[i]) != (unsigned char)name[i - ns]) {
            return 0;
        }
    }
    out[3] = row[1], out[4] = row[2], out[5] = ns, out[6] = vs, out[7] = ve;
    return 1;
}

static int
by_offset(const void *left, const void *right)
{
    Py_ssize_t a = *(const Py_ssize_t *)left, b = *(const Py_ssize_t *)right;
    return a < b ? -1 : a > b;
}

/* The spans as 2 * count offsets, each checked: 0 <= start < end <= n. */
static Py_ssize_t *
read_spans(PyObject *seq, Py_ssize_t n, Py_ssize_t *count)
{
    PyObject *fast = PySequence_Fast(seq, "spans must be a sequence of (start, end)");
    if (!fast) {
        return NULL;
    }
    *count = PySequence_Fast_GET_SIZE(fast);
    Py_ssize_t *spans = PyMem_Malloc(((size_t)*count * 2 + 1) * sizeof(Py_ssize_t));
    if (!spans) {
        Py_DECREF(fast);
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < *count; i++) {
        PyObject *span = PySequence_Fast_GET_ITEM(fast, i);
        if (!PyTuple_Check(span) || PyTuple_GET_SIZE(span) != 2) {
            PyErr_SetString(PyExc_TypeError, "a span is a (start, end) tuple");
            goto fail;
        }
        Py_ssize_t start = PyLong_AsSsize_t(PyTuple_GET_ITEM(span, 0));
        Py_ssize_t end = start == -1 && PyErr_Occurred()
                             ? -1
                             : PyLong_AsSsize_t(PyTuple_GET_ITEM(span, 1));
        if (PyErr_Occurred()) {
            goto fail;
        }
        if (start < 0 || end <= start || end > n) {
            PyErr_Format(PyExc_ValueError, "span (%zd, %zd) is not within the body (%zd bytes)",
                         start, end, n);
            goto fail;
        }
        spans[2 * i] = start, spans[2 * i + 1] = end;
    }
    Py_DECREF(fast);
    return spans;
fail:
    Py_DECREF(fast);
    PyMem_Free(spans);
    return NULL;
}

/* The offsets that place the matches, sorted: each one's first and last bytes,
 * and the byte after each `<` in it. */
static Py_ssize_t *
probes_of(Page pg, const Py_ssize_t *spans, Py_ssize_t span_count, Py_ssize_t *count)
{
    Py_ssize_t total = 0;
    for (Py_ssize_t i = 0; i < span_count; i++) {
        Py_ssize_t start = spans[2 * i], end = spans[2 * i + 1];
        total += 2;
        for (Py_ssize_t lt = find(pg, start, '<'); lt < end; lt = find(pg, lt + 1, '<')) {
            total++;
        }
    }
    Py_ssize_t *probes = PyMem_Malloc(((size_t)total + 1) * sizeof(Py_ssize_t));
    if (!probes) {
        PyErr_NoMemory();
        return NULL;
    }
    Py_ssize_t k = 0;
    int sorted = 1;
    for (Py_ssize_t i = 0; i < span_count; i++) {
        Py_ssize_t start = spans[2 * i], end = spans[2 * i + 1];
        sorted &= k == 0 || probes[k - 1] <= start;
        probes[k++] = start;
        for (Py_ssize_t lt = find(pg, start, '<'); lt < end; lt = find(pg, lt + 1, '<')) {
            probes[k++] = lt + 1;
        }
        sorted &= probes[k - 1] <= end - 1;
        probes[k++] = end - 1;
    }
    if (!sorted) {
        qsort(probes, (size_t)total, sizeof(Py_ssize_t), by_offset);
    }
    if (total && probes[total - 1] >= pg.n) { /* a match ending with `<` */
        PyErr_Format(PyExc_ValueError, "offset %zd is outside the body (%zd bytes)",
                     probes[total - 1], pg.n);
        PyMem_Free(probes);
        return NULL;
    }
    *count = total;
    return probes;
}

/* A plain match's digits (every digit byte counts, numbers.plain_digits): the
 * digits as a str and the offset of each. */
static int
plain_digits(Page pg, Py_ssize_t start, Py_ssize_t end, PyObject **digits,
             PyObject **positions)
{
    Py_ssize_t count = 0;
    for (Py_ssize_t i = start; i < end; i++) {
        count += IS_DIGIT(pg.b[i]);
    }
    *digits = PyUnicode_New(count, 127);
    *positions = PyTuple_New(count);
    if (!*digits || !*positions) {
        return -1;
    }
    Py_UCS1 *text = PyUnicode_1BYTE_DATA(*digits);
    for (Py_ssize_t i = start, k = 0; i < end; i++) {
        if (IS_DIGIT(pg.b[i])) {
            PyObject *position = PyLong_FromSsize_t(i);
            if (!position) {
                return -1;
            }
            text[k] = pg.b[i];
            PyTuple_SET_ITEM(*positions, k++, position);
        }
    }
    return 0;
}

/* A kept match's row: its ints, then its digits and their offsets when it is
 * plain, else None twice. */
static PyObject *
placed_row(Page pg, const Py_ssize_t *out)
{
    PyObject *row = int_tuple_of(out, PLACED_INTS, PLACED_INTS + 2);
    if (!row) {
        return NULL;
    }
    PyObject *digits = Py_None, *positions = Py_None;
    if (!out[PLAIN]) {
        Py_INCREF(Py_None);
        Py_INCREF(Py_None);
    }
    else if (plain_digits(pg, out[0], out[1], &digits, &positions) < 0) {
        Py_XDECREF(digits);
        Py_XDECREF(positions);
        Py_DECREF(row);
        return NULL;
    }
    PyTuple_SET_ITEM(row, PLACED_INTS, digits);
    PyTuple_SET_ITEM(row, PLACED_INTS + 1, positions);
    return row;
}

/* The kept matches' rows as a list of tuples. */
static PyObject *
placed_list(Page pg, const Places *places, const Py_ssize_t *spans, Py_ssize_t span_count,
            PyObject *attribute, PyObject *inline_elements)
{
    PyObject *list = PyList_New(0);
    for (Py_ssize_t i = 0; list && i < span_count; i++) {
        Py_ssize_t out[PLACED_FIELDS];
        int kept = place_one(pg, places, spans[2 * i], spans[2 * i + 1], attribute,
                             inline_elements, out);
        PyObject *row = kept > 0 ? placed_row(pg, out) : NULL;
        if (kept < 0 || (kept > 0 && (!row || PyList_Append(list, row) < 0))) {
            Py_CLEAR(list);
        }
        Py_XDECREF(row);
    }
    return list;
}

static PyObject *
place(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 4 && nargs != 5) {
        PyErr_SetString(PyExc_TypeError,
                        "place(body, spans, attribute, inline_elements, want_title=False)");
        return NULL;
    }
    if (!PyBytes_Check(args[2]) || !PyAnySet_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError, "attribute is bytes, inline_elements a set of bytes");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    Page pg = {(const unsigned char *)view.buf, view.len};
    PyObject *result = NULL, *list = NULL;
    Py_ssize_t *rows = NULL, *probes = NULL, span_count = 0, count = 0;
    Py_ssize_t *spans = read_spans(args[1], view.len, &span_count);
    if (spans) {
        probes = probes_of(pg, spans, span_count, &count);
    }
    int want_title = !probes ? -1 : nargs == 5 ? PyObject_IsTrue(args[4]) : 0;
    if (want_title < 0) {
        goto done;
    }
    rows = PyMem_Malloc(((size_t)count * FIELDS + 1) * sizeof(Py_ssize_t));
    if (!rows) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t title[2];
    walk(pg, probes, count, rows, want_title, title);
    Places places = {probes, rows, count};
    list = placed_list(pg, &places, spans, span_count, args[2], args[3]);
    if (list) {
        result = title[0] < 0 ? Py_BuildValue("(NO)", list, Py_None)
                              : Py_BuildValue("(N(nn))", list, title[0], title[1]);
    }
done:
    PyMem_Free(rows);
    PyMem_Free(probes);
    PyMem_Free(spans);
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
    {"place", (PyCFunction)(void (*)(void))place, METH_FASTCALL,
     "place(body, spans, attribute, inline_elements, want_title=False) -> (rows, title_span)\n\n"
     "The matches (start, end) the scanner keeps, as the tokenizer places them:\n"
     "(start, end, kind, plain, tag_start, tag_end, name_start, value_start, value_end)\n"
     "with kind 0 for text (every tag inside an inline element), 2 for the value of\n"
     "`attribute`; and the content span of the first <title>, or None."},
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
