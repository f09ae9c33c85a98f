// libssh2's API is largely function-like macros, which Swift cannot import.
// These static inline wrappers give Swift real functions to call.
#ifndef LABSYNC_CLIBSSH2_SHIM_H
#define LABSYNC_CLIBSSH2_SHIM_H
#include <libssh2.h>
#include <libssh2_publickey.h>
#endif
