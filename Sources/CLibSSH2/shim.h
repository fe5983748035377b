#ifndef OSFARM_CLIBSSH2_SHIM_H
#define OSFARM_CLIBSSH2_SHIM_H
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <libssh2.h>

/* libssh2 spells several entry points as function-like macros, which Swift cannot import.
   These inline functions are the same calls with the macros' fixed arguments. */

static inline LIBSSH2_SESSION *osfarm_session_init(void) {
    return libssh2_session_init_ex(NULL, NULL, NULL, NULL);
}

/* Bytes received from the server, counted by the session's receive callback: how the controller
   knows a server still answers (a keepalive's reply is consumed inside libssh2 and never reaches
   the caller). Used on the session's own thread only. */
typedef struct {
    unsigned long long received;
} osfarm_traffic;

/* recv() as libssh2 1.10's default (_libssh2_recv in misc.c) does it, plus the count: a negative
   errno on failure, -EAGAIN for a socket with nothing to read. */
static inline ssize_t osfarm_counting_recv(libssh2_socket_t socket, void *buffer, size_t length, int flags, void **abstract) {
    ssize_t count = recv(socket, buffer, length, flags);
    if (count > 0) {
        ((osfarm_traffic *)*abstract)->received += (unsigned long long)count;
        return count;
    }
    if (count < 0) {
        if (errno == ENOENT || errno == EWOULDBLOCK) return -EAGAIN;
        return -errno;
    }
    return count;
}

/* A session whose received bytes are counted into `traffic`, which must outlive it. */
static inline LIBSSH2_SESSION *osfarm_session_init_counting(osfarm_traffic *traffic) {
    LIBSSH2_SESSION *session = libssh2_session_init_ex(NULL, NULL, NULL, traffic);
    if (session) libssh2_session_callback_set(session, LIBSSH2_CALLBACK_RECV, (void *)osfarm_counting_recv);
    return session;
}

static inline LIBSSH2_CHANNEL *osfarm_channel_open_session(LIBSSH2_SESSION *session) {
    return libssh2_channel_open_ex(session, "session", sizeof("session") - 1,
                                   LIBSSH2_CHANNEL_WINDOW_DEFAULT, LIBSSH2_CHANNEL_PACKET_DEFAULT, NULL, 0);
}

static inline int osfarm_channel_exec(LIBSSH2_CHANNEL *channel, const char *command) {
    return libssh2_channel_process_startup(channel, "exec", sizeof("exec") - 1,
                                           command, (unsigned int)strlen(command));
}

static inline int osfarm_session_disconnect(LIBSSH2_SESSION *session, const char *description) {
    return libssh2_session_disconnect_ex(session, SSH_DISCONNECT_BY_APPLICATION, description, "");
}

static inline ssize_t osfarm_channel_read_stderr(LIBSSH2_CHANNEL *channel, char *buffer, size_t length) {
    return libssh2_channel_read_ex(channel, SSH_EXTENDED_DATA_STDERR, buffer, length);
}

static inline ssize_t osfarm_channel_read_stdout(LIBSSH2_CHANNEL *channel, char *buffer, size_t length) {
    return libssh2_channel_read_ex(channel, 0, buffer, length);
}

static inline ssize_t osfarm_channel_write_stdin(LIBSSH2_CHANNEL *channel, const char *buffer, size_t length) {
    return libssh2_channel_write_ex(channel, 0, buffer, length);
}

#endif
