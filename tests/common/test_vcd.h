// Reading a VCD waveform in the tests: the last value a signal takes.
#ifndef ACCPAR_TEST_VCD_H
#define ACCPAR_TEST_VCD_H

#include <cstdint>
#include <sstream>
#include <string>

// The last value of the first signal named `name` (bit vector "b1010 id" or scalar "1id"), or
// UINT64_MAX when the signal or a value is absent.
inline uint64_t vcd_last_value(const std::string &vcd, const std::string &name) {
    std::istringstream in(vcd);
    std::string line, id;
    uint64_t value = UINT64_MAX;
    while (std::getline(in, line)) {
        if (id.empty()) { // "$var wire 64 ! cnt_total [63:0] $end"
            std::istringstream w(line);
            std::string var, kind, width, code, signal;
            if (w >> var >> kind >> width >> code >> signal && var == "$var" && signal == name)
                id = code;
            continue;
        }
        if (line.size() > 1 && line[0] == 'b') {
            size_t sp = line.find(' ');
            if (sp != std::string::npos && line.substr(sp + 1) == id)
                value = std::stoull(line.substr(1, sp - 1), nullptr, 2);
        } else if (line.size() > 1 && (line[0] == '0' || line[0] == '1') && line.substr(1) == id) {
            value = (uint64_t)(line[0] - '0');
        }
    }
    return value;
}

#endif
