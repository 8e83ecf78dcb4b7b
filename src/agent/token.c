/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bearer tokens. The full token may change anything; the read-only token may only read
 * (403 on mutating calls). Each is generated at first start (32 random bytes from the
 * kernel, hex) into its own file created with mode 0600; a token file that others may read
 * is refused, as ssh refuses a private key with loose permissions, and so is one that is not
 * a regular file (a FIFO, /dev/null): it is opened non-blocking and checked before it is read,
 * so it can neither block the start nor be taken for an empty token. The default files lie
 * below the root and are resolved inside it (fileio.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "fileio.h"
#include "macros.h"

gboolean hd_token_equal(const char *a, const char *b)
{
        /* Hash both so the comparison time depends on neither the length nor the content. */
        guint8 da[32], db[32];
        gsize la = sizeof(da), lb = sizeof(db);
        g_autoptr(GChecksum) ca = g_checksum_new(G_CHECKSUM_SHA256);
        g_autoptr(GChecksum) cb = g_checksum_new(G_CHECKSUM_SHA256);
        guint8 diff = 0;

        if (!a || !b)
                return FALSE;
        g_checksum_update(ca, (const guchar *)a, strlen(a));
        g_checksum_update(cb, (const guchar *)b, strlen(b));
        g_checksum_get_digest(ca, da, &la);
        g_checksum_get_digest(cb, db, &lb);
        for (gsize i = 0; i < sizeof(da); i++)
                diff |= da[i] ^ db[i];
        return diff == 0;
}

static char *new_token(GError **error)
{
        guint8 raw[32];
        gsize got = 0;
        GString *s;

        while (got < sizeof(raw)) {
                ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int e = errno;
                        g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                                    "cannot get random bytes for a token: %s", g_strerror(e));
                        return NULL;
                }
                got += n;
        }
        s = g_string_sized_new(2 * sizeof(raw));
        for (gsize i = 0; i < sizeof(raw); i++)
                g_string_append_printf(s, "%02x", raw[i]);
        return g_string_free(s, FALSE);
}

/* Where a token file lives: below the agent's root (the default path, resolved inside it
 * like every file the library touches: a root whose var is a link to /var gets its own) or
 * anywhere (a path given with --token-file). */
typedef struct {
        int root_fd;      /* -1: @path is an ordinary path */
        const char *path; /* relative to the root when root_fd >= 0 */
        const char *shown;
} TokenPath;

static int token_open(const TokenPath *tp, int flags, mode_t mode)
{
        /* O_NONBLOCK: a FIFO planted as the token file must not block the agent's start. */
        flags |= O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK;
        return tp->root_fd >= 0 ? hd_open_at(tp->root_fd, tp->path, flags, mode)
                                : open(tp->path, flags, mode);
}

/* The token files are 65 bytes; anything much longer is not one of ours. */
#define TOKEN_FILE_MAX 4096

static char *read_token(const TokenPath *tp, int fd, GError **error)
{
        char buf[TOKEN_FILE_MAX + 1];
        gsize total = 0;
        gssize n;

        while (total < sizeof(buf) - 1) {
                n = read(fd, buf + total, sizeof(buf) - 1 - total);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int e = errno;
                        g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                                    "cannot read the token file %s: %s", tp->shown, g_strerror(e));
                        return NULL;
                }
                if (n == 0)
                        break;
                total += (gsize)n;
        }
        if (total >= sizeof(buf) - 1) {
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "the token file %s is larger than %d bytes, so it holds no token of "
                            "hostdevd's; remove it to get a new token",
                            tp->shown, TOKEN_FILE_MAX);
                return NULL;
        }
        buf[total] = '\0';
        return g_strdup(buf);
}

static char *load_or_create(const TokenPath *tp, gboolean *created, GError **error)
{
        g_autofree char *dir = g_path_get_dirname(tp->path);
        g_autofree char *text = NULL;
        g_autofree char *token = NULL;
        hd_autofd int fd = -1;
        struct stat st;
        gboolean dir_ok;

        *created = FALSE;
        if (tp->root_fd >= 0)
                dir_ok = strcmp(dir, ".") == 0 || hd_mkdir_p_at(tp->root_fd, dir, 0700, NULL);
        else
                dir_ok = g_mkdir_with_parents(dir, 0700) == 0;
        if (!dir_ok) {
                int e = errno;
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "cannot create the directory of %s: %s", tp->shown, g_strerror(e));
                return NULL;
        }
        fd = token_open(tp, O_RDONLY, 0);
        if (fd < 0 && errno == ENOENT) {
                token = new_token(error);
                if (!token)
                        return NULL;
                fd = token_open(tp, O_WRONLY | O_CREAT | O_EXCL, 0600);
                if (fd >= 0) {
                        g_autofree char *line = g_strconcat(token, "\n", NULL);
                        gboolean ok = write(fd, line, strlen(line)) == (ssize_t)strlen(line) &&
                                      fsync(fd) == 0;
                        int e = errno;
                        if (!ok) {
                                if (tp->root_fd >= 0)
                                        (void)hd_unlink_at(tp->root_fd, tp->path, 0);
                                else
                                        (void)unlink(tp->path);
                                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                                            "cannot write the token file %s: %s", tp->shown,
                                            g_strerror(e));
                                return NULL;
                        }
                        *created = TRUE;
                        return g_steal_pointer(&token);
                }
                if (errno != EEXIST) {
                        int e = errno;
                        g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                                    "cannot create the token file %s: %s", tp->shown,
                                    g_strerror(e));
                        return NULL;
                }
                /* someone else created it meanwhile: read theirs */
                fd = token_open(tp, O_RDONLY, 0);
        }
        if (fd < 0) {
                int e = errno;
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "cannot open the token file %s: %s",
                            tp->shown, g_strerror(e));
                return NULL;
        }
        if (fstat(fd, &st) < 0) {
                int e = errno;
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "cannot stat the token file %s: %s",
                            tp->shown, g_strerror(e));
                return NULL;
        }
        if (!S_ISREG(st.st_mode)) {
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "the token file %s is %s, not a regular file; give the path of a "
                            "regular file with mode 0600, or of one that does not exist yet "
                            "(hostdevd then creates it with a new token)",
                            tp->shown, hd_file_type_name(st.st_mode));
                return NULL;
        }
        if (st.st_mode & 077) {
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "the token file %s may be read by others; make it mode 0600 "
                            "(chmod 600 %s) or remove it to get a new token",
                            tp->shown, tp->shown);
                return NULL;
        }
        text = read_token(tp, fd, error);
        if (!text)
                return NULL;
        g_strstrip(text);
        if (strlen(text) < 16) {
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "the token in %s is shorter than 16 characters; remove the file to "
                            "get a new token",
                            tp->shown);
                return NULL;
        }
        return g_steal_pointer(&text);
}

gboolean hd_agent_tokens_load(HdAgent *agent, GError **error)
{
        static const char def_rel[] = "var/lib/hostdev/agent.token";
        static const char def_ro_rel[] = "var/lib/hostdev/agent-ro.token";
        g_autofree char *def = g_build_filename(agent->root, def_rel, NULL);
        g_autofree char *def_ro = g_build_filename(agent->root, def_ro_rel, NULL);
        int root_fd = hd_ctx_get_root_fd(agent->ctx);
        const char *path = agent->opts.token_file ? agent->opts.token_file : def;
        const char *ro_path = agent->opts.ro_token_file ? agent->opts.ro_token_file : def_ro;
        TokenPath tp = {agent->opts.token_file ? -1 : root_fd,
                        agent->opts.token_file ? path : def_rel, path};
        TokenPath tp_ro = {agent->opts.ro_token_file ? -1 : root_fd,
                           agent->opts.ro_token_file ? ro_path : def_ro_rel, ro_path};
        gboolean created;

        agent->token = load_or_create(&tp, &created, error);
        if (!agent->token)
                return FALSE;
        hd_agent_log("info", created ? "created the token file" : "token loaded", "file", path,
                     NULL);
        agent->ro_token = load_or_create(&tp_ro, &created, error);
        if (!agent->ro_token)
                return FALSE;
        if (hd_token_equal(agent->token, agent->ro_token)) {
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "%s and %s hold the same token; the read-only token must differ", path,
                            ro_path);
                return FALSE;
        }
        hd_agent_log("info",
                     created ? "created the read-only token file" : "read-only token loaded",
                     "file", ro_path, NULL);
        return TRUE;
}
