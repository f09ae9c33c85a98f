// libssh2's API is largely function-like macros, which Swift cannot import.
// These static inline wrappers give Swift real functions to call. Only the
// Remote module imports this target.
#ifndef LABSYNC_CLIBSSH2_SHIM_H
#define LABSYNC_CLIBSSH2_SHIM_H
#include <string.h>
#include <libssh2.h>
#include <libssh2_publickey.h>

static inline LIBSSH2_SESSION *labsync_session_init(void) {
    return libssh2_session_init_ex(NULL, NULL, NULL, NULL);
}

static inline int labsync_session_disconnect(LIBSSH2_SESSION *session, const char *description) {
    return libssh2_session_disconnect_ex(session, SSH_DISCONNECT_BY_APPLICATION, description, "");
}

static inline LIBSSH2_CHANNEL *labsync_channel_open_session(LIBSSH2_SESSION *session) {
    return libssh2_channel_open_ex(session, "session", sizeof("session") - 1,
                                   LIBSSH2_CHANNEL_WINDOW_DEFAULT, LIBSSH2_CHANNEL_PACKET_DEFAULT, NULL, 0);
}

static inline int labsync_channel_exec(LIBSSH2_CHANNEL *channel, const char *command) {
    return libssh2_channel_process_startup(channel, "exec", sizeof("exec") - 1,
                                           command, (unsigned int)strlen(command));
}

static inline ssize_t labsync_channel_read(LIBSSH2_CHANNEL *channel, char *buf, size_t len) {
    return libssh2_channel_read_ex(channel, 0, buf, len);
}

static inline ssize_t labsync_channel_read_stderr(LIBSSH2_CHANNEL *channel, char *buf, size_t len) {
    return libssh2_channel_read_ex(channel, SSH_EXTENDED_DATA_STDERR, buf, len);
}

static inline ssize_t labsync_channel_write(LIBSSH2_CHANNEL *channel, const char *buf, size_t len) {
    return libssh2_channel_write_ex(channel, 0, buf, len);
}

static inline int labsync_userauth_publickey_fromfile(LIBSSH2_SESSION *session, const char *username,
                                                      const char *privatekey, const char *passphrase) {
    // A NULL public key path makes libssh2 derive the public key from the private key.
    return libssh2_userauth_publickey_fromfile_ex(session, username, (unsigned int)strlen(username),
                                                  NULL, privatekey, passphrase);
}

#endif
