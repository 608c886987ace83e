#ifndef CXXHASH_INLINE_H
#define CXXHASH_INLINE_H

// libxxhash's XXH3 with XXH_INLINE_ALL: the implementation is compiled into the caller instead of called
// through the shared library. For measurement only (BenchRatios); the library links libxxhash.
#define XXH_INLINE_ALL
#include <xxhash.h>
#include <stddef.h>
#include <stdint.h>

/// XXH3-64 of `length` bytes at `bytes` with `seed`, inlined.
static inline uint64_t cxxhash_inline_xxh3_64(const void *bytes, size_t length, uint64_t seed) {
    return XXH3_64bits_withSeed(bytes, length, seed);
}

#endif
