// Wrappers for the parts of libgit2 Swift cannot import (variadic git_libgit2_opts).
#ifndef LABSYNC_CLIBGIT2_SHIM_H
#define LABSYNC_CLIBGIT2_SHIM_H
#include <git2.h>
#endif
