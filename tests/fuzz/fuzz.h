/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H 1

/* Helpers shared by the fuzz targets in tests/fuzz/.  Each target defines
 * LLVMFuzzerInitialize() and LLVMFuzzerTestOneInput(); it is linked either
 * with libFuzzer (configure --enable-fuzzing) or with driver.c, which runs
 * it over the files of a committed corpus.  See docs/fuzzing.md. */

#include <stddef.h>
#include <stdint.h>
#include "protostack/protostack.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Prints a message naming what went wrong and aborts, so that libFuzzer
 * (or the regression driver) reports the input as a crash. */
void ps_fuzz_fail(const char *format, ...)
    __attribute__((__format__(printf, 1, 2), __noreturn__));

/* The directory of the shipped protocols: $PROTOSTACK_DATADIR, else the
 * source tree's protocols/ that the build compiled in. */
const char *ps_fuzz_protocols_dir(void);

/* A new registry with the shipped protocols; aborts if they fail to
 * load. */
struct ps_registry *ps_fuzz_load_registry(void);

/* An input, consumed from the front. */
struct ps_fuzz_input {
    const uint8_t *data;
    size_t size;
};

/* Returns the bytes up to the next '\n' (or the end of the input), which
 * it consumes with the '\n', as a null-terminated string in a buffer of
 * exactly its length plus one bytes, so that ASan catches a read past
 * its end. */
char *ps_fuzz_take_line(struct ps_fuzz_input *);

/* Consumes up to 4 bytes as a big-endian number (missing bytes are 0). */
uint32_t ps_fuzz_take_u32(struct ps_fuzz_input *);

/* The bytes that ps_stack_get_text() may need for field 'fi', as the API
 * documents them. */
size_t ps_fuzz_text_size(const struct ps_field_info *fi);

/* Checks that the interpreter's encapsulation 'encap' of 'stack' with
 * constant 'labels' writes, in front of 'payload_len' bytes of
 * 'payload', exactly what ps_stack_fill() writes with the same labels
 * and the entropy of 'hash' given as one more label; and that
 * ps_encap_push() writes the same, into exact headroom, and nothing when
 * the headroom is one byte short.  Aborts on a difference. */
void ps_fuzz_check_encap(const struct ps_stack *stack, const char *labels,
                         const struct ps_encap *encap,
                         const uint8_t *payload, size_t payload_len,
                         uint32_t hash);

/* Checks that encapsulations 'a' and 'b' of one stack write the same
 * bytes in front of 'payload'.  Aborts on a difference. */
void ps_fuzz_check_same_encap(const struct ps_encap *a,
                              const struct ps_encap *b,
                              const uint8_t *payload, size_t payload_len,
                              uint32_t hash);

/* Aborts, naming 'what', if 'error' is not PS_OK and 'message' is null:
 * every failure must say why. */
void ps_fuzz_check_message(enum ps_error error, const char *message,
                           const char *what);

#endif /* tests/fuzz/fuzz.h */
