/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdevd: the per-host agent. An authenticated HTTP+JSON API over libhostdev and libvirt.
 *
 * One process, one GMainLoop. Reads (inventory, host facts, metrics) are answered on the main
 * thread from a per-generation cache; mutations (detach, attach, verify, VM start/stop) run
 * in GTask threads, each with its own HdCtx, and report back on the main thread, which is
 * the only thread that touches the server, the generation and the caches.
 *
 * Modules:
 *   main.c             options, configuration, recovery at start, signals, the main loop
 *   config.c           GKeyFile configuration and command line options
 *   token.c            the bearer tokens: generated at first start, 0600, constant-time check
 *   server.c           the agent on the HTTP layer (src/http/http.h): auth and method checks
 *                      before any body byte, routing, JSON errors, access log and metrics
 *   request.c          request bodies to validated values (no HTTP: fuzzed on its own)
 *   respond.c          JSON answers and errors, HD_ERROR to HTTP status, bodies as JSON objects
 *   api-devices.c      /v1/devices, /v1/groups, detach / attach / verify
 *   api-host.c         /v1/host, /v1/host/reboot, /v1/kernel-args
 *   api-vms.c          /v1/vms: libvirt domains and the host devices detached for them
 *   vm-usbscsi.c       the USB devices and SCSI LUNs of those VMs: kept as specs in the
 *                      domain's metadata, resolved at each start, one owner per host
 *   api-sriov.c        /v1/devices/{pf}/sriov (the VF count), /v1/devices/{vf}/vf-net (a NIC
 *                      VF's network settings), /v1/mdev (mediated devices)
 *   api-usbscsi.c      /v1/usb (USB devices), /v1/scsi (SCSI LUNs): inventory, verdicts and
 *                      the libvirt XML that gives one to a VM (no IOMMU needed); /v1/npiv
 *                      (FC hosts and vports, read-only)
 *   ops.c              running a mutation in a thread under the agent's per-group queue
 *   inventory-watch.c  the inventory generation, its ETag, the cached JSON, uevents/inotify
 *   uevent.c           the kernel's uevents when udevd is not heard (parser, sender check,
 *                      monitor) and the choice of the source of device changes
 *   source-switch.c    following udevd: the choice made again when run/udev/control appears
 *                      or goes (inotify), the switch between udevd's source and the kernel's
 *   metrics.c          Prometheus counters and the request latency histogram
 *   log.c              structured key=value log lines on stderr
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include "hostdev.h"
#include "http.h"
#include "request.h"

/* The largest request body accepted (413 above it). */
#define HD_AGENT_MAX_BODY (64 * 1024)

typedef struct {
        char *root;          /* NULL: "/" */
        char *backend;       /* "real", "sim", "auto" */
        char *listen;        /* "127.0.0.1:8086", "[::1]:0" */
        char *token_file;    /* NULL: <root>/var/lib/hostdev/agent.token */
        char *ro_token_file; /* NULL: <root>/var/lib/hostdev/agent-ro.token */
        char *libvirt_uri;   /* NULL: qemu:///system */
        char *tls_cert;
        char *tls_key;
        char *config_file;
        char *images_dir;   /* a VM's disk_image must be beneath it (/var/lib/libvirt/images) */
        guint stop_timeout; /* seconds to wait for a VM to shut down before giving up */
        gboolean read_only; /* serve reads only: no recovery, 403 on every mutating call */
        gboolean verbose;
        /* HTTP limits (src/http/http.h): 0 takes the layer's default */
        guint max_connections; /* total */
        guint max_per_peer;    /* per client address */
        guint idle_timeout;    /* seconds */
} HdAgentOptions;

typedef struct HdWatch HdWatch;
typedef struct HdMetrics HdMetrics;

typedef struct {
        HdAgentOptions opts;
        HdBackendKind backend;
        char *root; /* normalised root ("/" for the live host) */
        HdCtx *ctx; /* main thread's context (reads) */
        char *token;
        char *ro_token;
        HdHttpServer *server;
        GMainLoop *loop;
        HdWatch *watch;
        HdMetrics *metrics;
        HdVirt *virt;     /* NULL until first use (lazy: libvirtd may be absent) */
        GMutex virt_lock; /* opening virt */
        char *virt_error;
        guint inflight;  /* operations running in threads (reads and mutations) */
        guint mutations; /* those of them that change the host: a reboot waits for none */
        gboolean stopping;
        /* per-group queue: groups being changed by a thread of this process */
        GMutex groups_lock;
        GCond groups_cond;
        GHashTable *busy_groups; /* GINT_TO_POINTER(group + 1) */
        GHashTable *busy_vms;    /* VM names with an operation running (same lock) */
        GMutex kernel_args_lock; /* one bootloader change at a time */
        GMutex usbscsi_lock;     /* the one-owner check of VMs' USB devices and LUNs, with the
                                  * write that makes the owner visible (vm-usbscsi.c) */
        gboolean reboot_pending;  /* POST /v1/host/reboot answered, the reboot not yet done */
        GMutex state_lock;       /* the VM state file */
        gint running;            /* operations past the queue, working (atomic) */
        gint running_max;        /* the most that ever worked at once (atomic) */
        guint test_op_delay_ms;  /* HOSTDEVD_TEST_OP_DELAY_MS: tests of the queue */
} HdAgent;

/* config.c */
gboolean hd_agent_options_parse(HdAgentOptions *opts, int *argc, char ***argv, GError **error);
void hd_agent_options_clear(HdAgentOptions *opts);

/* token.c */
gboolean hd_agent_tokens_load(HdAgent *agent, GError **error);
/* Constant-time comparison of two NUL-terminated secrets. */
gboolean hd_token_equal(const char *a, const char *b);

/* log.c: one line "hostdevd: level=info msg=\"...\" key=value ..." on stderr. @kv is a
 * NULL-terminated list of key, value pairs. */
void hd_agent_log(const char *level, const char *msg, ...) G_GNUC_NULL_TERMINATED;
void hd_agent_set_verbose(gboolean verbose);

/* server.c */
gboolean hd_agent_server_start(HdAgent *agent, GError **error);
/* SIGTERM: accept no new connections; answer what runs. */
void hd_agent_server_stop_accepting(HdAgent *agent);
void hd_agent_server_stop(HdAgent *agent);

typedef enum {
        HD_ACCESS_READ,
        HD_ACCESS_WRITE,
} HdAccess;

/* Route context given to every API handler. */
typedef struct {
        HdAgent *agent;
        HdHttpRequest *msg;
        const char *method; /* HEAD is routed as GET */
        GHashTable *query;  /* decoded query parameters, may be NULL */
        char **segments;    /* path split on '/', without the leading "v1" */
        guint n_segments;
} HdRequest;

/* respond.c: answers. The body is JSON; errors are {"error":{"code","message"}}. */
void hd_respond_json(HdHttpRequest *msg, guint status, const char *json);
void hd_respond_builder(HdHttpRequest *msg, guint status, JsonBuilder *b);
void hd_respond_error(HdHttpRequest *msg, guint status, const char *code, const char *format, ...)
    G_GNUC_PRINTF(4, 5);
/* The error code an answer gives for @error: HD_ERROR's (hd_error_code_name()) or the agent's
 * own ("device-absent", "in-use"). */
const char *hd_respond_code_name(const GError *error);
/* An HD_ERROR (or other) GError as its HTTP status and error code. */
void hd_respond_gerror(HdHttpRequest *msg, const GError *error);
/* The same, with "holder" (in the error object and beside it, as the engine's contract writes
 * it) when @holder is not NULL. */
void hd_respond_gerror_holder(HdHttpRequest *msg, const GError *error, const char *holder);
guint hd_http_status_for_error(const GError *error);
/* 405 with an Allow header. */
void hd_respond_bad_method(HdHttpRequest *msg, const char *allow);

/* The request body as a JSON object (request.h rules; an empty body is an empty object). On
 * failure responds 400 or 413 and returns NULL. */
JsonObject *hd_request_json_object(HdRequest *req);

/* api-*.c: return TRUE when the path was theirs (answered or suspended). */
gboolean hd_api_devices(HdRequest *req);
gboolean hd_api_host(HdRequest *req);
gboolean hd_api_vms(HdRequest *req);
gboolean hd_api_mdev(HdRequest *req);
gboolean hd_api_usb(HdRequest *req);
gboolean hd_api_scsi(HdRequest *req);
gboolean hd_api_npiv(HdRequest *req);
/* GET /v1/vhost-scsi, GET /v1/vhost-scsi/{wwpn}/xml (api-usbscsi.c) */
gboolean hd_api_vhost_scsi(HdRequest *req);
/* GET/POST /v1/devices/{address}/sriov */
void hd_api_sriov(HdRequest *req, const HdAddress *addr);
/* GET/PUT /v1/devices/{address}/vf-net */
void hd_api_vf_net(HdRequest *req, const HdAddress *addr);

/* api-vms.c: give back the devices of VMs that are no longer running (at start). */
void hd_agent_vms_reconcile(HdAgent *agent);
/* The VM for which the agent detached @name and which may be running, or NULL. */
char *hd_agent_vm_holding(HdAgent *agent, const char *name);

/* vm-usbscsi.c: the USB devices and SCSI LUNs of VMs (POST /v1/vms "usb" and "scsi"). */
/* The agent's own refusals, answered 409 with their codes (respond.c): a device a VM names is
 * not on the host at its start ("device-absent"), another VM of this agent has it ("in-use",
 * with "holder": that VM). */
#define HD_AGENT_ERROR (hd_agent_error_quark())
GQuark hd_agent_error_quark(void);
typedef enum {
        HD_AGENT_ERROR_DEVICE_ABSENT,
        HD_AGENT_ERROR_IN_USE,
} HdAgentError;
/* Define VM @a->name with @spec, and keep its USB and SCSI specs with it, refused (in-use) when
 * another VM has one of its devices. */
gboolean hd_agent_vm_define_usbscsi(HdAgent *agent, HdCtx *ctx, HdVirt *virt, const HdVmArgs *a,
                                    const HdVmSpec *spec, GError **error);
/* Before VM @name starts: resolve its USB and SCSI specs to the devices there are now, apply
 * the host's refusals and the one-owner rule, and write the resolved <hostdev> elements into
 * its definition. Nothing to do for a VM without any. */
gboolean hd_agent_vm_prepare_usbscsi(HdAgent *agent, HdCtx *ctx, HdVirt *virt, const char *name,
                                     GError **error);
/* The "usb" and "scsi" members of a VM's answer, into an open object. */
void hd_agent_vm_usbscsi_json(JsonBuilder *b, HdVirt *virt, const char *name, gboolean active);

/* ops.c: the VM named as holder of the device in the HD_AGENT_ERROR_IN_USE error the running
 * operation is about to return (its answer's "holder"). */
void hd_agent_op_set_holder(const char *vm);

/* ops.c: run @func in a thread with a fresh HdCtx; the request is paused until it is done and
 * @func's JSON (or error) is the answer. @groups_of names the devices whose IOMMU groups the
 * operation changes: the agent queues operations on a group one behind the other (and the
 * library's lock keeps the CLI out). */
typedef JsonBuilder *(*HdOpFunc)(HdAgent *agent, HdCtx *ctx, gpointer data, GError **error);
/* What an operation does, for what waits on it: a device's driver changes (the inventory's
 * generation moves when it ends), the host changes (a bootloader file, a libvirt definition, a
 * VM: POST /v1/host/reboot waits until none runs). Reads are neither. */
typedef enum {
        HD_OP_READ = 0,
        HD_OP_CHANGES_DEVICES = 1 << 0,
        HD_OP_CHANGES_HOST = 1 << 1,
} HdOpKind;

void hd_agent_run_op(HdRequest *req, const char *op_name, const char *target, HdOpKind kind,
                     GArray *addresses, HdOpFunc func, gpointer data, GDestroyNotify data_free);
/* Used by the ops themselves: wait for the groups of @addresses (ints in @groups) to be free
 * in this process, and mark them busy; release afterwards. */
void hd_agent_groups_acquire(HdAgent *agent, GArray *groups);
void hd_agent_groups_release(HdAgent *agent, GArray *groups);
/* The IOMMU groups of @addresses, sorted and unique (-1 skipped). */
GArray *hd_agent_groups_of(HdCtx *ctx, const HdAddress *addresses, guint n);
/* A new context for a worker thread. */
HdCtx *hd_agent_ctx_new(HdAgent *agent, GError **error);
/* libvirt, opened on first use; NULL with @error when it cannot be reached. Call with
 * virt_lock held. */
HdVirt *hd_agent_get_virt(HdAgent *agent, GError **error);

/* inventory-watch.c */
HdWatch *hd_watch_new(HdAgent *agent);
void hd_watch_free(HdWatch *watch);
/* The agent changed the tree itself: move the generation now. */
void hd_watch_bump(HdWatch *watch, const char *why);
guint64 hd_watch_get_generation(HdWatch *watch);
/* "\"<boot>-<generation>\"" */
const char *hd_watch_get_etag(HdWatch *watch);
/* Serialized {"generation":N,"devices":[...]} / {"generation":N,"groups":[...]} for the current
 * generation, scanned at most once per generation (borrowed: answers reference the bytes, they
 * are not copied). NULL with @error when the scan fails. */
typedef GBytes *(*HdWatchGetFunc)(HdWatch *watch, GError **error);
GBytes *hd_watch_get_devices_json(HdWatch *watch, GError **error);
GBytes *hd_watch_get_groups_json(HdWatch *watch, GError **error);
/* {"generation":N,"parents":[...],"mdevs":[...]} (mdev-json.h) */
GBytes *hd_watch_get_mdev_json(HdWatch *watch, GError **error);
/* {"generation":N,"devices":[...]} (usb.h hd_usb_json_add_device) */
GBytes *hd_watch_get_usb_json(HdWatch *watch, GError **error);
/* {"generation":N,"luns":[...]} (json-scsi.h hd_json_add_scsi_device) */
GBytes *hd_watch_get_scsi_json(HdWatch *watch, GError **error);
/* Device and group counts of the cached inventory (-1 before the first scan). */
void hd_watch_get_counts(HdWatch *watch, int *n_devices, int *n_groups);
/* 304 handling: TRUE when the request's If-None-Match matches (the answer was sent). Sets
 * ETag and X-Hostdev-Generation on the response either way. */
gboolean hd_watch_handle_conditional(HdWatch *watch, HdHttpRequest *msg);

/* A GET of a cached answer (@get): 405 for other methods, 304 on a matching If-None-Match,
 * ?wait=N (0..300) for a long poll (api-devices.c). */
void hd_respond_cached(HdRequest *req, HdWatchGetFunc get);

/* Long poll: the request (whose If-None-Match holds the current ETag) waits up to @seconds
 * for the next generation and gets its JSON from @get, or 304 when nothing changed. */
void hd_watch_wait(HdWatch *watch, HdHttpRequest *msg, guint seconds, HdWatchGetFunc get);
/* Answer every waiting long poll with 304 (the agent is stopping). */
void hd_watch_release_waiters(HdWatch *watch);
/* The long polls waiting now (main thread). */
guint hd_watch_get_waiting(HdWatch *watch);
/* The source of device changes heard now, as the label of hostdev_event_source: one of
 * hd_watch_source_labels ("udevd", "kernel", "inotify" under --root, "none"). */
const char *hd_watch_get_source_label(HdWatch *watch);
extern const char *const hd_watch_source_labels[];
/* How often the agent switched between udevd's source and the kernel's (source-switch.h). */
guint64 hd_watch_get_source_switches(HdWatch *watch);

/* metrics.c */
HdMetrics *hd_metrics_new(void);
void hd_metrics_free(HdMetrics *m);
void hd_metrics_request(HdMetrics *m, guint status, double seconds);
void hd_metrics_operation(HdMetrics *m, const char *op, gboolean ok);
char *hd_metrics_render(HdMetrics *m, HdAgent *agent);
