# Generates accel_isa.h, the C side of the command format, from rtl/accel_pkg.sv.
# Usage: cmake -DIN=rtl/accel_pkg.sv -DOUT=accel_isa.h -P isa_from_rtl.cmake
file(STRINGS "${IN}" lines)
set(ops "")
set(errors "")
set(fields "")
set(table "")
set(n_fields 0)
foreach(line IN LISTS lines)
  if(line MATCHES "^ *localparam logic \\[7:0\\] OP_([A-Z_]+) = 8'd([0-9]+); *// *(.*)$")
    string(APPEND ops "    ACCEL_OP_${CMAKE_MATCH_1} = ${CMAKE_MATCH_2}, /* ${CMAKE_MATCH_3} */\n")
  elseif(line MATCHES "^ *localparam logic \\[7:0\\] ERR_([A-Z_]+) = 8'd([0-9]+); *// *(.*)$")
    string(APPEND errors "    X(${CMAKE_MATCH_2}, \"ERR_${CMAKE_MATCH_1}\", \"${CMAKE_MATCH_3}\") \\\n")
  elseif(line MATCHES "^ *localparam int CMD_([A-Z_]+)_(LSB|WIDTH) = ([0-9]+);")
    string(APPEND fields "    ACCEL_CMD_${CMAKE_MATCH_1}_${CMAKE_MATCH_2} = ${CMAKE_MATCH_3},\n")
    if(CMAKE_MATCH_2 STREQUAL "LSB")
      math(EXPR n_fields "${n_fields} + 1")
    endif()
  elseif(line MATCHES "^ *localparam int CMD_BITS = ([0-9]+);")
    set(bits ${CMAKE_MATCH_1})
  elseif(line MATCHES "localparam")
    message(FATAL_ERROR "${IN}: a definition this generator does not read: ${line}")
  endif()
endforeach()
if(NOT ops OR NOT errors OR NOT bits OR n_fields LESS 10)
  message(FATAL_ERROR "${IN}: opcodes, error codes, CMD_BITS or fields missing")
endif()
file(WRITE "${OUT}.tmp" "/* Generated from rtl/accel_pkg.sv by host/device/isa_from_rtl.cmake: do not edit.
 * The accelerator's opcodes, error codes and command-word fields (docs/accelerator.md). */
#ifndef ACCPAR_ACCEL_ISA_H
#define ACCPAR_ACCEL_ISA_H

enum accel_isa_opcode {
${ops}};

/* The command word's fields: bits [LSB, LSB + WIDTH). */
enum accel_isa_field {
${fields}    ACCEL_CMD_BITS = ${bits},
    ACCEL_CMD_WORDS = (${bits} + 31) / 32 /* 32-bit words */
};

/* The device's error codes: X(code, name, meaning) for each. */
#define ACCEL_ISA_ERRORS(X) \\
${errors}
#endif
")
# Replace the header only when it changed, so a touch of the package rebuilds nothing else.
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT}.tmp" "${OUT}")
file(REMOVE "${OUT}.tmp")
