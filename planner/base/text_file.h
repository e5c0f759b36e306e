/* Line reader for the project's text formats: '#' starts a comment, blank lines are skipped,
 * fields are separated by blanks. Tracks the line number for file:line:field errors. Also the
 * one strict integer syntax every planner text format (and the plan command's flags) uses. */
#ifndef ACCPAR_TEXT_FILE_H
#define ACCPAR_TEXT_FILE_H

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { TEXT_FILE_MAX_LINE = 4096, TEXT_FILE_MAX_TOKENS = 64 };

typedef struct text_file {
    FILE *fp;
    const char *path;
    int line_no;      /* lines read so far: the current line after a read */
    int unterminated; /* the current line ended at the end of the file, without a newline */
    char buf[TEXT_FILE_MAX_LINE];
} text_file;

int text_file_open(text_file *tf, const char *path, char *err, size_t errlen);
void text_file_close(text_file *tf);

/* Next non-empty line split into tokens. Returns the token count (> 0), 0 at end of file,
 * -1 on error (line too long, too many fields, NUL byte) with "file:line: why" in err. */
int text_file_next_tokens(text_file *tf, char **tok, int maxtok, char *err, size_t errlen);

/* Next "key value" line. Returns 1, 0 at end of file, -1 on error (wrong field count). */
int text_file_next_pair(text_file *tf, char **key, char **value, char *err, size_t errlen);

/* Where to report something missing at the end of the file: the last line read (1 if the file
 * has none), and "the file ends" or "the file is empty" for the message. */
int text_file_end_line(const text_file *tf);
const char *text_file_end_what(const text_file *tf);

/* Strict decimal integer: one or more digits and nothing else (no sign, blank, exponent or base
 * prefix), in [min, max] (0 <= min <= max). Returns 0, or -1 with "'s' is not an integer in
 * [min, max]" in why. */
int text_parse_int(const char *s, int64_t min, int64_t max, int64_t *out, char *why, size_t whylen);

/* s as one line of printable ASCII for a comment or field of a data file: a backslash becomes
 * two, any byte outside ' '..'~' (a newline, a tab, UTF-8) \xHH; cut to fit len. */
void text_escape(const char *s, char *out, size_t len);

/* Strict decimal real: an optional sign, digits with an optional fraction, an optional
 * exponent, and nothing else (no blank, hex float, inf or nan; the one syntax of every file
 * format and flag). Finite and in [min, max]. Returns 0, or -1 with "'s' is not a finite decimal
 * number", "'s' is below MIN" or "'s' is above MAX" in why. */
int text_parse_real(const char *s, double min, double max, double *out, char *why, size_t whylen);

#ifdef __cplusplus
}
#endif

#endif
