/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Following udevd (source-switch.h): an inotify watch on the deepest of run/udev, run and the
 * root that exists, the choice of source made again when run/udev/control appears or goes.
 *
 * The watched directory is opened relative to the root fd and given to inotify as
 * /proc/self/fd/N (inotify takes a path only; this one names the opened directory, whatever
 * the root is). A directory replaced or removed (IN_DELETE_SELF, IN_MOVE_SELF, IN_IGNORED) and
 * a child created (run below the root, udev below run: a directory or a link to one) move the
 * watch, then the choice is made again: the socket may have appeared before the watch was set.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "fileio.h"
#include "macros.h"
#include "source-switch.h"

/* The directories that can be watched, deepest first. */
static const char *const levels[] = {"run/udev", "run", "."};

struct HdSourceSwitch {
        int root_fd;
        gboolean have_udevd;
        guint settle_ms;
        const HdSourceSwitchOps *ops;
        gpointer user_data;
        HdWatchSource source;
        gboolean udevd_running;
        guint64 switches;
        int inotify_fd;
        guint inotify_id;
        int wd;              /* the watch, -1 when none */
        int level;           /* index in levels of the watched directory, -1 when none */
        const char *failure; /* why nothing is watched */
        guint settle_id;
};

/* Start @want, falling back to the kernel's when udevd's cannot be heard; the source heard. */
static HdWatchSource start_source(HdSourceSwitch *s, HdWatchSource want)
{
        g_autoptr(GError) error = NULL;

        if (s->ops->start(want, s->user_data, &error))
                return want;
        if (want == HD_WATCH_SOURCE_UDEVD) {
                g_clear_error(&error);
                if (s->source == HD_WATCH_SOURCE_KERNEL)
                        return HD_WATCH_SOURCE_KERNEL; /* still heard */
                if (s->ops->start(HD_WATCH_SOURCE_KERNEL, s->user_data, &error))
                        return HD_WATCH_SOURCE_KERNEL;
        }
        return HD_WATCH_SOURCE_NONE;
}

static gboolean on_settled(gpointer data)
{
        HdSourceSwitch *s = data;

        s->settle_id = 0;
        if (s->source == HD_WATCH_SOURCE_UDEVD)
                s->ops->reread("udevd started: its rules have run since", s->user_data);
        return G_SOURCE_REMOVE;
}

void hd_source_switch_check(HdSourceSwitch *s)
{
        HdWatchSource before = s->source;
        HdWatchSource want, now;

        s->udevd_running = hd_udevd_is_running(s->root_fd);
        want = hd_watch_choose_source(TRUE, s->have_udevd, s->udevd_running);
        if (want == before)
                return;
        now = start_source(s, want);
        if (now == before)
                return; /* udevd's could not be started: the kernel's stays */
        if (before != HD_WATCH_SOURCE_NONE)
                s->ops->stop(before, s->user_data);
        s->source = now;
        s->switches++;
        g_clear_handle_id(&s->settle_id, g_source_remove);
        s->ops->switched(before, now, s->udevd_running, s->user_data);
        if (now == HD_WATCH_SOURCE_UDEVD)
                s->settle_id = g_timeout_add(s->settle_ms, on_settled, s);
}

/* Watch the deepest directory of levels that exists. */
static void arm(HdSourceSwitch *s)
{
        if (s->wd >= 0)
                (void)inotify_rm_watch(s->inotify_fd, s->wd); /* EINVAL when already gone */
        s->wd = -1;
        s->level = -1;
        for (guint i = 0; i < G_N_ELEMENTS(levels); i++) {
                hd_autofd int own = -1;
                int fd;
                char path[64];
                guint32 mask = IN_ONLYDIR | IN_DELETE_SELF | IN_MOVE_SELF | IN_CREATE | IN_MOVED_TO;

                if (strcmp(levels[i], ".") == 0) {
                        fd = s->root_fd;
                } else {
                        own = hd_open_at(s->root_fd, levels[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                                         0);
                        if (own < 0)
                                continue;
                        fd = own;
                }
                if (i == 0)
                        mask |= IN_DELETE | IN_MOVED_FROM;
                g_snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
                s->wd = inotify_add_watch(s->inotify_fd, path, mask);
                if (s->wd < 0) {
                        s->failure = "inotify_add_watch failed (is /proc mounted?)";
                        return;
                }
                s->level = (int)i;
                s->failure = NULL;
                return;
        }
        s->failure = "neither run/udev, run nor the root could be opened";
}

static gboolean on_inotify(int fd, GIOCondition cond, gpointer user_data)
{
        HdSourceSwitch *s = user_data;
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        gboolean rearm = FALSE, check = FALSE;

        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                for (char *p = buf; p < buf + n;) {
                        const struct inotify_event *ev = (const struct inotify_event *)p;

                        p += sizeof(*ev) + ev->len;
                        if (ev->mask & IN_Q_OVERFLOW) {
                                rearm = check = TRUE;
                                continue;
                        }
                        if (ev->wd != s->wd)
                                continue; /* a watch removed before */
                        if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
                                rearm = check = TRUE;
                                continue;
                        }
                        if (s->level == 0) {
                                if (ev->len && strcmp(ev->name, "control") == 0)
                                        check = TRUE;
                        } else if (ev->len &&
                                   strcmp(ev->name, s->level == 1 ? "udev" : "run") == 0) {
                                /* a directory, or a link to one: arm() opens what it names */
                                rearm = check = TRUE;
                        }
                }
        }
        if (rearm)
                arm(s);
        if (check)
                hd_source_switch_check(s);
        return G_SOURCE_CONTINUE;
}

HdSourceSwitch *hd_source_switch_new(int root_fd, gboolean have_udevd, guint settle_ms,
                                     const HdSourceSwitchOps *ops, gpointer user_data)
{
        HdSourceSwitch *s = g_new0(HdSourceSwitch, 1);

        s->root_fd = root_fd;
        s->have_udevd = have_udevd;
        s->settle_ms = settle_ms;
        s->ops = ops;
        s->user_data = user_data;
        s->source = HD_WATCH_SOURCE_NONE;
        s->wd = -1;
        s->level = -1;
        s->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (s->inotify_fd >= 0) {
                arm(s);
                s->inotify_id = g_unix_fd_add(s->inotify_fd, G_IO_IN, on_inotify, s);
        } else {
                s->failure = "inotify_init1 failed";
        }
        /* after the watch: a socket created in between is seen by this first choice */
        s->udevd_running = hd_udevd_is_running(root_fd);
        s->source = start_source(s, hd_watch_choose_source(TRUE, have_udevd, s->udevd_running));
        return s;
}

void hd_source_switch_free(HdSourceSwitch *s)
{
        if (!s)
                return;
        g_clear_handle_id(&s->settle_id, g_source_remove);
        g_clear_handle_id(&s->inotify_id, g_source_remove);
        if (s->inotify_fd >= 0)
                close(s->inotify_fd);
        if (s->source != HD_WATCH_SOURCE_NONE)
                s->ops->stop(s->source, s->user_data);
        g_free(s);
}

HdWatchSource hd_source_switch_get_source(HdSourceSwitch *s)
{
        return s->source;
}

gboolean hd_source_switch_get_udevd_running(HdSourceSwitch *s)
{
        return s->udevd_running;
}

guint64 hd_source_switch_get_switches(HdSourceSwitch *s)
{
        return s->switches;
}

gboolean hd_source_switch_is_following(HdSourceSwitch *s, const char **why)
{
        if (why)
                *why = s->failure;
        return s->level >= 0;
}

const char *hd_source_switch_get_watched(HdSourceSwitch *s)
{
        return s->level >= 0 ? levels[s->level] : NULL;
}
