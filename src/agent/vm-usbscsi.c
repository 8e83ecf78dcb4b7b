/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The USB devices and SCSI LUNs of the agent's VMs (POST /v1/vms "usb" and "scsi"; the contract
 * with the engine is docs/api/openapi.yaml). They need no VFIO and no IOMMU: QEMU opens the
 * host's device nodes, nothing is moved between drivers, nothing is recorded in vm-record.h.
 *
 * IDENTITY. A VM names a USB device by vendor:product[:serial] or port path and a LUN by WWID
 * or /dev/disk/by-id name (usb.h, scsi.h), never by the numbers the kernel gives at plug time:
 * the USB device number changes at every replug, the SCSI host number when adapters appear in
 * another order. Define checks the grammar only (a dongle may be unplugged then).
 *
 * STORAGE. What was asked is kept with the domain, in libvirt's <metadata>, namespace
 * VM_NS_URI (key "hostdev"):
 *     <hostdev:vm xmlns:hostdev="https://hostdev.dev/xmlns/agent-vm/1">
 *       <hostdev:usb spec="0403:6001:A10K7XYZ" force="no" bus="1" device="7"/>
 *       <hostdev:scsi wwid="naa.50014380272a1b2c" shareable="no" readonly="no" force="no"
 *                     hctl="0:0:1:0"/>
 *     </hostdev:vm>
 * libvirt keeps it in the persistent definition, so it survives an agent restart (and a host
 * reboot), leaves with the domain at undefine, and a domain defined under the same name by
 * someone else does not inherit it. A domain with this element is one "defined by the agent"
 * for the one-owner rule. bus, device and hctl are what the last start resolved (answered
 * while the VM runs, null otherwise).
 *
 * START (before the PCI devices are moved, so a refusal moves nothing): every spec is resolved
 * against the host as it is now (a replugged device is found at its new number); absent is
 * 409 device-absent naming the spec; the host's refusals are the library's (hd_usb_guest_check,
 * hd_scsi_check: a hub, the only keyboard, mounted storage, the root disk, LVM, ...; 409) with
 * the entry's force and shareable passing what they pass; then the one-owner rule; then the
 * definition's USB and SCSI <hostdev> elements are replaced by the resolved ones and the
 * metadata gets the resolved numbers.
 *
 * ONE OWNER. Define and start are refused (409 in-use, "holder": the VM) when another domain
 * with this metadata names the same USB device (the same spec, a spec that resolves now to the
 * same device, or, while it runs, the device its last start resolved) or the same LUN (the
 * same WWID, the same LUN now, or the one it runs with), unless both entries of the LUN are
 * shareable. At start this comes before the host's verdicts: a device a VM of this agent holds
 * open is in-use naming it, not the library's "held". The check and the write that makes the new
 * owner visible (the metadata at define, the definition at start) run under agent->usbscsi_lock.
 *
 * VHOST-SCSI TARGETS ("vhost_scsi": [{"wwpn"}], vhost.h): named by their WWPN, which does not
 * change, so their <hostdev type='scsi_host'><source protocol='vhost' wwpn/> elements go into
 * the definition at define and stay (hd_virt_set_usb_scsi() leaves them); the metadata keeps
 * <hostdev:vhost wwpn="..."/> for the one-owner rule (a target serves one initiator: never
 * shared, the WWPN compared in any case). At start each target must be in configfs (else 409
 * device-absent naming it), spelt as configfs spells it (QEMU hands the name to the kernel,
 * which compares it exactly), and ready (else refused with the library's reason), checked
 * after the one-owner rule as the host's verdicts are.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "agent.h"

#define VM_NS_URI "https://hostdev.dev/xmlns/agent-vm/1"
#define VM_NS_KEY "hostdev"

typedef struct {
        char *spec;
        gboolean force;
        int bus, device; /* resolved at the last start; -1 never */
} UsbEntry;

typedef struct {
        char *wwid;
        gboolean shareable, readonly, force;
        char *hctl; /* resolved at the last start; NULL never */
} ScsiEntry;

typedef struct {
        GArray *usb;      /* UsbEntry */
        GArray *scsi;     /* ScsiEntry */
        GPtrArray *vhost; /* char*: vhost-scsi target WWPNs */
} Entries;

static void usb_entry_clear(gpointer p)
{
        g_free(((UsbEntry *)p)->spec);
}

static void scsi_entry_clear(gpointer p)
{
        ScsiEntry *e = p;

        g_free(e->wwid);
        g_free(e->hctl);
}

static Entries *entries_new(void)
{
        Entries *e = g_new0(Entries, 1);

        e->usb = g_array_new(FALSE, TRUE, sizeof(UsbEntry));
        g_array_set_clear_func(e->usb, usb_entry_clear);
        e->scsi = g_array_new(FALSE, TRUE, sizeof(ScsiEntry));
        g_array_set_clear_func(e->scsi, scsi_entry_clear);
        e->vhost = g_ptr_array_new_with_free_func(g_free);
        return e;
}

static void entries_free(Entries *e)
{
        if (!e)
                return;
        g_array_unref(e->usb);
        g_array_unref(e->scsi);
        g_ptr_array_unref(e->vhost);
        g_free(e);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Entries, entries_free)

/* ---- the metadata element ---------------------------------------------------------------- */

static const char *attr(const char **names, const char **values, const char *name)
{
        for (guint i = 0; names[i]; i++)
                if (strcmp(names[i], name) == 0)
                        return values[i];
        return NULL;
}

static int attr_int(const char **names, const char **values, const char *name)
{
        const char *v = attr(names, values, name);
        guint64 n = 0;

        if (!v || !g_ascii_string_to_unsigned(v, 10, 0, 999, &n, NULL))
                return -1;
        return (int)n;
}

static const char *local_name(const char *element)
{
        const char *colon = strchr(element, ':');

        return colon ? colon + 1 : element;
}

static void meta_start(GMarkupParseContext *pc, const char *element, const char **names,
                       const char **values, gpointer data, GError **error)
{
        Entries *e = data;
        const char *name = local_name(element);

        if (strcmp(name, "usb") == 0) {
                const char *spec = attr(names, values, "spec");
                g_auto(HdUsbSpec) parsed = {0};
                UsbEntry u = {0};

                /* read like any input: only what define would have taken */
                if (!spec || !hd_usb_spec_parse(spec, NULL, &parsed, NULL))
                        return;
                u.spec = hd_usb_spec_format(&parsed);
                u.force = g_strcmp0(attr(names, values, "force"), "yes") == 0;
                u.bus = attr_int(names, values, "bus");
                u.device = attr_int(names, values, "device");
                g_array_append_val(e->usb, u);
        } else if (strcmp(name, "scsi") == 0) {
                const char *wwid = attr(names, values, "wwid");
                const char *hctl = attr(names, values, "hctl");
                HdScsiAddress a;
                HdScsiSpec parsed;
                ScsiEntry s = {0};

                if (!wwid || !hd_scsi_spec_parse(wwid, &parsed, NULL) ||
                    parsed.kind == HD_SCSI_SPEC_HCTL)
                        return;
                s.wwid = g_strdup(wwid);
                s.shareable = g_strcmp0(attr(names, values, "shareable"), "yes") == 0;
                s.readonly = g_strcmp0(attr(names, values, "readonly"), "yes") == 0;
                s.force = g_strcmp0(attr(names, values, "force"), "yes") == 0;
                s.hctl = hctl && hd_scsi_address_parse(hctl, &a) ? g_strdup(hctl) : NULL;
                g_array_append_val(e->scsi, s);
        } else if (strcmp(name, "vhost") == 0) {
                const char *wwpn = attr(names, values, "wwpn");

                if (wwpn && hd_vhost_wwpn_valid(wwpn))
                        g_ptr_array_add(e->vhost, g_strdup(wwpn));
        }
}

/* What VM @name asked for; empty when it has no metadata (not defined with usb or scsi). */
static Entries *entries_load(HdVirt *virt, const char *name, GError **error)
{
        static const GMarkupParser parser = {.start_element = meta_start};
        g_autofree char *xml = NULL;
        g_autoptr(Entries) e = entries_new();
        g_autoptr(GMarkupParseContext) pc = NULL;
        g_autoptr(GError) local = NULL;

        xml = hd_virt_get_metadata(virt, name, VM_NS_URI, &local);
        if (local) {
                g_propagate_error(error, g_steal_pointer(&local));
                return NULL;
        }
        if (!xml)
                return g_steal_pointer(&e);
        pc = g_markup_parse_context_new(&parser, 0, e, NULL);
        if (!g_markup_parse_context_parse(pc, xml, -1, &local) ||
            !g_markup_parse_context_end_parse(pc, &local)) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "the hostdev metadata of VM %s cannot be read (%s); define the VM "
                            "again",
                            name, local->message);
                return NULL;
        }
        return g_steal_pointer(&e);
}

static gboolean entries_store(HdVirt *virt, const char *name, const Entries *e, GError **error)
{
        g_autoptr(GString) s = g_string_new("<vm>");

        for (guint i = 0; i < e->usb->len; i++) {
                const UsbEntry *u = &g_array_index(e->usb, UsbEntry, i);
                g_autofree char *el = g_markup_printf_escaped("<usb spec='%s' force='%s'", u->spec,
                                                              u->force ? "yes" : "no");
                g_string_append(s, el);
                if (u->bus >= 0 && u->device >= 0)
                        g_string_append_printf(s, " bus='%d' device='%d'", u->bus, u->device);
                g_string_append(s, "/>");
        }
        for (guint i = 0; i < e->scsi->len; i++) {
                const ScsiEntry *c = &g_array_index(e->scsi, ScsiEntry, i);
                g_autofree char *el = g_markup_printf_escaped(
                    "<scsi wwid='%s' shareable='%s' readonly='%s' force='%s'", c->wwid,
                    c->shareable ? "yes" : "no", c->readonly ? "yes" : "no",
                    c->force ? "yes" : "no");
                g_string_append(s, el);
                if (c->hctl)
                        g_string_append_printf(s, " hctl='%s'", c->hctl);
                g_string_append(s, "/>");
        }
        for (guint i = 0; i < e->vhost->len; i++) {
                g_autofree char *el =
                    g_markup_printf_escaped("<vhost wwpn='%s'/>", (char *)e->vhost->pdata[i]);
                g_string_append(s, el);
        }
        g_string_append(s, "</vm>");
        return hd_virt_set_metadata(virt, name, VM_NS_KEY, VM_NS_URI, s->str, error);
}

/* ---- resolving ----------------------------------------------------------------------------- */

/* The USB device @spec names among @devices now (borrowed), NULL when none. */
static HdUsbDevice *usb_now(HdCtx *ctx, GPtrArray *devices, const char *spec)
{
        g_auto(HdUsbSpec) parsed = {0};

        if (!devices || !hd_usb_spec_parse(spec, NULL, &parsed, NULL))
                return NULL;
        return hd_usb_resolve(ctx, devices, &parsed, "spec", NULL);
}

/* The LUN @wwid names now ("0:0:1:0"), NULL when none. */
static char *scsi_now(HdCtx *ctx, const char *wwid)
{
        g_autoptr(HdScsiDevice) dev = NULL;
        HdScsiSpec parsed;

        if (!hd_scsi_spec_parse(wwid, &parsed, NULL) ||
            !(dev = hd_scsi_resolve(ctx, &parsed, NULL)))
                return NULL;
        return g_strdup(dev->name);
}

/* The other VM of this agent (one with the metadata) that has a device of @want: the same
 * spec, the same device now (@usb_devs, @scsi_keys: what each of @want's entries is now, NULL
 * when absent), or, while it runs, the device its last start resolved (its spec may name
 * another one now: a serial moved to another port); a LUN both have shareable is no
 * conflict. NULL when none. *@what: the spec in conflict. */
static char *find_holder(HdCtx *ctx, HdVirt *virt, const char *self, const Entries *want,
                         GPtrArray *usb_devices, HdUsbDevice **usb_devs, char **scsi_keys,
                         const char **what, GError **error)
{
        g_autoptr(GPtrArray) vms = hd_virt_list(virt, error);

        if (!vms)
                return NULL;
        for (guint v = 0; v < vms->len; v++) {
                const HdVmInfo *vm = vms->pdata[v];
                g_autoptr(Entries) have = NULL;

                if (strcmp(vm->name, self) == 0 || !(have = entries_load(virt, vm->name, NULL)))
                        continue;
                for (guint j = 0; j < have->usb->len; j++) {
                        const UsbEntry *h = &g_array_index(have->usb, UsbEntry, j);
                        const HdUsbDevice *now = usb_now(ctx, usb_devices, h->spec);

                        for (guint i = 0; i < want->usb->len; i++) {
                                const UsbEntry *w = &g_array_index(want->usb, UsbEntry, i);
                                const HdUsbDevice *mine = usb_devs[i];
                                if (strcmp(w->spec, h->spec) == 0 ||
                                    (mine && now && strcmp(mine->name, now->name) == 0) ||
                                    (mine && vm->active && h->bus == mine->busnum &&
                                     h->device == mine->devnum)) {
                                        *what = w->spec;
                                        return g_strdup(vm->name);
                                }
                        }
                }
                for (guint j = 0; j < have->scsi->len; j++) {
                        const ScsiEntry *h = &g_array_index(have->scsi, ScsiEntry, j);
                        g_autofree char *key = NULL;

                        for (guint i = 0; i < want->scsi->len; i++) {
                                const ScsiEntry *w = &g_array_index(want->scsi, ScsiEntry, i);
                                if (w->shareable && h->shareable)
                                        continue;
                                if (!key)
                                        key = scsi_now(ctx, h->wwid);
                                if (strcmp(w->wwid, h->wwid) == 0 ||
                                    (key && g_strcmp0(scsi_keys[i], key) == 0) ||
                                    (vm->active && h->hctl &&
                                     g_strcmp0(scsi_keys[i], h->hctl) == 0)) {
                                        *what = w->wwid;
                                        return g_strdup(vm->name);
                                }
                        }
                }
                /* a vhost target serves one initiator: never shared */
                for (guint j = 0; j < have->vhost->len; j++)
                        for (guint i = 0; i < want->vhost->len; i++)
                                if (g_ascii_strcasecmp(want->vhost->pdata[i],
                                                       have->vhost->pdata[j]) == 0) {
                                        *what = want->vhost->pdata[i];
                                        return g_strdup(vm->name);
                                }
        }
        return NULL;
}

static gboolean refuse_if_held(HdCtx *ctx, HdVirt *virt, const char *name, const Entries *want,
                               GPtrArray *usb_devices, HdUsbDevice **usb_devs, char **scsi_keys,
                               const char *doing, GError **error)
{
        g_autoptr(GError) local = NULL;
        const char *what = NULL;
        g_autofree char *holder =
            find_holder(ctx, virt, name, want, usb_devices, usb_devs, scsi_keys, &what, &local);

        if (local) {
                g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                           "cannot %s VM %s: ", doing, name);
                return FALSE;
        }
        if (!holder)
                return TRUE;
        hd_agent_op_set_holder(holder);
        g_set_error(error, HD_AGENT_ERROR, HD_AGENT_ERROR_IN_USE,
                    "cannot %s VM %s: %s is VM %s's (one owner per host); remove it from %s or "
                    "delete that VM first",
                    doing, name, what, holder, holder);
        return FALSE;
}

static GPtrArray *usb_scan(HdCtx *ctx, GError **error)
{
        GPtrArray *devices = hd_usb_scan(ctx, error);

        if (devices)
                hd_usb_evaluate(ctx, devices);
        return devices;
}

/* ---- define ---------------------------------------------------------------------------------- */

gboolean hd_agent_vm_define_usbscsi(HdAgent *agent, HdCtx *ctx, HdVirt *virt, const HdVmArgs *a,
                                    const HdVmSpec *spec, GError **error)
{
        g_autoptr(Entries) want = entries_new();
        g_autoptr(GPtrArray) usb_devices = NULL;
        g_autoptr(GPtrArray) usb_devs = g_ptr_array_new(); /* borrowed from usb_devices */
        g_autoptr(GPtrArray) scsi_keys = g_ptr_array_new_with_free_func(g_free);
        HdVmSpec full = *spec;
        gboolean ok;

        /* the targets' elements are in the definition from the start: a WWPN does not change */
        full.vhost = (const char *const *)a->vhost->pdata;
        full.n_vhost = a->vhost->len;
        if (a->usb->len == 0 && a->scsi->len == 0 && a->vhost->len == 0)
                return hd_virt_define(virt, &full, error);
        for (guint i = 0; i < a->usb->len; i++) {
                const HdVmUsbArg *u = &g_array_index(a->usb, HdVmUsbArg, i);
                UsbEntry e = {
                    .spec = g_strdup(u->spec), .force = u->force, .bus = -1, .device = -1};
                g_array_append_val(want->usb, e);
        }
        for (guint i = 0; i < a->scsi->len; i++) {
                const HdVmScsiArg *c = &g_array_index(a->scsi, HdVmScsiArg, i);
                ScsiEntry e = {.wwid = g_strdup(c->wwid),
                               .shareable = c->shareable,
                               .readonly = c->readonly,
                               .force = c->force};
                g_array_append_val(want->scsi, e);
        }
        for (guint i = 0; i < a->vhost->len; i++)
                g_ptr_array_add(want->vhost, g_strdup(a->vhost->pdata[i]));
        /* what the specs name now, when it is there (absent is fine at define) */
        if (a->usb->len)
                usb_devices = usb_scan(ctx, NULL);
        for (guint i = 0; i < want->usb->len; i++)
                g_ptr_array_add(usb_devs, usb_now(ctx, usb_devices,
                                                  g_array_index(want->usb, UsbEntry, i).spec));
        for (guint i = 0; i < want->scsi->len; i++)
                g_ptr_array_add(scsi_keys,
                                scsi_now(ctx, g_array_index(want->scsi, ScsiEntry, i).wwid));

        g_mutex_lock(&agent->usbscsi_lock);
        ok = refuse_if_held(ctx, virt, a->name, want, usb_devices, (HdUsbDevice **)usb_devs->pdata,
                            (char **)scsi_keys->pdata, "define", error) &&
             hd_virt_define(virt, &full, error);
        if (ok && !entries_store(virt, a->name, want, error)) {
                g_autoptr(GError) undo = NULL;
                if (!hd_virt_undefine(virt, a->name, &undo))
                        hd_agent_log("warning",
                                     "could not undefine a VM whose USB and SCSI "
                                     "devices could not be stored",
                                     "vm", a->name, "error", undo->message, NULL);
                g_prefix_error(error, "cannot define VM %s: ", a->name);
                ok = FALSE;
        }
        g_mutex_unlock(&agent->usbscsi_lock);
        return ok;
}

/* ---- start ----------------------------------------------------------------------------------- */

/* The device @e names now among @devices (borrowed), or NULL: device-absent, or REFUSED for a
 * vendor:product several devices have (the host's state, not the request's grammar). */
static HdUsbDevice *resolve_usb(HdCtx *ctx, const char *name, GPtrArray *devices, const UsbEntry *e,
                                GError **error)
{
        g_auto(HdUsbSpec) spec = {0};
        g_autoptr(GError) local = NULL;
        HdUsbDevice *dev;

        if (!hd_usb_spec_parse(e->spec, NULL, &spec, error))
                return NULL;
        dev = hd_usb_resolve(ctx, devices, &spec, "spec", &local);
        if (dev)
                return dev;
        if (g_error_matches(local, HD_ERROR, HD_ERROR_NOT_FOUND))
                g_set_error(error, HD_AGENT_ERROR, HD_AGENT_ERROR_DEVICE_ABSENT,
                            "cannot start VM %s: USB device %s is not on the host (%s); plug it "
                            "in, then start the VM again",
                            name, e->spec, local->message);
        else
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED, "cannot start VM %s: %s", name,
                            local->message);
        return NULL;
}

/* The host's verdict on @dev for @e (hd_usb_guest_check(), force passing what it passes), and
 * its configuration into @out. */
static gboolean check_usb(const char *name, HdUsbDevice *dev, UsbEntry *e, HdVmUsb *out,
                          GError **error)
{
        HdUsbGuestOptions opts = {.force = e->force};

        if (!hd_usb_guest_check(dev, &opts, error)) {
                g_autoptr(GString) m = NULL;

                if (!g_error_matches(*error, HD_ERROR, HD_ERROR_REFUSED) || !dev->forceable) {
                        g_prefix_error(error, "cannot start VM %s: ", name);
                        return FALSE;
                }
                /* the library's sentence, with what passes it in this API's words */
                m = g_string_new(NULL);
                g_string_append_printf(m,
                                       "cannot start VM %s: USB device %s (%04x:%04x) is "
                                       "refused (%s): ",
                                       name, dev->port_path, (guint)MAX(dev->vendor_id, 0),
                                       (guint)MAX(dev->product_id, 0), dev->verdict);
                for (guint i = 0; i < dev->reasons->len; i++)
                        g_string_append_printf(m, "%s%s", i ? "; " : "",
                                               (char *)dev->reasons->pdata[i]);
                g_string_append_printf(m,
                                       "; \"force\": true in its \"usb\" entry ({\"spec\": "
                                       "\"%s\", \"force\": true}) gives it to the VM all the "
                                       "same",
                                       e->spec);
                g_clear_error(error);
                g_set_error_literal(error, HD_ERROR, HD_ERROR_REFUSED, m->str);
                return FALSE;
        }
        if (dev->busnum < 0 || dev->devnum < 0) {
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "cannot start VM %s: USB device %s (%s) has no bus or device number "
                            "yet; start the VM again in a moment",
                            name, e->spec, dev->name);
                return FALSE;
        }
        *out = (HdVmUsb){.vendor = dev->vendor_id > 0 ? (guint16)dev->vendor_id : 0,
                         .product = dev->product_id > 0 ? (guint16)dev->product_id : 0,
                         .bus = (guint)dev->busnum,
                         .device = (guint)dev->devnum};
        e->bus = dev->busnum;
        e->device = dev->devnum;
        return TRUE;
}

/* The LUN @e names now, or NULL: device-absent, or REFUSED (a WWID seen on several paths). */
static HdScsiDevice *resolve_scsi(HdCtx *ctx, const char *name, const ScsiEntry *e, GError **error)
{
        g_autoptr(GError) local = NULL;
        HdScsiDevice *dev;
        HdScsiSpec spec;

        if (!hd_scsi_spec_parse(e->wwid, &spec, error))
                return NULL;
        dev = hd_scsi_resolve(ctx, &spec, &local);
        if (dev)
                return dev;
        if (g_error_matches(local, HD_ERROR, HD_ERROR_NOT_FOUND))
                g_set_error(error, HD_AGENT_ERROR, HD_AGENT_ERROR_DEVICE_ABSENT,
                            "cannot start VM %s: SCSI LUN %s is not on the host (%s); bring it "
                            "back (zoning, cabling, the adapter's driver), then start the VM "
                            "again",
                            name, e->wwid, local->message);
        else
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED, "cannot start VM %s: %s", name,
                            local->message);
        return NULL;
}

/* The host's verdict on @dev for @e (hd_scsi_check(): force and shareable pass what they
 * pass), and its configuration into @out. */
static gboolean check_scsi(HdCtx *ctx, const char *name, const HdScsiDevice *dev, ScsiEntry *e,
                           HdVmScsi *out, GError **error)
{
        g_autoptr(GError) local = NULL;
        HdScsiGuestOptions opts = {
            .force = e->force, .shareable = e->shareable, .readonly = e->readonly};

        if (!hd_scsi_check(ctx, dev, e->wwid, &opts, &local)) {
                /* a LUN without an sg node is the host's to change: a refusal too (409) */
                int code = local->domain != HD_ERROR               ? HD_ERROR_FAILED
                           : local->code == HD_ERROR_NOT_SUPPORTED ? HD_ERROR_REFUSED
                                                                   : local->code;
                /* what passes it, in this API's words (the library's hint names the query
                 * parameters of GET /v1/scsi/{wwid}/xml) */
                g_set_error(error, HD_ERROR, code, "cannot start VM %s: %s%s", name,
                            local->message,
                            dev->root || local->code == HD_ERROR_NOT_SUPPORTED ? ""
                            : local->code == HD_ERROR_BUSY
                                ? "; in a VM's \"scsi\" entry that is \"shareable\": true (or "
                                  "\"force\": true)"
                                : "; in a VM's \"scsi\" entry that is \"force\": true");
                return FALSE;
        }
        *out = (HdVmScsi){.host = dev->address.host,
                          .bus = dev->address.channel,
                          .target = dev->address.target,
                          .unit = dev->address.lun,
                          .shareable = e->shareable,
                          .readonly = e->readonly};
        g_free(e->hctl);
        e->hctl = g_strdup(dev->name);
        return TRUE;
}

/* The vhost target @wwpn names now, or NULL: device-absent, or the library's error. */
static HdVhostTarget *resolve_vhost(HdCtx *ctx, const char *name, const char *wwpn,
                                    GError **error)
{
        g_autoptr(GError) local = NULL;
        HdVhostTarget *t = hd_vhost_find(ctx, wwpn, &local);

        if (t && strcmp(t->wwpn, wwpn) != 0) {
                /* QEMU hands the kernel the name as written, which compares it exactly */
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "cannot start VM %s: the vhost target %s is named %s in configfs; "
                            "DELETE /v1/vms/%s and define it again with \"wwpn\": \"%s\"",
                            name, wwpn, t->wwpn, name, t->wwpn);
                hd_vhost_target_free(t);
                return NULL;
        }
        if (t)
                return t;
        if (g_error_matches(local, HD_ERROR, HD_ERROR_NOT_FOUND))
                g_set_error(error, HD_AGENT_ERROR, HD_AGENT_ERROR_DEVICE_ABSENT,
                            "cannot start VM %s: vhost target %s is not on the host (%s); set it "
                            "up in configfs (its TPG, LUNs and nexus), then start the VM again",
                            name, wwpn, local->message);
        else
                g_set_error(error, local->domain, local->code, "cannot start VM %s: %s", name,
                            local->message);
        return NULL;
}

/* Under agent->usbscsi_lock: the one-owner rule first (a device another VM of this agent has
 * is in-use, whatever the host says of it: that VM may hold it open), then the host's
 * verdicts, then the definition and the metadata. */
static gboolean check_and_write(HdCtx *ctx, HdVirt *virt, const char *name, Entries *want,
                                GPtrArray *usb_devices, GPtrArray *usb_devs, GPtrArray *luns,
                                GPtrArray *targets, GError **error)
{
        g_autoptr(GPtrArray) scsi_keys = g_ptr_array_new_with_free_func(g_free);
        g_autofree HdVmUsb *usb = g_new0(HdVmUsb, want->usb->len + 1);
        g_autofree HdVmScsi *scsi = g_new0(HdVmScsi, want->scsi->len + 1);

        for (guint i = 0; i < luns->len; i++)
                g_ptr_array_add(scsi_keys, g_strdup(((HdScsiDevice *)luns->pdata[i])->name));
        if (!refuse_if_held(ctx, virt, name, want, usb_devices, (HdUsbDevice **)usb_devs->pdata,
                            (char **)scsi_keys->pdata, "start", error))
                return FALSE;
        for (guint i = 0; i < usb_devs->len; i++)
                if (!check_usb(name, usb_devs->pdata[i], &g_array_index(want->usb, UsbEntry, i),
                               &usb[i], error))
                        return FALSE;
        for (guint i = 0; i < luns->len; i++)
                if (!check_scsi(ctx, name, luns->pdata[i], &g_array_index(want->scsi, ScsiEntry, i),
                                &scsi[i], error))
                        return FALSE;
        for (guint i = 0; i < targets->len; i++) {
                const HdVhostTarget *t = targets->pdata[i];
                if (!t->ready) {
                        g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                                    "cannot start VM %s: vhost target %s is not ready: %s; then "
                                    "start the VM again",
                                    name, t->wwpn, t->reason);
                        return FALSE;
                }
        }
        if (!hd_virt_set_usb_scsi(virt, name, usb, want->usb->len, scsi, want->scsi->len, error) ||
            !entries_store(virt, name, want, error)) {
                g_prefix_error(error, "cannot start VM %s: ", name);
                return FALSE;
        }
        return TRUE;
}

gboolean hd_agent_vm_prepare_usbscsi(HdAgent *agent, HdCtx *ctx, HdVirt *virt, const char *name,
                                     GError **error)
{
        g_autoptr(Entries) want = entries_load(virt, name, error);
        g_autoptr(GPtrArray) usb_devices = NULL;
        g_autoptr(GPtrArray) usb_devs = g_ptr_array_new(); /* borrowed from usb_devices */
        g_autoptr(GPtrArray) luns =
            g_ptr_array_new_with_free_func((GDestroyNotify)hd_scsi_device_free);
        g_autoptr(GPtrArray) targets =
            g_ptr_array_new_with_free_func((GDestroyNotify)hd_vhost_target_free);
        gboolean ok;

        if (!want)
                return FALSE;
        if (want->usb->len == 0 && want->scsi->len == 0 && want->vhost->len == 0)
                return TRUE;
        if (want->usb->len && !(usb_devices = usb_scan(ctx, error))) {
                g_prefix_error(error, "cannot start VM %s: ", name);
                return FALSE;
        }
        /* every device where it is now: absent is device-absent, before anything else */
        for (guint i = 0; i < want->usb->len; i++) {
                HdUsbDevice *dev = resolve_usb(ctx, name, usb_devices,
                                               &g_array_index(want->usb, UsbEntry, i), error);
                if (!dev)
                        return FALSE;
                g_ptr_array_add(usb_devs, dev);
        }
        for (guint i = 0; i < want->scsi->len; i++) {
                HdScsiDevice *dev =
                    resolve_scsi(ctx, name, &g_array_index(want->scsi, ScsiEntry, i), error);
                if (!dev)
                        return FALSE;
                g_ptr_array_add(luns, dev);
        }
        for (guint i = 0; i < want->vhost->len; i++) {
                HdVhostTarget *t = resolve_vhost(ctx, name, want->vhost->pdata[i], error);
                if (!t)
                        return FALSE;
                g_ptr_array_add(targets, t);
        }
        g_mutex_lock(&agent->usbscsi_lock);
        ok = check_and_write(ctx, virt, name, want, usb_devices, usb_devs, luns, targets, error);
        g_mutex_unlock(&agent->usbscsi_lock);
        return ok;
}

/* ---- answers ------------------------------------------------------------------------------- */

void hd_agent_vm_usbscsi_json(JsonBuilder *b, HdVirt *virt, const char *name, gboolean active)
{
        g_autoptr(Entries) e = entries_load(virt, name, NULL);

        if (!e)
                e = entries_new();
        json_builder_set_member_name(b, "usb");
        json_builder_begin_array(b);
        for (guint i = 0; i < e->usb->len; i++) {
                const UsbEntry *u = &g_array_index(e->usb, UsbEntry, i);
                gboolean known = active && u->bus >= 0 && u->device >= 0;

                json_builder_begin_object(b);
                json_builder_set_member_name(b, "spec");
                json_builder_add_string_value(b, u->spec);
                json_builder_set_member_name(b, "force");
                json_builder_add_boolean_value(b, u->force);
                json_builder_set_member_name(b, "bus");
                if (known)
                        json_builder_add_int_value(b, u->bus);
                else
                        json_builder_add_null_value(b);
                json_builder_set_member_name(b, "device");
                if (known)
                        json_builder_add_int_value(b, u->device);
                else
                        json_builder_add_null_value(b);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_set_member_name(b, "scsi");
        json_builder_begin_array(b);
        for (guint i = 0; i < e->scsi->len; i++) {
                const ScsiEntry *c = &g_array_index(e->scsi, ScsiEntry, i);

                json_builder_begin_object(b);
                json_builder_set_member_name(b, "wwid");
                json_builder_add_string_value(b, c->wwid);
                json_builder_set_member_name(b, "shareable");
                json_builder_add_boolean_value(b, c->shareable);
                json_builder_set_member_name(b, "readonly");
                json_builder_add_boolean_value(b, c->readonly);
                json_builder_set_member_name(b, "force");
                json_builder_add_boolean_value(b, c->force);
                json_builder_set_member_name(b, "hctl");
                if (active && c->hctl)
                        json_builder_add_string_value(b, c->hctl);
                else
                        json_builder_add_null_value(b);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_set_member_name(b, "vhost_scsi");
        json_builder_begin_array(b);
        for (guint i = 0; i < e->vhost->len; i++) {
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "wwpn");
                json_builder_add_string_value(b, e->vhost->pdata[i]);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
}
