// Everything is in the header (static inline); this file only gives the target a translation unit.
#include "CXXHashInline.h"
