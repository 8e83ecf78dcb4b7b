/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "address.h"
#include "hd-error.h"

/* Parse exactly @len hex digits from @s, none missing, no prefix. */
static gboolean parse_hex_field(const char *s, gsize len, guint32 *out)
{
        guint32 v = 0;

        for (gsize i = 0; i < len; i++) {
                int d = g_ascii_xdigit_value(s[i]);
                if (d < 0)
                        return FALSE;
                v = (v << 4) | (guint32)d;
        }
        *out = v;
        return TRUE;
}

/* The kernel's names (and the canonical form). The accepted grammar is deliberately narrow:
 *   [DDDD:]BB:SS.F   with DDDD 4..8 hex digits, BB 2 hex digits, SS 2 hex digits <= 0x1f,
 *                    F one digit 0..7.
 * Upper-case hex is accepted from users and normalised on output. */
static gboolean parse(const char *text, gboolean allow_short, HdAddress *out)
{
        gsize n;
        gsize domain_len;
        guint32 domain = 0, bus, slot, function;
        const char *p;

        if (!text)
                return FALSE;
        n = strnlen(text, HD_ADDRESS_STRLEN);
        if (n == 0 || n >= HD_ADDRESS_STRLEN)
                return FALSE;
        /* "BB:SS.F" is 7 characters; anything before it is "DDDD:" */
        if (n < 7)
                return FALSE;
        if (n == 7) {
                if (!allow_short)
                        return FALSE;
                domain_len = 0;
        } else {
                domain_len = n - 8;
                if (domain_len < 4 || domain_len > 8 || text[domain_len] != ':')
                        return FALSE;
                if (!parse_hex_field(text, domain_len, &domain))
                        return FALSE;
        }
        p = text + (domain_len ? domain_len + 1 : 0);
        if (p[2] != ':' || p[5] != '.')
                return FALSE;
        if (!parse_hex_field(p, 2, &bus) || !parse_hex_field(p + 3, 2, &slot))
                return FALSE;
        if (p[6] < '0' || p[6] > '7' || p[7] != '\0')
                return FALSE;
        function = (guint32)(p[6] - '0');
        if (slot > 0x1f)
                return FALSE;
        out->domain = domain;
        out->bus = (guint8)bus;
        out->slot = (guint8)slot;
        out->function = (guint8)function;
        return TRUE;
}

/* Parse 1..@max hex digits spanning all of [s, end). */
static gboolean parse_hex_span(const char *s, const char *end, gsize max, guint32 *out)
{
        gsize len = (gsize)(end - s);
        return len >= 1 && len <= max && parse_hex_field(s, len, out);
}

/* libvirt's node device name: pci_DDDD_BB_SS_F (the widths the kernel's names have). */
static gboolean parse_libvirt(const char *text, HdAddress *out)
{
        char canonical[HD_ADDRESS_STRLEN];
        const char *p = text + 4;
        gsize n = strlen(p);

        /* "DDDD_BB_SS_F" is 12 characters; longer domains (VMD) up to 8 digits */
        if (n < 12 || n > 16 || n - 8 < 4 || p[n - 2] != '_' || p[n - 5] != '_' || p[n - 8] != '_')
                return FALSE;
        memcpy(canonical, p, n + 1);
        canonical[n - 2] = '.';
        canonical[n - 5] = ':';
        canonical[n - 8] = ':';
        return parse(canonical, FALSE, out);
}

static gboolean spec_invalid(const char *text, GError **error)
{
        /* the first 40 bytes, as valid UTF-8 (a cut inside a character, or bytes that are not
         * UTF-8, become U+FFFD): the message ends up in JSON */
        gsize n = text ? strlen(text) : 0;
        g_autofree char *shown = g_utf8_make_valid(text ? text : "", (gssize)MIN(n, 40));

        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                    "'%s%s' is not a PCI address; give an address (0000:01:00.0, 01:00.0, 1:0.0, "
                    "pci_0000_01_00_0), a slot (01:00: every function) or vendor:device ids "
                    "(10de:1b80)",
                    shown, n > 40 ? "..." : "");
        return FALSE;
}

gboolean hd_device_spec_parse(const char *text, HdDeviceSpec *out, GError **error)
{
        const char *given = text;
        const char *colon1, *colon2, *dot, *end;
        guint32 domain = 0, bus, slot, function = 0, vendor, device;
        gsize len = text ? strnlen(text, HD_DEVICE_SPEC_MAX + 1) : 0;

        memset(out, 0, sizeof(*out));
        if (len == 0 || len > HD_DEVICE_SPEC_MAX)
                goto invalid;
        if (g_str_has_prefix(text, "pci_")) {
                if (!parse_libvirt(text, &out->address))
                        goto invalid;
                out->kind = HD_DEVICE_SPEC_ADDRESS;
                return TRUE;
        }
        for (const char *p = text; *p; p++)
                if (!g_ascii_isxdigit(*p) && *p != ':' && *p != '.')
                        goto invalid;
        end = text + len;
        colon1 = strchr(text, ':');
        if (!colon1)
                goto invalid;
        colon2 = strchr(colon1 + 1, ':');
        if (colon2 && strchr(colon2 + 1, ':'))
                goto invalid;
        dot = strchr(text, '.');
        if (dot && (strchr(dot + 1, '.') || dot < (colon2 ? colon2 : colon1)))
                goto invalid;
        /* VVVV:DDDD: vendor and device ids (a bus has at most two digits, so no overlap) */
        if (!colon2 && !dot && colon1 - text == 4 && end - colon1 == 5) {
                if (!parse_hex_field(text, 4, &vendor) || !parse_hex_field(colon1 + 1, 4, &device))
                        goto invalid;
                out->kind = HD_DEVICE_SPEC_IDS;
                out->vendor = (guint16)vendor;
                out->device = (guint16)device;
                return TRUE;
        }
        if (colon2) {
                if (!parse_hex_span(text, colon1, 8, &domain))
                        goto invalid;
                text = colon1 + 1;
                colon1 = colon2;
        }
        if (!parse_hex_span(text, colon1, 2, &bus) ||
            !parse_hex_span(colon1 + 1, dot ? dot : end, 2, &slot) || slot > 0x1f)
                goto invalid;
        if (dot && (end - dot != 2 || dot[1] < '0' || dot[1] > '7'))
                goto invalid;
        if (dot)
                function = (guint32)(dot[1] - '0');
        out->kind = dot ? HD_DEVICE_SPEC_ADDRESS : HD_DEVICE_SPEC_SLOT;
        out->address.domain = domain;
        out->address.bus = (guint8)bus;
        out->address.slot = (guint8)slot;
        out->address.function = (guint8)function;
        return TRUE;

invalid:
        return spec_invalid(given, error);
}

gboolean hd_address_parse(const char *text, HdAddress *out, GError **error)
{
        HdDeviceSpec spec;

        if (!hd_device_spec_parse(text, &spec, error))
                return FALSE;
        if (spec.kind != HD_DEVICE_SPEC_ADDRESS) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "'%s' names %s, not one device; give its address with the function, "
                            "e.g. 0000:01:00.0",
                            text,
                            spec.kind == HD_DEVICE_SPEC_SLOT ? "a slot" : "vendor:device ids");
                return FALSE;
        }
        *out = spec.address;
        return TRUE;
}

gboolean hd_address_parse_sysfs_name(const char *name, HdAddress *out)
{
        return parse(name, FALSE, out);
}

char *hd_address_format(const HdAddress *addr, char *buf)
{
        /* "%04x:%02x:%02x.%u" by hand: a scan formats every address several times, and
         * printf was a tenth of `hostdev list`. */
        static const char hex[] = "0123456789abcdef";
        char *p = buf;
        int digits = 4;

        if (addr->function > 7) { /* not from our parser; keep the printf form */
                g_snprintf(buf, HD_ADDRESS_STRLEN, "%04x:%02x:%02x.%u", addr->domain, addr->bus,
                           addr->slot, addr->function);
                return buf;
        }
        while (digits < 8 && (addr->domain >> (4 * digits)) != 0)
                digits++;
        for (int i = digits - 1; i >= 0; i--)
                *p++ = hex[(addr->domain >> (4 * i)) & 0xf];
        *p++ = ':';
        *p++ = hex[addr->bus >> 4];
        *p++ = hex[addr->bus & 0xf];
        *p++ = ':';
        *p++ = hex[(addr->slot >> 4) & 0xf];
        *p++ = hex[addr->slot & 0xf];
        *p++ = '.';
        *p++ = (char)('0' + addr->function);
        *p = '\0';
        return buf;
}

int hd_address_compare(const HdAddress *a, const HdAddress *b)
{
        if (a->domain != b->domain)
                return a->domain < b->domain ? -1 : 1;
        if (a->bus != b->bus)
                return a->bus < b->bus ? -1 : 1;
        if (a->slot != b->slot)
                return a->slot < b->slot ? -1 : 1;
        if (a->function != b->function)
                return a->function < b->function ? -1 : 1;
        return 0;
}

gboolean hd_address_equal(const HdAddress *a, const HdAddress *b)
{
        return hd_address_compare(a, b) == 0;
}

gboolean hd_address_same_slot(const HdAddress *a, const HdAddress *b)
{
        return a->domain == b->domain && a->bus == b->bus && a->slot == b->slot;
}
