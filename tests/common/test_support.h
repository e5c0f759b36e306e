// Helpers every test suite shares: a temporary folder of the test's own, reading files, and
// calling a subcommand with its output captured.
#ifndef ACCPAR_TEST_SUPPORT_H
#define ACCPAR_TEST_SUPPORT_H

#include <gtest/gtest.h>

extern "C" {
#include "output_set.h"
}

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <vector>

// A folder that only the running test writes to: TEST_TMPDIR (set per build by CMake) or the
// system's, then SUITE.NAME/ (parameterised tests included), emptied on the test's first call
// (a rerun never sees the last run's files); ends in '/'.
inline std::string test_dir() {
    const testing::TestInfo *t = testing::UnitTest::GetInstance()->current_test_info();
    std::string name = t ? std::string(t->test_suite_name()) + "." + t->name() : "no-test";
    for (char &c : name)
        if (c == '/')
            c = '_';
    std::string dir = testing::TempDir() + name + "/";
    static std::string emptied_for;
    if (emptied_for != name) {
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);
        emptied_for = name;
    }
    if (mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST)
        ADD_FAILURE() << "cannot create " << dir;
    return dir;
}

inline std::string slurp(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline void write_text(const std::string &path, const std::string &text) {
    std::ofstream(path, std::ios::binary) << text;
}

inline bool exists(const std::string &path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0;
}

// Writes path as a command does (output_set.h): declared, filled by write() (a library writer
// such as calibration_write, returning 0), committed. Returns 0, or -1 with the reason in err.
template <class Write>
int write_output(const std::string &path, Write write, char *err, size_t errlen) {
    if (output_declare(path.c_str(), err, errlen) != 0)
        return -1;
    if (write() != 0) {
        output_discard();
        return -1;
    }
    return output_commit(err, errlen);
}

// The temporaries an output set left in folder (output_set.h names them ".partial-*").
inline std::vector<std::string> partials_in(const std::string &folder) {
    std::vector<std::string> found;
    std::error_code ignored;
    for (const auto &e : std::filesystem::directory_iterator(folder, ignored))
        if (e.path().filename().string().rfind(".partial-", 0) == 0)
            found.push_back(e.path().string());
    return found;
}

struct cli_output {
    int rc;
    std::string out, err;
};

// Calls a subcommand (args[0] is its name) with stdout and stderr captured.
inline cli_output cli_call(int (*fn)(int, char **), std::vector<std::string> args) {
    std::vector<char *> argv;
    for (std::string &a : args)
        argv.push_back(a.data());
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    int rc = fn((int)argv.size(), argv.data());
    cli_output o{rc, testing::internal::GetCapturedStdout(),
                 testing::internal::GetCapturedStderr()};
    return o;
}

// One line on stderr, naming what it must, and the exit status.
inline testing::AssertionResult one_line_error(const cli_output &o, int status,
                                               const std::string &needle) {
    if (o.rc != status)
        return testing::AssertionFailure()
               << "exit " << o.rc << ", not " << status << ": " << o.err;
    if (o.err.find(needle) == std::string::npos)
        return testing::AssertionFailure() << "'" << needle << "' not in: " << o.err;
    if (o.err.find('\n') != o.err.size() - 1)
        return testing::AssertionFailure() << "not one line: " << o.err;
    return testing::AssertionSuccess();
}

// s with the first occurrence of from replaced by to (the test fails if from is absent).
inline std::string replaced(std::string s, const std::string &from, const std::string &to) {
    size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos)
        s.replace(at, from.size(), to);
    return s;
}

#endif
