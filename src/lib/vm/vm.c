/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <libvirt/libvirt.h>
#include <stdlib.h>
#include <libvirt/virterror.h>
#include <string.h>
#include <unistd.h>

#include "guest.h"
#include "hd-error.h"
#include "mdev.h"
#include "vhost.h"
#include "vm.h"

struct HdVirt {
        virConnectPtr conn;
        char *uri;
        char *hv_type; /* "QEMU", "Test", ... */
};

/* libvirt prints every error to stderr by default; the library never prints. */
static void silent(void *data, virErrorPtr err)
{
}

static const char *last_message(void)
{
        const char *m = virGetLastErrorMessage();

        return m && *m ? m : "unknown libvirt error";
}

static int last_code(void)
{
        virErrorPtr e = virGetLastError();

        return e ? e->code : VIR_ERR_OK;
}

HdVirt *hd_virt_open(const char *uri, GError **error)
{
        HdVirt *virt;
        const char *type;

        virSetErrorFunc(NULL, silent);
        if (!uri)
                uri = "qemu:///system";
        virt = g_new0(HdVirt, 1);
        virt->uri = g_strdup(uri);
        virt->conn = virConnectOpen(uri);
        if (!virt->conn) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "cannot connect to libvirt at %s: %s; is libvirtd (or virtqemud) "
                            "running, and may this user use it (the libvirt group)?",
                            uri, last_message());
                hd_virt_close(virt);
                return NULL;
        }
        type = virConnectGetType(virt->conn);
        virt->hv_type = g_strdup(type ? type : "");
        return virt;
}

void hd_virt_close(HdVirt *virt)
{
        if (!virt)
                return;
        if (virt->conn)
                virConnectClose(virt->conn);
        g_free(virt->uri);
        g_free(virt->hv_type);
        g_free(virt);
}

/* The domain type libvirt wants for this hypervisor: the test driver has its own; QEMU runs
 * as 'kvm' with /dev/kvm and as plain emulation ('qemu') without. */
static const char *domain_type(HdVirt *virt)
{
        if (g_ascii_strcasecmp(virt->hv_type, "Test") == 0)
                return "test";
        return access("/dev/kvm", R_OK | W_OK) == 0 ? "kvm" : "qemu";
}

gboolean hd_vm_name_is_valid(const char *name)
{
        if (!name || !*name || strlen(name) > 64)
                return FALSE;
        for (const char *p = name; *p; p++)
                if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
                        return FALSE;
        return name[0] != '.';
}

char *hd_virt_usb_scsi_xml(const HdVmUsb *usb, guint n_usb, const HdVmScsi *scsi, guint n_scsi,
                           guint indent)
{
        g_autofree char *pad = g_strnfill(indent, ' ');
        GString *s = g_string_new(NULL);

        for (guint i = 0; i < n_usb; i++) {
                g_string_append_printf(s, "%s<hostdev mode='subsystem' type='usb' managed='no'>\n"
                                          "%s  <source>\n",
                                       pad, pad);
                if (usb[i].vendor || usb[i].product)
                        g_string_append_printf(s,
                                               "%s    <vendor id='0x%04x'/>\n"
                                               "%s    <product id='0x%04x'/>\n",
                                               pad, usb[i].vendor, pad, usb[i].product);
                g_string_append_printf(s,
                                       "%s    <address bus='%u' device='%u'/>\n"
                                       "%s  </source>\n%s</hostdev>\n",
                                       pad, usb[i].bus, usb[i].device, pad, pad);
        }
        for (guint i = 0; i < n_scsi; i++) {
                g_string_append_printf(s,
                                       "%s<hostdev mode='subsystem' type='scsi' managed='no' "
                                       "rawio='yes'>\n"
                                       "%s  <source>\n"
                                       "%s    <adapter name='scsi_host%u'/>\n"
                                       "%s    <address bus='%u' target='%u' unit='%" G_GUINT64_FORMAT
                                       "'/>\n"
                                       "%s  </source>\n",
                                       pad, pad, pad, scsi[i].host, pad, scsi[i].bus,
                                       scsi[i].target, scsi[i].unit, pad);
                if (scsi[i].readonly)
                        g_string_append_printf(s, "%s  <readonly/>\n", pad);
                if (scsi[i].shareable)
                        g_string_append_printf(s, "%s  <shareable/>\n", pad);
                g_string_append_printf(s, "%s</hostdev>\n", pad);
        }
        return g_string_free(s, FALSE);
}

char *hd_virt_spec_to_xml(HdVirt *virt, const HdVmSpec *spec, GError **error)
{
        g_autoptr(GString) s = g_string_new(NULL);
        HdGuestOptions gopts = { .managed = spec->managed, .rom_bar = HD_ROM_BAR_DEFAULT };

        if (!hd_vm_name_is_valid(spec->name)) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "'%s' is not a usable VM name: use letters, digits, '-', '_' and '.', "
                            "at most 64 characters",
                            spec->name ? spec->name : "");
                return NULL;
        }
        if (spec->memory_mib < 16 || spec->vcpus < 1) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "VM %s needs at least 16 MiB of memory and one vCPU", spec->name);
                return NULL;
        }
        g_string_append_printf(s, "<domain type='%s'>\n", domain_type(virt));
        g_string_append_printf(s, "  <name>%s</name>\n", spec->name);
        g_string_append_printf(s, "  <memory unit='MiB'>%" G_GUINT64_FORMAT "</memory>\n",
                               spec->memory_mib);
        g_string_append_printf(s, "  <vcpu>%u</vcpu>\n", spec->vcpus);
        g_string_append(s, "  <os>\n    <type arch='x86_64' machine='q35'>hvm</type>\n  </os>\n");
        g_string_append(s, "  <features>\n    <acpi/>\n");
        if (spec->viommu)
                g_string_append(s, "    <ioapic driver='qemu'/>\n");
        g_string_append(s, "  </features>\n  <devices>\n");
        if (spec->disk_image) {
                g_autofree char *path = g_markup_escape_text(spec->disk_image, -1);
                g_string_append_printf(s,
                                       "    <disk type='file' device='disk'>\n"
                                       "      <driver name='qemu' type='%s'/>\n"
                                       "      <source file='%s'/>\n"
                                       "      <target dev='vda' bus='virtio'/>\n"
                                       "    </disk>\n",
                                       g_str_has_suffix(spec->disk_image, ".qcow2") ? "qcow2"
                                                                                    : "raw",
                                       path);
        }
        if (spec->n_hostdevs > 0) {
                g_autoptr(GPtrArray) plan = hd_guest_plan(spec->hostdevs, spec->n_hostdevs, &gopts,
                                                          NULL, error);
                g_autofree char *xml = NULL;
                if (!plan)
                        return NULL;
                xml = hd_guest_hostdev_xml(plan, &gopts, 4);
                g_string_append(s, xml);
        }
        for (guint i = 0; i < spec->n_mdevs; i++) {
                char uuid[HD_MDEV_UUID_STRLEN];
                g_autofree char *xml = NULL;

                if (!hd_mdev_uuid_parse(spec->mdevs[i], uuid)) {
                        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                    "VM %s: '%s' is not an mdev UUID", spec->name,
                                    spec->mdevs[i]);
                        return NULL;
                }
                xml = hd_mdev_hostdev_xml(uuid, 4);
                g_string_append(s, xml);
        }
        if (spec->n_usb || spec->n_scsi) {
                g_autofree char *xml =
                    hd_virt_usb_scsi_xml(spec->usb, spec->n_usb, spec->scsi, spec->n_scsi, 4);
                g_string_append(s, xml);
        }
        for (guint i = 0; i < spec->n_vhost; i++) {
                g_autofree char *xml = NULL;

                if (!hd_vhost_wwpn_valid(spec->vhost[i])) {
                        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                    "VM %s: '%s' is not a vhost target WWPN (naa. and 16 hex "
                                    "digits)",
                                    spec->name, spec->vhost[i]);
                        return NULL;
                }
                xml = hd_vhost_hostdev_xml(&(HdVhostTarget){.wwpn = (char *)spec->vhost[i]}, 4);
                g_string_append(s, xml);
        }
        if (spec->viommu)
                /* vfio needs the guest IOMMU to report every mapping (caching mode), or
                 * assigned devices DMA to stale addresses. */
                g_string_append(s, "    <iommu model='intel'>\n"
                                   "      <driver intremap='on' caching_mode='on'/>\n"
                                   "    </iommu>\n");
        g_string_append(s, "  </devices>\n</domain>\n");
        return g_string_free(g_steal_pointer(&s), FALSE);
}

gboolean hd_virt_define(HdVirt *virt, const HdVmSpec *spec, GError **error)
{
        g_autofree char *xml = hd_virt_spec_to_xml(virt, spec, error);
        virDomainPtr dom;

        if (!xml)
                return FALSE;
        dom = virDomainDefineXML(virt->conn, xml);
        if (!dom) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "libvirt refused to define VM %s: %s", spec->name, last_message());
                return FALSE;
        }
        virDomainFree(dom);
        return TRUE;
}

static virDomainPtr lookup(HdVirt *virt, const char *name, GError **error)
{
        virDomainPtr dom = hd_vm_name_is_valid(name) ? virDomainLookupByName(virt->conn, name) : NULL;

        /* Only "no such domain" is NOT_FOUND: a caller takes that for "not running" and gives
         * the VM's devices back, which must not happen because libvirt is unreachable. */
        if (!dom && hd_vm_name_is_valid(name) && last_code() != VIR_ERR_NO_DOMAIN)
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "cannot look up VM '%s' at %s: %s; is libvirtd (or virtqemud) running?",
                            name, virt->uri, last_message());
        else if (!dom)
                g_set_error(error, HD_ERROR, HD_ERROR_NOT_FOUND,
                            "no VM named '%s' at %s (virsh -c %s list --all shows them)",
                            name ? name : "", virt->uri, virt->uri);
        return dom;
}

typedef int (*DomainOp)(virDomainPtr dom);

/* What the operation needs the domain to be, checked first so that the caller gets a plain
 * refusal instead of whatever the driver calls it. */
typedef enum { NEED_ANY, NEED_ACTIVE, NEED_INACTIVE } Need;

static gboolean domain_op(HdVirt *virt, const char *name, DomainOp op, Need need,
                          const char *what, const char *hint, GError **error)
{
        virDomainPtr dom = lookup(virt, name, error);
        int r;

        if (!dom)
                return FALSE;
        if (need != NEED_ANY && (virDomainIsActive(dom) == 1) != (need == NEED_ACTIVE)) {
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED, "cannot %s VM %s: it is %s",
                            what, name, need == NEED_ACTIVE ? "not running" : "already running");
                virDomainFree(dom);
                return FALSE;
        }
        r = op(dom);
        if (r < 0) {
                int code = last_code();
                g_set_error(error, HD_ERROR,
                            code == VIR_ERR_OPERATION_INVALID ? HD_ERROR_REFUSED : HD_ERROR_FAILED,
                            "cannot %s VM %s: %s%s", what, name, last_message(), hint);
        }
        virDomainFree(dom);
        return r >= 0;
}

gboolean hd_virt_start(HdVirt *virt, const char *name, GError **error)
{
        return domain_op(virt, name, virDomainCreate, NEED_INACTIVE, "start",
                         "; if it names an IOMMU group that is not viable, 'hostdev groups' "
                         "says which devices must be detached too",
                         error);
}

gboolean hd_virt_stop(HdVirt *virt, const char *name, GError **error)
{
        return domain_op(virt, name, virDomainShutdown, NEED_ACTIVE, "stop", "", error);
}

gboolean hd_virt_destroy(HdVirt *virt, const char *name, GError **error)
{
        return domain_op(virt, name, virDomainDestroy, NEED_ACTIVE, "destroy", "", error);
}

gboolean hd_virt_undefine(HdVirt *virt, const char *name, GError **error)
{
        return domain_op(virt, name, virDomainUndefine, NEED_ANY, "undefine",
                         "; a running VM must be stopped first", error);
}

void hd_vm_info_free(HdVmInfo *info)
{
        if (!info)
                return;
        g_free(info->name);
        g_free(info->state);
        if (info->hostdevs)
                g_array_unref(info->hostdevs);
        g_free(info);
}

static const char *state_name(int state)
{
        switch (state) {
        case VIR_DOMAIN_RUNNING:
                return "running";
        case VIR_DOMAIN_BLOCKED:
                return "blocked";
        case VIR_DOMAIN_PAUSED:
                return "paused";
        case VIR_DOMAIN_SHUTDOWN:
                return "shutting down";
        case VIR_DOMAIN_SHUTOFF:
                return "shut off";
        case VIR_DOMAIN_CRASHED:
                return "crashed";
        case VIR_DOMAIN_PMSUSPENDED:
                return "suspended";
        default:
                return "unknown";
        }
}

static HdVmInfo *info_from_domain(virDomainPtr dom)
{
        HdVmInfo *info = g_new0(HdVmInfo, 1);
        int state = VIR_DOMAIN_NOSTATE, reason = 0;
        char *xml;

        info->name = g_strdup(virDomainGetName(dom));
        if (virDomainGetState(dom, &state, &reason, 0) < 0)
                state = VIR_DOMAIN_NOSTATE;
        info->state = g_strdup(state_name(state));
        info->active = virDomainIsActive(dom) == 1;
        xml = virDomainGetXMLDesc(dom, 0);
        info->hostdevs = xml ? hd_guest_domain_hostdevs(xml) : g_array_new(FALSE, FALSE,
                                                                        sizeof(HdAddress));
        free(xml);
        return info;
}

static gint compare_info(gconstpointer a, gconstpointer b)
{
        return g_strcmp0((*(HdVmInfo *const *)a)->name, (*(HdVmInfo *const *)b)->name);
}

GPtrArray *hd_virt_list(HdVirt *virt, GError **error)
{
        virDomainPtr *doms = NULL;
        int n = virConnectListAllDomains(virt->conn, &doms, 0);
        GPtrArray *out;

        if (n < 0) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "cannot list VMs at %s: %s",
                            virt->uri, last_message());
                return NULL;
        }
        out = g_ptr_array_new_with_free_func((GDestroyNotify)hd_vm_info_free);
        for (int i = 0; i < n; i++) {
                g_ptr_array_add(out, info_from_domain(doms[i]));
                virDomainFree(doms[i]);
        }
        free(doms);
        g_ptr_array_sort(out, compare_info);
        return out;
}

HdVmInfo *hd_virt_get(HdVirt *virt, const char *name, GError **error)
{
        virDomainPtr dom = lookup(virt, name, error);
        HdVmInfo *info;

        if (!dom)
                return NULL;
        info = info_from_domain(dom);
        virDomainFree(dom);
        return info;
}

char *hd_virt_get_definition(HdVirt *virt, const char *name, GError **error)
{
        virDomainPtr dom = lookup(virt, name, error);
        char *xml;
        char *out;

        if (!dom)
                return NULL;
        xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE);
        if (!xml)
                xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
        if (!xml)
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "libvirt did not give the definition of VM %s: %s", name,
                            last_message());
        virDomainFree(dom);
        if (!xml)
                return NULL;
        out = g_strdup(xml);
        free(xml);
        return out;
}

gboolean hd_virt_define_xml(HdVirt *virt, const char *xml, GError **error)
{
        virDomainPtr dom = virDomainDefineXML(virt->conn, xml);

        if (!dom) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "libvirt refused the changed definition: %s", last_message());
                return FALSE;
        }
        virDomainFree(dom);
        return TRUE;
}

gboolean hd_virt_is_active(HdVirt *virt, const char *name, gboolean *active, GError **error)
{
        virDomainPtr dom = lookup(virt, name, error);

        if (!dom)
                return FALSE;
        *active = virDomainIsActive(dom) == 1;
        virDomainFree(dom);
        return TRUE;
}

static gboolean device_change(HdVirt *virt, const char *name, const char *xml,
                              HdVirtAffect affect, gboolean attach, GError **error)
{
        virDomainPtr dom = lookup(virt, name, error);
        unsigned int flags = 0;
        int rc;

        if (!dom)
                return FALSE;
        if (affect & HD_VIRT_AFFECT_CONFIG)
                flags |= VIR_DOMAIN_AFFECT_CONFIG;
        if (affect & HD_VIRT_AFFECT_LIVE) {
                if (virDomainIsActive(dom) != 1) {
                        virDomainFree(dom);
                        g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                                    "VM %s is not running: nothing to %s live; leave out --live "
                                    "to change its definition",
                                    name, attach ? "hot-plug" : "unplug");
                        return FALSE;
                }
                flags |= VIR_DOMAIN_AFFECT_LIVE;
        }
        rc = attach ? virDomainAttachDeviceFlags(dom, xml, flags)
                    : virDomainDetachDeviceFlags(dom, xml, flags);
        /* the message before virDomainFree(), which resets libvirt's last error */
        if (rc < 0)
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "libvirt could not %s VM %s: %s",
                            attach ? "attach the device to" : "detach the device from", name,
                            last_message());
        virDomainFree(dom);
        return rc >= 0;
}

gboolean hd_virt_attach_device(HdVirt *virt, const char *name, const char *xml,
                               HdVirtAffect affect, GError **error)
{
        return device_change(virt, name, xml, affect, TRUE, error);
}

gboolean hd_virt_detach_device(HdVirt *virt, const char *name, const char *xml,
                               HdVirtAffect affect, GError **error)
{
        return device_change(virt, name, xml, affect, FALSE, error);
}

/* Whether the start tag at @open (a "<hostdev" element) has type='usb' or type='scsi'. */
static gboolean is_usb_scsi_hostdev(const char *open)
{
        const char *gt = strchr(open, '>');
        g_autofree char *tag = gt ? g_strndup(open, gt - open) : NULL;

        return tag && (strstr(tag, " type='usb'") || strstr(tag, " type=\"usb\"") ||
                       strstr(tag, " type='scsi'") || strstr(tag, " type=\"scsi\""));
}

/* @xml without its USB and SCSI <hostdev> elements (each with the blanks before it on its
 * line and its line end); *@removed counts them. */
static char *strip_usb_scsi(const char *xml, guint *removed)
{
        GString *out = g_string_new(NULL);
        const char *p = xml;

        *removed = 0;
        for (;;) {
                const char *open = strstr(p, "<hostdev");
                const char *close, *start, *end;

                if (!open) {
                        g_string_append(out, p);
                        break;
                }
                /* "<hostdev" and not a longer name, of the kinds taken out */
                if ((open[8] != ' ' && open[8] != '>' && open[8] != '\n' && open[8] != '\t') ||
                    !is_usb_scsi_hostdev(open) || !(close = strstr(open, "</hostdev>"))) {
                        g_string_append_len(out, p, open + 8 - p);
                        p = open + 8;
                        continue;
                }
                end = close + strlen("</hostdev>");
                start = open;
                while (start > p && (start[-1] == ' ' || start[-1] == '\t'))
                        start--;
                if (start > xml && start[-1] != '\n')
                        start = open;
                else if (*end == '\n')
                        end++;
                g_string_append_len(out, p, start - p);
                (*removed)++;
                p = end;
        }
        return g_string_free(out, FALSE);
}

gboolean hd_virt_set_usb_scsi(HdVirt *virt, const char *name, const HdVmUsb *usb, guint n_usb,
                              const HdVmScsi *scsi, guint n_scsi, GError **error)
{
        g_autofree char *def = hd_virt_get_definition(virt, name, error);
        g_autofree char *stripped = NULL;
        g_autofree char *devs = NULL;
        g_autoptr(GArray) pci_before = NULL;
        g_autoptr(GArray) pci_after = NULL;
        g_autoptr(GString) out = NULL;
        const char *close, *line_start;
        guint removed = 0, indent;

        if (!def)
                return FALSE;
        stripped = strip_usb_scsi(def, &removed);
        close = g_strrstr(stripped, "</devices>");
        if (!close || strstr(stripped, "</devices>") != close) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "the definition of VM %s has %s <devices> element; its USB and SCSI "
                            "host devices cannot be set (virsh edit %s)",
                            name, close ? "more than one" : "no", name);
                return FALSE;
        }
        line_start = close;
        while (line_start > stripped && line_start[-1] == ' ')
                line_start--;
        indent = (guint)(close - line_start) + 2;
        devs = hd_virt_usb_scsi_xml(usb, n_usb, scsi, n_scsi, indent);
        out = g_string_new_len(stripped, line_start - stripped);
        g_string_append(out, devs);
        g_string_append(out, line_start);
        /* the PCI host devices are exactly those it had */
        pci_before = hd_guest_domain_hostdevs(def);
        pci_after = hd_guest_domain_hostdevs(out->str);
        if (pci_before->len != pci_after->len) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "the definition of VM %s could not be changed safely (its <hostdev> "
                            "elements are not as libvirt writes them); use virsh edit %s",
                            name, name);
                return FALSE;
        }
        if (!hd_virt_define_xml(virt, out->str, error)) {
                g_prefix_error(error, "VM %s: ", name);
                return FALSE;
        }
        return TRUE;
}

char *hd_virt_get_metadata(HdVirt *virt, const char *name, const char *uri, GError **error)
{
        virDomainPtr dom = lookup(virt, name, error);
        char *xml;
        char *out = NULL;

        if (!dom)
                return NULL;
        xml = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, uri, VIR_DOMAIN_AFFECT_CONFIG);
        if (!xml && last_code() != VIR_ERR_NO_DOMAIN_METADATA)
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "cannot read the metadata of VM %s: %s", name, last_message());
        virDomainFree(dom);
        if (xml) {
                out = g_strdup(xml);
                free(xml);
        } else if (error && *error) {
                return NULL;
        }
        return out;
}

gboolean hd_virt_set_metadata(HdVirt *virt, const char *name, const char *key, const char *uri,
                              const char *xml, GError **error)
{
        virDomainPtr dom = lookup(virt, name, error);
        int rc;

        if (!dom)
                return FALSE;
        rc = virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, xml, key, uri,
                                  VIR_DOMAIN_AFFECT_CONFIG);
        if (rc < 0)
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "cannot write the metadata of VM %s: %s", name, last_message());
        virDomainFree(dom);
        return rc >= 0;
}
