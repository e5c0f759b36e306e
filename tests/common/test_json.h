// An independent JSON reader for the tests (RFC 8259 values), written apart from the product's
// writer and reader, to check that reports are well formed and to read their values.
#ifndef ACCPAR_TEST_JSON_H
#define ACCPAR_TEST_JSON_H

#include <gtest/gtest.h>

#include <cctype>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

// A strict JSON reader (RFC 8259 values), enough to check the reports are well formed.
struct Json {
    enum Kind { Null, Bool, Num, Str, Arr, Obj } kind = Null;
    bool boolean = false;
    double num = 0;
    std::string str;
    std::vector<Json> items;
    std::vector<std::pair<std::string, Json>> fields;
    const Json &operator[](const std::string &key) const {
        for (const auto &f : fields)
            if (f.first == key)
                return f.second;
        static const Json none;
        return none;
    }
};

struct JsonReader {
    const std::string &s;
    size_t i = 0;
    bool ok = true;
    void ws() {
        while (i < s.size() && strchr(" \t\r\n", s[i]))
            i++;
    }
    bool eat(char c) {
        ws();
        if (i < s.size() && s[i] == c)
            return ++i, true;
        return false;
    }
    std::string string() {
        std::string out;
        if (!eat('"'))
            return ok = false, out;
        while (i < s.size() && s[i] != '"') {
            unsigned char c = (unsigned char)s[i++];
            if (c < 0x20)
                return ok = false, out;
            if (c == '\\') {
                char e = i < s.size() ? s[i++] : 0;
                if (e == 'u') {
                    out += (char)std::stoi(s.substr(i, 4), nullptr, 16);
                    i += 4;
                } else if (strchr("\"\\/", e) && e) {
                    out += e;
                } else if (strchr("bfnrt", e) && e) {
                    out += e == 'n'   ? '\n'
                           : e == 't' ? '\t'
                           : e == 'r' ? '\r'
                           : e == 'b' ? '\b'
                                      : '\f';
                } else {
                    return ok = false, out;
                }
            } else {
                out += (char)c;
            }
        }
        ok = ok && eat('"');
        return out;
    }
    Json value() {
        Json v;
        ws();
        if (i >= s.size())
            return ok = false, v;
        if (s[i] == '{') {
            v.kind = Json::Obj;
            i++;
            if (!eat('}'))
                do {
                    std::string k = string();
                    ok = ok && eat(':');
                    v.fields.push_back({k, value()});
                } while (ok && eat(','));
            ok = ok && (v.fields.empty() || eat('}'));
        } else if (s[i] == '[') {
            v.kind = Json::Arr;
            i++;
            if (!eat(']'))
                do
                    v.items.push_back(value());
                while (ok && eat(','));
            ok = ok && (v.items.empty() || eat(']'));
        } else if (s[i] == '"') {
            v.kind = Json::Str;
            v.str = string();
        } else if (s.compare(i, 4, "null") == 0) {
            i += 4;
        } else if (s.compare(i, 4, "true") == 0 || s.compare(i, 5, "false") == 0) {
            v.kind = Json::Bool;
            v.boolean = s[i] == 't';
            i += s[i] == 't' ? 4 : 5;
        } else {
            size_t used = 0;
            v.kind = Json::Num;
            try {
                v.num = std::stod(s.substr(i), &used);
            } catch (...) {
                ok = false;
            }
            ok = ok && used > 0 && (s[i] == '-' || isdigit((unsigned char)s[i]));
            i += used;
        }
        return v;
    }
};

// Parses a whole document; a syntax error or trailing text fails the calling test.
inline Json parse_json(const std::string &text) {
    JsonReader r{text};
    Json v = r.value();
    r.ws();
    EXPECT_TRUE(r.ok && r.i == text.size()) << "malformed JSON near byte " << r.i << ": " << text;
    return v;
}

#endif
