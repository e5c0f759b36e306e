// The JSON reader against hand-checked documents: values, escapes, line numbers, and one
// malformed input per rule (each a one-line error with the line).
#include "json.h"
#include "json_read.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace {

struct doc {
    json_value v{};
    int rc;
    char err[256] = "";
    explicit doc(const std::string &text) {
        rc = json_parse("t.json", text.data(), text.size(), &v, err, sizeof err);
    }
    ~doc() {
        json_value_free(&v);
    }
};

TEST(JsonRead, ValuesEscapesAndLines) {
    doc d("{\n \"a\": [1, -2.5e3, 0.125, true, false, null],\n \"s\": "
          "\"x\\\"\\\\\\/\\b\\f\\n\\r\\t\","
          "\n \"u\": \"\\u00e9\\ud83d\\ude00\", \"o\": {}}");
    ASSERT_EQ(d.rc, 0) << d.err;
    const json_value *a = json_member(&d.v, "a");
    ASSERT_TRUE(a && a->type == JSON_ARRAY && a->n == 6);
    EXPECT_EQ(a->line, 2);
    EXPECT_EQ(a->items[0].number, 1);
    EXPECT_EQ(a->items[1].number, -2500);
    EXPECT_EQ(a->items[2].number, 0.125);
    EXPECT_TRUE(a->items[3].type == JSON_BOOL && a->items[3].boolean);
    EXPECT_TRUE(a->items[4].type == JSON_BOOL && !a->items[4].boolean);
    EXPECT_EQ(a->items[5].type, JSON_NULL);
    EXPECT_STREQ(json_member(&d.v, "s")->string, "x\"\\/\b\f\n\r\t");
    EXPECT_STREQ(json_member(&d.v, "u")->string, "\xc3\xa9\xf0\x9f\x98\x80"); // é and U+1F600
    EXPECT_EQ(json_member(&d.v, "u")->line, 4);
    EXPECT_EQ(json_member(&d.v, "o")->type, JSON_OBJECT);
    EXPECT_EQ(json_member(&d.v, "missing"), nullptr);
}

// What the writer writes, the reader reads back (strings with every escaped byte).
TEST(JsonRead, ReadsWhatTheWriterWrites) {
    std::string odd;
    for (int c = 1; c < 256; c++)
        odd += (char)c;
    json_out j{};
    json_begin_object(&j, nullptr);
    json_str(&j, "odd", odd.c_str());
    json_num(&j, "x", 0.1);
    json_int(&j, "n", -42);
    json_end_object(&j);
    ASSERT_FALSE(j.failed);
    doc d(std::string(j.buf, j.len));
    json_free(&j);
    ASSERT_EQ(d.rc, 0) << d.err;
    EXPECT_EQ(std::string(json_member(&d.v, "odd")->string), odd);
    EXPECT_EQ(json_member(&d.v, "x")->number, 0.1);
    EXPECT_EQ(json_member(&d.v, "n")->number, -42);
}

TEST(JsonRead, MalformedInputIsALineNumberedError) {
    struct Case {
        std::string text, why;
        int line;
    } cases[] = {
        {"", "unexpected end", 1},
        {"{\"a\": 1,}", "expected a member name", 1},
        {"[1,\n2,\n]", "unexpected character", 3},
        {"{\"a\" 1}", "expected ':'", 1},
        {"{\"a\": 1, \"a\": 2}", "a member name repeats", 1},
        {"\"abc", "unterminated string", 1},
        {"\"a\tb\"", "control character", 1},
        {"\"\\x\"", "bad escape", 1},
        {"\"\\ud800\"", "lone surrogate", 1},
        {"\"\\u0000\"", "\\u0000", 1},
        {"01", "text after the value", 1},
        {"1.", "bad number", 1},
        {"-", "unexpected character", 1},
        {"1e999", "out of range", 1},
        {"[1] 2", "text after the value", 1},
        {"\n\ntru", "unexpected character", 3},
        {std::string(100, '['), "nested too deep", 1},
    };
    for (const Case &c : cases) {
        doc d(c.text);
        EXPECT_EQ(d.rc, -1) << c.text;
        std::string err = d.err;
        EXPECT_EQ(err.rfind("t.json:" + std::to_string(c.line) + ": malformed JSON: ", 0), 0u)
            << c.text << " -> " << err;
        EXPECT_NE(err.find(c.why), std::string::npos) << c.text << " -> " << err;
    }
}

} // namespace
