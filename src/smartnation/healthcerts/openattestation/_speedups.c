/* Leaf hashing of OpenAttestation v2 documents in C: the inner loop of wrapping and verifying.
 *
 * Each primitive of a document becomes one leaf: keccak256 of JSON.stringify({"<path>": value}),
 * and the target hash is keccak256 of the sorted leaf hashes written as a JSON list. Doing this
 * walk in C instead of Python (object per field, one hash object per field) is what makes
 * batches fast. Anything unusual (a key with ".", a non-JSON type, the top-level "" key quirk,
 * obfuscated hashes that are not lowercase hex) is handed back as None, and the caller takes the
 * pure Python route, which stays the reference for every behaviour and error.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#include <process.h>
#define current_pid() ((long)_getpid())
#else
#include <unistd.h>
#define current_pid() ((long)getpid())
#endif

/* ---- Keccak-256 (original Keccak padding 0x01, as Ethereum uses; not NIST SHA3) ---------- */

static const uint64_t KECCAK_RC[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

#define ROL(a, n) (((a) << (n)) | ((a) >> (64 - (n))))
#define RATE 136

static void keccak_f1600(uint64_t s[25])
{
    uint64_t a0 = s[0], a1 = s[1], a2 = s[2], a3 = s[3], a4 = s[4], a5 = s[5], a6 = s[6],
             a7 = s[7], a8 = s[8], a9 = s[9], a10 = s[10], a11 = s[11], a12 = s[12],
             a13 = s[13], a14 = s[14], a15 = s[15], a16 = s[16], a17 = s[17], a18 = s[18],
             a19 = s[19], a20 = s[20], a21 = s[21], a22 = s[22], a23 = s[23], a24 = s[24];
    uint64_t b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15, b16, b17, b18,
        b19, b20, b21, b22, b23, b24, c0, c1, c2, c3, c4, d0, d1, d2, d3, d4;
    for (int round = 0; round < 24; round++) {
        c0 = a0 ^ a5 ^ a10 ^ a15 ^ a20; c1 = a1 ^ a6 ^ a11 ^ a16 ^ a21; c2 = a2 ^ a7 ^ a12 ^ a17 ^ a22;
        c3 = a3 ^ a8 ^ a13 ^ a18 ^ a23; c4 = a4 ^ a9 ^ a14 ^ a19 ^ a24;
        d0 = c4 ^ ROL(c1, 1); d1 = c0 ^ ROL(c2, 1); d2 = c1 ^ ROL(c3, 1); d3 = c2 ^ ROL(c4, 1); d4 = c3 ^ ROL(c0, 1);
        b0 = (a0 ^ d0);
        b1 = ROL(a6 ^ d1, 44);
        b2 = ROL(a12 ^ d2, 43);
        b3 = ROL(a18 ^ d3, 21);
        b4 = ROL(a24 ^ d4, 14);
        b5 = ROL(a3 ^ d3, 28);
        b6 = ROL(a9 ^ d4, 20);
        b7 = ROL(a10 ^ d0, 3);
        b8 = ROL(a16 ^ d1, 45);
        b9 = ROL(a22 ^ d2, 61);
        b10 = ROL(a1 ^ d1, 1);
        b11 = ROL(a7 ^ d2, 6);
        b12 = ROL(a13 ^ d3, 25);
        b13 = ROL(a19 ^ d4, 8);
        b14 = ROL(a20 ^ d0, 18);
        b15 = ROL(a4 ^ d4, 27);
        b16 = ROL(a5 ^ d0, 36);
        b17 = ROL(a11 ^ d1, 10);
        b18 = ROL(a17 ^ d2, 15);
        b19 = ROL(a23 ^ d3, 56);
        b20 = ROL(a2 ^ d2, 62);
        b21 = ROL(a8 ^ d3, 55);
        b22 = ROL(a14 ^ d4, 39);
        b23 = ROL(a15 ^ d0, 41);
        b24 = ROL(a21 ^ d1, 2);
        a0 = b0 ^ (~b1 & b2);
        a1 = b1 ^ (~b2 & b3);
        a2 = b2 ^ (~b3 & b4);
        a3 = b3 ^ (~b4 & b0);
        a4 = b4 ^ (~b0 & b1);
        a5 = b5 ^ (~b6 & b7);
        a6 = b6 ^ (~b7 & b8);
        a7 = b7 ^ (~b8 & b9);
        a8 = b8 ^ (~b9 & b5);
        a9 = b9 ^ (~b5 & b6);
        a10 = b10 ^ (~b11 & b12);
        a11 = b11 ^ (~b12 & b13);
        a12 = b12 ^ (~b13 & b14);
        a13 = b13 ^ (~b14 & b10);
        a14 = b14 ^ (~b10 & b11);
        a15 = b15 ^ (~b16 & b17);
        a16 = b16 ^ (~b17 & b18);
        a17 = b17 ^ (~b18 & b19);
        a18 = b18 ^ (~b19 & b15);
        a19 = b19 ^ (~b15 & b16);
        a20 = b20 ^ (~b21 & b22);
        a21 = b21 ^ (~b22 & b23);
        a22 = b22 ^ (~b23 & b24);
        a23 = b23 ^ (~b24 & b20);
        a24 = b24 ^ (~b20 & b21);
        a0 ^= KECCAK_RC[round];
    }
    s[0] = a0; s[1] = a1; s[2] = a2; s[3] = a3; s[4] = a4; s[5] = a5; s[6] = a6; s[7] = a7;
    s[8] = a8; s[9] = a9; s[10] = a10; s[11] = a11; s[12] = a12; s[13] = a13; s[14] = a14;
    s[15] = a15; s[16] = a16; s[17] = a17; s[18] = a18; s[19] = a19; s[20] = a20; s[21] = a21;
    s[22] = a22; s[23] = a23; s[24] = a24;
}

static uint64_t load64(const unsigned char *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

static void keccak256(const unsigned char *data, size_t length, unsigned char out[32])
{
    uint64_t s[25] = {0};
    unsigned char block[RATE];
    while (length >= RATE) {
        for (int i = 0; i < RATE / 8; i++)
            s[i] ^= load64(data + 8 * i);
        keccak_f1600(s);
        data += RATE;
        length -= RATE;
    }
    memset(block, 0, RATE);
    memcpy(block, data, length);
    block[length] ^= 0x01;
    block[RATE - 1] ^= 0x80;
    for (int i = 0; i < RATE / 8; i++)
        s[i] ^= load64(block + 8 * i);
    keccak_f1600(s);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 8; j++)
            out[8 * i + j] = (unsigned char)(s[i] >> (8 * j));
}


/* Many independent messages at once: 8 (AVX-512) or 4 (AVX2) Keccak states side by side in
 * vector registers, one message per lane. A document's leaves are independent, so this is where
 * most of the hashing goes; the single-message code above remains for other machines. */

typedef void (*KeccakMany)(const unsigned char *const *messages, const size_t *lengths,
                           unsigned char *out, int count);

static void keccak_many_scalar(const unsigned char *const *messages, const size_t *lengths,
                               unsigned char *out, int count)
{
    for (int i = 0; i < count; i++)
        keccak256(messages[i], lengths[i], out + 32 * i);
}

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define HAVE_VECTOR_KECCAK 1

typedef uint64_t v4u64 __attribute__((vector_size(32)));
typedef uint64_t v8u64 __attribute__((vector_size(64)));

#define DEFINE_KECCAK_MANY(NAME, VT, LANES, TARGET)                                              \
    __attribute__((target(TARGET))) static void NAME##_permute(VT *s)                            \
    {                                                                                            \
        VT a0 = s[0], a1 = s[1], a2 = s[2], a3 = s[3], a4 = s[4], a5 = s[5], a6 = s[6],         \
           a7 = s[7], a8 = s[8], a9 = s[9], a10 = s[10], a11 = s[11], a12 = s[12],              \
           a13 = s[13], a14 = s[14], a15 = s[15], a16 = s[16], a17 = s[17], a18 = s[18],        \
           a19 = s[19], a20 = s[20], a21 = s[21], a22 = s[22], a23 = s[23], a24 = s[24];        \
        VT b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15, b16, b17, b18, \
            b19, b20, b21, b22, b23, b24, c0, c1, c2, c3, c4, d0, d1, d2, d3, d4;               \
        for (int round = 0; round < 24; round++) {                                               \
            c0 = a0 ^ a5 ^ a10 ^ a15 ^ a20; c1 = a1 ^ a6 ^ a11 ^ a16 ^ a21; c2 = a2 ^ a7 ^ a12 ^ a17 ^ a22; \
            c3 = a3 ^ a8 ^ a13 ^ a18 ^ a23; c4 = a4 ^ a9 ^ a14 ^ a19 ^ a24; \
            d0 = c4 ^ ROL(c1, 1); d1 = c0 ^ ROL(c2, 1); d2 = c1 ^ ROL(c3, 1); d3 = c2 ^ ROL(c4, 1); d4 = c3 ^ ROL(c0, 1); \
            b0 = (a0 ^ d0); \
            b1 = ROL(a6 ^ d1, 44); \
            b2 = ROL(a12 ^ d2, 43); \
            b3 = ROL(a18 ^ d3, 21); \
            b4 = ROL(a24 ^ d4, 14); \
            b5 = ROL(a3 ^ d3, 28); \
            b6 = ROL(a9 ^ d4, 20); \
            b7 = ROL(a10 ^ d0, 3); \
            b8 = ROL(a16 ^ d1, 45); \
            b9 = ROL(a22 ^ d2, 61); \
            b10 = ROL(a1 ^ d1, 1); \
            b11 = ROL(a7 ^ d2, 6); \
            b12 = ROL(a13 ^ d3, 25); \
            b13 = ROL(a19 ^ d4, 8); \
            b14 = ROL(a20 ^ d0, 18); \
            b15 = ROL(a4 ^ d4, 27); \
            b16 = ROL(a5 ^ d0, 36); \
            b17 = ROL(a11 ^ d1, 10); \
            b18 = ROL(a17 ^ d2, 15); \
            b19 = ROL(a23 ^ d3, 56); \
            b20 = ROL(a2 ^ d2, 62); \
            b21 = ROL(a8 ^ d3, 55); \
            b22 = ROL(a14 ^ d4, 39); \
            b23 = ROL(a15 ^ d0, 41); \
            b24 = ROL(a21 ^ d1, 2); \
            a0 = b0 ^ (~b1 & b2); \
            a1 = b1 ^ (~b2 & b3); \
            a2 = b2 ^ (~b3 & b4); \
            a3 = b3 ^ (~b4 & b0); \
            a4 = b4 ^ (~b0 & b1); \
            a5 = b5 ^ (~b6 & b7); \
            a6 = b6 ^ (~b7 & b8); \
            a7 = b7 ^ (~b8 & b9); \
            a8 = b8 ^ (~b9 & b5); \
            a9 = b9 ^ (~b5 & b6); \
            a10 = b10 ^ (~b11 & b12); \
            a11 = b11 ^ (~b12 & b13); \
            a12 = b12 ^ (~b13 & b14); \
            a13 = b13 ^ (~b14 & b10); \
            a14 = b14 ^ (~b10 & b11); \
            a15 = b15 ^ (~b16 & b17); \
            a16 = b16 ^ (~b17 & b18); \
            a17 = b17 ^ (~b18 & b19); \
            a18 = b18 ^ (~b19 & b15); \
            a19 = b19 ^ (~b15 & b16); \
            a20 = b20 ^ (~b21 & b22); \
            a21 = b21 ^ (~b22 & b23); \
            a22 = b22 ^ (~b23 & b24); \
            a23 = b23 ^ (~b24 & b20); \
            a24 = b24 ^ (~b20 & b21); \
            a0 ^= KECCAK_RC[round];                                                                     \
        }                                                                                        \
        s[0] = a0; s[1] = a1; s[2] = a2; s[3] = a3; s[4] = a4; s[5] = a5; s[6] = a6;             \
        s[7] = a7; s[8] = a8; s[9] = a9; s[10] = a10; s[11] = a11; s[12] = a12; s[13] = a13;     \
        s[14] = a14; s[15] = a15; s[16] = a16; s[17] = a17; s[18] = a18; s[19] = a19;            \
        s[20] = a20; s[21] = a21; s[22] = a22; s[23] = a23; s[24] = a24;                         \
    }                                                                                            \
    __attribute__((target(TARGET))) static void NAME(const unsigned char *const *messages,       \
                                                     const size_t *lengths, unsigned char *out,  \
                                                     int count)                                  \
    {                                                                                            \
        VT s[25];                                                                                \
        uint64_t words[RATE / 8][LANES];                                                         \
        unsigned char padded[RATE];                                                              \
        size_t blocks[LANES], most = 0;                                                          \
        memset(s, 0, sizeof s);                                                                  \
        for (int lane = 0; lane < LANES; lane++) {                                               \
            blocks[lane] = lane < count ? lengths[lane] / RATE + 1 : 0;                          \
            if (blocks[lane] > most)                                                             \
                most = blocks[lane];                                                             \
        }                                                                                        \
        for (size_t block = 0; block < most; block++) {                                          \
            for (int lane = 0; lane < LANES; lane++) {                                           \
                const unsigned char *p = NULL;                                                   \
                if (block + 1 < blocks[lane]) {                                                  \
                    p = messages[lane] + block * RATE;                                           \
                } else if (block + 1 == blocks[lane]) {                                          \
                    size_t rest = lengths[lane] - block * RATE;                                  \
                    memset(padded, 0, RATE);                                                     \
                    memcpy(padded, messages[lane] + block * RATE, rest);                         \
                    padded[rest] ^= 0x01;                                                        \
                    padded[RATE - 1] ^= 0x80;                                                    \
                    p = padded;                                                                  \
                }                                                                                \
                for (int i = 0; i < RATE / 8; i++)                                               \
                    words[i][lane] = p ? load64(p + 8 * i) : 0;                                  \
            }                                                                                    \
            for (int i = 0; i < RATE / 8; i++) {                                                 \
                VT w;                                                                            \
                memcpy(&w, words[i], sizeof w);                                                  \
                s[i] ^= w;                                                                       \
            }                                                                                    \
            NAME##_permute(s);                                                                   \
            for (int lane = 0; lane < count && lane < LANES; lane++) {                           \
                if (blocks[lane] != block + 1)                                                   \
                    continue;                                                                    \
                for (int i = 0; i < 4; i++)                                                      \
                    for (int j = 0; j < 8; j++)                                                  \
                        out[32 * lane + 8 * i + j] = (unsigned char)(s[i][lane] >> (8 * j));     \
            }                                                                                    \
        }                                                                                        \
    }

DEFINE_KECCAK_MANY(keccak_many_avx2, v4u64, 4, "avx2")
DEFINE_KECCAK_MANY(keccak_many_avx512, v8u64, 8, "avx512f")
#endif

static KeccakMany keccak_many = keccak_many_scalar;
static int keccak_lanes = 1;

static void choose_keccak(void)
{
#ifdef HAVE_VECTOR_KECCAK
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) {
        keccak_many = keccak_many_avx512;
        keccak_lanes = 8;
    } else if (__builtin_cpu_supports("avx2")) {
        keccak_many = keccak_many_avx2;
        keccak_lanes = 4;
    }
#endif
}

/* ---- growable byte buffers ---------------------------------------------------------------- */

typedef struct {
    char *data;
    size_t length;
    size_t capacity;
} Buffer;

static int buffer_reserve(Buffer *b, size_t extra)
{
    if (b->length + extra <= b->capacity)
        return 0;
    size_t capacity = b->capacity ? b->capacity : 256;
    while (capacity < b->length + extra)
        capacity *= 2;
    char *data = PyMem_Realloc(b->data, capacity);
    if (!data) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = data;
    b->capacity = capacity;
    return 0;
}

static int buffer_append(Buffer *b, const char *text, size_t length)
{
    if (buffer_reserve(b, length) < 0)
        return -1;
    memcpy(b->data + b->length, text, length);
    b->length += length;
    return 0;
}

static const char HEX[] = "0123456789abcdef";

/* JSON.stringify's escaping of a string's characters (without the quotes), as UTF-8; a lone
 * surrogate becomes a \\udxxx escape, as in ES2019 and as jsvalues.utf8 does. */
static int append_escaped(Buffer *b, PyObject *text)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *chars = PyUnicode_DATA(text);
    if (PyUnicode_IS_ASCII(text)) {
        const unsigned char *p = chars;
        Py_ssize_t i = 0;
        while (i < n && p[i] >= 0x20 && p[i] != '"' && p[i] != '\\')
            i++;
        if (i == n)
            return buffer_append(b, (const char *)p, (size_t)n);
    }
    if (buffer_reserve(b, (size_t)n * 6) < 0) /* the longest form of any character is 6 bytes */
        return -1;
    unsigned char *out = (unsigned char *)b->data + b->length;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, chars, i);
        if (c < 0x80) {
            if (c >= 0x20 && c != '"' && c != '\\') {
                *out++ = (unsigned char)c;
                continue;
            }
            *out++ = '\\';
            switch (c) {
            case '"': *out++ = '"'; break;
            case '\\': *out++ = '\\'; break;
            case '\n': *out++ = 'n'; break;
            case '\r': *out++ = 'r'; break;
            case '\t': *out++ = 't'; break;
            case '\b': *out++ = 'b'; break;
            case '\f': *out++ = 'f'; break;
            default:
                *out++ = 'u'; *out++ = '0'; *out++ = '0';
                *out++ = (unsigned char)HEX[c >> 4];
                *out++ = (unsigned char)HEX[c & 15];
            }
        } else if (c < 0x800) {
            *out++ = (unsigned char)(0xc0 | (c >> 6));
            *out++ = (unsigned char)(0x80 | (c & 0x3f));
        } else if (c >= 0xd800 && c <= 0xdfff) {
            *out++ = '\\'; *out++ = 'u';
            *out++ = (unsigned char)HEX[(c >> 12) & 15];
            *out++ = (unsigned char)HEX[(c >> 8) & 15];
            *out++ = (unsigned char)HEX[(c >> 4) & 15];
            *out++ = (unsigned char)HEX[c & 15];
        } else if (c < 0x10000) {
            *out++ = (unsigned char)(0xe0 | (c >> 12));
            *out++ = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
            *out++ = (unsigned char)(0x80 | (c & 0x3f));
        } else {
            *out++ = (unsigned char)(0xf0 | (c >> 18));
            *out++ = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
            *out++ = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
            *out++ = (unsigned char)(0x80 | (c & 0x3f));
        }
    }
    b->length = (size_t)(out - (unsigned char *)b->data);
    return 0;
}

/* ---- salts: uuid v4 text from a buffer of random bytes ------------------------------------ */

#define RANDOM_BYTES (16 * 4096)
static unsigned char random_pool[RANDOM_BYTES];
static size_t random_used = RANDOM_BYTES;
static long random_pid = -1;

static int next_uuid(PyObject *random_source, char out[36])
{
    if (random_used == RANDOM_BYTES) {
        PyObject *bytes = PyObject_CallFunction(random_source, "n", (Py_ssize_t)RANDOM_BYTES);
        if (!bytes)
            return -1;
        if (!PyBytes_Check(bytes) || PyBytes_GET_SIZE(bytes) != RANDOM_BYTES) {
            Py_DECREF(bytes);
            PyErr_SetString(PyExc_ValueError, "the random source returned the wrong size");
            return -1;
        }
        memcpy(random_pool, PyBytes_AS_STRING(bytes), RANDOM_BYTES);
        Py_DECREF(bytes);
        random_used = 0;
    }
    unsigned char r[16];
    memcpy(r, random_pool + random_used, 16);
    memset(random_pool + random_used, 0, 16); /* a salt is never handed out twice */
    random_used += 16;
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = HEX[r[i] >> 4];
        *o++ = HEX[r[i] & 15];
    }
    return 0;
}

/* ---- the walk ------------------------------------------------------------------------------ */

typedef struct {
    Buffer path;     /* escaped `.`-joined path of the current node */
    Buffer text;     /* the leaf text being hashed */
    Buffer spans;    /* (start, length) of each leaf text in `text`, hashed together at the end */
    Buffer digests;  /* 32 bytes per leaf */
    size_t leaf_begin;
    PyObject *number_text; /* Python: JavaScript String(number) / JSON.stringify(number) */
    PyObject *random_source;
    int fallback;    /* set when the data needs the pure Python route */
} Walk;

static int add_leaf(Walk *w)
{
    size_t span[2] = {w->leaf_begin, w->text.length - w->leaf_begin};
    return buffer_append(&w->spans, (const char *)span, sizeof span);
}

typedef struct {
    const unsigned char *message;
    size_t length;
    unsigned char *out;
} HashJob;

static int compare_jobs(const void *a, const void *b)
{
    size_t x = ((const HashJob *)a)->length / RATE, y = ((const HashJob *)b)->length / RATE;
    return x < y ? -1 : x > y;
}

/* Hashes the leaf texts of every ready walk, as many at a time as the vector unit holds. Leaves
 * are grouped by their number of Keccak blocks, so a long field (a logo as a data URL) shares the
 * lanes with the same field of the other documents instead of keeping seven lanes idle. */
static int hash_leaves(Walk *walks, const int *ready, int m)
{
    size_t total = 0;
    for (int j = 0; j < m; j++)
        if (ready[j])
            total += walks[j].spans.length / (2 * sizeof(size_t));
    HashJob *jobs = PyMem_Malloc((total ? total : 1) * sizeof(HashJob));
    if (!jobs) {
        PyErr_NoMemory();
        return -1;
    }
    size_t k = 0;
    for (int j = 0; j < m; j++) {
        if (!ready[j])
            continue;
        Walk *w = &walks[j];
        size_t count = w->spans.length / (2 * sizeof(size_t));
        if (buffer_reserve(&w->digests, 32 * count) < 0) {
            PyMem_Free(jobs);
            return -1;
        }
        const size_t *spans = (const size_t *)w->spans.data;
        unsigned char *out = (unsigned char *)w->digests.data + w->digests.length;
        for (size_t i = 0; i < count; i++) {
            jobs[k].message = (const unsigned char *)w->text.data + spans[2 * i];
            jobs[k].length = spans[2 * i + 1];
            jobs[k++].out = out + 32 * i;
        }
        w->digests.length += 32 * count;
    }
    qsort(jobs, total, sizeof(HashJob), compare_jobs);
    for (size_t first = 0; first < total; first += (size_t)keccak_lanes) {
        const unsigned char *messages[8];
        size_t lengths[8];
        unsigned char digests[8 * 32];
        int n = 0;
        for (; n < keccak_lanes && first + (size_t)n < total; n++) {
            messages[n] = jobs[first + n].message;
            lengths[n] = jobs[first + n].length;
        }
        keccak_many(messages, lengths, digests, n);
        for (int i = 0; i < n; i++)
            memcpy(jobs[first + i].out, digests + 32 * i, 32);
    }
    PyMem_Free(jobs);
    for (int j = 0; j < m; j++)
        walks[j].spans.length = walks[j].text.length = 0;
    return 0;
}

/* Starts the leaf text: {"<path>": */
static int leaf_start(Walk *w)
{
    w->leaf_begin = w->text.length;
    if (buffer_reserve(&w->text, w->path.length + 4) < 0)
        return -1;
    char *t = w->text.data + w->leaf_begin;
    t[0] = '{';
    t[1] = '"';
    memcpy(t + 2, w->path.data, w->path.length);
    t[2 + w->path.length] = '"';
    t[3 + w->path.length] = ':';
    w->text.length += w->path.length + 4;
    return 0;
}

/* Appends `.key` (or `key` at the top level) to the path; 1 when the key needs the Python route. */
static int push_key(Walk *w, PyObject *key, int top_level)
{
    if (!PyUnicode_CheckExact(key))
        return 1;
    if (PyUnicode_FindChar(key, '.', 0, PyUnicode_GET_LENGTH(key), 1) != -1)
        return 1;
    if (!top_level && buffer_append(&w->path, ".", 1) < 0)
        return -1;
    return append_escaped(&w->path, key) < 0 ? -1 : 0;
}

static int push_index(Walk *w, Py_ssize_t index, int top_level)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, top_level ? "%zd" : ".%zd", index);
    return buffer_append(&w->path, digits, (size_t)n);
}

static int is_nonempty_container(PyObject *v)
{
    return (PyDict_CheckExact(v) && PyDict_GET_SIZE(v) > 0) ||
           (PyList_CheckExact(v) && PyList_GET_SIZE(v) > 0);
}

/* salted string `<uuid>:<kind>:<text>` as a new str; leaf text gets its JSON form */
static PyObject *salted_string(Walk *w, const char *kind, PyObject *text)
{
    char uuid[36];
    if (next_uuid(w->random_source, uuid) < 0)
        return NULL;
    size_t kind_length = strlen(kind);
    Py_ssize_t head = 36 + 1 + (Py_ssize_t)kind_length + 1;
    Py_ssize_t tail = PyUnicode_GET_LENGTH(text);
    PyObject *out = PyUnicode_New(head + tail, PyUnicode_MAX_CHAR_VALUE(text));
    if (!out)
        return NULL;
    char prefix[64]; /* "<uuid>:<kind>:" */
    memcpy(prefix, uuid, 36);
    prefix[36] = ':';
    memcpy(prefix + 37, kind, kind_length);
    prefix[head - 1] = ':';
    int kind_out = PyUnicode_KIND(out);
    if (kind_out == PyUnicode_1BYTE_KIND) { /* most text: plain byte copies */
        memcpy(PyUnicode_1BYTE_DATA(out), prefix, (size_t)head);
        memcpy(PyUnicode_1BYTE_DATA(out) + head, PyUnicode_1BYTE_DATA(text), (size_t)tail);
    } else {
        void *data = PyUnicode_DATA(out);
        for (Py_ssize_t i = 0; i < head; i++)
            PyUnicode_WRITE(kind_out, data, i, (Py_UCS4)(unsigned char)prefix[i]);
        if (PyUnicode_CopyCharacters(out, head, text, 0, tail) < 0) {
            Py_DECREF(out);
            return NULL;
        }
    }
    if (leaf_start(w) < 0 || buffer_append(&w->text, "\"", 1) < 0 ||
        buffer_append(&w->text, prefix, (size_t)head) < 0 || append_escaped(&w->text, text) < 0 ||
        buffer_append(&w->text, "\"}", 2) < 0 || add_leaf(w) < 0) {
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

static PyObject *salt_node(Walk *w, PyObject *node, int top_level);

static PyObject *salt_value(Walk *w, PyObject *v, int top_level)
{
    if (PyUnicode_CheckExact(v))
        return salted_string(w, "string", v);
    if (v == Py_True || v == Py_False || v == Py_None) {
        static PyObject *words[3];
        int which = v == Py_True ? 0 : v == Py_False ? 1 : 2;
        if (!words[which]) {
            words[which] = PyUnicode_InternFromString(which == 0 ? "true" : which == 1 ? "false" : "null");
            if (!words[which])
                return NULL;
        }
        return salted_string(w, which == 2 ? "null" : "boolean", words[which]);
    }
    if (PyLong_CheckExact(v) || PyFloat_CheckExact(v)) {
        PyObject *text = PyObject_CallOneArg(w->number_text, v);
        if (!text)
            return NULL;
        if (!PyUnicode_CheckExact(text)) {
            Py_DECREF(text);
            PyErr_SetString(PyExc_TypeError, "number_text must return str");
            return NULL;
        }
        PyObject *out = salted_string(w, "number", text);
        Py_DECREF(text);
        return out;
    }
    if (PyDict_CheckExact(v) || PyList_CheckExact(v)) {
        if (is_nonempty_container(v))
            return salt_node(w, v, top_level);
        int is_dict = PyDict_CheckExact(v);
        if (leaf_start(w) < 0 || buffer_append(&w->text, is_dict ? "{}}" : "[]}", 3) < 0 ||
            add_leaf(w) < 0)
            return NULL;
        return is_dict ? PyDict_New() : PyList_New(0);
    }
    w->fallback = 1;
    return NULL;
}

/* Salts a non-empty dict or list whose path is in w->path. */
static PyObject *salt_node(Walk *w, PyObject *node, int top_level)
{
    size_t mark = w->path.length;
    if (PyDict_CheckExact(node)) {
        PyObject *out = PyDict_New();
        if (!out)
            return NULL;
        Py_ssize_t pos = 0;
        PyObject *key, *value;
        while (PyDict_Next(node, &pos, &key, &value)) {
            /* the reference joins paths only after a non-empty prefix: a top-level "" key holding
               an object merges paths, a layout left to the exact Python route */
            int status = push_key(w, key, top_level);
            if (status == 0 && top_level && PyUnicode_GET_LENGTH(key) == 0 &&
                is_nonempty_container(value))
                status = 1;
            if (status != 0) {
                if (status > 0)
                    w->fallback = 1;
                Py_DECREF(out);
                return NULL;
            }
            PyObject *salted = salt_value(w, value, 0);
            w->path.length = mark;
            if (!salted || PyDict_SetItem(out, key, salted) < 0) {
                Py_XDECREF(salted);
                Py_DECREF(out);
                return NULL;
            }
            Py_DECREF(salted);
        }
        return out;
    }
    Py_ssize_t n = PyList_GET_SIZE(node);
    PyObject *out = PyList_New(n);
    if (!out)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *salted = NULL;
        if (push_index(w, i, top_level) == 0)
            salted = salt_value(w, PyList_GET_ITEM(node, i), 0);
        w->path.length = mark;
        if (!salted) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, i, salted);
    }
    return out;
}

/* Leaf hashes of existing (salted) data, for verification. Returns 0, -1 on error, 1 to fall back. */
static int hash_node(Walk *w, PyObject *node, int top_level);

static int hash_value(Walk *w, PyObject *v)
{
    if (PyUnicode_CheckExact(v)) {
        if (leaf_start(w) < 0 || buffer_append(&w->text, "\"", 1) < 0 ||
            append_escaped(&w->text, v) < 0 || buffer_append(&w->text, "\"}", 2) < 0)
            return -1;
        return add_leaf(w);
    }
    if (PyDict_CheckExact(v) || PyList_CheckExact(v)) {
        if (is_nonempty_container(v))
            return hash_node(w, v, 0);
        if (leaf_start(w) < 0 ||
            buffer_append(&w->text, PyDict_CheckExact(v) ? "{}}" : "[]}", 3) < 0)
            return -1;
        return add_leaf(w);
    }
    if (v == Py_True || v == Py_False || v == Py_None) {
        const char *word = v == Py_True ? "true}" : v == Py_False ? "false}" : "null}";
        if (leaf_start(w) < 0 || buffer_append(&w->text, word, strlen(word)) < 0)
            return -1;
        return add_leaf(w);
    }
    if (PyLong_CheckExact(v) || PyFloat_CheckExact(v)) {
        PyObject *text = PyObject_CallOneArg(w->number_text, v);
        if (!text)
            return -1;
        Py_ssize_t length;
        const char *utf8 = PyUnicode_Check(text) ? PyUnicode_AsUTF8AndSize(text, &length) : NULL;
        int status = -1;
        if (!utf8) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_TypeError, "number_text must return str");
        } else if (leaf_start(w) == 0 && buffer_append(&w->text, utf8, (size_t)length) == 0 &&
                   buffer_append(&w->text, "}", 1) == 0) {
            status = add_leaf(w);
        }
        Py_DECREF(text);
        return status;
    }
    return 1;
}

static int hash_node(Walk *w, PyObject *node, int top_level)
{
    size_t mark = w->path.length;
    int status = 0;
    if (PyDict_CheckExact(node)) {
        Py_ssize_t pos = 0;
        PyObject *key, *value;
        while (status == 0 && PyDict_Next(node, &pos, &key, &value)) {
            status = push_key(w, key, top_level);
            if (status == 0 && top_level && PyUnicode_GET_LENGTH(key) == 0 &&
                is_nonempty_container(value))
                status = 1;
            if (status == 0)
                status = hash_value(w, value);
            w->path.length = mark;
        }
        return status;
    }
    for (Py_ssize_t i = 0; status == 0 && i < PyList_GET_SIZE(node); i++) {
        status = push_index(w, i, top_level);
        if (status == 0)
            status = hash_value(w, PyList_GET_ITEM(node, i));
        w->path.length = mark;
    }
    return status;
}

static int compare_digests(const void *a, const void *b) { return memcmp(a, b, 32); }

static void walk_free(Walk *w)
{
    PyMem_Free(w->path.data);
    PyMem_Free(w->text.data);
    PyMem_Free(w->spans.data);
    PyMem_Free(w->digests.data);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Adds obfuscated hashes (64 lowercase hex digits each) as leaves; 1 when one is anything else. */
static int add_obfuscated(Walk *w, PyObject *hashes)
{
    if (!PyList_CheckExact(hashes))
        return 1;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(hashes); i++) {
        PyObject *h = PyList_GET_ITEM(hashes, i);
        if (!PyUnicode_CheckExact(h) || !PyUnicode_IS_ASCII(h) || PyUnicode_GET_LENGTH(h) != 64)
            return 1;
        const char *s = (const char *)PyUnicode_1BYTE_DATA(h);
        if (buffer_reserve(&w->digests, 32) < 0)
            return -1;
        unsigned char *d = (unsigned char *)w->digests.data + w->digests.length;
        for (int j = 0; j < 32; j++) {
            int hi = hex_value(s[2 * j]), lo = hex_value(s[2 * j + 1]);
            if (hi < 0 || lo < 0)
                return 1;
            d[j] = (unsigned char)(hi << 4 | lo);
        }
        w->digests.length += 32;
    }
    return 0;
}

/* Hashes the leaves and writes their sorted hashes as a JSON list of hex strings into `out`:
 * the text whose keccak256 is the target hash. */
static int combine_text(Walk *w, Buffer *out)
{
    size_t count = w->digests.length / 32;
    qsort(w->digests.data, count, 32, compare_digests);
    out->length = 0;
    if (buffer_reserve(out, 2 + count * 67) < 0)
        return -1;
    char *t = out->data;
    *t++ = '[';
    for (size_t i = 0; i < count; i++) {
        const unsigned char *d = (const unsigned char *)w->digests.data + 32 * i;
        if (i)
            *t++ = ',';
        *t++ = '"';
        for (int j = 0; j < 32; j++) {
            *t++ = HEX[d[j] >> 4];
            *t++ = HEX[d[j] & 15];
        }
        *t++ = '"';
    }
    *t++ = ']';
    out->length = (size_t)(t - out->data);
    w->digests.length = 0;
    return 0;
}

static PyObject *hex_string(const unsigned char digest[32])
{
    char hex[64];
    for (int j = 0; j < 32; j++) {
        hex[2 * j] = HEX[digest[j] >> 4];
        hex[2 * j + 1] = HEX[digest[j] & 15];
    }
    return PyUnicode_FromStringAndSize(hex, 64);
}

static void walk_reset(Walk *w)
{
    w->path.length = w->text.length = w->spans.length = w->digests.length = 0;
    w->fallback = 0;
}

/* Documents are handled in groups so that their (long, sequential) target hash texts are
 * hashed side by side in vector lanes too. */
#define GROUP 8

/* keccak256 of the texts in lists[i] for each i with ready[i], into out + 32 * i */
static void hash_texts(Buffer *lists, const int *ready, int n, unsigned char *out)
{
    const unsigned char *messages[GROUP];
    size_t lengths[GROUP];
    int slots[GROUP], count = 0;
    for (int i = 0; i < n; i++) {
        if (!ready[i])
            continue;
        messages[count] = (const unsigned char *)lists[i].data;
        lengths[count] = lists[i].length;
        slots[count++] = i;
    }
    unsigned char digests[GROUP * 32];
    for (int first = 0; first < count; first += keccak_lanes) {
        int m = count - first < keccak_lanes ? count - first : keccak_lanes;
        keccak_many(messages + first, lengths + first, digests + 32 * first, m);
    }
    for (int i = 0; i < count; i++)
        memcpy(out + 32 * slots[i], digests + 32 * i, 32);
}

/* The leaves of the group's documents hashed, and each document's target hash text written. */
static int texts_of_targets(Walk *walks, const int *ready, int m, Buffer *lists)
{
    if (hash_leaves(walks, ready, m) < 0)
        return -1;
    for (int j = 0; j < m; j++)
        if (ready[j] && combine_text(&walks[j], &lists[j]) < 0)
            return -1;
    return 0;
}

static void free_texts(Buffer *lists)
{
    for (int i = 0; i < GROUP; i++)
        PyMem_Free(lists[i].data);
}

/* Salted data, its leaves waiting in `w`; NULL without an error: the Python route. */
static PyObject *salt_one(Walk *w, PyObject *data)
{
    walk_reset(w);
    if (!PyDict_CheckExact(data) || PyDict_GET_SIZE(data) == 0) {
        w->fallback = 1;
        return NULL;
    }
    return salt_node(w, data, 1);
}

/* 0 with the leaves waiting in `w`, -1 on error, 1 for the Python route. */
static int hash_one(Walk *w, PyObject *data, PyObject *obfuscated)
{
    walk_reset(w);
    int status = 0;
    if (is_nonempty_container(data))
        status = hash_node(w, data, 1);
    else if ((PyDict_Check(data) && !PyDict_CheckExact(data)) ||
             (PyList_Check(data) && !PyList_CheckExact(data)))
        status = 1;
    if (status == 0)
        status = add_obfuscated(w, obfuscated);
    return status;
}

static void reset_random_pool_after_fork(void)
{
    long pid = current_pid();
    if (pid != random_pid) { /* a forked child must not reuse its parent's salts */
        random_used = RANDOM_BYTES;
        random_pid = pid;
    }
}

/* salt_and_hash_many(datas, number_text, random_source) */
static PyObject *salt_and_hash_list(PyObject *datas, PyObject *number_text, PyObject *random_source)
{
    PyObject *items = PySequence_Fast(datas, "salt_and_hash_many takes a sequence");
    if (!items)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(items);
    PyObject *result = PyList_New(n);
    Walk walks[GROUP] = {{{0}}};
    for (int j = 0; j < GROUP; j++) {
        walks[j].number_text = number_text;
        walks[j].random_source = random_source;
    }
    Buffer lists[GROUP] = {{0}};
    reset_random_pool_after_fork();
    for (Py_ssize_t first = 0; result && first < n; first += GROUP) {
        int m = n - first < GROUP ? (int)(n - first) : GROUP;
        PyObject *salted[GROUP] = {0};
        int ready[GROUP] = {0}, failed = 0;
        for (int j = 0; j < m && !failed; j++) {
            salted[j] = salt_one(&walks[j], PySequence_Fast_GET_ITEM(items, first + j));
            ready[j] = salted[j] != NULL;
            failed = !ready[j] && PyErr_Occurred() != NULL;
        }
        failed = failed || texts_of_targets(walks, ready, m, lists) < 0;
        unsigned char digests[GROUP * 32];
        if (!failed)
            hash_texts(lists, ready, m, digests);
        for (int j = 0; j < m; j++) {
            PyObject *entry = NULL;
            if (!failed && salted[j]) {
                PyObject *target = hex_string(digests + 32 * j);
                entry = target ? PyTuple_Pack(2, salted[j], target) : NULL;
                Py_XDECREF(target);
                failed = entry == NULL;
            } else if (!failed) {
                entry = Py_NewRef(Py_None);
            }
            Py_XDECREF(salted[j]);
            if (entry)
                PyList_SET_ITEM(result, first + j, entry);
        }
        if (failed)
            Py_CLEAR(result);
    }
    for (int j = 0; j < GROUP; j++)
        walk_free(&walks[j]);
    free_texts(lists);
    Py_DECREF(items);
    return result;
}

static PyObject *py_salt_and_hash_many(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "salt_and_hash_many(datas, number_text, random_source)");
        return NULL;
    }
    return salt_and_hash_list(args[0], args[1], args[2]);
}

static PyObject *py_salt_and_hash(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "salt_and_hash(data, number_text, random_source)");
        return NULL;
    }
    PyObject *one = PyTuple_Pack(1, args[0]);
    if (!one)
        return NULL;
    PyObject *results = salt_and_hash_list(one, args[1], args[2]);
    Py_DECREF(one);
    if (!results)
        return NULL;
    PyObject *result = Py_NewRef(PyList_GET_ITEM(results, 0));
    Py_DECREF(results);
    return result;
}

static PyObject *target_hash_list(PyObject *datas, PyObject *obfuscateds, PyObject *number_json)
{
    PyObject *data_items = PySequence_Fast(datas, "target_hashes takes sequences");
    if (!data_items)
        return NULL;
    PyObject *obfuscated_items = PySequence_Fast(obfuscateds, "target_hashes takes sequences");
    if (!obfuscated_items) {
        Py_DECREF(data_items);
        return NULL;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(data_items);
    PyObject *result = NULL;
    if (PySequence_Fast_GET_SIZE(obfuscated_items) != n)
        PyErr_SetString(PyExc_ValueError, "one obfuscated list per document");
    else
        result = PyList_New(n);
    Walk walks[GROUP] = {{{0}}};
    for (int j = 0; j < GROUP; j++)
        walks[j].number_text = number_json;
    Buffer lists[GROUP] = {{0}};
    for (Py_ssize_t first = 0; result && first < n; first += GROUP) {
        int m = n - first < GROUP ? (int)(n - first) : GROUP;
        int ready[GROUP] = {0}, failed = 0;
        for (int j = 0; j < m && !failed; j++) {
            int status = hash_one(&walks[j], PySequence_Fast_GET_ITEM(data_items, first + j),
                                  PySequence_Fast_GET_ITEM(obfuscated_items, first + j));
            ready[j] = status == 0;
            failed = status < 0;
        }
        failed = failed || texts_of_targets(walks, ready, m, lists) < 0;
        unsigned char digests[GROUP * 32];
        if (!failed)
            hash_texts(lists, ready, m, digests);
        for (int j = 0; j < m && !failed; j++) {
            PyObject *entry = ready[j] ? hex_string(digests + 32 * j) : Py_NewRef(Py_None);
            if (!entry)
                failed = 1;
            else
                PyList_SET_ITEM(result, first + j, entry);
        }
        if (failed)
            Py_CLEAR(result);
    }
    for (int j = 0; j < GROUP; j++)
        walk_free(&walks[j]);
    free_texts(lists);
    Py_DECREF(data_items);
    Py_DECREF(obfuscated_items);
    return result;
}

static PyObject *py_target_hashes(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "target_hashes(datas, obfuscateds, number_json)");
        return NULL;
    }
    return target_hash_list(args[0], args[1], args[2]);
}

static PyObject *py_target_hash(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "target_hash(data, obfuscated, number_json)");
        return NULL;
    }
    PyObject *datas = PyTuple_Pack(1, args[0]);
    PyObject *obfuscateds = datas ? PyTuple_Pack(1, args[1]) : NULL;
    PyObject *results = obfuscateds ? target_hash_list(datas, obfuscateds, args[2]) : NULL;
    Py_XDECREF(datas);
    Py_XDECREF(obfuscateds);
    if (!results)
        return NULL;
    PyObject *result = Py_NewRef(PyList_GET_ITEM(results, 0));
    Py_DECREF(results);
    return result;
}

static PyObject *py_keccak256(PyObject *self, PyObject *arg)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    unsigned char digest[32];
    keccak256(view.buf, (size_t)view.len, digest);
    PyBuffer_Release(&view);
    return PyBytes_FromStringAndSize((const char *)digest, 32);
}

static PyObject *py_keccak256_many(PyObject *self, PyObject *arg)
{
    PyObject *items = PySequence_Fast(arg, "keccak256_many takes a sequence of bytes");
    if (!items)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(items);
    PyObject *result = PyList_New(n);
    for (Py_ssize_t first = 0; result && first < n; first += keccak_lanes) {
        const unsigned char *messages[8];
        size_t lengths[8];
        unsigned char digests[8 * 32];
        int count = 0;
        for (; count < keccak_lanes && first + count < n; count++) {
            PyObject *item = PySequence_Fast_GET_ITEM(items, first + count);
            if (!PyBytes_Check(item)) {
                PyErr_SetString(PyExc_TypeError, "keccak256_many takes bytes");
                Py_CLEAR(result);
                break;
            }
            messages[count] = (const unsigned char *)PyBytes_AS_STRING(item);
            lengths[count] = (size_t)PyBytes_GET_SIZE(item);
        }
        if (!result)
            break;
        keccak_many(messages, lengths, digests, count);
        for (int i = 0; i < count; i++) {
            PyObject *digest = PyBytes_FromStringAndSize((const char *)digests + 32 * i, 32);
            if (!digest) {
                Py_CLEAR(result);
                break;
            }
            PyList_SET_ITEM(result, first + i, digest);
        }
    }
    Py_DECREF(items);
    return result;
}

static PyMethodDef methods[] = {
    {"salt_and_hash", (PyCFunction)(void (*)(void))py_salt_and_hash, METH_FASTCALL,
     "salt_and_hash(data, number_text, random_source) -> (salted data, target hash) or None"},
    {"salt_and_hash_many", (PyCFunction)(void (*)(void))py_salt_and_hash_many, METH_FASTCALL,
     "salt_and_hash_many(datas, number_text, random_source) -> [(salted, target hash) or None]"},
    {"target_hashes", (PyCFunction)(void (*)(void))py_target_hashes, METH_FASTCALL,
     "target_hashes(datas, obfuscateds, number_json) -> [target hash or None]"},
    {"target_hash", (PyCFunction)(void (*)(void))py_target_hash, METH_FASTCALL,
     "target_hash(data, obfuscated, number_json) -> target hash or None"},
    {"keccak256", py_keccak256, METH_O, "keccak256(data) -> 32-byte digest"},
    {"keccak256_many", py_keccak256_many, METH_O,
     "keccak256_many(messages) -> their digests, hashed side by side in vector lanes"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_speedups",
    "Leaf hashing of OpenAttestation documents in C (wrap.py and digest.py hold the Python route).",
    -1,
    methods,
};

PyMODINIT_FUNC PyInit__speedups(void)
{
    choose_keccak();
    PyObject *m = PyModule_Create(&module);
    if (m && PyModule_AddIntConstant(m, "LANES", keccak_lanes) < 0)
        Py_CLEAR(m);
    return m;
}
