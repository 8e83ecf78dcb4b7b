/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bearer tokens. The full token may change anything; the read-only token may only read
 * (403 on mutating calls). Each is generated at first start (32 random bytes from the
 * kernel, hex) into its own file created with mode 0600; a token file that others may read
 * is refused, as ssh refuses a private key with loose permissions.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"

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

static char *load_or_create(const char *path, gboolean *created, GError **error)
{
        g_autofree char *dir = g_path_get_dirname(path);
        g_autofree char *text = NULL;
        g_autofree char *token = NULL;
        struct stat st;
        int fd;

        *created = FALSE;
        if (g_mkdir_with_parents(dir, 0700) < 0) {
                int e = errno;
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "cannot create %s: %s", dir,
                            g_strerror(e));
                return NULL;
        }
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 && errno == ENOENT) {
                token = new_token(error);
                if (!token)
                        return NULL;
                fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (fd >= 0) {
                        g_autofree char *line = g_strconcat(token, "\n", NULL);
                        gboolean ok = write(fd, line, strlen(line)) == (ssize_t)strlen(line) &&
                                      fsync(fd) == 0;
                        int e = errno;
                        close(fd);
                        if (!ok) {
                                unlink(path);
                                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                                            "cannot write the token file %s: %s", path,
                                            g_strerror(e));
                                return NULL;
                        }
                        *created = TRUE;
                        return g_steal_pointer(&token);
                }
                if (errno != EEXIST) {
                        int e = errno;
                        g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                                    "cannot create the token file %s: %s", path, g_strerror(e));
                        return NULL;
                }
                /* someone else created it meanwhile: read theirs */
                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        }
        if (fd < 0) {
                int e = errno;
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "cannot open the token file %s: %s",
                            path, g_strerror(e));
                return NULL;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077)) {
                close(fd);
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "the token file %s may be read by others (or is not a regular file); "
                            "make it mode 0600 (chmod 600 %s) or remove it to get a new token",
                            path, path);
                return NULL;
        }
        close(fd);
        if (!g_file_get_contents(path, &text, NULL, error))
                return NULL;
        g_strstrip(text);
        if (strlen(text) < 16) {
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "the token in %s is shorter than 16 characters; remove the file to "
                            "get a new token",
                            path);
                return NULL;
        }
        return g_steal_pointer(&text);
}

gboolean hd_agent_tokens_load(HdAgent *agent, GError **error)
{
        g_autofree char *def = g_build_filename(agent->root, "var/lib/hostdev/agent.token", NULL);
        g_autofree char *def_ro =
            g_build_filename(agent->root, "var/lib/hostdev/agent-ro.token", NULL);
        const char *path = agent->opts.token_file ? agent->opts.token_file : def;
        const char *ro_path = agent->opts.ro_token_file ? agent->opts.ro_token_file : def_ro;
        gboolean created;

        agent->token = load_or_create(path, &created, error);
        if (!agent->token)
                return FALSE;
        hd_agent_log("info", created ? "created the token file" : "token loaded", "file", path,
                     NULL);
        agent->ro_token = load_or_create(ro_path, &created, error);
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
