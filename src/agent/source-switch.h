/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Following udevd on the live root: which of udevd's re-broadcast and the kernel's own uevents
 * the agent hears, chosen again whenever udevd starts or stops.
 *
 * "udevd runs" is run/udev/control existing below the root (hd_udevd_is_running(): the control
 * socket udevd creates at start and removes at exit). An inotify watch on run/udev (on run, or
 * on the root itself, while those do not exist yet; moved down as they appear and up as they
 * go) notices the socket appearing and going; each time, hd_watch_choose_source() decides
 * again, and when its answer differs from the source heard:
 *   1. the new source is started first (the two overlap: nothing sent meanwhile is lost);
 *      udevd's cannot be (no libgudev: @have_udevd is FALSE, the kernel's stays), the kernel's
 *      cannot be (a sandbox without netlink): none is heard until the next change;
 *   2. the old one is stopped: its events are no longer read at all;
 *   3. ops->switched() is called once: events may have been missed while udevd started or
 *      stopped, so the caller re-reads (moves the generation) and logs the switch;
 *   4. after a switch to udevd, ops->reread() is called once more @settle_ms later: the socket
 *      appears before udevd broadcasts (and before its coldplug), so a device whose rules ran
 *      in between is read by that second re-read.
 * The sources themselves are the caller's (ops->start and ops->stop): the agent's are GUdev
 * and an HdUeventMonitor, a test's can be anything. Everything runs on the thread-default main
 * context of the caller of hd_source_switch_new().
 */
#pragma once

#include <gio/gio.h>

#include "uevent.h"

typedef struct {
        /* Start hearing @source (HD_WATCH_SOURCE_UDEVD or _KERNEL); FALSE with @error when it
         * cannot be heard. */
        gboolean (*start)(HdWatchSource source, gpointer user_data, GError **error);
        /* Stop hearing @source (started before): none of its events is handed on after. */
        void (*stop)(HdWatchSource source, gpointer user_data);
        /* @now is heard instead of @before (HD_WATCH_SOURCE_NONE when none could be started)
         * because udevd started or stopped (@udevd_running): re-read everything. */
        void (*switched)(HdWatchSource before, HdWatchSource now, gboolean udevd_running,
                         gpointer user_data);
        /* The second re-read after a switch to udevd (@why for the log). */
        void (*reread)(const char *why, gpointer user_data);
} HdSourceSwitchOps;

typedef struct HdSourceSwitch HdSourceSwitch;

/* Choose the source for the root @root_fd (kept open by the caller while the switch lives),
 * start it (ops->switched is not called for this first choice) and follow udevd from then on.
 * @have_udevd: whether udevd's source can be heard at all (the agent has libgudev). */
HdSourceSwitch *hd_source_switch_new(int root_fd, gboolean have_udevd, guint settle_ms,
                                     const HdSourceSwitchOps *ops, gpointer user_data);

/* Stops the source heard (ops->stop), ends the watch. */
void hd_source_switch_free(HdSourceSwitch *s);

/* The source heard now: HD_WATCH_SOURCE_UDEVD, _KERNEL, or _NONE when the chosen one could
 * not be started. */
HdWatchSource hd_source_switch_get_source(HdSourceSwitch *s);

/* Whether udevd runs (at the last check). */
gboolean hd_source_switch_get_udevd_running(HdSourceSwitch *s);

/* Switches since the start. */
guint64 hd_source_switch_get_switches(HdSourceSwitch *s);

/* Whether udevd is followed: FALSE when no inotify watch could be set (the first choice then
 * stays), with the reason in *@why. */
gboolean hd_source_switch_is_following(HdSourceSwitch *s, const char **why);

/* The directory watched below the root: "run/udev", "run" or "." (NULL when none). */
const char *hd_source_switch_get_watched(HdSourceSwitch *s);

/* Decide again now (what the inotify watch does when the control socket appears or goes). */
void hd_source_switch_check(HdSourceSwitch *s);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdSourceSwitch, hd_source_switch_free)
