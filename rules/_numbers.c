/* Candidate phone numbers in a page, in one pass: the C twin of the regexes of
 * rules/numbers.py.
 *
 * Automaton(spec) takes the patterns the regexes are built from; each is
 * (literal, international, rows): the literal digits the regex starts with, and
 * the trie of what may follow as rows (terminal, child_0, ..., child_9) with -1
 * for no child, row 0 the root. find(body) returns, for every pattern, the
 * (start, end, international) of each match `pattern.finditer(body)` yields.
 *
 * Theory of operation. The regexes never need real backtracking: a gap is
 * possessive and each of its separators is told apart by its first byte, so
 * from any position a gap has one end; the alternatives after a gap are
 * distinct digits, so at most one branch can go on. From a literal the walk is
 * therefore one path down the trie, and the regex's answer is the deepest
 * string end on that path not followed by a digit (the greedy optional
 * continuation is undone back to it). Each pattern keeps where its last match
 * ended, since finditer resumes there.
 *
 * The page is read once: the literals' first two bytes are looked for 32 bytes
 * at a time (AVX2, by nibble tables; SSE2 compares where the CPU lacks it), and
 * a table of first bytes says which patterns may start there. A walk reads at
 * most the trie's depth times four bounded separators, except `&#x0*a0;`, whose
 * zeros are unbounded: the last run of zeros measured is remembered, so any
 * input costs linear time.
 *
 * spans(body) goes on as Matcher.finditer does with those matches: an
 * international match takes in its `+` or `00`, a match glued to another digit
 * group is dropped, a `(` it closes is taken in, and of overlapping spans the
 * first (the longest at a start) is kept. The neighbour tests transcribe the
 * regexes of rules/numbers.py, each reading no further than the window the
 * regex searches. scan(body, word) is spans(body), and whether `word` occurs in
 * the page, tested in the same pass over its bytes (the scanner's third pass
 * over every page was that search).
 *
 * write_digits(source, positions, digits) is the renderer's: a written number
 * with new digits where its digits stand.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#define HAVE_SSE2 1
#endif

/* AVX2 code is compiled for its own functions and run only where the CPU has it. */
#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define HAVE_AVX2 1
static int has_avx2;
#endif

enum { ROW = 11, GAP_SEPARATORS = 4, TAG_BODY = 256, COMMENT_BODY = 64, MAX_PREFIXES = 8 };

#define IS_DIGIT(c) ((unsigned)((c) - '0') < 10u)
#define LOWER(c) ((unsigned)((c) - 'A') < 26u ? (c) + 32 : (c))

/* Separators of one byte: the `[ .\-/()\t\r\n]` class. */
static unsigned char SIMPLE[256];

/* The entity names a gap accepts (`&(?i:...);`), lower case; `#x0*a0` apart. */
static const char *const ENTITIES[] = {
    "nbsp",  "#160",   "#8239", "#x202f", "thinsp", "#8201", "#x2009", "#8203",
    "#x200b", "shy",   "#173",  "#xad",   "ndash",  "#8211", "#x2013", "#40",
    "#41",   "#45",    "#46",   "#47",    "#32",
};
#define ENTITY_COUNT (sizeof(ENTITIES) / sizeof(ENTITIES[0]))
enum { ENTITY_MAX = 6 };

typedef struct {
    const unsigned char *b;
    Py_ssize_t n;
    /* The last run of `0` measured inside `&#x0*a0;`: [start, end). */
    Py_ssize_t zeros_start, zeros_end;
} Page;

typedef struct {
    Py_ssize_t literal; /* offset in the automaton's literal bytes */
    Py_ssize_t literal_len;
    int32_t root;
    int international;
} Pattern;

typedef struct {
    PyObject_HEAD
    Pattern *patterns;
    Py_ssize_t pattern_count;
    int32_t *rows; /* ROW int32 per node: terminal, then children by digit */
    unsigned char *literals;
    /* Patterns by the first byte of their literal: indices into `by_first`. */
    Py_ssize_t first_start[257];
    Py_ssize_t *by_first;
    /* The distinct first two bytes of the literals (second -1 for a one-byte
     * literal), for the 16-byte filter; prefix_count 0 when there are too many. */
    int prefix_count;
    unsigned char prefix_first[MAX_PREFIXES];
    int prefix_second[MAX_PREFIXES];
    /* The same prefixes as nibble tables, bit k for prefix k: which prefixes a
     * byte's low and high nibbles fit as a first byte, and as a second byte. */
    unsigned char first_low[16], first_high[16], second_low[16], second_high[16];
} Automaton;

static void
init_classes(void)
{
    static const char simple[] = " .-/()\t\r\n";
    for (const char *s = simple; *s; s++) {
        SIMPLE[(unsigned char)*s] = 1;
    }
}

/* ---- separators --------------------------------------------------------- */

static int
is_entity_name(const unsigned char *s, Py_ssize_t len)
{
    char lower[ENTITY_MAX];
    for (Py_ssize_t i = 0; i < len; i++) {
        lower[i] = (char)LOWER(s[i]);
    }
    for (size_t k = 0; k < ENTITY_COUNT; k++) {
        if ((Py_ssize_t)strlen(ENTITIES[k]) == len && memcmp(ENTITIES[k], lower, len) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The end of the run of `0` starting at p, remembered for the next caller. */
static Py_ssize_t
zeros_end(Page *pg, Py_ssize_t p)
{
    if (pg->zeros_start <= p && p < pg->zeros_end) {
        return pg->zeros_end;
    }
    Py_ssize_t q = p;
    while (q < pg->n && pg->b[q] == '0') {
        q++;
    }
    pg->zeros_start = p, pg->zeros_end = q;
    return q;
}

/* `&` at p: one of ENTITIES or `#x0*a0`, then `;`. The name runs to the first
 * `;`, so at most one alternative can match. */
static Py_ssize_t
entity(Page *pg, Py_ssize_t p)
{
    const unsigned char *b = pg->b;
    Py_ssize_t limit = p + 1 + ENTITY_MAX + 1 < pg->n ? p + 1 + ENTITY_MAX + 1 : pg->n;
    for (Py_ssize_t q = p + 1; q < limit; q++) {
        if (b[q] == ';') {
            if (is_entity_name(b + p + 1, q - p - 1)) {
                return q + 1;
            }
            break;
        }
    }
    if (p + 2 < pg->n && b[p + 1] == '#' && LOWER(b[p + 2]) == 'x') {
        Py_ssize_t z = zeros_end(pg, p + 3);
        if (z + 2 < pg->n && LOWER(b[z]) == 'a' && b[z + 1] == '0' && b[z + 2] == ';') {
            return z + 3;
        }
    }
    return -1;
}

/* `%` at p: `(?i:20|28|29|2d|2e|2f|c2%a0)`. */
static Py_ssize_t
percent(const Page *pg, Py_ssize_t p)
{
    const unsigned char *b = pg->b;
    if (p + 2 < pg->n && b[p + 1] == '2') {
        unsigned c = LOWER(b[p + 2]);
        if (c == '0' || c == '8' || c == '9' || c == 'd' || c == 'e' || c == 'f') {
            return p + 3;
        }
        return -1;
    }
    if (p + 5 < pg->n && LOWER(b[p + 1]) == 'c' && b[p + 2] == '2' && b[p + 3] == '%' &&
        LOWER(b[p + 4]) == 'a' && b[p + 5] == '0') {
        return p + 6;
    }
    return -1;
}

/* `<` at p: an inline tag `<[/a-zA-Z][^<>]{0,256}>` or `<!--(?:(?!-->).){0,64}-->`. */
static Py_ssize_t
markup(const Page *pg, Py_ssize_t p)
{
    const unsigned char *b = pg->b;
    const Py_ssize_t n = pg->n;
    if (p + 1 >= n) {
        return -1;
    }
    unsigned c = b[p + 1];
    if (c == '/' || (unsigned)(LOWER(c) - 'a') < 26u) {
        Py_ssize_t limit = p + 2 + TAG_BODY < n ? p + 2 + TAG_BODY : n;
        Py_ssize_t q = p + 2;
        while (q < limit && b[q] != '<' && b[q] != '>') {
            q++;
        }
        return q < n && b[q] == '>' ? q + 1 : -1;
    }
    if (c == '!' && p + 3 < n && b[p + 2] == '-' && b[p + 3] == '-') {
        for (Py_ssize_t q = p + 4; q <= p + 4 + COMMENT_BODY && q + 2 < n; q++) {
            if (b[q] == '-' && b[q + 1] == '-' && b[q + 2] == '>') {
                return q + 3;
            }
        }
    }
    return -1;
}

/* The end of the one separator at p, or -1. Every kind starts with its own byte. */
static Py_ssize_t
separator(Page *pg, Py_ssize_t p)
{
    if (p >= pg->n) {
        return -1;
    }
    const unsigned char *b = pg->b;
    unsigned c = b[p];
    if (SIMPLE[c] || c == 0xa0) {
        return p + 1;
    }
    switch (c) {
    case 0xc2:
        return p + 1 < pg->n && (b[p + 1] == 0xa0 || b[p + 1] == 0xad) ? p + 2 : -1;
    case 0xe2:
        if (p + 2 < pg->n && b[p + 1] == 0x80) {
            unsigned d = b[p + 2];
            return d == 0xaf || d == 0x89 || d == 0x8b || d == 0x93 ? p + 3 : -1;
        }
        return -1;
    case '&':
        return entity(pg, p);
    case '%':
        return percent(pg, p);
    case '<':
        return markup(pg, p);
    default:
        return -1;
    }
}

/* A possessive gap: up to four separators, never given back. */
static inline Py_ssize_t
gap(Page *pg, Py_ssize_t p)
{
    for (int k = 0; k < GAP_SEPARATORS; k++) {
        Py_ssize_t e = separator(pg, p);
        if (e < 0) {
            break;
        }
        p = e;
    }
    return p;
}

/* ---- matching ------------------------------------------------------------ */

/* The end of the match whose trie walk starts at `node` and `p`, or -1: the
 * deepest string end on the one path, where no digit follows. */
static Py_ssize_t
walk(Page *pg, const int32_t *rows, int32_t node, Py_ssize_t p)
{
    Py_ssize_t best = -1;
    for (;;) {
        const int32_t *row = rows + (Py_ssize_t)node * ROW;
        if ((row[0] & 1) && (p >= pg->n || !IS_DIGIT(pg->b[p]))) {
            best = p;
        }
        if (!(row[0] & 2)) {
            return best;
        }
        Py_ssize_t q = gap(pg, p);
        if (q >= pg->n || !IS_DIGIT(pg->b[q]) || row[1 + pg->b[q] - '0'] < 0) {
            return best;
        }
        node = row[1 + pg->b[q] - '0'];
        p = q + 1;
    }
}

/* A word looked for in the same pass (`Automaton.scan`). */
typedef struct {
    const unsigned char *bytes;
    Py_ssize_t len;
    int found;
    Py_ssize_t from; /* every start before it has been tested */
} Word;

typedef struct {
    Py_ssize_t *items; /* start, end, pattern index */
    Py_ssize_t count, capacity;
    Py_ssize_t *last_end; /* per pattern: where its finditer resumes */
    Word word;
} Found;

static int
found_add(Found *found, Py_ssize_t start, Py_ssize_t end, Py_ssize_t pattern)
{
    if (found->count == found->capacity) {
        Py_ssize_t capacity = found->capacity ? found->capacity * 2 : 64;
        Py_ssize_t *items = PyMem_Realloc(found->items, (size_t)capacity * 3 * sizeof(*items));
        if (!items) {
            return -1;
        }
        found->items = items, found->capacity = capacity;
    }
    Py_ssize_t *slot = found->items + found->count * 3;
    slot[0] = start, slot[1] = end, slot[2] = pattern;
    found->count++;
    return 0;
}

/* Whether the pattern's literal stands at i. Literals are a few digits: a loop
 * beats a call to memcmp. */
static inline int
literal_at(const Automaton *self, const Pattern *pattern, const Page *pg, Py_ssize_t i)
{
    if (i + pattern->literal_len > pg->n) {
        return 0;
    }
    const unsigned char *literal = self->literals + pattern->literal;
    for (Py_ssize_t k = 0; k < pattern->literal_len; k++) {
        if (pg->b[i + k] != literal[k]) {
            return 0;
        }
    }
    return 1;
}

/* Every pattern that may start at i (a digit): its literal, then its walk. */
static int
try_at(const Automaton *self, Page *pg, Found *found, Py_ssize_t i)
{
    unsigned c = pg->b[i];
    for (Py_ssize_t k = self->first_start[c]; k < self->first_start[c + 1]; k++) {
        Py_ssize_t index = self->by_first[k];
        const Pattern *pattern = self->patterns + index;
        if (i < found->last_end[index] || !literal_at(self, pattern, pg, i)) {
            continue;
        }
        Py_ssize_t end = walk(pg, self->rows, pattern->root, i + pattern->literal_len);
        if (end >= 0) {
            if (found_add(found, i, end, index) < 0) {
                return -1;
            }
            found->last_end[index] = end;
        }
    }
    return 0;
}

#ifdef HAVE_SSE2
/* A literal's first two bytes as the 16-byte filter compares them; `any` is all
 * ones for a one-byte literal, whose second byte may be anything. */
typedef struct {
    __m128i first, second, any;
} Prefix;

/* The positions in b[i..i+16) where some literal's first two bytes (or its one
 * byte) stand; b[i+16] must exist. */
static inline unsigned
prefix_mask(const Prefix *prefixes, int count, const unsigned char *b)
{
    __m128i here = _mm_loadu_si128((const __m128i *)b);
    __m128i next = _mm_loadu_si128((const __m128i *)(b + 1));
    __m128i hits = _mm_setzero_si128();
    for (int k = 0; k < count; k++) {
        __m128i second = _mm_or_si128(_mm_cmpeq_epi8(next, prefixes[k].second), prefixes[k].any);
        hits = _mm_or_si128(hits, _mm_and_si128(_mm_cmpeq_epi8(here, prefixes[k].first), second));
    }
    return (unsigned)_mm_movemask_epi8(hits);
}
#endif

#ifdef HAVE_AVX2
__attribute__((target("avx2"))) static inline __m256i
nibble_table(const unsigned char table[16])
{
    return _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)table));
}

/* Which prefixes each of 32 bytes fits (bit k for prefix k), looked up by its
 * two nibbles: what 32 comparisons per prefix would say, in a fixed few steps. */
__attribute__((target("avx2"))) static inline __m256i
fits(__m256i bytes, __m256i low, __m256i high, __m256i nibble)
{
    __m256i lows = _mm256_and_si256(bytes, nibble);
    __m256i highs = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), nibble);
    return _mm256_and_si256(_mm256_shuffle_epi8(low, lows), _mm256_shuffle_epi8(high, highs));
}

/* Whether the word starts at one of the positions of a block's `starts`. */
static void
word_at(const Page *pg, Word *word, Py_ssize_t block, uint32_t starts)
{
    for (; starts && !word->found; starts &= starts - 1) {
        Py_ssize_t at = block + __builtin_ctz(starts);
        word->found = memcmp(pg->b + at + 1, word->bytes + 1, (size_t)(word->len - 2)) == 0;
    }
}

/* The 16-byte filter's work, thirty-two bytes at a time, and the word's first
 * and last bytes tested there too; `*from` is where the bytes left to scan begin. */
__attribute__((target("avx2"))) static int
scan_avx2(const Automaton *self, Page *pg, Found *found, Py_ssize_t *from)
{
    const __m256i first_low = nibble_table(self->first_low);
    const __m256i first_high = nibble_table(self->first_high);
    const __m256i second_low = nibble_table(self->second_low);
    const __m256i second_high = nibble_table(self->second_high);
    const __m256i nibble = _mm256_set1_epi8(0x0f), none = _mm256_setzero_si256();
    Word *word = &found->word;
    const int with_word = word->len >= 2;
    const __m256i word_first = _mm256_set1_epi8(with_word ? (char)word->bytes[0] : 0);
    const __m256i word_last = _mm256_set1_epi8(with_word ? (char)word->bytes[word->len - 1] : 0);
    /* The bytes a block reads: its 32, one more, and the word's last byte. */
    const Py_ssize_t reach = with_word && word->len + 31 > 33 ? word->len + 31 : 33;
    Py_ssize_t i = 0;
    while (i + reach <= pg->n) {
        uint32_t mask = 0, starts = 0;
        /* Hits are rare: this loop makes no call, so the tables stay in registers. */
        for (; !(mask | starts) && i + reach <= pg->n; i += 32) {
            __m256i here = _mm256_loadu_si256((const __m256i *)(pg->b + i));
            __m256i next = _mm256_loadu_si256((const __m256i *)(pg->b + i + 1));
            __m256i both = _mm256_and_si256(fits(here, first_low, first_high, nibble),
                                            fits(next, second_low, second_high, nibble));
            mask = ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(both, none));
            if (with_word) {
                __m256i ends = _mm256_loadu_si256((const __m256i *)(pg->b + i + word->len - 1));
                starts = (uint32_t)_mm256_movemask_epi8(_mm256_and_si256(
                    _mm256_cmpeq_epi8(here, word_first), _mm256_cmpeq_epi8(ends, word_last)));
            }
        }
        word_at(pg, word, i - 32, starts);
        for (Py_ssize_t block = i - 32; mask; mask &= mask - 1) {
            if (try_at(self, pg, found, block + __builtin_ctz(mask)) < 0) {
                return -1;
            }
        }
    }
    if (with_word) {
        word->from = i;
    }
    *from = i;
    return 0;
}
#endif

/* Whether the word occurs from `found->word.from` on (the C library's memmem). */
static void
find_word(const Page *pg, Word *word)
{
    if (!word->found && word->bytes) {
        word->found = memmem(pg->b + word->from, (size_t)(pg->n - word->from), word->bytes,
                             (size_t)word->len) != NULL;
    }
}

static int
scan(const Automaton *self, Page *pg, Found *found)
{
    Py_ssize_t i = 0;
#ifdef HAVE_AVX2
    if (has_avx2 && self->prefix_count && scan_avx2(self, pg, found, &i) < 0) {
        return -1;
    }
#endif
#ifdef HAVE_SSE2
    /* Thirty-two bytes at a time: most pages have a digit every few bytes, but
     * the literals' first two bytes together are rare. */
    Prefix prefixes[MAX_PREFIXES];
    const int count = self->prefix_count;
    for (int k = 0; k < count; k++) {
        int second = self->prefix_second[k];
        prefixes[k].first = _mm_set1_epi8((char)self->prefix_first[k]);
        prefixes[k].second = _mm_set1_epi8((char)(second & 0xff));
        prefixes[k].any = second < 0 ? _mm_set1_epi8(-1) : _mm_setzero_si128();
    }
    for (; count && i + 33 <= pg->n; i += 32) {
        uint32_t mask = prefix_mask(prefixes, count, pg->b + i) |
                        (uint32_t)prefix_mask(prefixes, count, pg->b + i + 16) << 16;
        while (mask) {
            Py_ssize_t at = i + __builtin_ctz(mask);
            mask &= mask - 1;
            if (try_at(self, pg, found, at) < 0) {
                return -1;
            }
        }
    }
    /* Too many prefixes for the filter: the digits, then the table of first bytes. */
    const __m128i shift = _mm_set1_epi8((char)(0x80 - '0'));
    const __m128i bound = _mm_set1_epi8((char)(0x80 + 10));
    for (; !count && i + 16 <= pg->n; i += 16) {
        __m128i chunk = _mm_loadu_si128((const __m128i *)(pg->b + i));
        unsigned mask = (unsigned)_mm_movemask_epi8(
            _mm_cmplt_epi8(_mm_add_epi8(chunk, shift), bound));
        while (mask) {
            Py_ssize_t at = i + __builtin_ctz(mask);
            mask &= mask - 1;
            unsigned c = pg->b[at];
            if (self->first_start[c] != self->first_start[c + 1] &&
                try_at(self, pg, found, at) < 0) {
                return -1;
            }
        }
    }
#endif
    for (; i < pg->n; i++) {
        unsigned c = pg->b[i];
        if (self->first_start[c] != self->first_start[c + 1] && try_at(self, pg, found, i) < 0) {
            return -1;
        }
    }
    find_word(pg, &found->word);
    return 0;
}

static PyObject *
found_list(const Automaton *self, const Page *pg, Found *found)
{
    (void)pg;
    PyObject *list = PyList_New(found->count);
    if (!list) {
        return NULL;
    }
    for (Py_ssize_t k = 0; k < found->count; k++) {
        const Py_ssize_t *slot = found->items + k * 3;
        PyObject *item = Py_BuildValue("(nnO)", slot[0], slot[1],
                                       self->patterns[slot[2]].international ? Py_True : Py_False);
        if (!item) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, k, item);
    }
    return list;
}

/* The page's matches (and whether `word` occurs, when given), handed to
 * `list_of` to make the answer. */
static PyObject *
matches(Automaton *self, PyObject *body, PyObject *word,
        PyObject *(*list_of)(const Automaton *, const Page *, Found *))
{
    Py_buffer view, word_view = {0};
    if (PyObject_GetBuffer(body, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    if (word && PyObject_GetBuffer(word, &word_view, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&view);
        return NULL;
    }
    PyObject *result = NULL;
    Found found = {NULL, 0, 0, NULL, {word_view.buf, word_view.len, 0, 0}};
    found.last_end = PyMem_Calloc((size_t)self->pattern_count + 1, sizeof(Py_ssize_t));
    if (!found.last_end) {
        PyErr_NoMemory();
        goto done;
    }
    Page pg = {(const unsigned char *)view.buf, view.len, 0, 0};
    if (scan(self, &pg, &found) < 0) {
        PyErr_NoMemory();
        goto done;
    }
    result = list_of(self, &pg, &found);
    if (result && word) {
        result = Py_BuildValue("(NO)", result, found.word.found ? Py_True : Py_False);
    }
done:
    PyMem_Free(found.items);
    PyMem_Free(found.last_end);
    if (word) {
        PyBuffer_Release(&word_view);
    }
    PyBuffer_Release(&view);
    return result;
}

/* ---- spans ------------------------------------------------------------------ */

enum { PREFIX_WINDOW = 12, BEFORE_WINDOW = 16, NEIGHBOUR_SPACES = 2 };

/* A `+` at p as `_INTERNATIONAL_PREFIX` spells it (`\+`, `&#0*43;`,
 * `&#[xX]0*2[bB];`, `&plus;`, `%2[bB]`, U+FF0B), or `00`: its end, or -1.
 * Reads no byte at or past `limit`. */
static Py_ssize_t
prefix_end(const unsigned char *b, Py_ssize_t p, Py_ssize_t limit)
{
    switch (b[p]) {
    case '+':
        return p + 1;
    case '0':
        return p + 2 <= limit && b[p + 1] == '0' ? p + 2 : -1;
    case '%':
        return p + 3 <= limit && b[p + 1] == '2' && (b[p + 2] | 0x20) == 'b' ? p + 3 : -1;
    case 0xef:
        return p + 3 <= limit && b[p + 1] == 0xbc && b[p + 2] == 0x8b ? p + 3 : -1;
    case '&':
        break;
    default:
        return -1;
    }
    if (p + 6 <= limit && memcmp(b + p + 1, "plus;", 5) == 0) {
        return p + 6;
    }
    if (p + 2 > limit || b[p + 1] != '#') {
        return -1;
    }
    Py_ssize_t q = p + 2;
    int hex = q < limit && (b[q] | 0x20) == 'x';
    q += hex;
    while (q < limit && b[q] == '0') {
        q++;
    }
    if (q + 3 > limit || b[q + 2] != ';') {
        return -1;
    }
    if (hex) {
        return b[q] == '2' && (b[q + 1] | 0x20) == 'b' ? q + 3 : -1;
    }
    return b[q] == '4' && b[q + 1] == '3' ? q + 3 : -1;
}

/* Where the international prefix before `start` begins (`(?:PLUS|00)[ ]?\Z`
 * searched in the 12 bytes before it: the leftmost that ends there), or -1. */
static Py_ssize_t
prefix_start(const unsigned char *b, Py_ssize_t start)
{
    for (Py_ssize_t j = start > PREFIX_WINDOW ? start - PREFIX_WINDOW : 0; j < start; j++) {
        Py_ssize_t e = prefix_end(b, j, start);
        if (e == start || (e >= 0 && e + 1 == start && b[e] == ' ')) {
            return j;
        }
    }
    return -1;
}

/* One space as `_SPACES` spells it at p (`[ \t\r\n]`, `\xc2\xa0`, `\xa0`,
 * `&(?i:nbsp|#160|#x0*a0);`): its end, or -1. Reads no byte at or past `limit`. */
static Py_ssize_t
space_end(const unsigned char *b, Py_ssize_t p, Py_ssize_t limit)
{
    if (p >= limit) {
        return -1;
    }
    switch (b[p]) {
    case ' ':
    case '\t':
    case '\r':
    case '\n':
    case 0xa0:
        return p + 1;
    case 0xc2:
        return p + 2 <= limit && b[p + 1] == 0xa0 ? p + 2 : -1;
    case '&':
        break;
    default:
        return -1;
    }
    if (p + 6 <= limit && LOWER(b[p + 1]) == 'n' && LOWER(b[p + 2]) == 'b' &&
        LOWER(b[p + 3]) == 's' && LOWER(b[p + 4]) == 'p' && b[p + 5] == ';') {
        return p + 6;
    }
    if (p + 6 <= limit && memcmp(b + p + 1, "#160;", 5) == 0) {
        return p + 6;
    }
    if (p + 3 > limit || b[p + 1] != '#' || LOWER(b[p + 2]) != 'x') {
        return -1;
    }
    Py_ssize_t q = p + 3;
    while (q < limit && b[q] == '0') {
        q++;
    }
    return q + 3 <= limit && LOWER(b[q]) == 'a' && b[q + 1] == '0' && b[q + 2] == ';' ? q + 3
                                                                                        : -1;
}

/* Whether, from p, up to two spaces or one `-` lead to `at` (`at` < 0: to a digit
 * below `limit`). */
static int
spaces_reach(const unsigned char *b, Py_ssize_t p, Py_ssize_t limit, Py_ssize_t at)
{
    if (p < limit && b[p] == '-' &&
        (at >= 0 ? p + 1 == at : p + 1 < limit && IS_DIGIT(b[p + 1]))) {
        return 1;
    }
    for (int k = 0; p >= 0; k++) {
        if (at >= 0 ? p == at : p < limit && IS_DIGIT(b[p])) {
            return 1;
        }
        if (k == NEIGHBOUR_SPACES) {
            return 0;
        }
        p = space_end(b, p, limit);
    }
    return 0;
}

/* `_NEIGHBOUR_BEFORE`: a digit in the 16 bytes before `start`, then up to two
 * spaces or a `-` up to `start`. */
static int
digit_before(const unsigned char *b, Py_ssize_t start)
{
    for (Py_ssize_t j = start > BEFORE_WINDOW ? start - BEFORE_WINDOW : 0; j < start; j++) {
        if (IS_DIGIT(b[j]) && spaces_reach(b, j + 1, start, start)) {
            return 1;
        }
    }
    return 0;
}

/* A match as `numbers._span` keeps it: 0 with its span set, or -1 when dropped. */
static int
keep_span(const Page *pg, Py_ssize_t *start, Py_ssize_t end, int international)
{
    const unsigned char *b = pg->b;
    Py_ssize_t s = *start;
    if (international && (s = prefix_start(b, s)) < 0) {
        return -1;
    }
    if (digit_before(b, s) || spaces_reach(b, end, pg->n, -1)) {
        return -1;
    }
    if (s > 0 && b[s - 1] == '(' && memchr(b + s, ')', (size_t)(end - s)) != NULL) {
        s--;
    }
    *start = s;
    return 0;
}

static int
by_start_longest_first(const void *left, const void *right)
{
    const Py_ssize_t *a = left, *b = right;
    if (a[0] != b[0]) {
        return a[0] < b[0] ? -1 : 1;
    }
    return a[1] > b[1] ? -1 : a[1] < b[1];
}

/* The kept matches as (start, end) pairs, in order, none overlapping the one before. */
static PyObject *
spans_list(const Automaton *self, const Page *pg, Found *found)
{
    Py_ssize_t kept = 0;
    for (Py_ssize_t k = 0; k < found->count; k++) {
        const Py_ssize_t *item = found->items + k * 3;
        Py_ssize_t start = item[0];
        if (keep_span(pg, &start, item[1], self->patterns[item[2]].international) == 0) {
            Py_ssize_t *slot = found->items + kept * 3;
            slot[0] = start, slot[1] = item[1];
            kept++;
        }
    }
    qsort(found->items, (size_t)kept, 3 * sizeof(Py_ssize_t), by_start_longest_first);
    PyObject *list = PyList_New(0);
    Py_ssize_t last_end = 0;
    for (Py_ssize_t k = 0; list && k < kept; k++) {
        const Py_ssize_t *item = found->items + k * 3;
        if (item[0] < last_end) {
            continue;
        }
        last_end = item[1];
        PyObject *span = Py_BuildValue("(nn)", item[0], item[1]);
        int failed = !span || PyList_Append(list, span) < 0;
        Py_XDECREF(span);
        if (failed) {
            Py_CLEAR(list);
        }
    }
    return list;
}

/* ---- the spec ------------------------------------------------------------ */

static int
spec_error(const char *what)
{
    PyErr_Format(PyExc_ValueError, "Automaton spec: %s", what);
    return -1;
}

/* Row r of a pattern, (terminal, child_0..child_9), with children offset by base. */
static int
read_row(PyObject *row, int32_t *out, Py_ssize_t base, Py_ssize_t r, Py_ssize_t node_count)
{
    if (!PyTuple_Check(row) || PyTuple_GET_SIZE(row) != ROW) {
        return spec_error("a row is a tuple of 11 ints");
    }
    int terminal = PyObject_IsTrue(PyTuple_GET_ITEM(row, 0));
    if (terminal < 0) {
        return -1;
    }
    int32_t flags = terminal ? 1 : 0;
    for (Py_ssize_t d = 1; d < ROW; d++) {
        long child = PyLong_AsLong(PyTuple_GET_ITEM(row, d));
        if (child == -1 && PyErr_Occurred()) {
            return -1;
        }
        /* Children come after their parent, so a walk always ends. */
        if (child < -1 || child >= node_count || (child >= 0 && child <= r)) {
            return spec_error("a child is -1 or a later row of the same pattern");
        }
        out[d] = child < 0 ? -1 : (int32_t)(base + child);
        flags |= child < 0 ? 0 : 2;
    }
    out[0] = flags;
    return 0;
}

static int
count_spec(PyObject *spec, Py_ssize_t *rows, Py_ssize_t *literal_bytes)
{
    *rows = *literal_bytes = 0;
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(spec); k++) {
        PyObject *item = PyTuple_GET_ITEM(spec, k);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 3 ||
            !PyBytes_Check(PyTuple_GET_ITEM(item, 0)) ||
            !PyTuple_Check(PyTuple_GET_ITEM(item, 2))) {
            return spec_error("a pattern is (literal: bytes, international: bool, rows: tuple)");
        }
        PyObject *literal = PyTuple_GET_ITEM(item, 0);
        Py_ssize_t len = PyBytes_GET_SIZE(literal);
        if (len < 1 || !IS_DIGIT((unsigned char)PyBytes_AS_STRING(literal)[0])) {
            return spec_error("a literal starts with a digit");
        }
        if (PyTuple_GET_SIZE(PyTuple_GET_ITEM(item, 2)) < 1) {
            return spec_error("a pattern has a root row");
        }
        *literal_bytes += len;
        *rows += PyTuple_GET_SIZE(PyTuple_GET_ITEM(item, 2));
    }
    if (*rows > INT32_MAX / ROW) {
        return spec_error("too many rows");
    }
    return 0;
}

static int
read_pattern(Automaton *self, PyObject *item, Py_ssize_t index, Py_ssize_t *row_at,
             Py_ssize_t *literal_at)
{
    PyObject *literal = PyTuple_GET_ITEM(item, 0);
    PyObject *rows = PyTuple_GET_ITEM(item, 2);
    int international = PyObject_IsTrue(PyTuple_GET_ITEM(item, 1));
    if (international < 0) {
        return -1;
    }
    Pattern *pattern = self->patterns + index;
    pattern->literal = *literal_at;
    pattern->literal_len = PyBytes_GET_SIZE(literal);
    pattern->root = (int32_t)*row_at;
    pattern->international = international;
    memcpy(self->literals + *literal_at, PyBytes_AS_STRING(literal), pattern->literal_len);
    *literal_at += pattern->literal_len;
    Py_ssize_t count = PyTuple_GET_SIZE(rows);
    for (Py_ssize_t r = 0; r < count; r++) {
        if (read_row(PyTuple_GET_ITEM(rows, r), self->rows + (*row_at + r) * ROW, *row_at, r,
                     count) < 0) {
            return -1;
        }
    }
    *row_at += count;
    return 0;
}

/* Pattern indices grouped by the first byte of their literal, in spec order. */
static void
index_first_bytes(Automaton *self)
{
    Py_ssize_t counts[256] = {0};
    for (Py_ssize_t k = 0; k < self->pattern_count; k++) {
        counts[self->literals[self->patterns[k].literal]]++;
    }
    self->first_start[0] = 0;
    for (int c = 0; c < 256; c++) {
        self->first_start[c + 1] = self->first_start[c] + counts[c];
    }
    Py_ssize_t next[256];
    memcpy(next, self->first_start, sizeof(next));
    for (Py_ssize_t k = 0; k < self->pattern_count; k++) {
        self->by_first[next[self->literals[self->patterns[k].literal]]++] = k;
    }
}

/* The distinct two-byte prefixes for the 16-byte filter. A one-byte literal
 * covers every prefix starting with its byte, which is then not needed. */
static void
index_prefixes(Automaton *self)
{
    int count = 0;
    for (Py_ssize_t k = 0; k < self->pattern_count; k++) {
        const Pattern *pattern = self->patterns + k;
        const unsigned char *literal = self->literals + pattern->literal;
        int first = literal[0], second = pattern->literal_len > 1 ? literal[1] : -1;
        int known = 0;
        for (int j = 0; j < count; j++) {
            if (self->prefix_first[j] == first &&
                (self->prefix_second[j] == second || self->prefix_second[j] < 0)) {
                known = 1;
            } else if (self->prefix_first[j] == first && second < 0) {
                self->prefix_second[j] = -1; /* widened to the one byte */
                known = 1;
            }
        }
        if (!known) {
            if (count == MAX_PREFIXES) {
                self->prefix_count = 0;
                return;
            }
            self->prefix_first[count] = (unsigned char)first;
            self->prefix_second[count++] = second;
        }
    }
    self->prefix_count = count;
    for (int k = 0; k < count; k++) {
        unsigned char bit = (unsigned char)(1u << k);
        int first = self->prefix_first[k], second = self->prefix_second[k];
        self->first_low[first & 15] |= bit;
        self->first_high[first >> 4] |= bit;
        for (int nibble = 0; nibble < 16; nibble++) { /* a one-byte literal: any second */
            if (second < 0 || nibble == (second & 15)) {
                self->second_low[nibble] |= bit;
            }
            if (second < 0 || nibble == second >> 4) {
                self->second_high[nibble] |= bit;
            }
        }
    }
}

static int
automaton_init(Automaton *self, PyObject *args, PyObject *kwargs)
{
    PyObject *spec;
    static char *keywords[] = {"spec", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!:Automaton", keywords, &PyTuple_Type,
                                     &spec)) {
        return -1;
    }
    if (self->patterns) {
        return spec_error("an Automaton is built once");
    }
    Py_ssize_t row_count, literal_bytes;
    if (count_spec(spec, &row_count, &literal_bytes) < 0) {
        return -1;
    }
    self->pattern_count = PyTuple_GET_SIZE(spec);
    self->patterns = PyMem_Calloc((size_t)self->pattern_count + 1, sizeof(Pattern));
    self->rows = PyMem_Calloc((size_t)row_count * ROW + 1, sizeof(int32_t));
    self->literals = PyMem_Calloc((size_t)literal_bytes + 1, 1);
    self->by_first = PyMem_Calloc((size_t)self->pattern_count + 1, sizeof(Py_ssize_t));
    if (!self->patterns || !self->rows || !self->literals || !self->by_first) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t row_at = 0, literal_at = 0;
    for (Py_ssize_t k = 0; k < self->pattern_count; k++) {
        if (read_pattern(self, PyTuple_GET_ITEM(spec, k), k, &row_at, &literal_at) < 0) {
            return -1;
        }
    }
    index_first_bytes(self);
    index_prefixes(self);
    return 0;
}

static void
automaton_dealloc(Automaton *self)
{
    PyMem_Free(self->patterns);
    PyMem_Free(self->rows);
    PyMem_Free(self->literals);
    PyMem_Free(self->by_first);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
automaton_find(Automaton *self, PyObject *body)
{
    return matches(self, body, NULL, found_list);
}

static PyObject *
automaton_spans(Automaton *self, PyObject *body)
{
    return matches(self, body, NULL, spans_list);
}

static PyObject *
automaton_scan(Automaton *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "scan(body, word)");
        return NULL;
    }
    return matches(self, args[0], args[1], spans_list);
}

static PyMethodDef AUTOMATON_METHODS[] = {
    {"find", (PyCFunction)automaton_find, METH_O,
     "find(body) -> list[(start, end, international)]\n\n"
     "Every match of every pattern, as each pattern's regex finditer yields them."},
    {"spans", (PyCFunction)automaton_spans, METH_O,
     "spans(body) -> list[(start, end)]\n\n"
     "The matches Matcher.finditer keeps, widened as it widens them, in order."},
    {"scan", (PyCFunction)(void (*)(void))automaton_scan, METH_FASTCALL,
     "scan(body, word) -> (spans, found)\n\n"
     "spans(body), and whether `word` occurs in body, found in the same pass."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject AUTOMATON_TYPE = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "rules._numbers.Automaton",
    .tp_basicsize = sizeof(Automaton),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Automaton(spec): the configured phones' patterns, matched in one pass.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)automaton_init,
    .tp_dealloc = (destructor)automaton_dealloc,
    .tp_methods = AUTOMATON_METHODS,
};

/* ---- rendering ------------------------------------------------------------- */

/* write_digits(source, positions, digits) -> bytes: source[positions[0]:positions[-1] + 1]
 * with the byte at each position (ascending offsets) replaced by the matching digit. */
static PyObject *
write_digits(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 3 || !PyTuple_Check(args[1]) || !PyUnicode_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "write_digits(source, positions: tuple, digits: str)");
        return NULL;
    }
    PyObject *positions = args[1], *digits = args[2];
    Py_ssize_t count = PyTuple_GET_SIZE(positions);
    if (count == 0 || PyUnicode_GET_LENGTH(digits) != count || !PyUnicode_IS_ASCII(digits)) {
        PyErr_SetString(PyExc_ValueError, "as many ASCII digits as positions, at least one");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    PyObject *result = NULL;
    Py_ssize_t first = PyLong_AsSsize_t(PyTuple_GET_ITEM(positions, 0));
    Py_ssize_t last = PyLong_AsSsize_t(PyTuple_GET_ITEM(positions, count - 1));
    if (PyErr_Occurred()) {
        goto done;
    }
    if (first < 0 || last < first || last >= view.len) {
        PyErr_SetString(PyExc_ValueError, "positions must ascend within the source");
        goto done;
    }
    /* A new object (not the shared one-byte bytes a copy may return) to write in. */
    result = PyBytes_FromStringAndSize(NULL, last - first + 1);
    if (!result) {
        goto done;
    }
    char *out = PyBytes_AS_STRING(result);
    memcpy(out, (const char *)view.buf + first, (size_t)(last - first + 1));
    const Py_UCS1 *new_digits = PyUnicode_1BYTE_DATA(digits);
    for (Py_ssize_t k = 0; k < count; k++) {
        Py_ssize_t at = PyLong_AsSsize_t(PyTuple_GET_ITEM(positions, k));
        if (at < first || at > last) {
            if (!PyErr_Occurred()) {
                PyErr_SetString(PyExc_ValueError, "positions must ascend within the source");
            }
            Py_CLEAR(result);
            break;
        }
        out[at - first] = (char)new_digits[k];
    }
done:
    PyBuffer_Release(&view);
    return result;
}

static PyMethodDef METHODS[] = {
    {"write_digits", (PyCFunction)(void (*)(void))write_digits, METH_FASTCALL,
     "write_digits(source, positions, digits) -> bytes\n\n"
     "source[positions[0]:positions[-1] + 1] with each position's byte replaced by\n"
     "the matching digit of `digits`."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_numbers",
    .m_methods = METHODS,
    .m_doc = "Configured phone numbers found in one pass over a page.",
    .m_size = -1,
};

PyMODINIT_FUNC
PyInit__numbers(void)
{
    init_classes();
#ifdef HAVE_AVX2
    __builtin_cpu_init();
    has_avx2 = __builtin_cpu_supports("avx2");
#endif
    if (PyType_Ready(&AUTOMATON_TYPE) < 0) {
        return NULL;
    }
    PyObject *module = PyModule_Create(&MODULE);
    if (!module) {
        return NULL;
    }
    Py_INCREF(&AUTOMATON_TYPE);
    if (PyModule_AddObject(module, "Automaton", (PyObject *)&AUTOMATON_TYPE) < 0) {
        Py_DECREF(&AUTOMATON_TYPE);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
