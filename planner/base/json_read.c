#include "json_read.h"

#include "input_file.h"
#include "vec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
    const char *source, *s, *end;
    int line, depth;
    char *err;
    size_t errlen;
} parser;

static int fail(parser *p, const char *why) {
    snprintf(p->err, p->errlen, "%s:%d: malformed JSON: %s", p->source, p->line, why);
    return -1;
}

static void skip_blanks(parser *p) {
    while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r')) {
        if (*p->s == '\n')
            p->line++;
        p->s++;
    }
}

static int literal(parser *p, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(p->end - p->s) < n || memcmp(p->s, word, n) != 0)
        return fail(p, "unexpected character");
    p->s += n;
    return 0;
}

static int hex4(parser *p, unsigned *out) {
    *out = 0;
    for (int i = 0; i < 4; i++, p->s++) {
        if (p->s >= p->end)
            return fail(p, "unterminated \\u escape");
        char c = *p->s;
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return fail(p, "bad \\u escape");
        *out = *out * 16 + (unsigned)d;
    }
    return 0;
}

/* Appends code point cp as UTF-8. */
static size_t put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static int escape(parser *p, char *out, size_t *len) {
    char c = *p->s++;
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *k = c ? strchr(from, c) : NULL;
    if (k) {
        out[(*len)++] = to[k - from];
        return 0;
    }
    if (c != 'u')
        return fail(p, "bad escape");
    unsigned cp, lo;
    if (hex4(p, &cp) != 0)
        return -1;
    if (cp >= 0xD800 && cp < 0xDC00) { /* a surrogate pair */
        if (p->end - p->s < 2 || p->s[0] != '\\' || p->s[1] != 'u')
            return fail(p, "lone surrogate");
        p->s += 2;
        if (hex4(p, &lo) != 0)
            return -1;
        if (lo < 0xDC00 || lo > 0xDFFF)
            return fail(p, "lone surrogate");
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        return fail(p, "lone surrogate");
    }
    if (cp == 0)
        return fail(p, "\\u0000 in a string");
    *len += put_utf8(out + *len, cp);
    return 0;
}

static int string(parser *p, char **out) {
    p->s++; /* the opening quote */
    const char *start = p->s;
    while (p->s < p->end && *p->s != '"')
        p->s += *p->s == '\\' && p->s + 1 < p->end ? 2 : 1;
    if (p->s >= p->end)
        return fail(p, "unterminated string");
    /* the decoded string is never longer than its source */
    char *buf = malloc((size_t)(p->s - start) + 1);
    if (!buf)
        return fail(p, "out of memory");
    const char *stop = p->s;
    size_t len = 0;
    for (p->s = start; p->s < stop;) {
        unsigned char c = (unsigned char)*p->s;
        if (c < 0x20) {
            free(buf);
            return fail(p, "control character in a string");
        }
        if (c == '\\') {
            p->s++;
            if (escape(p, buf, &len) != 0) {
                free(buf);
                return -1;
            }
        } else {
            buf[len++] = (char)c;
            p->s++;
        }
    }
    buf[len] = '\0';
    p->s = stop + 1;
    *out = buf;
    return 0;
}

/* The JSON number grammar, then strtod on the accepted text. */
static int number(parser *p, double *out) {
    const char *s = p->s;
    size_t i = s < p->end && *s == '-';
    size_t avail = (size_t)(p->end - s);
#define DIGITS(k)                                                                                  \
    while (i < avail && s[i] >= '0' && s[i] <= '9')                                                \
    i++, (k)++
    size_t whole = 0, frac = 0, exp = 0;
    if (i < avail && s[i] == '0')
        i++, whole = 1;
    else
        DIGITS(whole);
    if (whole == 0)
        return fail(p, "unexpected character");
    if (i < avail && s[i] == '.') {
        i++;
        DIGITS(frac);
        if (frac == 0)
            return fail(p, "bad number");
    }
    if (i < avail && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < avail && (s[i] == '+' || s[i] == '-'))
            i++;
        DIGITS(exp);
        if (exp == 0)
            return fail(p, "bad number");
    }
#undef DIGITS
    char buf[128];
    if (i >= sizeof buf)
        return fail(p, "number too long");
    memcpy(buf, s, i);
    buf[i] = '\0';
    *out = strtod(buf, NULL);
    if (!isfinite(*out))
        return fail(p, "number out of range");
    p->s += i;
    return 0;
}

static int value(parser *p, json_value *v);

/* Members of an array or object, up to the closing bracket. */
static int members(parser *p, json_value *v, char close) {
    size_t cap = 0, key_cap = 0;
    p->s++; /* the opening bracket */
    skip_blanks(p);
    if (p->s < p->end && *p->s == close) {
        p->s++;
        return 0;
    }
    for (;;) {
        json_value *items = vec_grow(v->items, &cap, v->n + 1, sizeof *items);
        char **keys = close == '}' ? vec_grow(v->keys, &key_cap, v->n + 1, sizeof *keys) : NULL;
        if (items)
            v->items = items;
        if (keys)
            v->keys = keys;
        if (!items || (close == '}' && !keys))
            return fail(p, "out of memory");
        memset(&v->items[v->n], 0, sizeof v->items[v->n]);
        skip_blanks(p);
        if (close == '}') {
            if (p->s >= p->end || *p->s != '"')
                return fail(p, "expected a member name");
            if (string(p, &v->keys[v->n]) != 0)
                return -1;
            for (size_t k = 0; k < v->n; k++)
                if (strcmp(v->keys[k], v->keys[v->n]) == 0) {
                    v->n++; /* so that the key is freed */
                    return fail(p, "a member name repeats");
                }
            skip_blanks(p);
            if (p->s >= p->end || *p->s != ':') {
                v->items[v->n++].type = JSON_NULL;
                return fail(p, "expected ':'");
            }
            p->s++;
        }
        int rc = value(p, &v->items[v->n]);
        v->n++;
        if (rc != 0)
            return -1;
        skip_blanks(p);
        if (p->s < p->end && *p->s == ',') {
            p->s++;
            continue;
        }
        if (p->s < p->end && *p->s == close) {
            p->s++;
            return 0;
        }
        return fail(p, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int value(parser *p, json_value *v) {
    skip_blanks(p);
    memset(v, 0, sizeof *v);
    v->line = p->line;
    if (p->s >= p->end)
        return fail(p, "unexpected end of the file");
    switch (*p->s) {
    case '{':
    case '[': {
        if (++p->depth > JSON_MAX_DEPTH)
            return fail(p, "nested too deep");
        v->type = *p->s == '{' ? JSON_OBJECT : JSON_ARRAY;
        int rc = members(p, v, *p->s == '{' ? '}' : ']');
        p->depth--;
        return rc;
    }
    case '"':
        v->type = JSON_STRING;
        return string(p, &v->string);
    case 't':
        v->type = JSON_BOOL;
        v->boolean = 1;
        return literal(p, "true");
    case 'f':
        v->type = JSON_BOOL;
        return literal(p, "false");
    case 'n':
        v->type = JSON_NULL;
        return literal(p, "null");
    default:
        v->type = JSON_NUMBER;
        return number(p, &v->number);
    }
}

int json_parse(const char *source, const char *text, size_t len, json_value *out, char *err,
               size_t errlen) {
    parser p = {source, text, text + len, 1, 0, err, errlen};
    memset(out, 0, sizeof *out);
    int rc = value(&p, out);
    if (rc == 0) {
        skip_blanks(&p);
        if (p.s != p.end)
            rc = fail(&p, "text after the value");
    }
    if (rc != 0)
        json_value_free(out);
    return rc;
}

int json_read_file(const char *path, json_value *out, char *err, size_t errlen) {
    char *text;
    size_t len;
    if (input_file_read(path, JSON_MAX_BYTES, &text, &len, err, errlen) != 0)
        return -1;
    int rc = json_parse(path, text, len, out, err, errlen);
    free(text);
    return rc;
}

void json_value_free(json_value *v) {
    for (size_t k = 0; k < v->n; k++) {
        json_value_free(&v->items[k]);
        if (v->keys)
            free(v->keys[k]);
    }
    free(v->items);
    free(v->keys);
    free(v->string);
    memset(v, 0, sizeof *v);
}

const json_value *json_member(const json_value *object, const char *key) {
    if (object->type != JSON_OBJECT)
        return NULL;
    for (size_t k = 0; k < object->n; k++)
        if (strcmp(object->keys[k], key) == 0)
            return &object->items[k];
    return NULL;
}

const char *json_type_name(json_type t) {
    static const char *const names[] = {"null",     "a boolean", "a number",
                                        "a string", "an array",  "an object"};
    return names[t];
}
