/* The replay driver of every fuzz target: when not built for libFuzzer, a target's
 * main() runs its corpus through LLVMFuzzerTestOneInput as an ordinary test. */
#pragma once

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Replays @path (a file, or every regular file of a directory) through
 * LLVMFuzzerTestOneInput.  Returns the number of inputs, or -1 (message on stderr). */
int fuzz_replay(const char *path);

/* Replays every path of argv[1..]; prints "@name: N inputs replayed".  Returns the
 * process exit status: 1 on an error or when nothing was replayed (an empty corpus
 * would make the test pass without testing anything). */
int fuzz_replay_main(const char *name, int argc, char **argv);
