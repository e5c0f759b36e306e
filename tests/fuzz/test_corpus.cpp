// The fuzzing corpus and every regression input fuzzing found (tests/fuzz/corpus/PARSER,
// tests/fuzz/regressions/PARSER) replayed through the parsers: each is accepted or rejected with
// one line naming the file (fuzz_parse aborts otherwise), never a crash; under the sanitizer
// build, never a leak or an undefined behaviour either.
#include "fuzz_parsers.h"
#include "test_support.h"

#include <filesystem>
#include <string>

namespace fs = std::filesystem;

namespace {

TEST(FuzzCorpus, EveryInputIsParsedOrRejectedCleanly) {
    int inputs = 0;
    for (int p = 0; fuzz_parsers[p]; p++) {
        int seeds = 0;
        for (const char *kind : {"corpus", "regressions"}) {
            fs::path dir = fs::path(ACCPAR_FUZZ_DIR) / kind / fuzz_parsers[p];
            if (!fs::exists(dir))
                continue;
            for (const auto &e : fs::directory_iterator(dir)) {
                std::string data = slurp(e.path().string());
                SCOPED_TRACE(e.path().string());
                int rc = fuzz_parse(fuzz_parsers[p], (const uint8_t *)data.data(), data.size());
                EXPECT_TRUE(rc == 0 || rc == -1) << rc;
                seeds += kind[0] == 'c';
                inputs++;
            }
        }
        EXPECT_GE(seeds, 1) << fuzz_parsers[p] << ": no seed in the corpus";
    }
    EXPECT_GE(inputs, 6);
}

// The seeds include valid files: the parsers accept the shipped formats' examples.
TEST(FuzzCorpus, ValidSeedsParse) {
    for (int p = 0; fuzz_parsers[p]; p++) {
        fs::path dir = fs::path(ACCPAR_FUZZ_DIR) / "corpus" / fuzz_parsers[p];
        int accepted = 0;
        for (const auto &e : fs::directory_iterator(dir)) {
            std::string data = slurp(e.path().string());
            accepted += fuzz_parse(fuzz_parsers[p], (const uint8_t *)data.data(), data.size()) == 0;
        }
        EXPECT_GE(accepted, 1) << fuzz_parsers[p];
    }
}

} // namespace
