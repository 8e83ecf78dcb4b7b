/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The inventory generation: a number that moves when a device appears, disappears or changes
 * driver, and the ETag built from it. Every inventory answer carries both, a poller that sends
 * If-None-Match gets 304 without the agent reading sysfs, and the serialized JSON of
 * /v1/devices and /v1/groups is built at most once per generation.
 *
 * What moves it:
 *   - on the live root, the kernel's uevents for the pci, mdev, mdev_bus, usb and scsi
 *     subsystems (add, remove, bind, unbind, change) — no timer, no polling; VFs are PCI
 *     devices, so a VF count change is their add and remove events; a USB device plugged or
 *     unplugged, a LUN appearing or going, are theirs. Heard through udevd's re-broadcast
 *     (GUdevClient) when udevd runs and the agent has libgudev, otherwise straight from the
 *     kernel's netlink socket (uevent.h: a container, an initramfs, a host without udevd);
 *     the choice follows udevd starting and stopping (source-switch.h), and each switch
 *     moves the generation (events may have been missed meanwhile);
 *   - under --root (a fixture or snapshot, where no kernel sends uevents), inotify through
 *     GFileMonitor on sys/bus/pci/devices (devices appearing and disappearing: VFs too), on
 *     each device's directory (its `driver` link), and on sys/bus/mdev/devices and
 *     sys/class/mdev_bus (mediated devices and their parents appearing and disappearing), and
 *     on sys/bus/usb/devices and sys/bus/scsi/devices (USB devices and SCSI LUNs, their bus
 *     links appearing and disappearing);
 *   - the agent's own mutations, synchronously when they finish (hd_watch_bump), so a client
 *     never sees the old ETag after its own detach returned;
 *   - what no event announces but the answers show (state.h): a process opening or closing a
 *     group's /dev/vfio/N (a VM starting), a journal left by a crashed CLI or removed by
 *     `hostdev recover`. These facts are fingerprinted when the inventory is scanned and
 *     checked again at most once a second (RECHECK_US), lazily when a client asks for the
 *     inventory and on a timer while long polls wait; a different fingerprint moves the
 *     generation. A poller thus sees such a change within a second, without the agent
 *     scanning /proc for every 304.
 * The ETag also holds a random boot id, so a restarted agent never answers 304 to an ETag
 * of its previous life.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#ifdef HAVE_GUDEV
#include <gudev/gudev.h>
#endif

#include "agent.h"
#include "source-switch.h"
#include "uevent.h"

/* How often the facts without events are checked again (HOSTDEVD_TEST_RECHECK_MS for tests). */
#define RECHECK_US G_USEC_PER_SEC

struct HdWatch {
        HdAgent *agent;
        char *fingerprint;  /* of the facts without events, for the cached generation */
        gint64 checked_at;  /* monotonic time of the last check */
        gint64 recheck_us;
        guint recheck_id;   /* the timer while long polls wait */
        guint64 generation;
        char boot[9];
        char *etag;
        /* cache for the current generation */
        guint64 cached_generation;
        HdInventory *inv;
        GBytes *devices_json;
        GBytes *groups_json;
        GBytes *mdev_json;
        GBytes *usb_json;
        GBytes *scsi_json;
#ifdef HAVE_GUDEV
        GUdevClient *udev;
#endif
        HdUeventMonitor *kernel; /* the kernel's uevents, when udevd is not heard */
        HdSourceSwitch *sources; /* which of the two, on the live root */
        /* HOSTDEVD_TEST_FOLLOW_UDEVD under --root: the switch follows the tree's run/udev with
         * sources that hear nothing */
        gboolean test_sources;
        GFileMonitor *dir_monitor;
        GFileMonitor *mdev_monitors[2]; /* sys/bus/mdev/devices, sys/class/mdev_bus */
        GFileMonitor *bus_monitors[2];  /* sys/bus/usb/devices, sys/bus/scsi/devices */
        GPtrArray *dev_monitors; /* GFileMonitor* */
        GList *waiters;          /* Waiter*: long polls waiting for the next generation */
        guint flush_id;          /* the debounce before waiters are answered */
};

/* A long poll: GET /v1/devices?wait=N with the current ETag in If-None-Match. */
typedef struct {
        HdWatch *w;
        HdHttpRequest *msg; /* suspended */
        HdWatchGetFunc get;
        guint timeout_id;
} Waiter;

static void answer_waiter(Waiter *wt, gboolean changed);

static void update_etag(HdWatch *w)
{
        g_free(w->etag);
        w->etag = g_strdup_printf("\"%s-%" G_GUINT64_FORMAT "\"", w->boot, w->generation);
}

static void drop_cache(HdWatch *w)
{
        g_clear_pointer(&w->fingerprint, g_free);
        g_clear_pointer(&w->inv, hd_inventory_free);
        g_clear_pointer(&w->devices_json, g_bytes_unref);
        g_clear_pointer(&w->groups_json, g_bytes_unref);
        g_clear_pointer(&w->mdev_json, g_bytes_unref);
        g_clear_pointer(&w->usb_json, g_bytes_unref);
        g_clear_pointer(&w->scsi_json, g_bytes_unref);
}

static gboolean flush_waiters(gpointer data)
{
        HdWatch *w = data;
        GList *list = g_steal_pointer(&w->waiters);

        w->flush_id = 0;
        for (GList *l = list; l; l = l->next)
                answer_waiter(l->data, TRUE);
        g_list_free(list);
        return G_SOURCE_REMOVE;
}

void hd_watch_bump(HdWatch *w, const char *why)
{
        char gen[32];

        w->generation++;
        update_etag(w);
        drop_cache(w);
        g_snprintf(gen, sizeof(gen), "%" G_GUINT64_FORMAT, w->generation);
        hd_agent_log("debug", "inventory changed", "generation", gen, "why", why, NULL);
        /* A transaction moves several drivers in a row: answer long polls once it settles. */
        if (w->waiters && !w->flush_id)
                w->flush_id = g_timeout_add(100, flush_waiters, w);
}

guint64 hd_watch_get_generation(HdWatch *w)
{
        return w->generation;
}

const char *hd_watch_get_etag(HdWatch *w)
{
        return w->etag;
}

/* ---- sources of change -------------------------------------------------------------------- */

/* The one handler of both uevent sources (udevd's and the kernel's), given events of the
 * watched subsystems only: the actions that can change what the inventory shows. */
static void device_event(HdWatch *w, const char *action, const char *name)
{
        g_autofree char *why = NULL;

        if (g_strcmp0(action, "add") != 0 && g_strcmp0(action, "remove") != 0 &&
            g_strcmp0(action, "bind") != 0 && g_strcmp0(action, "unbind") != 0 &&
            g_strcmp0(action, "change") != 0)
                return;
        why = g_strdup_printf("uevent %s %s", action, name);
        hd_watch_bump(w, why);
}

#ifdef HAVE_GUDEV
static void on_uevent(GUdevClient *client, const char *action, GUdevDevice *device,
                      gpointer user_data)
{
        device_event(user_data, action, g_udev_device_get_name(device));
}
#endif

static void on_kernel_uevent(const HdUevent *ev, gpointer user_data)
{
        HdWatch *w = user_data;
        const char *name;

        if (!ev) {
                hd_watch_bump(w, "kernel uevents were lost (socket buffer overflow)");
                return;
        }
        name = strrchr(ev->devpath, '/') + 1; /* the parser checked it starts with '/' */
        device_event(w, ev->action, name);
}

/* How long after a switch to udevd the inventory is read once more (source-switch.h;
 * HOSTDEVD_TEST_UDEVD_SETTLE_MS for tests). */
#define UDEVD_SETTLE_MS 2000

/* The sources the switch starts and stops (source-switch.h). */
static gboolean source_start(HdWatchSource source, gpointer user_data, GError **error)
{
        HdWatch *w = user_data;

        if (w->test_sources)
                return TRUE;
        if (source == HD_WATCH_SOURCE_KERNEL) {
                g_autoptr(GError) local = NULL;

                w->kernel = hd_uevent_monitor_open(hd_uevent_subsystems, on_kernel_uevent, w,
                                                   &local);
                if (!w->kernel) {
                        hd_agent_log("warning",
                                     "cannot hear the kernel's uevents: device changes made "
                                     "outside the agent are not noticed",
                                     "error", local->message, NULL);
                        g_propagate_error(error, g_steal_pointer(&local));
                        return FALSE;
                }
                return TRUE;
        }
#ifdef HAVE_GUDEV
        if (source == HD_WATCH_SOURCE_UDEVD) {
                w->udev = g_udev_client_new(hd_uevent_subsystems);
                g_signal_connect(w->udev, "uevent", G_CALLBACK(on_uevent), w);
                return TRUE;
        }
#endif
        g_set_error(error, HD_ERROR, HD_ERROR_NOT_SUPPORTED, "%s cannot be heard",
                    hd_watch_source_name(source));
        return FALSE;
}

static void source_stop(HdWatchSource source, gpointer user_data)
{
        HdWatch *w = user_data;

        if (w->test_sources)
                return;
        if (source == HD_WATCH_SOURCE_KERNEL)
                g_clear_pointer(&w->kernel, hd_uevent_monitor_free);
#ifdef HAVE_GUDEV
        if (source == HD_WATCH_SOURCE_UDEVD && w->udev) {
                g_signal_handlers_disconnect_by_data(w->udev, w);
                g_clear_object(&w->udev);
        }
#endif
}

static void source_switched(HdWatchSource before, HdWatchSource now, gboolean udevd_running,
                            gpointer user_data)
{
        HdWatch *w = user_data;
        g_autofree char *why = g_strdup_printf("the source of device changes is now %s (udevd %s)",
                                               hd_watch_source_name(now),
                                               udevd_running ? "started" : "stopped");

        hd_agent_log("info", "switched the source of device changes", "source",
                     hd_watch_source_name(now), "previous", hd_watch_source_name(before),
                     "udevd", udevd_running ? "running" : "not running", NULL);
        /* anything may have changed while neither source was complete */
        hd_watch_bump(w, why);
}

static void source_reread(const char *why, gpointer user_data)
{
        hd_watch_bump(user_data, why);
}

static const HdSourceSwitchOps source_ops = {
        .start = source_start,
        .stop = source_stop,
        .switched = source_switched,
        .reread = source_reread,
};

/* On the live root: udevd's events through GUdev, or the kernel's own (uevent.h), following
 * udevd as it starts and stops (source-switch.h). Under --root with test_sources: the same
 * switch on the tree's run/udev, with sources that hear nothing (tests of the switching). */
static void watch_uevents(HdWatch *w)
{
#ifdef HAVE_GUDEV
        const gboolean have_gudev = TRUE;
#else
        const gboolean have_gudev = w->test_sources;
#endif
        g_autofree char *subsystems = g_strjoinv(",", (char **)hd_uevent_subsystems);
        const char *settle = g_getenv("HOSTDEVD_TEST_UDEVD_SETTLE_MS");
        const char *why = NULL;
        HdWatchSource source;

        w->sources = hd_source_switch_new(
            hd_ctx_get_root_fd(w->agent->ctx), have_gudev,
            settle ? (guint)MIN(g_ascii_strtoull(settle, NULL, 10), 60000) : UDEVD_SETTLE_MS,
            &source_ops, w);
        source = hd_source_switch_get_source(w->sources);
        if (!hd_source_switch_is_following(w->sources, &why))
                hd_agent_log("warning",
                             "cannot watch run/udev: a udevd started or stopped later is not "
                             "followed",
                             "error", why, NULL);
        if (source == HD_WATCH_SOURCE_NONE)
                return;
        hd_agent_log("info", "watching device changes", "source", hd_watch_source_name(source),
                     "subsystem", subsystems, "udevd",
                     hd_source_switch_get_udevd_running(w->sources) ? "running" : "not running",
                     NULL);
}

static void watch_devices(HdWatch *w);

static void on_device_dir_event(GFileMonitor *mon, GFile *file, GFile *other,
                                GFileMonitorEvent event, gpointer user_data)
{
        HdWatch *w = user_data;
        g_autofree char *base = g_file_get_basename(file);

        if (strcmp(base, "driver") != 0)
                return;
        if (event == G_FILE_MONITOR_EVENT_CREATED || event == G_FILE_MONITOR_EVENT_DELETED ||
            event == G_FILE_MONITOR_EVENT_MOVED_IN || event == G_FILE_MONITOR_EVENT_MOVED_OUT ||
            event == G_FILE_MONITOR_EVENT_RENAMED) {
                g_autoptr(GFile) parent = g_file_get_parent(file);
                g_autofree char *dev = g_file_get_basename(parent);
                g_autofree char *why = g_strdup_printf("driver link of %s", dev);
                hd_watch_bump(w, why);
        }
}

static void on_bus_dir_event(GFileMonitor *mon, GFile *file, GFile *other, GFileMonitorEvent event,
                             gpointer user_data)
{
        HdWatch *w = user_data;

        if (event == G_FILE_MONITOR_EVENT_CREATED || event == G_FILE_MONITOR_EVENT_DELETED ||
            event == G_FILE_MONITOR_EVENT_MOVED_IN || event == G_FILE_MONITOR_EVENT_MOVED_OUT) {
                g_autofree char *name = g_file_get_basename(file);
                g_autofree char *why = g_strdup_printf(
                    "device %s %s", name,
                    event == G_FILE_MONITOR_EVENT_CREATED || event == G_FILE_MONITOR_EVENT_MOVED_IN
                        ? "appeared"
                        : "disappeared");
                hd_watch_bump(w, why);
                watch_devices(w);
        }
}

static void on_mdev_dir_event(GFileMonitor *mon, GFile *file, GFile *other,
                              GFileMonitorEvent event, gpointer user_data)
{
        HdWatch *w = user_data;

        if (event == G_FILE_MONITOR_EVENT_CREATED || event == G_FILE_MONITOR_EVENT_DELETED ||
            event == G_FILE_MONITOR_EVENT_MOVED_IN || event == G_FILE_MONITOR_EVENT_MOVED_OUT) {
                g_autofree char *name = g_file_get_basename(file);
                g_autofree char *why = g_strdup_printf(
                    "mdev %s %s", name,
                    event == G_FILE_MONITOR_EVENT_CREATED || event == G_FILE_MONITOR_EVENT_MOVED_IN
                        ? "appeared"
                        : "disappeared");
                hd_watch_bump(w, why);
        }
}

/* A USB device or SCSI LUN (or one of their interfaces, hosts, targets) appeared or went. */
static void on_usb_scsi_dir_event(GFileMonitor *mon, GFile *file, GFile *other,
                                  GFileMonitorEvent event, gpointer user_data)
{
        HdWatch *w = user_data;

        if (event == G_FILE_MONITOR_EVENT_CREATED || event == G_FILE_MONITOR_EVENT_DELETED ||
            event == G_FILE_MONITOR_EVENT_MOVED_IN || event == G_FILE_MONITOR_EVENT_MOVED_OUT) {
                g_autofree char *name = g_file_get_basename(file);
                g_autofree char *why = g_strdup_printf(
                    "%s %s %s", mon == w->bus_monitors[0] ? "usb" : "scsi", name,
                    event == G_FILE_MONITOR_EVENT_CREATED || event == G_FILE_MONITOR_EVENT_MOVED_IN
                        ? "appeared"
                        : "disappeared");
                hd_watch_bump(w, why);
        }
}

/* One monitor per device directory (the real directory behind the bus link). */
static void watch_devices(HdWatch *w)
{
        g_autofree char *bus = g_build_filename(w->agent->root, "sys/bus/pci/devices", NULL);
        g_autoptr(GDir) dir = g_dir_open(bus, 0, NULL);
        const char *name;

        g_ptr_array_set_size(w->dev_monitors, 0);
        if (!dir)
                return;
        while ((name = g_dir_read_name(dir))) {
                HdAddress a;
                g_autofree char *link = NULL;
                g_autofree char *real = NULL;
                g_autoptr(GFile) f = NULL;
                GFileMonitor *mon;

                if (!hd_address_parse_sysfs_name(name, &a))
                        continue;
                link = g_build_filename(bus, name, NULL);
                real = realpath(link, NULL);
                /* A link out of the root (a hostile tree) is not one of its devices: watch
                 * nothing outside the root (the library will not read there either). */
                if (!real ||
                    (strcmp(w->agent->root, "/") != 0 && (!g_str_has_prefix(real, w->agent->root) ||
                                                          real[strlen(w->agent->root)] != '/')))
                        continue;
                f = g_file_new_for_path(real);
                mon = g_file_monitor_directory(f, G_FILE_MONITOR_NONE, NULL, NULL);
                if (!mon)
                        continue;
                g_signal_connect(mon, "changed", G_CALLBACK(on_device_dir_event), w);
                g_ptr_array_add(w->dev_monitors, mon);
        }
}

static void monitor_free(gpointer p)
{
        GFileMonitor *mon = p;

        g_signal_handlers_disconnect_matched(mon, G_SIGNAL_MATCH_FUNC, 0, 0, NULL,
                                             on_device_dir_event, NULL);
        g_file_monitor_cancel(mon);
        g_object_unref(mon);
}

HdWatch *hd_watch_new(HdAgent *agent)
{
        HdWatch *w = g_new0(HdWatch, 1);

        w->agent = agent;
        g_snprintf(w->boot, sizeof(w->boot), "%08x", g_random_int());
        w->generation = 1;
        update_etag(w);
        w->recheck_us = RECHECK_US;
        {
                const char *ms = g_getenv("HOSTDEVD_TEST_RECHECK_MS");
                if (ms)
                        w->recheck_us = (gint64)g_ascii_strtoull(ms, NULL, 10) * 1000;
        }
        w->dev_monitors = g_ptr_array_new_with_free_func(monitor_free);
        if (hd_ctx_is_live_root(agent->ctx)) {
                watch_uevents(w);
        } else {
                g_autofree char *bus = g_build_filename(agent->root, "sys/bus/pci/devices", NULL);
                g_autoptr(GFile) f = g_file_new_for_path(bus);

                w->dir_monitor = g_file_monitor_directory(f, G_FILE_MONITOR_NONE, NULL, NULL);
                if (w->dir_monitor)
                        g_signal_connect(w->dir_monitor, "changed", G_CALLBACK(on_bus_dir_event),
                                         w);
                watch_devices(w);
                {
                        static const char *const mdev_dirs[] = {"sys/bus/mdev/devices",
                                                                "sys/class/mdev_bus"};
                        for (guint i = 0; i < G_N_ELEMENTS(mdev_dirs); i++) {
                                g_autofree char *p =
                                    g_build_filename(agent->root, mdev_dirs[i], NULL);
                                g_autoptr(GFile) mf = g_file_new_for_path(p);
                                w->mdev_monitors[i] = g_file_monitor_directory(
                                    mf, G_FILE_MONITOR_NONE, NULL, NULL);
                                if (w->mdev_monitors[i])
                                        g_signal_connect(w->mdev_monitors[i], "changed",
                                                         G_CALLBACK(on_mdev_dir_event), w);
                        }
                }
                {
                        static const char *const bus_dirs[] = {"sys/bus/usb/devices",
                                                               "sys/bus/scsi/devices"};
                        for (guint i = 0; i < G_N_ELEMENTS(bus_dirs); i++) {
                                g_autofree char *p =
                                    g_build_filename(agent->root, bus_dirs[i], NULL);
                                g_autoptr(GFile) bf = g_file_new_for_path(p);
                                w->bus_monitors[i] = g_file_monitor_directory(
                                    bf, G_FILE_MONITOR_NONE, NULL, NULL);
                                if (w->bus_monitors[i])
                                        g_signal_connect(w->bus_monitors[i], "changed",
                                                         G_CALLBACK(on_usb_scsi_dir_event), w);
                        }
                }
                hd_agent_log("info", "watching device changes", "source",
                             hd_watch_source_name(HD_WATCH_SOURCE_INOTIFY), "dir", bus, NULL);
                if (g_strcmp0(g_getenv("HOSTDEVD_TEST_FOLLOW_UDEVD"), "1") == 0) {
                        w->test_sources = TRUE;
                        watch_uevents(w);
                }
        }
        return w;
}

const char *const hd_watch_source_labels[] = {"udevd", "kernel", "inotify", "none", NULL};

const char *hd_watch_get_source_label(HdWatch *w)
{
        if (!w->sources)
                return "inotify";
        switch (hd_source_switch_get_source(w->sources)) {
        case HD_WATCH_SOURCE_UDEVD:
                return "udevd";
        case HD_WATCH_SOURCE_KERNEL:
                return "kernel";
        case HD_WATCH_SOURCE_INOTIFY:
                return "inotify";
        case HD_WATCH_SOURCE_NONE:
                break;
        }
        return "none";
}

guint64 hd_watch_get_source_switches(HdWatch *w)
{
        return w->sources ? hd_source_switch_get_switches(w->sources) : 0;
}

guint hd_watch_get_waiting(HdWatch *w)
{
        return g_list_length(w->waiters);
}

void hd_watch_release_waiters(HdWatch *w)
{
        GList *list = g_steal_pointer(&w->waiters);

        g_clear_handle_id(&w->flush_id, g_source_remove);
        for (GList *l = list; l; l = l->next)
                answer_waiter(l->data, FALSE);
        g_list_free(list);
}

void hd_watch_free(HdWatch *w)
{
        if (!w)
                return;
        hd_watch_release_waiters(w);
        g_clear_handle_id(&w->recheck_id, g_source_remove);
        g_clear_pointer(&w->sources, hd_source_switch_free); /* stops the source heard */
        if (w->dir_monitor) {
                g_signal_handlers_disconnect_by_data(w->dir_monitor, w);
                g_file_monitor_cancel(w->dir_monitor);
                g_object_unref(w->dir_monitor);
        }
        for (guint i = 0; i < G_N_ELEMENTS(w->mdev_monitors); i++) {
                if (!w->mdev_monitors[i])
                        continue;
                g_signal_handlers_disconnect_by_data(w->mdev_monitors[i], w);
                g_file_monitor_cancel(w->mdev_monitors[i]);
                g_object_unref(w->mdev_monitors[i]);
        }
        for (guint i = 0; i < G_N_ELEMENTS(w->bus_monitors); i++) {
                if (!w->bus_monitors[i])
                        continue;
                g_signal_handlers_disconnect_by_data(w->bus_monitors[i], w);
                g_file_monitor_cancel(w->bus_monitors[i]);
                g_object_unref(w->bus_monitors[i]);
        }
        g_ptr_array_unref(w->dev_monitors);
        drop_cache(w);
        g_free(w->etag);
        g_free(w);
}

/* ---- facts no event announces --------------------------------------------------------------- */

static gboolean ensure_inventory(HdWatch *w, GError **error);

/* The fingerprint of the facts as they are now (state.h). */
static char *facts_fingerprint(HdWatch *w)
{
        g_autoptr(HdStateFacts) facts = hd_state_facts_read(w->agent->ctx);

        return hd_state_facts_fingerprint(facts);
}

/* Check the facts again when the last check is older than recheck_us; move the generation
 * when they changed since the cached inventory was read. */
static void recheck_facts(HdWatch *w)
{
        gint64 now = g_get_monotonic_time();
        g_autofree char *now_fp = NULL;

        if (!w->inv || !w->fingerprint || now - w->checked_at < w->recheck_us)
                return;
        w->checked_at = now;
        now_fp = facts_fingerprint(w);
        if (strcmp(now_fp, w->fingerprint) != 0)
                hd_watch_bump(w, "a group was opened or closed, or an interrupted operation "
                                 "appeared or was recovered");
}

static gboolean recheck_timer(gpointer data)
{
        HdWatch *w = data;

        if (!w->waiters) {
                w->recheck_id = 0;
                return G_SOURCE_REMOVE;
        }
        /* the waiters wait for the next generation: read it so that a change is seen */
        (void)ensure_inventory(w, NULL);
        recheck_facts(w);
        return G_SOURCE_CONTINUE;
}

/* ---- the cached answers ------------------------------------------------------------------- */

static gboolean ensure_inventory(HdWatch *w, GError **error)
{
        if (w->inv && w->cached_generation == w->generation)
                return TRUE;
        drop_cache(w);
        w->inv = hd_inventory_scan(w->agent->ctx, HD_FIELDS_LIST, error);
        if (!w->inv)
                return FALSE;
        /* as `hostdev list` and `hostdev groups`: one state for every device and group, from
         * facts read once, whose fingerprint the next checks compare with */
        {
                g_autoptr(HdStateFacts) facts = hd_state_facts_read(w->agent->ctx);
                hd_state_evaluate_inventory_with(w->agent->ctx, w->inv, facts);
                g_free(w->fingerprint);
                w->fingerprint = hd_state_facts_fingerprint(facts);
        }
        w->cached_generation = w->generation;
        w->checked_at = g_get_monotonic_time();
        return TRUE;
}

static gboolean append_to_string(const char *data, gsize len, gpointer user_data)
{
        g_string_append_len(user_data, data, len);
        return TRUE;
}

/* {"generation": N, "<member>": [...]}, streamed (no JSON tree for thousands of VFs) with the
 * objects `hostdev list --json` and `hostdev groups --json` write. */
static GBytes *serialize(HdWatch *w, const char *member, gboolean groups)
{
        GString *out = g_string_sized_new(4096);
        g_autoptr(HdJsonWriter) jw = hd_json_writer_new_stream(append_to_string, out);
        GPtrArray *items = groups ? w->inv->groups : w->inv->devices;

        hd_json_writer_begin_object(jw);
        hd_json_writer_member(jw, "generation");
        hd_json_writer_int(jw, (gint64)w->generation);
        hd_json_writer_member(jw, member);
        hd_json_writer_begin_array(jw);
        for (guint i = 0; i < items->len; i++) {
                if (groups)
                        hd_json_write_group(jw, items->pdata[i]);
                else
                        hd_json_write_device(jw, items->pdata[i], FALSE);
        }
        hd_json_writer_end_array(jw);
        hd_json_writer_end_object(jw);
        hd_json_writer_finish(jw);
        return g_string_free_to_bytes(out);
}

GBytes *hd_watch_get_devices_json(HdWatch *w, GError **error)
{
        recheck_facts(w);
        if (!ensure_inventory(w, error))
                return NULL;
        if (!w->devices_json)
                w->devices_json = serialize(w, "devices", FALSE);
        return w->devices_json;
}

GBytes *hd_watch_get_groups_json(HdWatch *w, GError **error)
{
        recheck_facts(w);
        if (!ensure_inventory(w, error))
                return NULL;
        if (!w->groups_json)
                w->groups_json = serialize(w, "groups", TRUE);
        return w->groups_json;
}

typedef void (*AddItem)(JsonBuilder *b, gconstpointer item);

/* A member of an on-demand answer: @items as an array, each through @add. */
static void add_items(JsonBuilder *b, const char *member, GPtrArray *items, AddItem add)
{
        json_builder_set_member_name(b, member);
        json_builder_begin_array(b);
        for (guint i = 0; i < items->len; i++)
                add(b, items->pdata[i]);
        json_builder_end_array(b);
}

/* An on-demand answer of the current generation (mdev, USB, SCSI: read when first asked, not
 * with the PCI scan), kept in *@slot until the generation moves: {"generation", @member: @items,
 * [@member2: @items2]}. */
static GBytes *cache_answer(HdWatch *w, GBytes **slot, const char *member, GPtrArray *items,
                            AddItem add, const char *member2, GPtrArray *items2, AddItem add2)
{
        g_autoptr(JsonBuilder) b = json_builder_new();
        char *text;

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "generation");
        json_builder_add_int_value(b, (gint64)w->generation);
        add_items(b, member, items, add);
        if (member2)
                add_items(b, member2, items2, add2);
        json_builder_end_object(b);
        text = hd_json_to_string(b, FALSE);
        *slot = g_bytes_new_take(text, strlen(text));
        return *slot;
}

/* The answer in *@slot when the inventory is current and it was made for this generation;
 * NULL when it is to be made (FALSE in *@ok with @error when the inventory is unreadable). */
static GBytes *cached_answer(HdWatch *w, GBytes **slot, gboolean *ok, GError **error)
{
        recheck_facts(w);
        *ok = ensure_inventory(w, error);
        return *ok ? *slot : NULL;
}

/* The mdev answer of the current generation: parents with their types and capacity, and the
 * instances, read when first asked (not with the PCI scan: most hosts have none). */
GBytes *hd_watch_get_mdev_json(HdWatch *w, GError **error)
{
        g_autoptr(GPtrArray) parents = NULL;
        g_autoptr(GPtrArray) mdevs = NULL;
        GBytes *cached;
        gboolean ok;

        if ((cached = cached_answer(w, &w->mdev_json, &ok, error)) || !ok)
                return cached;
        if (!(parents = hd_mdev_list_parents(w->agent->ctx, error)) ||
            !(mdevs = hd_mdev_list(w->agent->ctx, error)))
                return NULL;
        return cache_answer(w, &w->mdev_json, "parents", parents,
                            (AddItem)hd_json_add_mdev_parent, "mdevs", mdevs,
                            (AddItem)hd_json_add_mdev);
}

/* The USB answer of the current generation: every device with its verdict (`hostdev usb list
 * --json`), read when first asked. A process opening or closing a device node (the "held"
 * verdict) sends no event: the list shows it from the next generation on, the single-device
 * and configuration answers read it fresh. */
GBytes *hd_watch_get_usb_json(HdWatch *w, GError **error)
{
        g_autoptr(GPtrArray) devices = NULL;
        GBytes *cached;
        gboolean ok;

        if ((cached = cached_answer(w, &w->usb_json, &ok, error)) || !ok)
                return cached;
        if (!(devices = hd_usb_scan(w->agent->ctx, error)))
                return NULL;
        hd_usb_evaluate(w->agent->ctx, devices);
        return cache_answer(w, &w->usb_json, "devices", devices, (AddItem)hd_usb_json_add_device,
                            NULL, NULL, NULL);
}

/* The SCSI answer of the current generation: every LUN with its verdict (`hostdev scsi list
 * --json`); the same note on processes holding a node as for USB. */
GBytes *hd_watch_get_scsi_json(HdWatch *w, GError **error)
{
        g_autoptr(GPtrArray) luns = NULL;
        GBytes *cached;
        gboolean ok;

        if ((cached = cached_answer(w, &w->scsi_json, &ok, error)) || !ok)
                return cached;
        if (!(luns = hd_scsi_list(w->agent->ctx, error)))
                return NULL;
        return cache_answer(w, &w->scsi_json, "luns", luns, (AddItem)hd_json_add_scsi_device,
                            NULL, NULL, NULL);
}

void hd_watch_get_counts(HdWatch *w, int *n_devices, int *n_groups)
{
        if (!ensure_inventory(w, NULL)) {
                *n_devices = *n_groups = -1;
                return;
        }
        *n_devices = w->inv->devices->len;
        *n_groups = w->inv->groups->len;
}

static gboolean etag_matches(const char *header, const char *etag)
{
        g_auto(GStrv) tags = g_strsplit(header, ",", -1);

        for (char **t = tags; *t; t++) {
                char *tag = g_strstrip(*t);
                if (strcmp(tag, "*") == 0)
                        return TRUE;
                if (g_str_has_prefix(tag, "W/"))
                        tag += 2;
                if (strcmp(tag, etag) == 0)
                        return TRUE;
        }
        return FALSE;
}

gboolean hd_watch_handle_conditional(HdWatch *w, HdHttpRequest *msg)
{
        const char *inm = hd_http_request_get_header(msg, "If-None-Match");
        char gen[32];

        recheck_facts(w);
        g_snprintf(gen, sizeof(gen), "%" G_GUINT64_FORMAT, w->generation);
        hd_http_request_set_header(msg, "ETag", w->etag);
        hd_http_request_set_header(msg, "X-Hostdev-Generation", gen);
        hd_http_request_set_header(msg, "Cache-Control", "no-cache");
        if (inm && etag_matches(inm, w->etag)) {
                hd_http_respond_empty(msg, HD_HTTP_NOT_MODIFIED);
                return TRUE;
        }
        return FALSE;
}

/* ---- long polls ----------------------------------------------------------------------------- */

static void waiter_free(Waiter *wt)
{
        g_clear_handle_id(&wt->timeout_id, g_source_remove);
        hd_http_request_unref(wt->msg);
        g_free(wt);
}

/* Answer with the new generation's JSON (@changed), or 304 (the wait ran out, or the agent is
 * stopping). */
static void answer_waiter(Waiter *wt, gboolean changed)
{
        g_autoptr(GError) error = NULL;

        if (!hd_watch_handle_conditional(wt->w, wt->msg) || !changed) {
                GBytes *json = changed ? wt->get(wt->w, &error) : NULL;
                if (json)
                        hd_http_respond_bytes(wt->msg, HD_HTTP_OK, "application/json", json);
                else if (error)
                        hd_respond_gerror(wt->msg, error);
                else
                        hd_http_respond_empty(wt->msg, HD_HTTP_NOT_MODIFIED);
        }
        hd_http_request_resume(wt->msg);
        waiter_free(wt);
}

static gboolean waiter_timeout(gpointer data)
{
        Waiter *wt = data;

        wt->timeout_id = 0;
        wt->w->waiters = g_list_remove(wt->w->waiters, wt);
        answer_waiter(wt, FALSE);
        return G_SOURCE_REMOVE;
}

/* A suspended request is not watched by the HTTP layer: a caller that goes away is noticed
 * when the wait ends (bounded by ?wait, at most 300 s, and by the connection limits). */
void hd_watch_wait(HdWatch *w, HdHttpRequest *msg, guint seconds, HdWatchGetFunc get)
{
        Waiter *wt = g_new0(Waiter, 1);

        wt->w = w;
        wt->msg = hd_http_request_ref(msg);
        wt->get = get;
        wt->timeout_id = g_timeout_add(seconds * 1000, waiter_timeout, wt);
        w->waiters = g_list_prepend(w->waiters, wt);
        if (!w->recheck_id)
                w->recheck_id = g_timeout_add(MAX(w->recheck_us / 1000, 100), recheck_timer, w);
        hd_http_request_suspend(msg);
}
