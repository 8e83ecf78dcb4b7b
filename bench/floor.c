/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The floor: read, per PCI device, exactly the attributes `hostdev list --json` reads
 * (HD_FIELDS_LIST in src/lib/devices/device.c: the config header, which carries the ids of type-0
 * functions, then the attributes it lacks), with nothing else -- no names, no JSON, no allocation
 * per device, no error messages. One openat+read+close per attribute, one readlinkat per link.
 * What this program costs is the physical limit of the "read sysfs" approach.
 *
 *     floor [--uevent] ROOT    (ROOT/sys/bus/pci/devices is scanned; "/" for this machine)
 *
 * --uevent: what the floor would be if the ids, class and driver came from the device's
 * `uevent` file (PCI_ID, PCI_SUBSYS_ID, PCI_CLASS, DRIVER: the same struct pci_dev fields
 * the kernel shows in vendor, device, subsystem_*, class and the driver link) instead of the
 * config header and one file each. hostdev does not do this (see README.md).
 *
 * Prints the number of devices and a checksum of what was read (so nothing is optimized away).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t sum;
static int use_uevent;

/* Read a small attribute into buf (NUL-terminated); length or -1. */
static long read_attr(int dfd, const char *name, char *buf, size_t size)
{
        int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        ssize_t n;

        if (fd < 0)
                return -1;
        n = read(fd, buf, size - 1);
        close(fd);
        if (n < 0)
                return -1;
        buf[n] = '\0';
        return n;
}

static long attr_num(int dfd, const char *name, int base)
{
        char buf[64];

        if (read_attr(dfd, name, buf, sizeof(buf)) < 0)
                return -1;
        return strtol(buf, NULL, base);
}

static int link_base(int dfd, const char *name)
{
        char buf[4096];
        ssize_t n = readlinkat(dfd, name, buf, sizeof(buf) - 1);

        if (n <= 0)
                return 0;
        buf[n] = '\0';
        sum += (unsigned char)buf[n - 1] + (uint64_t)n;
        return 1;
}

static void scan_device(int dfd)
{
        char buf[256];
        long cls, numvfs;
        unsigned char cfg[64 + 1];
        ssize_t cfg_len = -1;
        int is_vf = 0;

        /* Config header first, as hostdev reads it (device.c load_config + load_ids). */
        {
                int fd = openat(dfd, "config", O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (fd >= 0) {
                        cfg_len = read(fd, cfg, 64);
                        close(fd);
                }
        }
        if (use_uevent) {
                char ev[1024];
                const char *p;
                cls = -1;
                if (read_attr(dfd, "uevent", ev, sizeof(ev)) > 0) {
                        if ((p = strstr(ev, "PCI_CLASS=")))
                                cls = strtol(p + 10, NULL, 16);
                        if ((p = strstr(ev, "PCI_ID=")))
                                sum += strtoul(p + 7, NULL, 16) + strtoul(p + 12, NULL, 16);
                        if ((p = strstr(ev, "PCI_SUBSYS_ID=")))
                                sum += strtoul(p + 14, NULL, 16) + strtoul(p + 19, NULL, 16);
                        if ((p = strstr(ev, "DRIVER=")))
                                sum += (unsigned char)p[7];
                }
                sum += (uint64_t)attr_num(dfd, "revision", 16);
        } else {
                int type0 = cfg_len >= 64 && (cfg[14] & 0x7f) == 0;
                unsigned vendor = type0 ? (unsigned)(cfg[0] | cfg[1] << 8) : 0xffff;

                /* ids from the header for type-0 functions; a VF (vendor 0xffff) and bridges
                 * take vendor/device (and for bridges subsystem, revision) from attributes */
                if (type0 && vendor != 0xffff && vendor != 0) {
                        sum += vendor + (unsigned)(cfg[2] | cfg[3] << 8);
                } else if (cfg_len >= 2 && cfg[0] == 0xff && cfg[1] == 0xff &&
                           link_base(dfd, "physfn")) {
                        /* a VF: hostdev takes vendor, device and NUMA node from its PF */
                        is_vf = 1;
                } else {
                        sum += (uint64_t)attr_num(dfd, "vendor", 16);
                        sum += (uint64_t)attr_num(dfd, "device", 16);
                }
                if (type0) {
                        sum += (unsigned)(cfg[0x2c] | cfg[0x2d] << 8) + cfg[0x2e] + cfg[8];
                } else {
                        sum += (uint64_t)attr_num(dfd, "subsystem_vendor", 16);
                        sum += (uint64_t)attr_num(dfd, "subsystem_device", 16);
                        sum += (uint64_t)attr_num(dfd, "revision", 16);
                }
                cls = attr_num(dfd, "class", 16);
                link_base(dfd, "driver");
        }
        sum += (uint64_t)cls;
        if (cfg_len >= 15)
                sum += cfg[14];
        if (read_attr(dfd, "driver_override", buf, sizeof(buf)) > 0)
                sum += (unsigned char)buf[0];
        link_base(dfd, "iommu_group");
        if (!is_vf)
                sum += (uint64_t)attr_num(dfd, "numa_node", 10);
        /* Same skips as hostdev (device.c load_sriov): a VF (physfn link) has no sriov_*
         * files, and sriov_numvfs exists only beside sriov_totalvfs. */
        if (is_vf || link_base(dfd, "physfn"))
                goto vga;
        {
                char tv[64];
                if (read_attr(dfd, "sriov_totalvfs", tv, sizeof(tv)) < 0) {
                        if (errno == ENOENT)
                                goto vga;
                } else {
                        sum += strtoul(tv, NULL, 10);
                }
        }
        numvfs = attr_num(dfd, "sriov_numvfs", 10);
        sum += (uint64_t)attr_num(dfd, "sriov_vf_device", 16);
        for (long i = 0; i < numvfs; i++) {
                char name[32];
                snprintf(name, sizeof(name), "virtfn%ld", i);
                link_base(dfd, name);
        }
vga:
        if (cls >= 0 && (cls >> 8) == 0x0300)
                sum += (uint64_t)attr_num(dfd, "boot_vga", 10);
}

int main(int argc, char **argv)
{
        const char *root;
        char path[4096];
        int rfd, n = 0;
        DIR *dir;
        struct dirent *de;

        if (argc > 1 && strcmp(argv[1], "--uevent") == 0) {
                use_uevent = 1;
                argv++;
                argc--;
        }
        root = argc > 1 ? argv[1] : "/";

        snprintf(path, sizeof(path), "%s/sys/bus/pci/devices", root);
        dir = opendir(path);
        if (!dir) {
                perror(path);
                return 1;
        }
        rfd = dirfd(dir);
        while ((de = readdir(dir))) {
                int dfd;
                if (de->d_name[0] == '.')
                        continue;
                dfd = openat(rfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd < 0)
                        continue;
                scan_device(dfd);
                close(dfd);
                n++;
        }
        closedir(dir);
        printf("%d devices, checksum %llu\n", n, (unsigned long long)sum);
        return 0;
}
