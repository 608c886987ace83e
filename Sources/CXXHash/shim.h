#ifndef PREFIXROUTER_CXXHASH_SHIM_H
#define PREFIXROUTER_CXXHASH_SHIM_H
// libxxhash (Debian libxxhash-dev >= 0.8.0: XXH3 output is stable from that release on).
#include <xxhash.h>
#endif
