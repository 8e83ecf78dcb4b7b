#!/usr/bin/env python3
"""gen-tree.py SIZE DEST -- build a synthetic machine root for the benchmarks.

SIZE is one of
  desktop   ~30 functions: chipset, iGPU, a GPU + HDMI audio sharing a group behind a root port
            without ACS, NVMe, NIC, a PCIe-to-PCI bridge group with a conventional card
  sriov     ~1,100 functions: 16 PFs x 64 VFs, 4 GPU pairs, the desktop's chipset and bridge group
  large     ~4,200 functions: 32 PFs x 128 VFs, 8 GPU pairs, chipset and bridge group
  fleet     128 functions: 2 PFs x 51 VFs, 2 GPU pairs, chipset and bridge group (one host of
            the engine's benchmark, bench/engine/run)

The tree is built by tests/fixtures/mkfixture.py (build(topology, destdir)), so it has the kernel's
layout: device directories nested under their bridges, bus and driver links both ways,
iommu_groups, config space with capabilities, SR-IOV PF/VF links.

DEST must not exist or be empty. Prints one line: "SIZE: N devices, M groups, built in S s on
tmpfs|disk (DEST)".
"""

import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "fixtures"))
import mkfixture  # noqa: E402

SIZES = {
    # name: (PFs, VFs per PF, GPU pairs)
    "desktop": (1, 6, 2),
    "sriov": (16, 64, 4),
    "large": (32, 128, 8),
    # one host of bench/engine/run's fleet: 128 functions
    "fleet": (2, 51, 2),
}


def chipset():
    """Root-bus functions of an Intel server chipset, a multifunction group among them."""
    return [
        {"addr": "0000:00:00.0", "id": "8086:2020", "subsys": "15d9:095d", "class": "060000",
         "rev": "07", "kind": "rc-endpoint", "msi": None, "numa_node": 0},
        {"addr": "0000:00:02.0", "id": "8086:3e92", "subsys": "15d9:095d", "class": "030000",
         "rev": "02", "kind": "rc-endpoint", "driver": "i915", "boot_vga": True, "flr": True,
         "msi": "msi", "numa_node": 0},
        {"addr": "0000:00:14.0", "id": "8086:a1af", "subsys": "15d9:095d", "class": "0c0330",
         "rev": "09", "kind": "rc-endpoint", "pcie": False, "driver": "xhci_hcd", "msi": "msi",
         "group": "pch-usb", "numa_node": 0},
        {"addr": "0000:00:14.2", "id": "8086:a1b1", "subsys": "15d9:095d", "class": "118000",
         "rev": "09", "kind": "rc-endpoint", "pcie": False, "driver": None, "msi": None,
         "group": "pch-usb", "numa_node": 0},
        {"addr": "0000:00:17.0", "id": "8086:a182", "subsys": "15d9:095d", "class": "010601",
         "rev": "09", "kind": "rc-endpoint", "pcie": False, "driver": "ahci", "msi": "msi",
         "numa_node": 0},
        {"addr": "0000:00:1f.0", "id": "8086:a1c2", "subsys": "15d9:095d", "class": "060100",
         "rev": "09", "kind": "rc-endpoint", "pcie": False, "msi": None, "group": "lpc",
         "numa_node": 0},
        {"addr": "0000:00:1f.2", "id": "8086:a1a1", "subsys": "15d9:095d", "class": "058000",
         "rev": "09", "kind": "rc-endpoint", "pcie": False, "msi": None, "group": "lpc",
         "numa_node": 0},
        {"addr": "0000:00:1f.4", "id": "8086:a1a3", "subsys": "15d9:095d", "class": "0c0500",
         "rev": "09", "kind": "rc-endpoint", "pcie": False, "driver": "i801_smbus", "msi": None,
         "group": "lpc", "numa_node": 0},
    ]


class Slots:
    """Root-port addresses on bus 0 (devices 03..13, all 8 functions) and secondary buses."""

    def __init__(self):
        self.slot = 0
        self.bus = 1

    def root_port(self, numa, acs, child_specs_fn, group=None, speed="16.0", width=16):
        dev, fn = 3 + self.slot // 8, self.slot % 8
        self.slot += 1
        bus = self.bus
        self.bus += 1
        spec = {"addr": "0000:00:%02x.%d" % (dev, fn), "id": "8086:2030", "subsys": "15d9:095d",
                "class": "060400", "rev": "07", "kind": "root-port", "acs": acs,
                "numa_node": numa, "link": {"max_speed": speed, "max_width": width},
                "children": child_specs_fn(bus)}
        if group is not None:
            spec["group"] = group
        return spec


def topology(size):
    pfs, vfs, gpus = SIZES[size]
    s = Slots()
    devices = chipset()

    # PCIe-to-PCI bridge group: the bridge and the conventional card behind it share a group.
    def bridge_kids(bus):
        sub = s.bus
        s.bus += 1
        return [{"addr": "0000:%02x:00.0" % bus, "id": "1a03:1150", "subsys": "15d9:095d",
                 "class": "060400", "rev": "04", "kind": "pcie-pci-bridge", "group": "pcibridge",
                 "driver": None, "msi": None, "link": {"max_speed": "5.0", "max_width": 1},
                 "children": [
                     {"addr": "0000:%02x:00.0" % sub, "id": "1274:5000", "subsys": "1274:5000",
                      "class": "040100", "rev": "02", "group": "pcibridge",
                      "driver": "snd_ens1370", "msi": None},
                     {"addr": "0000:%02x:01.0" % sub, "id": "1a03:2000", "subsys": "15d9:095d",
                      "class": "030000", "rev": "41", "group": "pcibridge", "driver": "ast",
                      "boot_vga": False, "msi": "msi"},
                 ]}]
    devices.append(s.root_port(0, True, bridge_kids, speed="8.0", width=1))

    # NVMe with the root disk, on-board NIC.
    devices.append(s.root_port(0, True, lambda bus: [
        {"addr": "0000:%02x:00.0" % bus, "id": "144d:a808", "subsys": "144d:a801",
         "class": "010802", "rev": "00", "driver": "nvme", "flr": True,
         "link": {"max_speed": "8.0", "max_width": 4},
         "storage": {"type": "nvme", "controller": 0, "model": "Samsung SSD 970 EVO Plus 1TB",
                     "disks": [{"name": "nvme0n1", "partitions": 2}]}}], width=4))
    devices.append(s.root_port(0, True, lambda bus: [
        {"addr": "0000:%02x:00.0" % bus, "id": "8086:1533", "subsys": "15d9:1533",
         "class": "020000", "rev": "03", "driver": "igb", "flr": True,
         "link": {"max_speed": "2.5", "max_width": 1},
         "net": [{"name": "eno1", "mac": "ac:1f:6b:00:00:01", "operstate": "up"}]}],
        speed="2.5", width=1))

    # GPUs with their HDMI audio, behind root ports without ACS: the port, the GPU and the
    # audio function share a group.
    for i in range(gpus):
        numa = i * 2 // max(gpus, 1)
        label = "gpu%d" % i
        devices.append(s.root_port(numa, False, lambda bus, label=label: [
            {"addr": "0000:%02x:00.0" % bus, "id": "10de:2204", "subsys": "1458:403b",
             "class": "030000", "rev": "a1", "driver": "nouveau", "group": label,
             "boot_vga": False, "flr": True, "link": {"max_speed": "16.0", "max_width": 16}},
            {"addr": "0000:%02x:00.1" % bus, "id": "10de:1aef", "subsys": "1458:403b",
             "class": "040300", "rev": "a1", "driver": "snd_hda_intel", "group": label,
             "flr": True, "msi": "msi", "link": {"max_speed": "16.0", "max_width": 16}},
        ], group=label))

    # SR-IOV PFs (Intel E810 with iavf VFs), each behind its own root port with ACS, VFs in
    # their own groups. Half the PFs on each NUMA node.
    for i in range(pfs):
        numa = i * 2 // max(pfs, 1)
        devices.append(s.root_port(numa, True, lambda bus, i=i: [
            {"addr": "0000:%02x:00.0" % bus, "id": "8086:1592", "subsys": "8086:0002",
             "class": "020000", "rev": "02", "driver": "ice", "flr": True, "acs": True,
             "link": {"max_speed": "16.0", "max_width": 16},
             "sriov": {"totalvfs": max(vfs, 64), "numvfs": vfs, "vf_driver": "iavf",
                       "vf_id": "8086:1889", "offset": 16, "stride": 1}}]))

    return {
        "name": "bench-" + size,
        "description": "synthetic benchmark machine (%s): %d PFs x %d VFs, %d GPU pairs"
                       % (size, pfs, vfs, gpus),
        "host": {
            "hostname": "bench-" + size,
            "cpu": {"vendor": "intel", "count": 32, "numa_nodes": 2,
                    "model_name": "Intel(R) Xeon(R) Gold 6230R CPU @ 2.10GHz"},
            "kernel": {"release": "6.1.0-18-amd64",
                       "cmdline": "BOOT_IMAGE=/vmlinuz-6.1.0-18-amd64 root=/dev/nvme0n1p2 ro "
                                  "quiet intel_iommu=on iommu=pt"},
            "iommu": {"kind": "intel", "firmware": True, "enabled": True,
                      "interrupt_remapping": True,
                      "units": [{"name": "dmar0", "devices": ["00:02.0"]}, {"name": "dmar1"}]},
            "vfio": {"available": "module", "loaded": False},
            "kvm": {"loaded": True},
            "mounts": [{"source": "/dev/nvme0n1p2", "target": "/", "fstype": "ext4",
                        "options": "rw,relatime"}],
        },
        "devices": devices,
    }


def fs_type(path):
    """'tmpfs' or 'disk (<fstype>)' for the filesystem holding path."""
    try:
        out = subprocess.run(["stat", "-f", "-c", "%T", path], capture_output=True, text=True,
                             check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return "tmpfs" if out == "tmpfs" else "disk (%s)" % out


def main(argv):
    if len(argv) != 3 or argv[1] not in SIZES:
        sys.stderr.write("usage: %s {%s} DEST\n" % (argv[0], ",".join(SIZES)))
        return 2
    size, dest = argv[1], argv[2]
    start = time.monotonic()
    m = mkfixture.build(topology(size), dest)
    took = time.monotonic() - start
    groups = len({d.group for d in m.devices if d.group is not None})
    print("%s: %d devices, %d IOMMU groups, built in %.1f s on %s (%s)"
          % (size, len(m.devices), groups, took, fs_type(dest), dest))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
