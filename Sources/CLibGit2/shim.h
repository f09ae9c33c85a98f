// Wrappers for the parts of libgit2 Swift cannot import: git_libgit2_opts is variadic,
// so each option labsync sets gets a typed static inline function here.
#ifndef LABSYNC_CLIBGIT2_SHIM_H
#define LABSYNC_CLIBGIT2_SHIM_H
#include <git2.h>
// libgit2 1.8 moved git_error_set_str (used to hand a callback's refusal back)
// to git2/sys/errors.h; 1.5 (Debian 12) declares it in git2/errors.h.
#if __has_include(<git2/sys/errors.h>)
#include <git2/sys/errors.h>
#endif

/// Where libgit2 looks for the system/xdg/global config files; "" means nowhere.
static inline int labsync_git_set_search_path(int level, const char *path) {
    return git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, path);
}

#endif
