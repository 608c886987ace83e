#ifndef PREFIXROUTER_CXXHASH_SHIM_H
#define PREFIXROUTER_CXXHASH_SHIM_H
// libxxhash (Debian libxxhash-dev). XXH3's output was frozen in xxHash 0.8.0: 0.7.x computed different XXH3
// values, and both series ship as libxxhash.so.0, so the header version is checked here at build time and the
// loaded library's XXH_versionNumber() is checked at run time (HashSchema.validateLibrary()).
#include <xxhash.h>

#if !defined(XXH_VERSION_NUMBER)
#error "PrefixRouter: xxhash.h does not define XXH_VERSION_NUMBER; install libxxhash-dev >= 0.8.0"
#elif XXH_VERSION_NUMBER < 800
#error "PrefixRouter needs libxxhash >= 0.8.0 (XXH3 output is only stable from 0.8.0 on; older releases hash differently, so gateways would silently disagree): install libxxhash-dev >= 0.8.0"
#endif

#endif
