#!/bin/sh
# Guest side of tests/vm: runs inside the QEMU guest (busybox ash), prints TAP.
#
#   sh /tests/guest-tests.sh            run every scenario (HOSTDEV_VM_FILTER: ERE on names)
#   sh /tests/guest-tests.sh --list     list scenario names
#   sh /tests/guest-tests.sh --run FN   run one scenario function, verbosely, no TAP
#
# Each scenario runs in its own process under a timeout; after each one every
# device is put back the way it was at boot (raw sysfs writes), so a failing
# scenario cannot poison the next.

P=/sys/bus/pci/devices
STATE=/run/hostdev-vm
TEST_TIMEOUT=${HOSTDEV_VM_TEST_TIMEOUT:-120}
SELF=/tests/guest-tests.sh

# ------------------------------------------------------------------ topology
# The host builds the same topology for intel and amd (tests/vm/run, qemu_topology);
# amd-iommu adds its own PCI function (00:03.0). Bus numbers come from firmware, so
# devices behind root ports are found through sysfs.
children() {   # PCI functions directly below $1 (skipping portdrv service dirs like 0000:00:01.0:pcie001)
    for _c in "$P/$1"/0000:*; do
        _n=${_c##*/}
        case "$_n" in ????:??:??.?) [ -e "$P/$_n" ] && echo "$_n" ;; esac
    done
}
RP_LONE=0000:00:01.0
RP_BRIDGE=0000:00:02.0
RP_NIC=0000:00:04.0
EDU_LONE=$(children $RP_LONE | head -n1)
BRIDGE=$(children $RP_BRIDGE | head -n1)
BR_EDU1=$( [ -n "$BRIDGE" ] && children "$BRIDGE" | sed -n 1p)
BR_EDU2=$( [ -n "$BRIDGE" ] && children "$BRIDGE" | sed -n 2p)
NIC_LONE=$(children $RP_NIC | head -n1)
NVME_PF=0000:00:07.0
MF0=0000:00:05.0
MF1=0000:00:05.1
NIC_MF=0000:00:06.0
EDU_MFNIC=0000:00:06.1

# ------------------------------------------------------------------ helpers
fail() { echo "$*" >"$STATE/reason"; echo "FAIL: $*" >&2; exit 1; }
note() { echo "$*" >&2; }
need_hostdev() { command -v hostdev >/dev/null 2>&1 || fail "hostdev binary missing"; }

ids() { _v=$(cat "$P/$1/vendor"); _d=$(cat "$P/$1/device"); echo "${_v#0x}:${_d#0x}"; }
cls() { _k=$(cat "$P/$1/class"); echo "${_k#0x}"; }
drv() { if [ -e "$P/$1/driver" ]; then basename "$(readlink "$P/$1/driver")"; else echo none; fi; }
ovr() { cat "$P/$1/driver_override" 2>/dev/null || echo "(none)"; }
grp() { if [ -e "$P/$1/iommu_group" ]; then basename "$(readlink "$P/$1/iommu_group")"; else echo none; fi; }
group_members() { ls "/sys/kernel/iommu_groups/$1/devices" 2>/dev/null | sort | tr '\n' ' ' | sed 's/ $//'; }
netdevs() { ls "$P/$1/net" 2>/dev/null | tr '\n' ' ' | sed 's/ $//'; }
orig() { cat "$STATE/orig/$1" 2>/dev/null || echo none; }
is_bridge() { case "$(cls "$1")" in 0604*|0600*|0601*) return 0 ;; esac; return 1; }
state() { echo "$1 driver=$(drv "$1") override=$(ovr "$1") group=$(grp "$1")"; }

expect_driver() {   # dev driver context
    _got=$(drv "$1")
    [ "$_got" = "$2" ] || fail "$3: $1 is on '$_got', expected '$2'"
}
expect_override_clear() {
    _o=$(ovr "$1")
    [ "$_o" = "(null)" ] || [ -z "$_o" ] || fail "$2: $1 still has driver_override '$_o'"
}
wait_netdev() {   # dev seconds
    _i=0
    while [ $_i -lt $(($2 * 10)) ]; do
        [ -n "$(netdevs "$1")" ] && return 0
        sleep 0.1; _i=$((_i + 1))
    done
    return 1
}

# raw sysfs binds (the harness's own, independent of hostdev)
raw_to_vfio() {
    echo vfio-pci >"$P/$1/driver_override" || return 1
    if [ -e "$P/$1/driver" ]; then echo "$1" >"$P/$1/driver/unbind" || return 1; fi
    echo "$1" >/sys/bus/pci/drivers_probe || true
    [ "$(drv "$1")" = vfio-pci ]
}
raw_restore() {
    _want=$(orig "$1")
    echo >"$P/$1/driver_override" 2>/dev/null
    _cur=$(drv "$1")
    [ "$_cur" = "$_want" ] && return 0
    if [ "$_cur" != none ]; then echo "$1" >"$P/$1/driver/unbind" || return 1; fi
    if [ "$_want" != none ]; then echo "$1" >/sys/bus/pci/drivers_probe || true; fi
    [ "$(drv "$1")" = "$_want" ]
}

# run hostdev, keep stdout/stderr/rc in $STATE/hd.{out,err,rc}; never fails itself
hd() {
    note "+ hostdev $*"
    timeout 60 hostdev "$@" >"$STATE/hd.out" 2>"$STATE/hd.err"
    HD_RC=$?
    echo $HD_RC >"$STATE/hd.rc"
    sed 's/^/  stdout: /' "$STATE/hd.out" | head -n 40 >&2
    sed 's/^/  stderr: /' "$STATE/hd.err" | head -n 20 >&2
    note "  exit $HD_RC"
    return 0
}
hd_expect() {   # rc args...
    _want=$1; shift
    hd "$@"
    [ "$HD_RC" = "$_want" ] || fail "hostdev $* exited $HD_RC, expected $_want: $(head -c 200 "$STATE/hd.err" | tr '\n' ' ')"
}
hd_json() {   # args... ; leaves valid JSON in $STATE/hd.out
    hd_expect 0 "$@"
    jq -e . "$STATE/hd.out" >/dev/null 2>&1 || fail "hostdev $* did not print valid JSON"
}

# ------------------------------------------------------------------ nested QEMU over QMP (stdio + fifo)
NQ=/tmp/nested-qemu
nested_start() {   # qemu args...
    rm -rf $NQ; mkdir -p $NQ; mkfifo $NQ/in
    note "+ qemu-system-x86_64 -nodefaults -display none -accel tcg -m 64 -S -machine q35 $* -qmp stdio"
    qemu-system-x86_64 -nodefaults -display none -accel tcg -m 64 -S -machine q35 "$@" -qmp stdio \
        <$NQ/in >$NQ/out 2>$NQ/err &
    QPID=$!
    echo $QPID >$NQ/pid
    exec 4>$NQ/in
}
qmp_wait() {   # ERE, seconds: wait for a line matching ERE in the QMP output
    _i=0
    while [ $_i -lt $(($2 * 10)) ]; do
        grep -Eq "$1" $NQ/out 2>/dev/null && return 0
        kill -0 "$QPID" 2>/dev/null || { sleep 0.2; grep -Eq "$1" $NQ/out 2>/dev/null; return $?; }
        sleep 0.1; _i=$((_i + 1))
    done
    return 1
}
qmp_send() { printf '%s\n' "$1" >&4 2>/dev/null; }
nested_handshake() {   # -> 0 when QMP answered qmp_capabilities
    qmp_wait '"QMP"' 30 || return 1
    qmp_send '{"execute":"qmp_capabilities"}'
    qmp_wait '^\{"return": \{\}\}' 15
}
nested_sees_edu() {   # -> 0 when query-pci lists 1234:11e8 (4660/4584)
    qmp_send '{"execute":"query-pci"}'
    qmp_wait '"return": \[' 15 || { note "no query-pci reply"; return 1; }
    grep '"return": \[' $NQ/out | head -n1 >$NQ/pci.json
    jq -e '[.. | objects | select(.vendor? == 4660 and .device? == 4584)] | length > 0' $NQ/pci.json >/dev/null
}
nested_stop() {
    [ -n "${QPID:-}" ] || return 0
    qmp_send '{"execute":"quit"}'
    _i=0
    while kill -0 "$QPID" 2>/dev/null && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
    kill -9 "$QPID" 2>/dev/null
    wait "$QPID" 2>/dev/null
    exec 4>&-
    QPID=
}
nested_wait_exit() {   # seconds -> 0 when the nested QEMU has exited
    _i=0
    while kill -0 "$QPID" 2>/dev/null; do
        [ $_i -ge $(($1 * 10)) ] && return 1
        sleep 0.1; _i=$((_i + 1))
    done
    return 0
}
# QEMU prints the QMP greeting before it realizes devices, so a refused device
# shows as QEMU exiting after the greeting: wait for the exit, not the greeting.
nested_expect_refusal() {
    if ! nested_wait_exit 30; then
        nested_handshake; nested_dump; nested_stop
        fail "nested QEMU is still running with a non-viable group"
    fi
    nested_stop
    grep -q 'not viable' $NQ/err || { nested_dump; fail "QEMU did not say 'not viable'"; }
    note "$(head -n2 $NQ/err)"
}
nested_dump() { sed 's/^/  qemu stderr: /' $NQ/err >&2; cut -c1-300 $NQ/out | sed 's/^/  qmp: /' >&2; }

# ------------------------------------------------------------------ state bookkeeping
record_orig() {
    mkdir -p "$STATE/orig"
    for _d in "$P"/*; do _a=${_d##*/}; drv "$_a" >"$STATE/orig/$_a"; done
}
restore_all() {
    for _p in $(pidof qemu-system-x86_64 2>/dev/null); do kill -9 "$_p" 2>/dev/null; done
    _i=0
    while pidof qemu-system-x86_64 >/dev/null 2>&1 && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
    boot_reset
    vhost_reset
    sriov_reset
    mdev_reset
    usbscsi_reset
    bootdisk_reset
    for _d in "$P"/*; do
        _a=${_d##*/}
        is_bridge "$_a" && continue
        _o=$(ovr "$_a")
        if [ "$(drv "$_a")" != "$(orig "$_a")" ] || { [ "$_o" != "(null)" ] && [ -n "$_o" ]; }; then
            raw_restore "$_a" || echo "# warning: could not restore $(state "$_a") (boot: $(orig "$_a"))"
        fi
    done
}

# Run a command in the background and wait for it at most $1 seconds: a write the kernel keeps
# waiting (a VF being removed while its user holds it) must not hang the guest's main shell.
# 0 when it finished in time (whatever its status), 1 when it is still running.
bounded() {   # seconds cmd...
    _bs=$1; shift
    "$@" &
    _bw=$!
    _bi=0
    while kill -0 $_bw 2>/dev/null && [ $_bi -lt $((_bs * 10)) ]; do sleep 0.1; _bi=$((_bi + 1)); done
    if kill -0 $_bw 2>/dev/null; then
        echo "# warning: still waiting after ${_bs}s: $*"
        return 1
    fi
    wait $_bw 2>/dev/null
    return 0
}
sysfs_write() { echo "$1" >"$2" 2>/dev/null; }
# SR-IOV PFs back to the boot layout (no VFs, autoprobe on), hostdev's records of its VFs
# cleared. No VF user is left (every QEMU is dead), but each write is bounded anyway.
sriov_reset() {
    for _d in "$P"/*; do
        [ -e "$_d/sriov_numvfs" ] || continue
        _a=${_d##*/}
        for _v in "$_d"/virtfn*; do
            [ -e "$_v" ] || continue
            _vf=$(basename "$(readlink "$_v")")
            # hostdev's own record of a detach must go too, or it refuses the next count
            # change for a VF that no longer exists ("was detached by hostdev")
            if [ "$(drv "$_vf")" = vfio-pci ] && command -v hostdev >/dev/null 2>&1; then
                bounded 30 timeout 30 hostdev attach "$_vf" >/dev/null 2>&1
            fi
            [ "$(drv "$_vf")" = none ] || bounded 10 sysfs_write "$_vf" "$P/$_vf/driver/unbind"
            bounded 10 sysfs_write "" "$P/$_vf/driver_override"
        done
        [ "$(cat "$_d/sriov_numvfs")" = 0 ] || bounded 30 sysfs_write 0 "$_d/sriov_numvfs"
        echo 1 >"$_d/sriov_drivers_autoprobe" 2>/dev/null
        rm -f "/etc/hostdev/sriov.d/$_a"
    done
    rm -f /etc/udev/rules.d/60-hostdev-sriov.rules
}

# ================================================================== harness scenarios (no hostdev)
t_topology() {
    for v in EDU_LONE BRIDGE BR_EDU1 BR_EDU2 NIC_LONE; do
        eval "_x=\$$v"; [ -n "$_x" ] || fail "topology: no device found for $v"
    done
    for d in $EDU_LONE $BR_EDU1 $BR_EDU2 $MF0 $MF1 $EDU_MFNIC; do
        [ "$(ids "$d")" = 1234:11e8 ] || fail "$d is $(ids "$d"), expected edu 1234:11e8"
    done
    [ "$(ids "$BRIDGE")" = 1b36:000e ] || fail "$BRIDGE is $(ids "$BRIDGE"), expected pcie-pci-bridge 1b36:000e"
    [ "$(ids "$NIC_LONE")" = 8086:10d3 ] || fail "$NIC_LONE is $(ids "$NIC_LONE"), expected e1000e 8086:10d3"
    [ "$(ids "$NIC_MF")" = 8086:100e ] || fail "$NIC_MF is $(ids "$NIC_MF"), expected e1000 8086:100e"
    [ -e "$P/$NVME_PF" ] || fail "topology: no NVMe PF at $NVME_PF"
    [ "$(ids "$NVME_PF")" = 1b36:0010 ] || fail "$NVME_PF is $(ids "$NVME_PF"), expected QEMU NVMe 1b36:0010"
    [ "$(cat "$P/$NVME_PF/sriov_totalvfs" 2>/dev/null)" = 4 ] ||
        fail "$NVME_PF: sriov_totalvfs '$(cat "$P/$NVME_PF/sriov_totalvfs" 2>/dev/null)', expected 4"
    [ "$(drv "$NVME_PF")" = nvme ] || fail "boot: $NVME_PF is on '$(drv "$NVME_PF")', expected 'nvme' ($(dmesg | grep -i nvme | tail -n 3 | tr '\n' ' '))"
    [ "$(cat "$P/$NVME_PF/sriov_numvfs")" = 0 ] || fail "$NVME_PF has VFs at boot"
}
t_groups_exist() {
    n=$(ls /sys/kernel/iommu_groups | wc -l)
    [ "$n" -gt 0 ] || fail "no IOMMU groups in /sys/kernel/iommu_groups"
    for d in $EDU_LONE $BRIDGE $BR_EDU1 $BR_EDU2 $NIC_LONE $MF0 $MF1 $NIC_MF $EDU_MFNIC $NVME_PF; do
        [ "$(grp "$d")" != none ] || fail "$d has no iommu_group"
    done
    [ -c /dev/vfio/vfio ] || fail "/dev/vfio/vfio missing (vfio not loaded?)"
    note "$n groups"
}
t_irq_remapping() {
    dmesg | grep -Eq 'Enabled IRQ remapping|Interrupt remapping enabled' ||
        fail "kernel did not report interrupt remapping"
}
t_lone_group() {
    g=$(grp "$EDU_LONE")
    [ "$(group_members "$g")" = "$EDU_LONE" ] || fail "group $g of $EDU_LONE has: $(group_members "$g")"
}
t_mf_group() {
    g=$(grp $MF0)
    [ "$(grp $MF1)" = "$g" ] || fail "$MF0 in group $g, $MF1 in group $(grp $MF1)"
    [ "$(group_members "$g")" = "$MF0 $MF1" ] || fail "group $g has: $(group_members "$g")"
}
t_bridge_group() {
    g=$(grp "$BRIDGE")
    want=$(printf '%s\n' "$BRIDGE" "$BR_EDU1" "$BR_EDU2" | sort | tr '\n' ' ' | sed 's/ $//')
    [ "$(group_members "$g")" = "$want" ] || fail "group $g has: $(group_members "$g"), expected $want"
    [ "$(grp $RP_BRIDGE)" != "$g" ] || fail "root port $RP_BRIDGE is in the bridge's group"
}
t_nics() {
    expect_driver "$NIC_LONE" e1000e "boot"
    [ -n "$(netdevs "$NIC_LONE")" ] || fail "$NIC_LONE has no netdev"
    expect_driver $NIC_MF e1000 "boot"
    [ -n "$(netdevs $NIC_MF)" ] || fail "$NIC_MF has no netdev"
    [ "$(grp $NIC_MF)" = "$(grp $EDU_MFNIC)" ] || fail "$NIC_MF and $EDU_MFNIC are not in one group"
    note "$NIC_LONE: $(netdevs "$NIC_LONE"); $NIC_MF: $(netdevs $NIC_MF)"
}
t_raw_bind_lone() {
    g=$(grp "$EDU_LONE")
    raw_to_vfio "$EDU_LONE" || fail "raw bind of $EDU_LONE to vfio-pci failed: $(state "$EDU_LONE")"
    [ -c "/dev/vfio/$g" ] || fail "/dev/vfio/$g did not appear"
    raw_restore "$EDU_LONE" || fail "raw return failed: $(state "$EDU_LONE")"
    expect_override_clear "$EDU_LONE" "raw return"
    [ ! -e "/dev/vfio/$g" ] || fail "/dev/vfio/$g still exists after the device left vfio-pci"
}
t_raw_nested() {
    raw_to_vfio "$EDU_LONE" || fail "raw bind of $EDU_LONE to vfio-pci failed"
    nested_start -device "vfio-pci,host=$EDU_LONE,id=hostdev0"
    nested_handshake || { nested_dump; fail "nested QEMU did not answer QMP"; }
    nested_sees_edu || { nested_dump; fail "query-pci does not list vendor 4660 device 4584"; }
    nested_stop
    raw_restore "$EDU_LONE" || fail "return after nested QEMU failed: $(state "$EDU_LONE")"
}
t_raw_nic_roundtrip() {
    raw_to_vfio "$NIC_LONE" || fail "raw bind of $NIC_LONE to vfio-pci failed: $(state "$NIC_LONE")"
    [ -z "$(netdevs "$NIC_LONE")" ] || fail "netdev still present on vfio-pci"
    raw_restore "$NIC_LONE" || fail "rebinding e1000e failed: $(state "$NIC_LONE")"
    wait_netdev "$NIC_LONE" 10 || fail "no netdev after rebinding e1000e"
}
t_raw_not_viable() {
    raw_to_vfio $EDU_MFNIC || fail "raw bind of $EDU_MFNIC failed"
    expect_driver $NIC_MF e1000 "partner"
    nested_start -device "vfio-pci,host=$EDU_MFNIC"
    nested_expect_refusal
    note "$(head -n2 $NQ/err)"
}

# ================================================================== hostdev scenarios (contract)
# The guest runs under TCG without KVM: cpu-virt and kvm may fail there (hostdev check then
# exits 1); everything the IOMMU side needs must pass.
t_hd_check() {
    need_hostdev
    hd check --json
    [ "$HD_RC" = 0 ] || [ "$HD_RC" = 1 ] || fail "hostdev check exited $HD_RC"
    jq -e . "$STATE/hd.out" >/dev/null 2>&1 || fail "hostdev check did not print valid JSON"
    for id in iommu-firmware iommu-kernel vfio; do
        s=$(jq -r --arg id "$id" '.checks[] | select(.id == $id) | .status' "$STATE/hd.out")
        [ "$s" = pass ] || fail "check $id: status '${s:-absent}', expected pass"
    done
    bad=$(jq -r '.checks[] | select(.status | IN("pass","warn","fail","skip") | not) | .id' "$STATE/hd.out")
    [ -z "$bad" ] || fail "checks with a status outside pass|warn|fail|skip: $bad"
    others=$(jq -r '.checks[] | select(.status == "fail") | select(.id | IN("cpu-virt","kvm") | not) | .id' "$STATE/hd.out")
    [ -z "$others" ] || fail "checks failing besides cpu-virt/kvm: $others"
    if jq -e '[.checks[] | select(.status == "fail")] | length == 0' "$STATE/hd.out" >/dev/null; then
        jq -e '.passthrough_possible == true' "$STATE/hd.out" >/dev/null || fail "passthrough_possible is not true"
        [ "$HD_RC" = 0 ] || fail "no check failed but hostdev check exited $HD_RC"
    else
        [ "$HD_RC" = 1 ] || fail "a check failed but hostdev check exited $HD_RC"
    fi
}

# ------------------------------------------------------------------ snapshot replay (issue 12 item 9)
# A snapshot taken here and replayed with --root here must say what the kernel says:
# check, list and groups --json byte for byte, same exit status (procfs read whole: the
# kernel release; absent ACPI tables recorded as absent).
t_snapshot_replay() {
    need_hostdev
    _snap=/tmp/hostdev-snapshot
    rm -rf "$_snap"
    hd_expect 0 snapshot -d "$_snap"
    [ "$(cat "$_snap/proc/sys/kernel/osrelease" 2>/dev/null)" = "$(cat /proc/sys/kernel/osrelease)" ] ||
        fail "the snapshot lost the kernel release (proc/sys/kernel/osrelease)"
    jq -e '.absent | type == "array"' "$_snap/hostdev-snapshot.json" >/dev/null 2>&1 ||
        fail "the snapshot has no manifest of what was absent"
    for _c in check list groups; do
        hd "$_c" --json
        _rc=$HD_RC
        cp "$STATE/hd.out" "$STATE/live.json"
        hd --root "$_snap" "$_c" --json
        if [ "$HD_RC" != "$_rc" ] || ! cmp -s "$STATE/live.json" "$STATE/hd.out"; then
            diff -u "$STATE/live.json" "$STATE/hd.out" | head -n 40 >&2
            fail "$_c --json on the snapshot differs from the guest (exit $_rc live, $HD_RC replayed)"
        fi
    done
    rm -rf "$_snap"
}
t_hd_list() {
    need_hostdev
    hd_json list --json
    for d in "$P"/*; do
        a=${d##*/}; v=$(cat "$d/vendor"); dv=$(cat "$d/device")
        echo "$a ${v#0x} ${dv#0x} $(cls "$a") $(drv "$a") $(grp "$a")"
    done | sort >"$STATE/sys.txt"
    jq -r '.devices[] | "\(.address) \(.vendor_id) \(.device_id) \(.class) \(.driver // "none") \(.iommu_group // "none")"' \
        "$STATE/hd.out" | sort >"$STATE/hd.txt"
    diff "$STATE/sys.txt" "$STATE/hd.txt" >&2 || fail "hostdev list --json disagrees with /sys (see diff)"
}
t_hd_groups() {
    need_hostdev
    hd_json groups --json
    for g in /sys/kernel/iommu_groups/*; do echo "${g##*/} $(group_members "${g##*/}" | tr ' ' ',')"; done |
        sort >"$STATE/sys.txt"
    jq -r '.groups[] | "\(.group) \(.devices | sort | join(","))"' "$STATE/hd.out" | sort >"$STATE/hd.txt"
    diff "$STATE/sys.txt" "$STATE/hd.txt" >&2 || fail "hostdev groups --json disagrees with /sys (see diff)"
    # kernel rule: every member driverless, on vfio-pci/pci-stub, or a bridge
    for pair in "$(grp $MF0):true" "$(grp "$EDU_LONE"):true" "$(grp $NIC_MF):false"; do
        g=${pair%:*}; want=${pair#*:}
        got=$(jq -r --argjson g "$g" '.groups[] | select(.group == $g) | .viable' "$STATE/hd.out")
        [ "$got" = "$want" ] || fail "group $g: viable=$got, expected $want (members: $(group_members "$g"))"
    done
}
t_hd_lone_roundtrip() {
    need_hostdev
    hd_expect 0 detach "$EDU_LONE"
    expect_driver "$EDU_LONE" vfio-pci "after detach"
    [ -c "/dev/vfio/$(grp "$EDU_LONE")" ] || fail "/dev/vfio/$(grp "$EDU_LONE") missing after detach"
    hd_expect 0 verify "$EDU_LONE"
    hd_expect 0 attach "$EDU_LONE"
    expect_driver "$EDU_LONE" "$(orig "$EDU_LONE")" "after attach"
    expect_override_clear "$EDU_LONE" "after attach"
}
# The kernel's rule decides what "would not become viable" means: the edu pair's functions
# have no driver, so one of them alone may go; the edu beside the e1000 may not, because
# e1000 keeps the group from being viable.
t_hd_mf_refuse_partial() {
    need_hostdev
    hd_expect 1 detach $EDU_MFNIC
    grep -q "$NIC_MF" "$STATE/hd.err" || fail "refusal does not name $NIC_MF: $(head -c 200 "$STATE/hd.err")"
    grep -q -- "--group" "$STATE/hd.err" || fail "refusal does not suggest --group: $(head -c 200 "$STATE/hd.err")"
    for d in $NIC_MF $EDU_MFNIC; do
        expect_driver $d "$(orig $d)" "after refused detach"
        expect_override_clear $d "after refused detach"
    done
    hd_expect 0 detach $MF0
    expect_driver $MF0 vfio-pci "after detach of one driverless function"
    expect_driver $MF1 "$(orig $MF1)" "sibling after detach of $MF0"
    hd_expect 0 attach $MF0
    expect_driver $MF0 "$(orig $MF0)" "after attach"
    expect_override_clear $MF0 "after attach"
}
t_hd_mf_group() {
    need_hostdev
    hd_expect 0 detach --group $MF0
    expect_driver $MF0 vfio-pci "after detach --group"
    expect_driver $MF1 vfio-pci "after detach --group"
    hd_json groups --json
    v=$(jq -r --argjson g "$(grp $MF0)" '.groups[] | select(.group == $g) | .viable' "$STATE/hd.out")
    [ "$v" = true ] || fail "group $(grp $MF0) viable=$v after detach --group"
    hd_expect 0 attach --group $MF0
    for d in $MF0 $MF1; do
        expect_driver $d "$(orig $d)" "after attach --group"
        expect_override_clear $d "after attach --group"
    done
}
t_hd_bridge_group() {
    need_hostdev
    bdrv=$(drv "$BRIDGE")
    hd_expect 0 detach --group "$BR_EDU1"
    expect_driver "$BR_EDU1" vfio-pci "after detach --group"
    expect_driver "$BR_EDU2" vfio-pci "after detach --group"
    [ "$(drv "$BRIDGE")" = "$bdrv" ] || fail "bridge $BRIDGE moved from '$bdrv' to '$(drv "$BRIDGE")'"
    hd_json groups --json
    v=$(jq -r --argjson g "$(grp "$BR_EDU1")" '.groups[] | select(.group == $g) | .viable' "$STATE/hd.out")
    [ "$v" = true ] || fail "group $(grp "$BR_EDU1") viable=$v after detach --group"
    hd_expect 0 attach --group "$BR_EDU1"
    for d in $BR_EDU1 $BR_EDU2; do
        expect_driver "$d" "$(orig "$d")" "after attach --group"
        expect_override_clear "$d" "after attach --group"
    done
    [ "$(drv "$BRIDGE")" = "$bdrv" ] || fail "bridge $BRIDGE ended on '$(drv "$BRIDGE")'"
}
t_hd_nic_roundtrip() {
    need_hostdev
    nd=$(netdevs "$NIC_LONE")
    [ -n "$nd" ] || fail "$NIC_LONE has no netdev before detach"
    hd_expect 0 detach "$NIC_LONE"
    expect_driver "$NIC_LONE" vfio-pci "after detach"
    for n in $nd; do [ ! -e "/sys/class/net/$n" ] || fail "netdev $n still exists after detach"; done
    hd_expect 0 verify "$NIC_LONE"
    hd_expect 0 attach "$NIC_LONE"
    expect_driver "$NIC_LONE" e1000e "after attach"
    wait_netdev "$NIC_LONE" 10 || fail "no netdev after attach"
    expect_override_clear "$NIC_LONE" "after attach"
}
crash_then_recover() {   # K dev [--group]
    k=$1; dev=$2; shift 2
    need_hostdev
    members=$dev
    [ "${1:-}" = --group ] && members=$(group_members "$(grp "$dev")")
    note "+ HOSTDEV_CRASH_AT=write:$k hostdev detach $* $dev"
    HOSTDEV_CRASH_AT=write:$k timeout 60 hostdev detach "$@" "$dev" >"$STATE/hd.out" 2>"$STATE/hd.err"
    rc=$?
    sed 's/^/  stderr: /' "$STATE/hd.err" | head -n 10 >&2
    note "  exit $rc; $(for m in $members; do state "$m"; done | tr '\n' ';')"
    if [ $rc = 0 ]; then
        # write:K lies beyond the operation's last write: it must have completed
        note "crash point write:$k not reached (detach completed)"
        for m in $members; do
            is_bridge "$m" || expect_driver "$m" vfio-pci "detach exited 0 with HOSTDEV_CRASH_AT=write:$k"
        done
    elif [ $rc -lt 128 ] || [ $rc = 124 ]; then
        fail "detach with HOSTDEV_CRASH_AT=write:$k exited $rc instead of dying by a signal: $(head -c 160 "$STATE/hd.err" | tr '\n' ' ')"
    fi
    hd_expect 0 recover
    for m in $members; do
        is_bridge "$m" && continue
        d=$(drv "$m"); o=$(ovr "$m")
        if [ "$d" = vfio-pci ]; then continue; fi
        [ "$d" = "$(orig "$m")" ] || fail "after recover $m is on '$d', neither vfio-pci nor its original '$(orig "$m")'"
        [ "$o" = "(null)" ] || [ -z "$o" ] || fail "after recover $m is on '$d' with driver_override '$o' left behind"
    done
    # the tool must be usable again: no stale journal blocking the next operation
    for m in $members; do
        if [ "$(drv "$m")" = vfio-pci ]; then hd_expect 0 attach "$@" "$dev"; break; fi
    done
    for m in $members; do
        is_bridge "$m" && continue
        expect_driver "$m" "$(orig "$m")" "after recover (+ attach)"
        expect_override_clear "$m" "after recover (+ attach)"
    done
    hd_expect 0 detach "$@" "$dev"
    hd_expect 0 attach "$@" "$dev"
}
t_hd_vm_sees() {
    need_hostdev
    hd_expect 0 detach "$EDU_LONE"
    hd_expect 0 qemu-args "$EDU_LONE"
    args=$(cat "$STATE/hd.out")
    case "$args" in *"host=$EDU_LONE"*) ;; *) fail "qemu-args does not name host=$EDU_LONE: $args" ;; esac
    # shellcheck disable=SC2086
    set -- $args
    nested_start "$@"
    nested_handshake || { nested_dump; fail "nested QEMU with hostdev's arguments did not answer QMP"; }
    nested_sees_edu || { nested_dump; fail "query-pci does not list vendor 4660 device 4584"; }
    nested_stop
}
t_hd_not_viable() {
    need_hostdev
    raw_to_vfio $EDU_MFNIC || fail "raw bind of $EDU_MFNIC failed"
    expect_driver $NIC_MF e1000 "partner"
    hd_json groups --json
    v=$(jq -r --argjson g "$(grp $EDU_MFNIC)" '.groups[] | select(.group == $g) | .viable' "$STATE/hd.out")
    [ "$v" = false ] || fail "group $(grp $EDU_MFNIC) viable=$v with $NIC_MF on e1000"
    nested_start -device "vfio-pci,host=$EDU_MFNIC,id=hostdev0"
    nested_expect_refusal
}
t_hd_busy() {
    need_hostdev
    hd_expect 0 detach "$EDU_LONE"
    hd_expect 0 qemu-args "$EDU_LONE"
    # shellcheck disable=SC2046
    set -- $(cat "$STATE/hd.out")
    nested_start "$@"
    nested_handshake || { nested_dump; fail "nested QEMU did not answer QMP"; }
    hd_expect 1 attach "$EDU_LONE"
    expect_driver "$EDU_LONE" vfio-pci "after refused attach"
    kill -0 "$QPID" 2>/dev/null || fail "nested QEMU died during the refused attach"
    nested_sees_edu || { nested_dump; fail "nested QEMU lost the device"; }
    nested_stop
}

# hostdevd on the guest's real sysfs: one detach and attach of the lone edu over HTTP
# (busybox wget as the client), the answer checked against the kernel's own view.
# hostdevd on a free port for at most $1 seconds: sets _ad (its directory), _apid, _url, _auth
agent_start() {   # seconds
    command -v hostdevd >/dev/null 2>&1 || fail "hostdevd binary missing"
    _ad=/tmp/agent
    mkdir -p $_ad
    rm -f $_ad/out
    timeout "$1" hostdevd --listen 127.0.0.1:0 --token-file $_ad/token \
        --read-only-token-file $_ad/ro-token >$_ad/out 2>$_ad/log &
    _apid=$!
    _i=0
    while ! grep -q '^listening' $_ad/out 2>/dev/null; do
        _i=$((_i + 1))
        [ $_i -lt 100 ] || { sed 's/^/  hostdevd: /' $_ad/log >&2; fail "hostdevd did not start"; }
        sleep 0.1
    done
    _url=$(awk '/^listening/ { sub(/\/$/, "", $2); print $2; exit }' $_ad/out)
    _auth="Authorization: Bearer $(cat $_ad/token)"
    note "+ hostdevd at $_url"
}
t_agent_roundtrip() {
    agent_start 100
    wget -q -O $_ad/devices --header "$_auth" "$_url/v1/devices" || fail "GET /v1/devices failed"
    _n=$(jq '.devices | length' $_ad/devices)
    [ "$_n" = "$(ls $P | wc -l)" ] || fail "GET /v1/devices lists $_n devices, /sys has $(ls $P | wc -l)"
    wget -q -O $_ad/detach --header "$_auth" --post-data '{}' "$_url/v1/devices/$EDU_LONE/detach" ||
        { sed 's/^/  hostdevd: /' $_ad/log >&2; fail "POST detach failed"; }
    expect_driver "$EDU_LONE" vfio-pci "after detach over HTTP"
    jq -e '.devices[0].to_driver == "vfio-pci"' $_ad/detach >/dev/null || fail "detach answer: $(cat $_ad/detach)"
    wget -q -O $_ad/verify --header "$_auth" --post-data '{}' "$_url/v1/devices/$EDU_LONE/verify" ||
        fail "POST verify failed"
    jq -e '.usable and .source == "kernel"' $_ad/verify >/dev/null || fail "verify answer: $(cat $_ad/verify)"
    wget -q -O $_ad/attach --header "$_auth" --post-data '{}' "$_url/v1/devices/$EDU_LONE/attach" ||
        fail "POST attach failed"
    expect_driver "$EDU_LONE" "$(orig "$EDU_LONE")" "after attach over HTTP"
    expect_override_clear "$EDU_LONE" "after attach over HTTP"
    kill -TERM $_apid
    wait $_apid || fail "hostdevd exited $? on SIGTERM"
}

# ------------------------------------------------------------------ issue 12 items 1, 7 (persist checked, hints that work)
# persist add is planned and checked as detach is: a root port is refused even with
# --force --force, one function of the e1000+edu group is refused naming the e1000, and a
# refused add writes no boot rule. The dry run of the group shows the plan.
t_hd12_persist_checked() {
    need_hostdev
    rules=/etc/udev/rules.d/60-hostdev-vfio.rules
    hd_expect 1 persist add --force --force "$RP_LONE"
    grep -q "PCI bridge" "$STATE/hd.err" || fail "persist add of root port: $(head -c 200 "$STATE/hd.err")"
    hd_expect 1 persist add "$EDU_MFNIC"
    grep -q "$NIC_MF" "$STATE/hd.err" || fail "persist add refusal does not name $NIC_MF: $(head -c 200 "$STATE/hd.err")"
    grep -q -- "--group" "$STATE/hd.err" || fail "persist add refusal does not suggest --group"
    [ ! -e "$rules" ] || fail "a refused persist add wrote $rules"
    hd_expect 0 persist add --dry-run --group "$EDU_MFNIC"
    grep -q "$NIC_MF  e1000 now, vfio-pci at every boot (dry run)" "$STATE/hd.out" ||
        fail "persist add --dry-run --group does not show $NIC_MF in the plan: $(head -c 300 "$STATE/hd.out")"
    [ ! -e "$rules" ] || fail "persist add --dry-run wrote $rules"
}
# verify's advice is a command that works on the real kernel: follow it, then verify again
# (real VFIO ioctls). A root port gets no command at all.
t_hd12_verify_hint_works() {
    need_hostdev
    hd_expect 1 verify "$RP_LONE"
    if grep -q "hostdev detach" "$STATE/hd.err"; then fail "verify of a root port suggests a detach: $(head -c 200 "$STATE/hd.err")"; fi
    hd_expect 1 verify "$EDU_MFNIC"
    cmd=$(sed -n "s/.*run 'hostdev \([^']*\)'.*/\1/p" "$STATE/hd.err" | head -n1)
    [ "$cmd" = "detach $EDU_MFNIC --group" ] || fail "verify $EDU_MFNIC suggests '$cmd': $(head -c 300 "$STATE/hd.err")"
    # shellcheck disable=SC2086
    hd_expect 0 $cmd
    hd_expect 0 verify "$EDU_MFNIC"
    hd_expect 0 attach --group "$EDU_MFNIC"
    for d in $NIC_MF $EDU_MFNIC; do
        expect_driver "$d" "$(orig "$d")" "after attach --group"
        expect_override_clear "$d" "after attach --group"
    done
}
scenarios_issue12_hints() {
    cat <<EOF
hostdev persist add checked as detach: root port refused with -ff, $EDU_MFNIC alone refused, dry run of the group|t_hd12_persist_checked
hostdev verify $EDU_MFNIC suggests a detach that works, then verifies; root port gets no command|t_hd12_verify_hint_works
EOF
}

# ------------------------------------------------------------------ issue 12: a NIC in a Linux bridge
# The Proxmox host: the NIC is a port of a bridge, which has the address and the default
# route. hostdev must refuse to detach the NIC (also with one --force) and name the bridge.
t_hd_bridged_nic() {
    need_hostdev
    _if=$(netdevs "$NIC_LONE" | cut -d' ' -f1)
    [ -n "$_if" ] || fail "e1000e $NIC_LONE has no netdev"
    ip link add name hdbr0 type bridge 2>/dev/null || brctl addbr hdbr0 2>/dev/null ||
        fail "cannot create a bridge: the guest kernel has no bridge support (module bridge) or busybox lacks ip/brctl"
    trap 'ip route del default dev hdbr0 2>/dev/null; ip link set dev "$_if" nomaster 2>/dev/null; ip link set dev hdbr0 down 2>/dev/null; ip link del dev hdbr0 2>/dev/null || brctl delbr hdbr0 2>/dev/null' EXIT
    ip link set dev "$_if" master hdbr0 2>/dev/null || brctl addif hdbr0 "$_if" || fail "cannot make $_if a port of hdbr0"
    ip link set dev "$_if" up || fail "cannot set $_if up"
    ip link set dev hdbr0 up || fail "cannot set hdbr0 up"
    ip addr add 10.0.2.15/24 dev hdbr0 || fail "cannot give hdbr0 an address"
    ip route add default via 10.0.2.2 dev hdbr0 2>/dev/null || ip route add default dev hdbr0 ||
        fail "cannot put the default route on hdbr0"
    grep -Eq '^hdbr0[[:space:]]+00000000' /proc/net/route || fail "no default route on hdbr0 in /proc/net/route: $(cat /proc/net/route)"
    [ -e "/sys/class/net/$_if/brport" ] || fail "$_if has no brport/ (not a bridge port?)"
    note "$(cat /proc/net/route)"
    hd_expect 1 detach "$NIC_LONE"
    grep -q "$_if is a port of bridge hdbr0, which carries the host's default route" "$STATE/hd.err" ||
        fail "the refusal does not name the bridge: $(head -c 300 "$STATE/hd.err")"
    expect_driver "$NIC_LONE" e1000e "after the refused detach"
    hd_expect 1 detach --force "$NIC_LONE"
    expect_driver "$NIC_LONE" e1000e "after the refused detach --force"
    hd_json show "$NIC_LONE" --json
    jq -e '.network_use[0].interface == "'"$_if"'" and .network_use[0].carrier == "hdbr0" and .network_use[0].use == "default-route" and .network_use[0].via[0].kind == "bridge"' \
        "$STATE/hd.out" >/dev/null || fail "show --json network_use: $(jq -c .network_use "$STATE/hd.out")"
    hd_json groups --json
    jq -e '[.groups[] | .host_use[] | select(test("is a port of bridge hdbr0"))] | length == 1' "$STATE/hd.out" >/dev/null ||
        fail "groups --json host_use does not name the bridge: $(jq -c '[.groups[].host_use]' "$STATE/hd.out")"
}

# ------------------------------------------------------------------ issue 16: SR-IOV on QEMU's NVMe
# QEMU 7.2's emulated NVMe with SR-IOV (nvme-subsys + nvme,sriov_max_vfs=4): the nvme driver's
# sriov_configure is pci_sriov_configure_simple, so the kernel's own rules apply (0 then N,
# ERANGE above total, a write of 0 waits while a VF is open through VFIO).
vfs_of() {   # PF -> its VFs' addresses, virtfn order
    for _v in "$P/$1"/virtfn*; do
        [ -e "$_v" ] || continue
        echo "${_v##*virtfn} $(basename "$(readlink "$_v")")"
    done | sort -n | cut -d' ' -f2
}
numvfs() { cat "$P/$1/sriov_numvfs"; }
need_nvme_pf() {
    need_hostdev
    [ -e "$P/$NVME_PF/sriov_numvfs" ] || fail "no SR-IOV NVMe PF at $NVME_PF (tests/vm/run's topology, module nvme)"
}
# the nested VM holding VF $1 (the reference's command: a root port, the VF behind it)
nested_vf_start() {
    nested_start -name guest=sriov-vm -device pcie-root-port,id=rp1,chassis=1 -device "vfio-pci,host=$1,bus=rp1,id=vf0"
    nested_handshake || { nested_dump; nested_stop; fail "nested QEMU with VF $1 did not answer QMP"; }
    # query-pci walks bridges by their secondary bus number, which the firmware sets: let
    # SeaBIOS run (it finds nothing to boot and waits), then look for 1b36:0010 (6966/16)
    qmp_send '{"execute":"cont"}'
    _n=0
    while [ $_n -lt 20 ]; do
        _n=$((_n + 1))
        _seen=$(grep -c '"return": \[' $NQ/out)
        qmp_send '{"execute":"query-pci"}'
        _i=0
        while [ "$(grep -c '"return": \[' $NQ/out)" = "$_seen" ] && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
        grep '"return": \[' $NQ/out | tail -n1 >$NQ/pci.json
        jq -e '[.. | objects | select(.vendor? == 6966 and .device? == 16)] | length > 0' $NQ/pci.json >/dev/null 2>&1 &&
            break
        kill -0 "$QPID" 2>/dev/null || break
        sleep 1
    done
    jq -e '[.. | objects | select(.vendor? == 6966 and .device? == 16)] | length > 0' $NQ/pci.json >/dev/null 2>&1 ||
        { nested_dump; nested_stop; fail "the nested QEMU's query-pci does not list the VF (1b36:0010)"; }
    note "the nested QEMU lists the VF after $_n query-pci"
}
# nested_stop, never waiting for a QEMU the kernel keeps (a VF's release can wait on a removal):
# quit, then SIGKILL, then at most 15 s; 1 (with its kernel stack in the log) if it is still there
proc_alive() { [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
nested_stop_bounded() {
    [ -n "${QPID:-}" ] || return 0
    qmp_send '{"execute":"quit"}'
    _i=0
    while proc_alive "$QPID" && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
    kill -9 "$QPID" 2>/dev/null
    _i=0
    while proc_alive "$QPID" && [ $_i -lt 150 ]; do sleep 0.1; _i=$((_i + 1)); done
    if proc_alive "$QPID"; then
        note "nested QEMU $QPID does not exit: state $(sed -n 's/^State:[[:space:]]*//p' /proc/$QPID/status)"
        sed 's/^/    /' /proc/$QPID/stack >&2 2>/dev/null
        return 1
    fi
    wait "$QPID" 2>/dev/null
    exec 4>&-
    QPID=
}
# VFs made with hostdev, checked against sysfs: $1 VFs, no driver, each its own group
sriov_make() {   # count
    hd_json sriov "$NVME_PF" --numvfs "$1" --autoprobe no --json
    jq -e --argjson n "$1" '.changed and .numvfs == $n and .drivers_autoprobe == false and (.vfs | length) == $n' \
        "$STATE/hd.out" >/dev/null || fail "sriov --numvfs $1 --autoprobe no --json: $(jq -c . "$STATE/hd.out")"
    [ "$(numvfs "$NVME_PF")" = "$1" ] || fail "sriov_numvfs reads $(numvfs "$NVME_PF") after --numvfs $1"
    [ "$(cat "$P/$NVME_PF/sriov_drivers_autoprobe")" = 0 ] || fail "sriov_drivers_autoprobe is not 0 after --autoprobe no"
    [ "$(vfs_of "$NVME_PF" | wc -l)" = "$1" ] || fail "$NVME_PF has $(vfs_of "$NVME_PF" | wc -l) virtfn links, expected $1"
}
t_sriov_create() {
    need_nvme_pf
    hd_json sriov "$NVME_PF" --json
    jq -e '.pf == "'"$NVME_PF"'" and .driver == "nvme" and .totalvfs == 4 and .numvfs == 0 and (.vfs | length) == 0' \
        "$STATE/hd.out" >/dev/null || fail "sriov --json before: $(jq -c . "$STATE/hd.out")"
    sriov_make 2
    _groups=
    for _vf in $(vfs_of "$NVME_PF"); do
        [ "$(ids "$_vf")" = 1b36:0010 ] || fail "VF $_vf is $(ids "$_vf")"
        [ "$(basename "$(readlink "$P/$_vf/physfn")")" = "$NVME_PF" ] || fail "VF $_vf: physfn is not $NVME_PF"
        expect_driver "$_vf" none "VF made with --autoprobe no"
        _g=$(grp "$_vf")
        [ "$_g" != none ] || fail "VF $_vf has no IOMMU group"
        [ "$(group_members "$_g")" = "$_vf" ] || fail "VF $_vf shares group $_g: $(group_members "$_g")"
        [ "$_g" != "$(grp "$NVME_PF")" ] || fail "VF $_vf is in the PF's group $_g"
        case " $_groups " in *" $_g "*) fail "two VFs in group $_g" ;; esac
        _groups="$_groups $_g"
        jq -e --arg a "$_vf" --argjson g "$_g" '[.vfs[] | select(.address == $a and .driver == null and .iommu_group == $g)] | length == 1' \
            "$STATE/hd.out" >/dev/null || fail "the --numvfs answer does not list $_vf driverless in group $_g"
    done
    note "VFs $(vfs_of "$NVME_PF" | tr '\n' ' ') in groups$_groups"
    hd_json sriov "$NVME_PF" --json
    jq -e '.numvfs == 2 and .drivers_autoprobe == false and ([.vfs[] | select(.driver == null and .iommu_group != null)] | length) == 2' \
        "$STATE/hd.out" >/dev/null || fail "sriov --json after: $(jq -c . "$STATE/hd.out")"
    for _vf in $(vfs_of "$NVME_PF"); do
        jq -e --arg a "$_vf" --argjson g "$(grp "$_vf")" '[.vfs[] | select(.address == $a and .iommu_group == $g)] | length == 1' \
            "$STATE/hd.out" >/dev/null || fail "sriov --json does not list $_vf in group $(grp "$_vf")"
    done
}
# A VF on vfio-pci, opened by a nested QEMU: the count may not change (the kernel would wait in
# the write until the QEMU exits); the refusal names the VM, comes back at once, changes
# nothing. After the QEMU exits and the VF is attached, 0 and then 3 are accepted, 5 is not.
t_sriov_vf_in_vm() {
    need_nvme_pf
    sriov_make 2
    VF=$(vfs_of "$NVME_PF" | head -n1)
    hd_expect 0 detach "$VF"
    expect_driver "$VF" vfio-pci "after hostdev detach $VF"
    [ -c "/dev/vfio/$(grp "$VF")" ] || fail "/dev/vfio/$(grp "$VF") missing after detach"
    nested_vf_start "$VF"
    _t0=$(date +%s)
    hd_expect 1 sriov "$NVME_PF" --numvfs 0 --timeout 30
    _secs=$(($(date +%s) - _t0))
    note "refused in ${_secs}s"
    grep -q "$VF is open by VM sriov-vm (process $QPID" "$STATE/hd.err" ||
        { nested_stop; fail "the refusal does not name VM sriov-vm (process $QPID): $(head -c 300 "$STATE/hd.err")"; }
    [ "$_secs" -lt 10 ] || { nested_stop; fail "the refusal took ${_secs}s (it must not wait in the kernel)"; }
    [ "$(numvfs "$NVME_PF")" = 2 ] || { nested_stop; fail "sriov_numvfs reads $(numvfs "$NVME_PF") after the refusal"; }
    [ "$(vfs_of "$NVME_PF" | wc -l)" = 2 ] || { nested_stop; fail "VFs went away after the refusal"; }
    expect_driver "$VF" vfio-pci "after the refused --numvfs 0"
    hd_expect 1 sriov "$NVME_PF" --numvfs 3 --json
    jq -e '.error.code and (.error.message | test("is open by VM sriov-vm"))' "$STATE/hd.out" >/dev/null ||
        { nested_stop; fail "--numvfs 3 --json: no error object naming the VM: $(head -c 300 "$STATE/hd.out")"; }
    kill -0 "$QPID" 2>/dev/null || fail "the nested QEMU died during the refusals"
    nested_stop
    # the VF is still detached by hostdev: that too keeps the count
    hd_expect 1 sriov "$NVME_PF" --numvfs 0
    grep -q "hostdev attach $VF" "$STATE/hd.err" || fail "with $VF detached, the refusal does not say hostdev attach $VF: $(head -c 300 "$STATE/hd.err")"
    hd_expect 0 attach "$VF"
    expect_driver "$VF" none "after hostdev attach $VF"
    hd_json sriov "$NVME_PF" --numvfs 0 --json
    jq -e '.numvfs == 0 and .numvfs_before == 2 and (.removed | length) == 2' "$STATE/hd.out" >/dev/null ||
        fail "--numvfs 0 --json: $(jq -c . "$STATE/hd.out")"
    [ "$(numvfs "$NVME_PF")" = 0 ] || fail "sriov_numvfs reads $(numvfs "$NVME_PF") after --numvfs 0"
    [ ! -e "$P/$VF" ] || fail "$VF still exists after --numvfs 0"
    [ -z "$(vfs_of "$NVME_PF")" ] || fail "virtfn links left: $(vfs_of "$NVME_PF" | tr '\n' ' ')"
    sriov_make 3
    hd_expect 2 sriov "$NVME_PF" --numvfs 5
    grep -q "at most 4 VFs" "$STATE/hd.err" || fail "--numvfs 5 refusal: $(head -c 300 "$STATE/hd.err")"
    [ "$(numvfs "$NVME_PF")" = 3 ] || fail "sriov_numvfs reads $(numvfs "$NVME_PF") after the refused --numvfs 5"
}
# The bound on the count write (sriov.h S2), on the kernel's real blocking write: hostdev run
# on a root whose sys is the real sysfs but whose proc is empty cannot see the VF's holder, so
# it writes 0 while the nested QEMU holds the VF. The kernel waits in that write; hostdev must
# come back after --timeout with "still removing", the write finishing by itself once the
# QEMU exits. (A bare echo 0 >sriov_numvfs here would hang this shell until then.)
t_sriov_bounded_write() {
    need_nvme_pf
    sriov_make 2
    VF=$(vfs_of "$NVME_PF" | head -n1)
    VF2=$(vfs_of "$NVME_PF" | sed -n 2p)
    raw_to_vfio "$VF" || fail "raw bind of $VF to vfio-pci failed: $(state "$VF")"
    _r=/tmp/blind-root
    mkdir -p $_r/sys $_r/proc $_r/dev $_r/run $_r/etc $_r/var $_r/tmp
    mount --bind /sys $_r/sys || fail "cannot bind /sys"
    mount --bind /dev $_r/dev || fail "cannot bind /dev"
    trap 'umount '$_r'/sys 2>/dev/null; umount '$_r'/dev 2>/dev/null' EXIT
    nested_vf_start "$VF"
    _t0=$(date +%s)
    note "+ hostdev --root $_r --backend real sriov $NVME_PF --numvfs 0 --timeout 3 (in the background)"
    ( timeout 60 hostdev --root $_r --backend real sriov "$NVME_PF" --numvfs 0 --timeout 3 \
          >"$STATE/hd.out" 2>"$STATE/hd.err"; echo $? >"$STATE/hd.rc" ) &
    _hw=$!
    _i=0
    while kill -0 $_hw 2>/dev/null && [ $_i -lt 250 ]; do sleep 0.1; _i=$((_i + 1)); done
    _secs=$(($(date +%s) - _t0))
    if kill -0 $_hw 2>/dev/null; then
        for _p in $(pidof hostdev); do
            note "hostdev process $_p: $(tr '\0' ' ' </proc/$_p/cmdline) state $(sed -n 's/^State:[[:space:]]*//p' /proc/$_p/status) wchan $(cat /proc/$_p/wchan 2>/dev/null)"
            sed 's/^/    /' /proc/$_p/stack >&2 2>/dev/null
        done
        sed 's/^/  stderr: /' "$STATE/hd.err" >&2
        nested_stop_bounded
        fail "hostdev with --timeout 3 has not come back after ${_secs}s (stacks above)"
    fi
    HD_RC=$(cat "$STATE/hd.rc")
    sed 's/^/  stderr: /' "$STATE/hd.err" >&2
    note "  exit $HD_RC"
    [ "$HD_RC" = 1 ] || { nested_stop_bounded; fail "hostdev exited $HD_RC, expected 1"; }
    note "hostdev came back after ${_secs}s"
    grep -q "still removing its VFs after 3 s" "$STATE/hd.err" ||
        { nested_stop_bounded; fail "no 'still removing its VFs after 3 s': $(head -c 300 "$STATE/hd.err")"; }
    [ "$_secs" -ge 3 ] && [ "$_secs" -lt 20 ] || { nested_stop_bounded; fail "hostdev came back after ${_secs}s with --timeout 3"; }
    # no PF attribute is read while the kernel waits: on 6.1.192 even reading sriov_numvfs
    # takes the PF's device lock, which the waiting write holds (the reader would hang too)
    kill -0 "$QPID" 2>/dev/null || fail "the nested QEMU died while the write waited"
    dmesg | grep -q "vfio-pci $VF: Relaying device request to user" ||
        note "(no 'Relaying device request' line in dmesg)"
    nested_stop_bounded || fail "the nested QEMU does not exit while the kernel removes its VF (stack above)"
    _i=0
    while [ -e "$P/$VF" ] && [ $_i -lt 150 ]; do sleep 0.1; _i=$((_i + 1)); done
    [ ! -e "$P/$VF" ] || fail "$VF still exists 15 s after the nested QEMU exited (the write did not finish)"
    [ ! -e "$P/$VF2" ] || fail "$VF2 still exists after the write finished"
    [ "$(numvfs "$NVME_PF")" = 0 ] || fail "sriov_numvfs reads $(numvfs "$NVME_PF") after the write finished"
    # the journal of the cut-short transaction rolls the PF back to its 2 VFs
    hd_expect 0 --root $_r --backend real recover
    [ "$(numvfs "$NVME_PF")" = 2 ] || fail "recover left sriov_numvfs at $(numvfs "$NVME_PF"), expected the 2 from before"
}
# --persist: the udev rule that makes the same VFs at every boot (udev does not run in this
# initramfs, so the rule's text is what is checked), and --numvfs 0 --persist drops it.
t_sriov_persist() {
    need_nvme_pf
    _rules=/etc/udev/rules.d/60-hostdev-sriov.rules
    rm -f $_rules
    hd_json sriov "$NVME_PF" --numvfs 2 --autoprobe no --persist --json
    jq -e '.persisted == true and .numvfs == 2' "$STATE/hd.out" >/dev/null || fail "--persist --json: $(jq -c . "$STATE/hd.out")"
    [ -f $_rules ] || fail "$_rules was not written"
    sed 's/^/  rules: /' $_rules >&2
    _line=$(grep -v '^#' $_rules | grep -F "KERNEL==\"$NVME_PF\"")
    [ -n "$_line" ] || fail "$_rules has no rule for KERNEL==\"$NVME_PF\""
    [ "$(grep -v '^#' $_rules | grep -c .)" = 1 ] || fail "$_rules has more than one rule"
    for _want in 'SUBSYSTEM=="pci"' 'DRIVER=="?*"' 'ATTR{vendor}=="0x1b36"' 'ATTR{device}=="0x0010"' \
                 'ATTR{sriov_drivers_autoprobe}="0"' 'ATTR{sriov_numvfs}="2"'; do
        case "$_line" in *"$_want"*) ;; *) fail "the rule lacks $_want: $_line" ;; esac
    done
    case "$_line" in *'ATTR{sriov_drivers_autoprobe}="0"'*'ATTR{sriov_numvfs}="2"'*) ;;
        *) fail "the rule does not set autoprobe before the count: $_line" ;; esac
    hd_json sriov "$NVME_PF" --json
    jq -e '.at_boot.numvfs == 2 and .at_boot.drivers_autoprobe == false and .at_boot.not_applied == null' \
        "$STATE/hd.out" >/dev/null || fail "sriov --json at_boot: $(jq -c .at_boot "$STATE/hd.out")"
    hd_json sriov "$NVME_PF" --numvfs 0 --persist --json
    [ ! -e $_rules ] || fail "$_rules still there after --numvfs 0 --persist: $(cat $_rules)"
    hd_json sriov "$NVME_PF" --json
    jq -e '.at_boot == null and .numvfs == 0' "$STATE/hd.out" >/dev/null || fail "after --numvfs 0 --persist: $(jq -c . "$STATE/hd.out")"
}
# QEMU 7.2's amd-iommu lists in its IVRS table the PCI functions present when the firmware
# tables are built (one "select" entry each, a range only for bridges), so VFs made later on
# the root bus are not behind any IOMMU the kernel knows: no group. (Behind a root port they
# would be covered, but there QEMU 7.2 gets the requester id of the PF's DMA wrong and nvme
# cannot even probe.) Under amd hostdev must say so rather than hand such a VF to vfio-pci;
# the count rules are the same.
guest_kind() { sed -n 's/.*hostdev\.iommu=\([a-z]*\).*/\1/p' /proc/cmdline; }
iommu_kind() { if ls /sys/class/iommu 2>/dev/null | grep -q '^ivhd'; then echo amd; else echo intel; fi; }
t_sriov_amd_no_group() {
    need_nvme_pf
    hd_json sriov "$NVME_PF" --json
    jq -e '.driver == "nvme" and .totalvfs == 4 and .numvfs == 0' "$STATE/hd.out" >/dev/null ||
        fail "sriov --json before: $(jq -c . "$STATE/hd.out")"
    sriov_make 2
    VF=$(vfs_of "$NVME_PF" | head -n1)
    for _vf in $(vfs_of "$NVME_PF"); do
        expect_driver "$_vf" none "VF made with --autoprobe no"
        [ "$(grp "$_vf")" = none ] || fail "VF $_vf has IOMMU group $(grp "$_vf") under amd-iommu (QEMU fixed its IVRS? then run the intel scenarios here)"
    done
    jq -e '[.vfs[] | select(.driver == null and .iommu_group == null)] | length == 2' "$STATE/hd.out" >/dev/null ||
        fail "the --numvfs answer does not list 2 driverless VFs without a group: $(jq -c .vfs "$STATE/hd.out")"
    hd_expect 1 detach "$VF"
    grep -q "$VF.*has no IOMMU group" "$STATE/hd.err" || fail "detach of $VF: $(head -c 300 "$STATE/hd.err")"
    expect_driver "$VF" none "after the refused detach"
    hd_json sriov "$NVME_PF" --numvfs 0 --json
    jq -e '.numvfs == 0 and (.removed | length) == 2' "$STATE/hd.out" >/dev/null || fail "--numvfs 0 --json: $(jq -c . "$STATE/hd.out")"
    [ ! -e "$P/$VF" ] || fail "$VF still exists after --numvfs 0"
    sriov_make 3
    hd_json sriov "$NVME_PF" --numvfs 1 --json
    jq -e '.numvfs == 1 and .numvfs_before == 3 and (.vfs | length) == 1' "$STATE/hd.out" >/dev/null ||
        fail "--numvfs 1 from 3 (0 then 1): $(jq -c . "$STATE/hd.out")"
    [ "$(numvfs "$NVME_PF")" = 1 ] || fail "sriov_numvfs reads $(numvfs "$NVME_PF") after 3 -> 1"
    hd_expect 2 sriov "$NVME_PF" --numvfs 5
    grep -q "at most 4 VFs" "$STATE/hd.err" || fail "--numvfs 5 refusal: $(head -c 300 "$STATE/hd.err")"
    [ "$(numvfs "$NVME_PF")" = 1 ] || fail "sriov_numvfs reads $(numvfs "$NVME_PF") after the refused --numvfs 5"
}
scenarios_sriov() {
    if [ "$(iommu_kind)" = amd ]; then
        cat <<EOF
hostdev sriov $NVME_PF (amd): totalvfs 4; VFs made after boot have no IOMMU group under QEMU 7.2's amd-iommu, detach refused saying so; 0, 3, 3->1 accepted, 5 refused|t_sriov_amd_no_group
EOF
    else
        cat <<EOF
hostdev sriov $NVME_PF: totalvfs 4, numvfs 0; --numvfs 2 --autoprobe no makes 2 driverless VFs, each in its own group|t_sriov_create
hostdev sriov: a VF detached and open in a nested QEMU: --numvfs 0 refused at once naming the VM, count kept; after exit and attach 0 then 3 accepted, 5 refused|t_sriov_vf_in_vm
hostdev sriov: the count write the kernel holds (VF open, holder unseen) comes back after --timeout 3, finishes when QEMU exits, recover restores 2 VFs|t_sriov_bounded_write
EOF
    fi
    cat <<EOF
hostdev sriov --persist writes the udev rule (autoprobe, then numvfs, PF ids); --numvfs 0 --persist drops it|t_sriov_persist
EOF
}

# ------------------------------------------------------------------ issue 16: mediated devices (mtty)
# The kernel's mdev sample drivers, built out of tree by tests/vm/build-mdev-samples (Debian's
# kernel has no CONFIG_SAMPLES) and loaded here: mtty offers mtty-1 (24 single-port serial
# instances) and mtty-2 (12 dual-port) from one pool of 24 ports.
KVER=$(uname -r)
MTTY_KO=/lib/modules/$KVER/extra/mtty.ko
MDEV_U1=83b8f4f2-509f-382f-3c1e-e6bfe0fa1001
MDEV_U2=83b8f4f2-509f-382f-3c1e-e6bfe0fa1002
need_mtty() {
    need_hostdev
    if [ -f /etc/hostdev-vm/mdev-samples-unavailable ]; then
        fail "mdev samples unavailable: $(cat /etc/hostdev-vm/mdev-samples-unavailable)"
    fi
    [ -f "$MTTY_KO" ] || fail "mdev samples unavailable: $MTTY_KO is not in the initramfs"
    [ -d /sys/module/mdev ] || fail "the mdev module is not loaded (CONFIG_VFIO_MDEV)"
    if [ ! -d /sys/class/mdev_bus/mtty ]; then
        _o=$(insmod "$MTTY_KO" 2>&1) || fail "insmod mtty.ko: $_o"
    fi
    [ -d /sys/class/mdev_bus/mtty ] || fail "mtty.ko loaded but /sys/class/mdev_bus/mtty is missing"
}
mdev_avail() {   # type -> available_instances (sysfs)
    cat "/sys/class/mdev_bus/mtty/mdev_supported_types/$1/available_instances"
}
# every mtty mdev removed (bounded: a remove waits while a QEMU holds the mdev), mtty unloaded
mdev_reset() {
    [ -d /sys/bus/mdev/devices ] || return 0
    for _m in /sys/bus/mdev/devices/*; do
        [ -e "$_m/remove" ] || continue
        bounded 15 sysfs_write 1 "$_m/remove"
    done
    for _k in mtty mbochs mdpy; do [ -d /sys/module/$_k ] && rmmod $_k 2>/dev/null; done
    rm -rf /etc/mdevctl.d
}
t_mdev_types() {
    need_mtty
    hd_json mdev types --json
    jq -e '[.parents[] | select(.parent == "mtty")] | length == 1' "$STATE/hd.out" >/dev/null ||
        fail "mdev types --json has no parent mtty: $(jq -c '[.parents[].parent]' "$STATE/hd.out")"
    _t=$(jq -r '.parents[] | select(.parent == "mtty") | .types[] | "\(.type)|\(.name)|\(.device_api)|\(.available_instances)|\(.instances | length)"' "$STATE/hd.out")
    note "$_t"
    [ "$_t" = "mtty-1|Single port serial|vfio-pci|24|0
mtty-2|Dual port serial|vfio-pci|12|0" ] || fail "mtty types: $(echo "$_t" | tr '\n' ' ')"
    jq -e '.parents[] | select(.parent == "mtty") | .pci == false' "$STATE/hd.out" >/dev/null ||
        fail "mtty's parent is reported as PCI"
    hd_expect 0 mdev types
    grep -q "mtty-1" "$STATE/hd.out" && grep -q "mtty-2" "$STATE/hd.out" || fail "mdev types (text) does not list both types"
}
# create with a UUID, capacity shared across types, a nested QEMU opens the mdev, remove
# refused while it is open, removed after, capacity back
t_mdev_lifecycle() {
    need_mtty
    hd_json mdev create mtty mtty-2 --uuid "$MDEV_U1" --json
    jq -e --arg u "$MDEV_U1" '.uuid == $u and .parent == "mtty" and .type == "mtty-2"' "$STATE/hd.out" >/dev/null ||
        fail "mdev create --json: $(jq -c . "$STATE/hd.out")"
    [ -e "/sys/bus/mdev/devices/$MDEV_U1" ] || fail "/sys/bus/mdev/devices/$MDEV_U1 does not exist after create"
    [ "$(basename "$(readlink "/sys/bus/mdev/devices/$MDEV_U1/mdev_type")")" = mtty-2 ] || fail "$MDEV_U1 is not of type mtty-2"
    [ "$(mdev_avail mtty-1)" = 22 ] && [ "$(mdev_avail mtty-2)" = 11 ] ||
        fail "after one mtty-2: mtty-1 $(mdev_avail mtty-1), mtty-2 $(mdev_avail mtty-2) available, expected 22 and 11"
    hd_json mdev types mtty --json
    _t=$(jq -r '.parents[0].types[] | "\(.type)=\(.available_instances)"' "$STATE/hd.out" | tr '\n' ' ')
    [ "$_t" = "mtty-1=22 mtty-2=11 " ] || fail "mdev types after one mtty-2: $_t (capacity is shared)"
    hd_expect 1 mdev create mtty mtty-1 --uuid "$MDEV_U1"
    [ "$(mdev_avail mtty-1)" = 22 ] || fail "a refused duplicate create changed the capacity"
    _g=$(basename "$(readlink "/sys/bus/mdev/devices/$MDEV_U1/iommu_group")")
    hd_json mdev list --json
    jq -e --arg u "$MDEV_U1" --argjson g "$_g" '[.mdevs[] | select(.uuid == $u and .active and .type == "mtty-2" and .parent == "mtty" and .iommu_group == $g and .open == false)] | length == 1' \
        "$STATE/hd.out" >/dev/null || fail "mdev list --json: $(jq -c . "$STATE/hd.out")"
    nested_start -name guest=mdev-vm -device "vfio-pci,sysfsdev=/sys/bus/mdev/devices/$MDEV_U1,id=mdev0"
    nested_handshake || { nested_dump; nested_stop; fail "nested QEMU with the mdev did not answer QMP"; }
    qmp_send '{"execute":"query-pci"}'
    qmp_wait '"return": \[' 15 || { nested_dump; nested_stop; fail "no query-pci reply"; }
    grep '"return": \[' $NQ/out | head -n1 >$NQ/pci.json
    # mtty's device: 4348:3253 = vendor 17224 device 12883
    jq -e '[.. | objects | select(.vendor? == 17224 and .device? == 12883)] | length > 0' $NQ/pci.json >/dev/null ||
        { nested_dump; nested_stop; fail "the nested QEMU's query-pci does not list the mtty device 4348:3253"; }
    hd_json mdev list --json
    jq -e --arg u "$MDEV_U1" '[.mdevs[] | select(.uuid == $u and .open == true)] | length == 1' "$STATE/hd.out" >/dev/null ||
        { nested_stop; fail "mdev list --json does not say $MDEV_U1 is open: $(jq -c .mdevs "$STATE/hd.out")"; }
    _t0=$(date +%s)
    hd_expect 1 mdev remove "$MDEV_U1"
    _secs=$(($(date +%s) - _t0))
    grep -q "$QPID" "$STATE/hd.err" || { nested_stop; fail "the remove refusal does not name process $QPID: $(head -c 300 "$STATE/hd.err")"; }
    [ "$_secs" -lt 10 ] || { nested_stop; fail "the refused remove took ${_secs}s"; }
    [ -e "/sys/bus/mdev/devices/$MDEV_U1" ] || { nested_stop; fail "$MDEV_U1 is gone after the refused remove"; }
    kill -0 "$QPID" 2>/dev/null || fail "the nested QEMU died during the refused remove"
    nested_stop
    hd_json mdev remove "$MDEV_U1" --json
    [ ! -e "/sys/bus/mdev/devices/$MDEV_U1" ] || fail "$MDEV_U1 still exists after remove"
    [ "$(mdev_avail mtty-1)" = 24 ] && [ "$(mdev_avail mtty-2)" = 12 ] ||
        fail "after the remove: mtty-1 $(mdev_avail mtty-1), mtty-2 $(mdev_avail mtty-2), expected 24 and 12"
}
# issue 16 item 4: an mdev makes an (emulated) IOMMU group on a machine without an IOMMU; the
# readiness check must still say there is none (booted with --iommu none)
t_mdev_no_iommu_check() {
    need_mtty
    [ -z "$(ls /sys/class/iommu 2>/dev/null)" ] || fail "this boot has an IOMMU: $(ls /sys/class/iommu | tr '\n' ' ')"
    hd_json mdev create mtty mtty-1 --uuid "$MDEV_U2" --json
    _g=$(basename "$(readlink "/sys/bus/mdev/devices/$MDEV_U2/iommu_group")")
    [ -n "$_g" ] && [ -d "/sys/kernel/iommu_groups/$_g" ] || fail "the mdev has no IOMMU group (expected an emulated one)"
    [ "$(ls /sys/kernel/iommu_groups/$_g/devices)" = "$MDEV_U2" ] || fail "group $_g holds $(ls /sys/kernel/iommu_groups/$_g/devices)"
    note "mdev $MDEV_U2 in emulated group $_g; groups: $(ls /sys/kernel/iommu_groups | tr '\n' ' ')"
    hd check --json
    [ "$HD_RC" = 1 ] || fail "hostdev check exited $HD_RC on a machine without an IOMMU (expected 1)"
    _s=$(jq -r '.checks[] | select(.id == "iommu-kernel") | .status' "$STATE/hd.out")
    [ "$_s" = fail ] || fail "check iommu-kernel is '$_s' with only an mdev's group (expected fail): $(jq -c '.checks[] | select(.id == "iommu-kernel")' "$STATE/hd.out")"
    jq -e '.passthrough_possible == false' "$STATE/hd.out" >/dev/null || fail "passthrough_possible is not false"
    hd_json mdev remove "$MDEV_U2" --json
}
# mdevs and vhost-scsi need no IOMMU: the boot without one runs them too (an mdev's group is
# emulated by the mdev core, vhost-scsi is not a PCI function of the host), and first the
# readiness check that must still say there is none
scenarios_mdev() {
    if [ "$(guest_kind)" = none ]; then
        cat <<EOF
hostdev check without an IOMMU but with an mtty mdev (its emulated group): iommu-kernel fails, passthrough impossible|t_mdev_no_iommu_check
EOF
    fi
    cat <<EOF
hostdev mdev types: mtty lists mtty-1 (24) and mtty-2 (12), vfio-pci, not PCI|t_mdev_types
hostdev mdev create mtty-2 --uuid: capacity shared (22/11), duplicate refused, nested QEMU opens it, remove refused while open, removed after (24/12)|t_mdev_lifecycle
EOF
}

# ------------------------------------------------------------------ issue 16: the same layout at boot (udevd)
# hostdev's boot persistence is udev rules: 60-hostdev-sriov.rules (sriov --persist: the PF's
# autoprobe and count once its driver is bound), 60-hostdev-vfio.rules (detach --persist: a VF's
# driver_override, and drivers_probe since VFs come with autoprobe 0) and the shipped
# 61-hostdev-mdev.rules (hostdev mdev start-parent when the kernel announces an mdev parent).
# Here a real systemd-udevd (none of the host's rules) runs them. The intel boot also reboots for
# real once (t_reboot_*, below: its disk keeps what hostdev wrote); these scenarios imitate a
# boot, in intel and amd, for the events the real reboot does not send: the layout is undone
# behind hostdev's back and the kernel is made to send them — the PF's driver bound while udevd
# runs ("bind"), the coldplug replay of systemd-udev-trigger ("add" of a PF that has its
# driver), the mdev parent's driver loaded again ("add", then "change" MDEV_STATE=registered),
# and loaded before udevd with only the coldplug "add" after it.
VFIO_RULES=/etc/udev/rules.d/60-hostdev-vfio.rules
SRIOV_RULES=/etc/udev/rules.d/60-hostdev-sriov.rules
MDEV_RULES=/etc/udev/rules.d/61-hostdev-mdev.rules
udev_settle() {   # -> 0 when udevd's queue is empty within 60 s
    udevadm settle --timeout=60 || { note "udevadm settle timed out"; return 1; }
}
udev_reload() {
    udevadm control --reload || fail "udevadm control --reload failed"
}
# udevd logs a rule it cannot parse ("FILE:LINE Invalid key/value pair, ignoring.") or an
# assignment that failed to the kernel's log (no journal here); at its default level (info, as
# on a host) it names a rule file only then, so no line may name one of hostdev's files
udev_rules_clean() {   # files...
    for _f in "$@"; do
        _bad=$(dmesg | grep -F "${_f##*/}" | grep -v 'Reading rules file')
        [ -z "$_bad" ] || fail "udevd complains about ${_f##*/}: $(echo "$_bad" | head -n 3 | tr '\n' ' ')"
    done
    note "udevd's last words: $(dmesg | grep -i 'udev' | tail -n 2 | tr '\n' ' ')"
}
# every udevd stopped (and waited for), the rules the scenarios put in place gone
boot_reset() {
    for _p in $(pidof systemd-udevd 2>/dev/null); do kill "$_p" 2>/dev/null; done
    _i=0
    while pidof systemd-udevd >/dev/null 2>&1 && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
    for _p in $(pidof systemd-udevd 2>/dev/null); do kill -9 "$_p" 2>/dev/null; done
    rm -f /run/udev/control $VFIO_RULES $MDEV_RULES /etc/modprobe.d/hostdev-vfio.conf
    rm -rf /etc/hostdev/persist.d
    # the SR-IOV boot scenario unloads vfio-pci (a boot starts without it)
    if [ ! -d /sys/module/vfio_pci ]; then
        _ko=$(grep '/vfio-pci\.ko$' /etc/hostdev-vm/modules)
        [ -n "$_ko" ] && insmod "$_ko" 2>/dev/null
    fi
}
# the PF's VFs as a boot leaves them with the rules: $1 VFs, autoprobe 0, VF0 on vfio-pci
# through its driver_override (the VF rule's drivers_probe) when $BOOT_VFIO is 1, the others
# (all of them otherwise) without a driver
expect_boot_vfs() {   # count context
    _i=0
    while [ "$(vfs_of "$NVME_PF" | wc -l)" != "$1" ] && [ $_i -lt 200 ]; do sleep 0.1; _i=$((_i + 1)); done
    udev_settle
    [ "$(drv "$NVME_PF")" = nvme ] || fail "$2: the PF is on $(drv "$NVME_PF"), not nvme"
    [ "$(numvfs "$NVME_PF")" = "$1" ] || fail "$2: sriov_numvfs reads $(numvfs "$NVME_PF"), expected $1 (the PF rule did not act)"
    [ "$(cat "$P/$NVME_PF/sriov_drivers_autoprobe")" = 0 ] || fail "$2: sriov_drivers_autoprobe is $(cat "$P/$NVME_PF/sriov_drivers_autoprobe"), expected 0"
    _v0=$(vfs_of "$NVME_PF" | head -n1)
    [ "$_v0" = "$VF0" ] || fail "$2: the first VF is $_v0, not $VF0 (VF addresses follow from the PF's)"
    _rest=$(vfs_of "$NVME_PF")
    if [ "$BOOT_VFIO" = 1 ]; then
        _i=0
        while [ "$(drv "$VF0")" != vfio-pci ] && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
        [ "$(ovr "$VF0")" = vfio-pci ] || fail "$2: $VF0 has driver_override '$(ovr "$VF0")' (the VF rule did not set it)"
        expect_driver "$VF0" vfio-pci "$2 (the VF rule's drivers_probe)"
        [ -c "/dev/vfio/$(grp "$VF0")" ] || fail "$2: /dev/vfio/$(grp "$VF0") missing"
        _rest=$(vfs_of "$NVME_PF" | sed 1d)
    fi
    for _vf in $_rest; do
        expect_driver "$_vf" none "$2 (autoprobe 0, no rule for it)"
        [ "$(ovr "$_vf")" = "(null)" ] || fail "$2: $_vf has driver_override '$(ovr "$_vf")'"
    done
    note "$2: $(for _vf in $(vfs_of "$NVME_PF"); do state "$_vf"; done | tr '\n' ';')"
}
# the layout undone behind hostdev's back, as a power cycle does: no VFs, autoprobe 1
undo_vfs() {
    bounded 30 sysfs_write 0 "$P/$NVME_PF/sriov_numvfs" || fail "the raw write of 0 to sriov_numvfs did not finish"
    [ "$(numvfs "$NVME_PF")" = 0 ] || fail "sriov_numvfs reads $(numvfs "$NVME_PF") after the raw write of 0"
    echo 1 >"$P/$NVME_PF/sriov_drivers_autoprobe" || fail "cannot reset sriov_drivers_autoprobe"
    [ ! -e "$P/$VF0" ] || fail "$VF0 still exists after the raw write of 0"
}
# $1 vfio: VF0 detached with --persist too (intel; under amd the VFs have no group)
t_boot_sriov() {
    need_nvme_pf
    BOOT_VFIO=0
    [ "${1:-}" = vfio ] && BOOT_VFIO=1
    udevd_start
    rm -f $SRIOV_RULES $VFIO_RULES
    hd_json sriov "$NVME_PF" --numvfs 2 --autoprobe no --persist --json
    jq -e '.persisted == true and .numvfs == 2' "$STATE/hd.out" >/dev/null || fail "--persist --json: $(jq -c . "$STATE/hd.out")"
    VF0=$(vfs_of "$NVME_PF" | head -n1)
    [ -f $SRIOV_RULES ] || fail "$SRIOV_RULES was not written"
    sed 's/^/  rules: /' $SRIOV_RULES >&2
    if [ $BOOT_VFIO = 1 ]; then
        hd_expect 0 detach "$VF0" --persist
        expect_driver "$VF0" vfio-pci "after hostdev detach $VF0 --persist"
        [ -f $VFIO_RULES ] || fail "$VFIO_RULES was not written"
        sed 's/^/  rules: /' $VFIO_RULES >&2
        grep -v '^#' $VFIO_RULES | grep -qF "KERNEL==\"$VF0\"" || fail "$VFIO_RULES has no rule for $VF0"
    fi
    hd_json sriov "$NVME_PF" --json
    jq -e '.at_boot.numvfs == 2 and .at_boot.not_applied == null' "$STATE/hd.out" >/dev/null ||
        fail "sriov --json at_boot: $(jq -c .at_boot "$STATE/hd.out")"
    # udevd reads rules when told (a rule it cannot parse: udev_rules_clean)
    udev_reload
    # the kernel's events as at boot when the PF's driver binds ("bind")
    undo_vfs
    echo "$NVME_PF" >"$P/$NVME_PF/driver/unbind" || fail "cannot unbind $NVME_PF from nvme"
    if [ $BOOT_VFIO = 1 ]; then
        # a boot starts without vfio-pci: the PF's driver is loaded for the PF, and the VF
        # (made with autoprobe 0, no host driver of its own) loads nothing else
        note "+ rmmod vfio_pci"
        rmmod vfio_pci || fail "cannot unload vfio_pci: $(cat /sys/module/vfio_pci/refcnt 2>/dev/null) users"
        [ ! -d /sys/module/vfio_pci ] || fail "vfio_pci is still loaded"
    fi
    [ "$(drv "$NVME_PF")" = none ] || fail "$NVME_PF still has a driver after unbind"
    udev_settle
    [ "$(numvfs "$NVME_PF")" = 0 ] || fail "VFs appeared on a PF without a driver"
    note "+ echo $NVME_PF > /sys/bus/pci/drivers/nvme/bind"
    echo "$NVME_PF" >/sys/bus/pci/drivers/nvme/bind || fail "cannot bind $NVME_PF to nvme again"
    expect_boot_vfs 2 "after the PF's driver bound again"
    # the coldplug replay of a PF whose driver bound before udevd ran ("add", DRIVER set)
    undo_vfs
    udev_settle
    note "+ udevadm trigger --action=add $P/$NVME_PF"
    udevadm trigger --action=add "$P/$NVME_PF" || fail "udevadm trigger --action=add $NVME_PF failed"
    expect_boot_vfs 2 "after udevadm trigger --action=add of the PF"
    udev_rules_clean $SRIOV_RULES $VFIO_RULES
    # hostdev's own view agrees, and giving the VF back drops its boot binding
    hd_json sriov "$NVME_PF" --json
    jq -e '.numvfs == 2 and .drivers_autoprobe == false' "$STATE/hd.out" >/dev/null ||
        fail "sriov --json after the replay: $(jq -c . "$STATE/hd.out")"
    if [ $BOOT_VFIO = 1 ]; then
        jq -e --arg v "$VF0" '[.vfs[] | select(.address == $v and .driver == "vfio-pci")] | length == 1' \
            "$STATE/hd.out" >/dev/null || fail "sriov --json does not list $VF0 on vfio-pci: $(jq -c .vfs "$STATE/hd.out")"
        hd_expect 0 attach "$VF0"
        expect_driver "$VF0" none "after hostdev attach $VF0"
        [ ! -e $VFIO_RULES ] || ! grep -v '^#' $VFIO_RULES | grep -qF "KERNEL==\"$VF0\"" ||
            fail "$VFIO_RULES still binds $VF0 after attach: $(cat $VFIO_RULES)"
    fi
    hd_json sriov "$NVME_PF" --numvfs 0 --persist --json
    [ ! -e $SRIOV_RULES ] || fail "$SRIOV_RULES still there after --numvfs 0 --persist"
    # nothing is made at the next "boot"
    udev_reload
    echo "$NVME_PF" >"$P/$NVME_PF/driver/unbind" || fail "cannot unbind $NVME_PF from nvme"
    echo "$NVME_PF" >/sys/bus/pci/drivers/nvme/bind || fail "cannot bind $NVME_PF to nvme again"
    udev_settle
    [ "$(numvfs "$NVME_PF")" = 0 ] || fail "VFs made at a boot after --numvfs 0 --persist: $(numvfs "$NVME_PF")"
}
t_boot_mdev() {
    need_mtty
    [ -x /lib/systemd/systemd-udevd ] || fail "systemd-udevd missing in the image (package udev on the host)"
    [ -f /usr/share/hostdev-vm/61-hostdev-mdev.rules ] || fail "61-hostdev-mdev.rules is not in the image (tests/vm/run)"
    [ "$(readlink -f /usr/bin/hostdev)" = "$(readlink -f "$(command -v hostdev)")" ] ||
        fail "/usr/bin/hostdev (the path the rule runs) is not the built hostdev"
    [ ! -e /usr/sbin/mdevctl ] && [ ! -e /usr/bin/mdevctl ] || fail "mdevctl is installed: the rule would stand aside"
    mkdir -p /etc/udev/rules.d
    cp /usr/share/hostdev-vm/61-hostdev-mdev.rules $MDEV_RULES
    udevd_start
    hd_json mdev create mtty mtty-1 --uuid "$MDEV_U1" --persist --json
    jq -e --arg u "$MDEV_U1" '.uuid == $u and .persistent == true' "$STATE/hd.out" >/dev/null ||
        fail "mdev create --persist --json: $(jq -c . "$STATE/hd.out")"
    [ -f "/etc/mdevctl.d/mtty/$MDEV_U1" ] || fail "/etc/mdevctl.d/mtty/$MDEV_U1 was not written"
    # a definition mdevctl would not start by itself (mdevctl define's default)
    printf '{\n  "mdev_type": "mtty-2",\n  "start": "manual",\n  "attrs": []\n}' >"/etc/mdevctl.d/mtty/$MDEV_U2"
    { cat "/etc/mdevctl.d/mtty/$MDEV_U1"; echo; } | sed 's/^/  definition: /' >&2
    # the parent goes away with its devices, and comes back as at boot
    udev_settle
    note "+ rmmod mtty"
    rmmod mtty || fail "rmmod mtty failed"
    [ ! -e "/sys/bus/mdev/devices/$MDEV_U1" ] || fail "$MDEV_U1 is still there after rmmod mtty"
    udev_settle
    note "+ insmod $MTTY_KO"
    _o=$(insmod "$MTTY_KO" 2>&1) || fail "insmod mtty.ko: $_o"
    _i=0
    while [ ! -e "/sys/bus/mdev/devices/$MDEV_U1" ] && [ $_i -lt 200 ]; do sleep 0.1; _i=$((_i + 1)); done
    udev_settle
    [ -e "/sys/bus/mdev/devices/$MDEV_U1" ] ||
        { dmesg | grep -i -E 'mtty|hostdev|61-|udevd' | tail -n 60 | cut -c1-300 | sed 's/^/  dmesg: /' >&2
          note "udevd: $(pidof systemd-udevd)"
          hd mdev start-parent mtty
          fail "$MDEV_U1 was not made again when mtty registered (61-hostdev-mdev.rules)"; }
    [ "$(basename "$(readlink "/sys/bus/mdev/devices/$MDEV_U1/mdev_type")")" = mtty-1 ] || fail "$MDEV_U1 came back with another type"
    [ ! -e "/sys/bus/mdev/devices/$MDEV_U2" ] || fail "the manual definition $MDEV_U2 was started at the parent's registration"
    [ "$(mdev_avail mtty-1)" = 23 ] || fail "mtty-1 has $(mdev_avail mtty-1) available, expected 23 (one instance)"
    # a parent registered before udevd ran (a driver loaded from the initramfs): the coldplug
    # replay ("add" of the parent, mdev_supported_types there) starts the device
    for _p in $(pidof systemd-udevd); do kill "$_p"; done
    _i=0
    while pidof systemd-udevd >/dev/null && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
    rmmod mtty || fail "rmmod mtty failed"
    _o=$(insmod "$MTTY_KO" 2>&1) || fail "insmod mtty.ko: $_o"
    sleep 1
    [ ! -e "/sys/bus/mdev/devices/$MDEV_U1" ] || fail "$MDEV_U1 was made while no udevd ran"
    udevd_start
    note "+ udevadm trigger --action=add /sys/class/mdev_bus/mtty"
    udevadm trigger --action=add /sys/class/mdev_bus/mtty || fail "udevadm trigger --action=add of mtty failed"
    _i=0
    while [ ! -e "/sys/bus/mdev/devices/$MDEV_U1" ] && [ $_i -lt 200 ]; do sleep 0.1; _i=$((_i + 1)); done
    udev_settle
    [ -e "/sys/bus/mdev/devices/$MDEV_U1" ] || fail "$MDEV_U1 was not made at the coldplug add of mtty (61-hostdev-mdev.rules)"
    [ ! -e "/sys/bus/mdev/devices/$MDEV_U2" ] || fail "the manual definition $MDEV_U2 was started at the coldplug add"
    udev_rules_clean $MDEV_RULES
    hd_json mdev list --json
    jq -e --arg u "$MDEV_U1" --arg m "$MDEV_U2" '([.mdevs[] | select(.uuid == $u and .active and .defined and .start == "auto")] | length) == 1 and ([.mdevs[] | select(.uuid == $m and (.active | not) and .defined and .start == "manual")] | length) == 1' \
        "$STATE/hd.out" >/dev/null || fail "mdev list --json: $(jq -c . "$STATE/hd.out")"
    hd_json mdev remove "$MDEV_U1" --persist --json
    hd_json mdev remove "$MDEV_U2" --persist --json
    [ -z "$(ls /etc/mdevctl.d/mtty 2>/dev/null)" ] || fail "definitions left: $(ls /etc/mdevctl.d/mtty | tr '\n' ' ')"
    # without a definition the next registration makes nothing
    rmmod mtty || fail "rmmod mtty failed"
    _o=$(insmod "$MTTY_KO" 2>&1) || fail "insmod mtty.ko: $_o"
    udev_settle
    [ -z "$(ls /sys/bus/mdev/devices 2>/dev/null)" ] || fail "mdevs made without a definition: $(ls /sys/bus/mdev/devices | tr '\n' ' ')"
}

# ------------------------------------------------------------------ issue 16: mbochs and mdpy
# mbochs: three types drawn from one pool of memory (the types take 4, 16 and 64 MB each), so
# one instance of a larger type lowers every type's count. The pool's size in MB is the module
# parameter "count" (default 256): 6.1's mbochs.c declares module_param_named(count, max_mbytes)
# under MODULE_PARM_DESC(mem, ...), so modinfo lists "mem" but insmod takes only count=.
# mdpy: a display device (1b36:000f, subsystem 1af4:1100) a nested QEMU opens with display off.
MBOCHS_KO=/lib/modules/$KVER/extra/mbochs.ko
MDPY_KO=/lib/modules/$KVER/extra/mdpy.ko
need_sample() {   # module-name
    need_hostdev
    if [ -f /etc/hostdev-vm/mdev-samples-unavailable ]; then
        fail "mdev samples unavailable: $(cat /etc/hostdev-vm/mdev-samples-unavailable)"
    fi
    [ -f "/lib/modules/$KVER/extra/$1.ko" ] || fail "mdev samples unavailable: $1.ko is not in the initramfs"
    [ -d /sys/module/mdev ] || fail "the mdev module is not loaded (CONFIG_VFIO_MDEV)"
}
sample_avail() {   # parent type -> available_instances (sysfs)
    cat "/sys/class/mdev_bus/$1/mdev_supported_types/$2/available_instances"
}
mbochs_counts() {   # -> "type=avail ..." in the order of the types' sizes
    for _t in $MB_SMALL $MB_MEDIUM $MB_LARGE; do printf '%s=%s ' "$_t" "$(sample_avail mbochs "$_t")"; done
}
hd_mbochs_counts() {   # the same from hostdev mdev types --json
    hd_json mdev types mbochs --json
    for _t in $MB_SMALL $MB_MEDIUM $MB_LARGE; do
        printf '%s=%s ' "$_t" "$(jq -r --arg t "$_t" '.parents[0].types[] | select(.type == $t) | .available_instances' "$STATE/hd.out")"
    done
}
t_mdev_mbochs() {
    need_sample mbochs
    _o=$(insmod "$MBOCHS_KO" count=64 2>&1) || fail "insmod mbochs.ko count=64: $_o"
    [ -d /sys/class/mdev_bus/mbochs ] || fail "mbochs loaded but /sys/class/mdev_bus/mbochs is missing"
    # the types by size: the one with the most instances is the smallest
    _sorted=$(for _d in /sys/class/mdev_bus/mbochs/mdev_supported_types/*; do
                  echo "$(cat "$_d/available_instances") ${_d##*/}"; done | sort -rn)
    note "mbochs types (a pool of 64 MB): $(echo "$_sorted" | tr '\n' ' ')"
    [ "$(echo "$_sorted" | wc -l)" = 3 ] || fail "mbochs has $(echo "$_sorted" | wc -l) types, expected 3"
    MB_SMALL=$(echo "$_sorted" | sed -n '1s/.* //p')
    MB_MEDIUM=$(echo "$_sorted" | sed -n '2s/.* //p')
    MB_LARGE=$(echo "$_sorted" | sed -n '3s/.* //p')
    _mbw="$MB_SMALL=16 $MB_MEDIUM=4 $MB_LARGE=1 "
    [ "$(mbochs_counts)" = "$_mbw" ] || fail "mbochs with 64 MB: $(mbochs_counts), expected $_mbw (4, 16, 64 MB per type)"
    [ "$(hd_mbochs_counts)" = "$_mbw" ] || fail "mdev types mbochs --json: $(hd_mbochs_counts), expected $_mbw"
    jq -e '.parents[0].parent == "mbochs" and .parents[0].pci == false and ([.parents[0].types[] | select(.device_api == "vfio-pci")] | length) == 3' \
        "$STATE/hd.out" >/dev/null || fail "mdev types mbochs --json: $(jq -c . "$STATE/hd.out")"
    hd_json mdev create mbochs "$MB_MEDIUM" --uuid "$MDEV_U1" --json
    [ -e "/sys/bus/mdev/devices/$MDEV_U1" ] || fail "$MDEV_U1 does not exist after create"
    # 16 of the 64 MB taken: 48 MB left for every type
    _mbw="$MB_SMALL=12 $MB_MEDIUM=3 $MB_LARGE=0 "
    [ "$(mbochs_counts)" = "$_mbw" ] || fail "after one $MB_MEDIUM: $(mbochs_counts), expected $_mbw"
    [ "$(hd_mbochs_counts)" = "$_mbw" ] || fail "mdev types after one $MB_MEDIUM: $(hd_mbochs_counts), expected $_mbw"
    hd_expect 1 mdev create mbochs "$MB_LARGE" --uuid "$MDEV_U2"
    grep -q "mdev parent mbochs has no capacity left for type $MB_LARGE" "$STATE/hd.err" ||
        fail "the over-capacity create does not say 'no capacity left': $(head -c 300 "$STATE/hd.err")"
    [ ! -e "/sys/bus/mdev/devices/$MDEV_U2" ] || fail "$MDEV_U2 was made over capacity"
    [ "$(mbochs_counts)" = "$_mbw" ] || fail "the refused create changed the counts: $(mbochs_counts)"
    hd_json mdev remove "$MDEV_U1" --json
    [ ! -e "/sys/bus/mdev/devices/$MDEV_U1" ] || fail "$MDEV_U1 still exists after remove"
    _mbw="$MB_SMALL=16 $MB_MEDIUM=4 $MB_LARGE=1 "
    [ "$(mbochs_counts)" = "$_mbw" ] || fail "after the remove: $(mbochs_counts), expected $_mbw"
    hd_json mdev create mbochs "$MB_LARGE" --uuid "$MDEV_U2" --json
    _mbw="$MB_SMALL=0 $MB_MEDIUM=0 $MB_LARGE=0 "
    [ "$(mbochs_counts)" = "$_mbw" ] || fail "after one $MB_LARGE (the whole pool): $(mbochs_counts), expected $_mbw"
    hd_json mdev remove "$MDEV_U2" --json
}
t_mdev_mdpy() {
    need_sample mdpy
    _o=$(insmod "$MDPY_KO" 2>&1) || fail "insmod mdpy.ko: $_o"
    [ -d /sys/class/mdev_bus/mdpy ] || fail "mdpy loaded but /sys/class/mdev_bus/mdpy is missing"
    hd_json mdev types mdpy --json
    _t=$(jq -r '.parents[0].types[0].type' "$STATE/hd.out")
    _n=$(jq -r '.parents[0].types[0].available_instances' "$STATE/hd.out")
    note "mdpy types: $(jq -r '[.parents[0].types[] | "\(.type)=\(.available_instances)"] | join(" ")' "$STATE/hd.out")"
    [ "$_n" = "$(sample_avail mdpy "$_t")" ] || fail "mdev types says $_n of $_t, sysfs $(sample_avail mdpy "$_t")"
    hd_json mdev create mdpy "$_t" --uuid "$MDEV_U1" --json
    [ "$(sample_avail mdpy "$_t")" = $((_n - 1)) ] || fail "$_t: $(sample_avail mdpy "$_t") available after one, expected $((_n - 1))"
    nested_start -name guest=mdpy-vm -device "vfio-pci,sysfsdev=/sys/bus/mdev/devices/$MDEV_U1,display=off,id=mdev0"
    nested_handshake || { nested_dump; nested_stop; fail "nested QEMU with the mdpy mdev did not answer QMP"; }
    qmp_send '{"execute":"query-pci"}'
    qmp_wait '"return": \[' 15 || { nested_dump; nested_stop; fail "no query-pci reply"; }
    grep '"return": \[' $NQ/out | head -n1 >$NQ/pci.json
    # mdpy's device: 1b36:000f = vendor 6966 device 15 (subsystem 1af4:1100, as QEMU's own)
    note "the mdev in the nested QEMU: $(jq -c '[.. | objects | select(.qdev_id? == "mdev0") | .id]' $NQ/pci.json)"
    jq -e '[.. | objects | select(.qdev_id? == "mdev0" and .id.vendor == 6966 and .id.device == 15)] | length == 1' $NQ/pci.json >/dev/null ||
        { nested_dump; nested_stop; fail "the nested QEMU's query-pci does not list the mdpy device 1b36:000f as mdev0"; }
    hd_json mdev list --json
    jq -e --arg u "$MDEV_U1" '[.mdevs[] | select(.uuid == $u and .open == true and .parent == "mdpy")] | length == 1' "$STATE/hd.out" >/dev/null ||
        { nested_stop; fail "mdev list --json does not say $MDEV_U1 is open: $(jq -c .mdevs "$STATE/hd.out")"; }
    hd_expect 1 mdev remove "$MDEV_U1"
    grep -q "$QPID" "$STATE/hd.err" || { nested_stop; fail "the remove refusal does not name process $QPID: $(head -c 300 "$STATE/hd.err")"; }
    [ -e "/sys/bus/mdev/devices/$MDEV_U1" ] || { nested_stop; fail "$MDEV_U1 is gone after the refused remove"; }
    kill -0 "$QPID" 2>/dev/null || fail "the nested QEMU died during the refused remove"
    nested_stop
    hd_json mdev remove "$MDEV_U1" --json
    [ ! -e "/sys/bus/mdev/devices/$MDEV_U1" ] || fail "$MDEV_U1 still exists after remove"
    [ "$(sample_avail mdpy "$_t")" = "$_n" ] || fail "$_t: $(sample_avail mdpy "$_t") available after the remove, expected $_n"
}
scenarios_boot() {
    if [ "$(guest_kind)" = none ]; then
        :   # the VFs' scenarios need groups for vfio-pci; the mdev ones below do not
    elif [ "$(iommu_kind)" = amd ]; then
        cat <<EOF
hostdev boot (udevd, amd: VFs without a group): sriov --persist; the PF's driver bound again and its add replayed give 2 driverless VFs, autoprobe 0|t_boot_sriov
EOF
    else
        cat <<EOF
hostdev boot (udevd): sriov --persist and detach VF --persist; the PF's driver bound again and its add replayed give 2 VFs, autoprobe 0, VF0 on vfio-pci|t_boot_sriov vfio
EOF
    fi
    cat <<EOF
hostdev boot (udevd): mdev create --persist; mtty registered again, and its coldplug add, run the shipped 61-hostdev-mdev.rules: same UUID back, a manual definition stays inactive|t_boot_mdev
hostdev mdev mbochs: types share one memory pool, a larger instance lowers the smaller types, over capacity refused, remove gives it back|t_mdev_mbochs
hostdev mdev mdpy: nested QEMU opens it (display off), remove refused while open, removed after|t_mdev_mdpy
EOF
}

# ------------------------------------------------------------------ vhost-scsi: a target the guest exports
# The kernel's LIO target set up by hand in configfs (no targetcli): a ramdisk backstore
# (rd_mcp, part of target_core_mod), a vhost target with one TPG, a LUN linked to the backstore
# and a nexus. hostdev vhost-scsi says what is missing until it is ready; its qemu-args start a
# nested QEMU whose vhost-scsi-pci realizes on /dev/vhost-scsi. (Under TCG the nested QEMU has
# no ioeventfd, so vhost would never start the rings: the nested QEMU stays stopped, -S.)
CFS=/sys/kernel/config
VH_WWPN=naa.5001405000000001
VH_INIT=naa.5001405000000002
cfs_mounted() { grep -q " $CFS configfs " /proc/mounts; }
vhost_reset() {
    [ -d $CFS/target ] || { cfs_mounted && umount $CFS; return 0; }
    for _t in $CFS/target/vhost/naa.*; do
        [ -d "$_t" ] || continue
        for _g in "$_t"/tpgt_*; do
            [ -d "$_g" ] || continue
            echo NULL >"$_g/nexus" 2>/dev/null
            for _l in "$_g"/lun/lun_*; do
                [ -d "$_l" ] || continue
                for _k in "$_l"/*; do [ -L "$_k" ] && rm -f "$_k"; done
                rmdir "$_l"
            done
            rmdir "$_g"
        done
        rmdir "$_t"
    done
    rmdir $CFS/target/vhost 2>/dev/null
    rmdir $CFS/target/core/rd_mcp_0/ramdisk0 $CFS/target/core/rd_mcp_0 2>/dev/null
    umount $CFS 2>/dev/null
}
vhost_target() {   # -> the target's object from hostdev vhost-scsi list --json (one line)
    hd_json vhost-scsi list --json
    jq -c --arg w "$VH_WWPN" '.targets[] | select(.wwpn == $w)' "$STATE/hd.out"
}
t_vhost_scsi() {
    need_hostdev
    [ -d /sys/module/vhost_scsi ] || fail "the vhost_scsi module is not loaded (tests/vm/run's module list)"
    [ -c /dev/vhost-scsi ] || fail "/dev/vhost-scsi missing"
    cfs_mounted || mount -t configfs configfs $CFS || fail "cannot mount configfs on $CFS"
    [ -d $CFS/target ] || fail "no $CFS/target (target_core_mod)"
    _bs=$CFS/target/core/rd_mcp_0/ramdisk0
    mkdir -p $_bs || fail "cannot make the rd_mcp backstore"
    echo rd_pages=2048 >$_bs/control || fail "rd_pages"
    echo 1 >$_bs/enable || fail "cannot enable the ramdisk backstore"
    _tpg=$CFS/target/vhost/$VH_WWPN/tpgt_1
    mkdir -p $_tpg || fail "cannot make $_tpg (vhost fabric)"
    _j=$(vhost_target)
    note "target: $_j"
    echo "$_j" | jq -e '.tpgt == 1 and (.ready | not) and (.reason | test("has no LUN"))' >/dev/null ||
        fail "a TPG without a LUN: $_j"
    mkdir $_tpg/lun/lun_0 || fail "cannot make lun_0"
    ln -s $_bs $_tpg/lun/lun_0/vhost_lun0 || fail "cannot link the backstore into lun_0"
    _j=$(vhost_target)
    echo "$_j" | jq -e '(.ready | not) and (.reason | test("has no nexus")) and .luns == ["lun_0: rd_mcp_0/ramdisk0"]' >/dev/null ||
        fail "a LUN and no nexus: $_j"
    hd_expect 1 vhost-scsi qemu-args "$VH_WWPN"
    grep -q "is not ready: tpgt_1 has no nexus" "$STATE/hd.err" || fail "qemu-args without a nexus: $(head -c 300 "$STATE/hd.err")"
    echo "$VH_INIT" >$_tpg/nexus || fail "cannot set the nexus"
    _j=$(vhost_target)
    note "target: $_j"
    echo "$_j" | jq -e --arg i "$VH_INIT" '.ready and .reason == null and .tpgt == 1 and .nexus == $i' >/dev/null ||
        fail "the complete target: $_j"
    hd_expect 0 vhost-scsi xml "$(echo $VH_WWPN | tr a-z A-Z)"
    grep -q "protocol='vhost' wwpn='$VH_WWPN'" "$STATE/hd.out" || fail "vhost-scsi xml: $(cat "$STATE/hd.out")"
    hd_expect 0 vhost-scsi qemu-args "$VH_WWPN"
    # shellcheck disable=SC2046
    set -- $(cat "$STATE/hd.out")
    nested_start -name guest=vhost-vm "$@"
    nested_handshake || { nested_dump; nested_stop; fail "nested QEMU with $* did not answer QMP"; }
    qmp_send '{"execute":"query-pci"}'
    qmp_wait '"return": \[' 15 || { nested_dump; nested_stop; fail "no query-pci reply"; }
    grep '"return": \[' $NQ/out | head -n1 >$NQ/pci.json
    # virtio SCSI: 1af4:1004 (transitional) or 1af4:1048 (modern), class 0100
    jq -e '[.. | objects | select(.id?.vendor == 6900 and (.id.device == 4100 or .id.device == 4168))] | length == 1' $NQ/pci.json >/dev/null ||
        { nested_dump; nested_stop; fail "the nested QEMU's query-pci lists no virtio SCSI device"; }
    _fd=$(ls -l /proc/$QPID/fd 2>/dev/null | grep -c '/dev/vhost-scsi')
    note "QEMU $QPID has /dev/vhost-scsi open $_fd time(s)"
    [ "$_fd" -ge 1 ] || { nested_stop; fail "the nested QEMU does not hold /dev/vhost-scsi"; }
    kill -0 "$QPID" 2>/dev/null || fail "the nested QEMU died"
    nested_stop
}
scenarios_vhost() {
    cat <<EOF
hostdev vhost-scsi: a LIO target made in configfs (ramdisk LUN, nexus) is ready only when complete; its qemu-args realize vhost-scsi-pci in a nested QEMU|t_vhost_scsi
EOF
}

# ================================================================== issue 17: USB, SCSI, NPIV
# The outer QEMU (tests/vm/run, qemu_topology) has a qemu-xhci at 00:08.0 with a USB stick
# (usb-storage 46f4:0001, serial HDUSB0001, QEMU id "stick", image node "usbnode") and a USB
# keyboard (usb-kbd 0627:0001), and a virtio-scsi at 00:09.0 with two disks whose WWNs give the
# WWIDs naa.5000c50015ea71a0 (target 0) and ...a1 (target 1). None of it needs an IOMMU: the
# scenarios run in the none boot too (NPIV only with an IOMMU, as it has nothing to do with one).
XHCI=0000:00:08.0
VSCSI=0000:00:09.0
STICK=46f4:0001
KBD=0627:0001
WWID0=naa.5000c50015ea71a0
WWID1=naa.5000c50015ea71a1
STICK_ADD='{"execute":"device_add","arguments":{"driver":"usb-storage","bus":"xhci.0","drive":"usbnode","serial":"HDUSB0001","id":"stick"}}'

# The outer QEMU's monitor: one QMP command through the guest's second serial port (ttyS1) and
# the host's relay (run, monitor_relay). The answer line goes to $STATE/outer.out; 0 when it is
# a "return". (busybox ash's read has -t.)
# shellcheck disable=SC3045
outer_qmp() {   # JSON
    [ -c /dev/ttyS1 ] || { note "no /dev/ttyS1: no way to the outer monitor"; return 1; }
    exec 5<>/dev/ttyS1
    stty -F /dev/ttyS1 raw -echo 2>/dev/null
    # an answer that came after an earlier caller gave up must not be taken for this one's
    while read -t 1 -r _x <&5; do note "  (stale answer dropped: $_x)"; done
    note "+ outer QMP: $1"
    printf '%s\n' "$1" >&5
    _r=
    read -t 40 -r _r <&5
    exec 5<&-
    printf '%s\n' "$_r" | tr -d '\r' >"$STATE/outer.out"
    note "  answer: $_r"
    grep -q '"return"' "$STATE/outer.out"
}

# sysfs name of the USB device with vendor:product $1 ("2-1"), or nothing
usb_dev() {
    for _u in /sys/bus/usb/devices/*; do
        [ -f "$_u/idVendor" ] || continue
        [ "$(cat "$_u/idVendor"):$(cat "$_u/idProduct")" = "$1" ] && { echo "${_u##*/}"; return 0; }
    done
    return 1
}
usb_iface_driver() {   # device -> driver of its first interface, or none
    _f=/sys/bus/usb/devices/$1/$1:1.0/driver
    if [ -e "$_f" ]; then basename "$(readlink "$_f")"; else echo none; fi
}
usb_block() {   # device -> the disk below its storage interface ("sdc"), or nothing
    for _b in /sys/bus/usb/devices/"$1"/"$1":1.0/host*/target*/*:*:*:*/block/*; do
        [ -e "$_b" ] && { echo "${_b##*/}"; return 0; }
    done
    return 1
}
# the stick, bound to usb-storage with its disk: usb-storage probes after a delay (delay_use)
wait_stick() {   # seconds (its own variables: the callers' _s and _i stay theirs)
    _wi=0
    while [ $_wi -lt $(($1 * 10)) ]; do
        _ws=$(usb_dev $STICK) && [ "$(usb_iface_driver "$_ws")" = usb-storage ] && usb_block "$_ws" >/dev/null && return 0
        sleep 0.1; _wi=$((_wi + 1))
    done
    return 1
}
need_stick() { wait_stick 20 || fail "the USB stick $STICK is not there with usb-storage and a disk: $(ls /sys/bus/usb/devices | tr '\n' ' ')"; }
scsi_of_wwid() {   # WWID -> H:C:T:L from sysfs
    for _d in /sys/bus/scsi/devices/*:*:*:*; do
        [ "$(cat "$_d/wwid" 2>/dev/null)" = "$1" ] && { echo "${_d##*/}"; return 0; }
    done
    return 1
}
scsi_child() {   # H:C:T:L sub(block|scsi_generic)
    ls "/sys/bus/scsi/devices/$1/$2" 2>/dev/null | head -n1
}
# nested QEMU's human monitor through QMP: the reply line lands in $NQ/out
nested_hmp() {   # command ERE seconds: 0 when a reply matching ERE came
    _i=0
    while [ $_i -lt "$3" ]; do
        qmp_send "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"$1\"}}"
        sleep 1
        grep -Eq "$2" $NQ/out && return 0
        _i=$((_i + 1))
    done
    return 1
}

# after every scenario: the stick plugged in again (a replug scenario cut short), nothing
# mounted from the LUNs or the stick, FCoE controllers and their vports gone, npiv records too
usbscsi_reset() {
    grep -E '^/dev/sd[a-z]+ ' /proc/mounts | while read -r _dev _mnt _rest; do umount "$_mnt" 2>/dev/null; done
    if [ -e /sys/bus/pci/devices/$XHCI ] && ! usb_dev $STICK >/dev/null; then
        outer_qmp "$STICK_ADD" 2>/dev/null || echo "# warning: could not plug the USB stick back"
        wait_stick 20 || echo "# warning: the USB stick did not come back"
    fi
    # a vport is deleted through its parent (the fc_host whose vport_delete takes it)
    for _v in /sys/class/fc_vports/*; do
        [ -e "$_v" ] || continue
        _wp=$(cat "$_v/port_name"); _wn=$(cat "$_v/node_name")
        for _h in /sys/class/fc_host/*; do
            [ -e "$_v" ] && [ -e "$_h/vport_delete" ] && bounded 10 sysfs_write "${_wp#0x}:${_wn#0x}" "$_h/vport_delete"
        done
    done
    # an FCoE controller sits below its netdev (.../net/eth0/ctlr_0); ctlr_destroy takes the name
    for _c in /sys/bus/fcoe/devices/ctlr_*; do
        [ -e "$_c" ] || continue
        _n=$(basename "$(dirname "$(readlink -f "$_c")")")
        bounded 10 sysfs_write "$_n" /sys/bus/fcoe/ctlr_destroy
        [ -e "$_c" ] && echo "# warning: FCoE controller ${_c##*/} over $_n not destroyed"
    done
    rm -rf /etc/hostdev/npiv.d
    # udevd, if the agent's scenario started it
    for _p in $(pidof systemd-udevd 2>/dev/null); do kill "$_p" 2>/dev/null; done
}

t_usbscsi_topology() {
    [ "$(ids $XHCI)" = 1b36:000d ] || fail "$XHCI is $(ids $XHCI), expected qemu-xhci 1b36:000d"
    expect_driver $XHCI xhci_hcd "boot"
    [ "$(cat $P/$VSCSI/vendor)" = 0x1af4 ] || fail "$VSCSI is $(ids $VSCSI), expected virtio (1af4)"
    expect_driver $VSCSI virtio-pci "boot"
    need_stick
    _k=$(usb_dev $KBD) || fail "no USB keyboard $KBD"
    [ "$(usb_iface_driver "$_k")" = usbhid ] || fail "keyboard $_k is on '$(usb_iface_driver "$_k")', expected usbhid"
    for _w in $WWID0 $WWID1; do
        _h=$(scsi_of_wwid $_w) || fail "no SCSI LUN with wwid $_w: $(ls /sys/bus/scsi/devices | tr '\n' ' ')"
        [ -n "$(scsi_child "$_h" block)" ] && [ -n "$(scsi_child "$_h" scsi_generic)" ] || fail "LUN $_h ($_w) has no block or sg node"
        case "$(readlink -f /sys/bus/scsi/devices/$_h)" in */$VSCSI/*) ;; *) fail "LUN $_h is not below $VSCSI" ;; esac
    done
    note "stick $(usb_dev $STICK) ($(usb_block "$(usb_dev $STICK)")), keyboard $_k, LUNs $(scsi_of_wwid $WWID0) $(scsi_of_wwid $WWID1); groups: xhci $(grp $XHCI), virtio-scsi $(grp $VSCSI)"
    dmesg | grep -E 'usb [0-9]-[0-9]' | tail -n 6 >&2
}

# usb list --json agrees with sysfs: every device, its numbers, ids, controller and group;
# the stick is ready (storage, its disk named), the keyboard is the only one, root hubs refused
t_usb_list() {
    need_hostdev
    need_stick
    hd_json usb list --json
    for _u in /sys/bus/usb/devices/*; do
        [ -f "$_u/idVendor" ] || continue
        _n=${_u##*/}
        echo "$_n $(cat "$_u/busnum") $(cat "$_u/devnum") $(cat "$_u/idVendor"):$(cat "$_u/idProduct") $(cat "$_u/speed")"
    done | sort >"$STATE/sys.txt"
    jq -r '.devices[] | "\(.port_path) \(.busnum) \(.devnum) \(.vendor_id):\(.product_id) \(.speed)"' "$STATE/hd.out" |
        sort >"$STATE/hd.txt"
    diff "$STATE/sys.txt" "$STATE/hd.txt" >&2 || fail "hostdev usb list --json disagrees with /sys/bus/usb/devices (see diff)"
    _g=$(grp $XHCI); [ "$_g" = none ] && _g=null
    _bad=$(jq -r --arg c $XHCI --argjson g "$_g" '.devices[] | select(.controller != $c or .iommu_group != $g) | .port_path' "$STATE/hd.out")
    [ -z "$_bad" ] || fail "devices not on controller $XHCI (group $_g): $_bad"
    _s=$(usb_dev $STICK); _b=$(usb_block "$_s")
    _want="$_s $(cat /sys/bus/usb/devices/$_s/devpath) HDUSB0001 true mass storage usb-storage $_b ready /dev/bus/usb/$(printf %03d "$(cat /sys/bus/usb/devices/$_s/busnum)")/$(printf %03d "$(cat /sys/bus/usb/devices/$_s/devnum)")"
    _got=$(jq -r --arg s "$_s" '.devices[] | select(.port_path == $s) | "\(.port_path) \(.devpath) \(.serial) \(.superspeed) \(.kind) \(.interfaces[0].driver) \(.interfaces[0].blockdevs | join(",")) \(.verdict) \(.node)"' "$STATE/hd.out")
    [ "$_got" = "$_want" ] || fail "stick: '$_got', expected '$_want'"
    _k=$(usb_dev $KBD)
    _got=$(jq -r --arg s "$_k" '.devices[] | select(.port_path == $s) | "\(.product) \(.interfaces[0].driver) \(.verdict) \(.forceable)"' "$STATE/hd.out")
    [ "$_got" = "QEMU USB Keyboard usbhid only-keyboard true" ] || fail "keyboard $_k: '$_got'"
    _got=$(jq -r '[.devices[] | select(.root_hub) | "\(.port_path)=\(.verdict)"] | join(" ")' "$STATE/hd.out")
    [ "$_got" = "usb1=root-hub usb2=root-hub" ] || fail "root hubs: '$_got'"
    hd_json usb show $STICK --json
    [ "$(jq -r .port_path "$STATE/hd.out")" = "$_s" ] || fail "usb show $STICK is $(jq -r .port_path "$STATE/hd.out"), expected $_s"
    hd_json usb show "$_s" --json
    [ "$(jq -r '"\(.vendor_id):\(.product_id)"' "$STATE/hd.out")" = $STICK ] || fail "usb show $_s is not the stick"
}

# usb qemu-args and xml by vendor:product: the stick by its ids (not its numbers), the only
# keyboard and the mounted stick refused unless --force, a device number refused as a spec
t_usb_guest_config() {
    need_hostdev
    need_stick
    hd_json usb qemu-args $STICK --json
    _a=$(jq -r '.args | join(" ")' "$STATE/hd.out")
    case "$_a" in
        *"-device qemu-xhci,id=xhci -device usb-host,bus=xhci.0,vendorid=0x46f4,productid=0x0001"*) ;;
        *) fail "usb qemu-args $STICK: '$_a'" ;;
    esac
    case "$_a" in *hostaddr*|*hostbus*) fail "usb qemu-args pins the stick to its bus/device: '$_a'" ;; esac
    hd_expect 0 usb xml $STICK
    grep -q "<vendor id='0x46f4'/>" "$STATE/hd.out" && grep -q "<product id='0x0001'/>" "$STATE/hd.out" ||
        fail "usb xml $STICK does not name vendor 0x46f4 product 0x0001"
    grep -q "<address" "$STATE/hd.out" && fail "usb xml $STICK pins a bus/device address to a unique vendor:product"
    hd_expect 1 usb qemu-args $KBD
    grep -q "only keyboard" "$STATE/hd.err" || fail "the keyboard's refusal does not say 'only keyboard': $(head -c 200 "$STATE/hd.err")"
    grep -q -- "--force" "$STATE/hd.err" || fail "the keyboard's refusal does not say --force"
    hd_expect 1 usb xml $KBD
    hd_json usb qemu-args $KBD --force --json
    jq -e '(.args | join(" ") | contains("vendorid=0x0627,productid=0x0001")) and (.warnings | length > 0)' "$STATE/hd.out" >/dev/null ||
        fail "usb qemu-args $KBD --force: $(jq -c . "$STATE/hd.out")"
    _s=$(usb_dev $STICK)
    hd_expect 2 usb qemu-args "$(cat /sys/bus/usb/devices/$_s/busnum):$(cat /sys/bus/usb/devices/$_s/devnum)"
    # the stick's disk mounted: host storage, refused until unmounted
    _b=$(usb_block "$_s")
    mke2fs "/dev/$_b" >/dev/null 2>&1 || fail "mke2fs /dev/$_b failed"
    mkdir -p /mnt/stick
    mount -t ext4 "/dev/$_b" /mnt/stick || fail "mount /dev/$_b failed"
    hd_json usb show $STICK --json
    _got=$(jq -r '"\(.verdict) \(.host_use | join(","))"' "$STATE/hd.out")
    [ "$_got" = "host-storage /dev/$_b on /mnt/stick" ] || { umount /mnt/stick; fail "mounted stick: '$_got'"; }
    hd_expect 1 usb qemu-args $STICK
    grep -q "/mnt/stick" "$STATE/hd.err" || { umount /mnt/stick; fail "the refusal does not name /mnt/stick"; }
    umount /mnt/stick
    hd_expect 0 usb qemu-args $STICK
}

# a nested QEMU takes the stick with hostdev's arguments: the host's interface goes to usbfs,
# its disk goes, hostdev says held by that QEMU and refuses a second VM; after it exits the
# host's usb-storage has it again
t_usb_nested() {
    need_hostdev
    need_stick
    _s=$(usb_dev $STICK); _b=$(usb_block "$_s")
    hd_expect 0 usb qemu-args $STICK
    # shellcheck disable=SC2046
    set -- $(cat "$STATE/hd.out")
    nested_start -name guest=usb-vm "$@"
    nested_handshake || { nested_dump; fail "nested QEMU with the stick did not answer QMP"; }
    # usb-host attaches only while the VM runs (it polls every 2 s)
    qmp_send '{"execute":"cont"}'
    nested_hmp "info usb" 'QEMU USB HARDDRIVE' 40 || { nested_dump; nested_stop; fail "the nested QEMU's 'info usb' never showed the stick (QEMU USB HARDDRIVE)"; }
    grep -o 'Device [^"]*HARDDRIVE[^"\\]*' $NQ/out | tail -n1 >&2
    _i=0
    while [ "$(usb_iface_driver "$_s")" != usbfs ] && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
    [ "$(usb_iface_driver "$_s")" = usbfs ] || { nested_stop; fail "the stick's interface is on '$(usb_iface_driver "$_s")' while the VM has it, expected usbfs"; }
    [ ! -e "/sys/class/block/$_b" ] || { nested_stop; fail "/dev/$_b is still there while the VM has the stick"; }
    hd_json usb show $STICK --json
    _got=$(jq -r '"\(.verdict) \([.holders[].pid] | join(","))"' "$STATE/hd.out")
    [ "$_got" = "held $QPID" ] || { nested_stop; fail "usb show while the VM has it: '$_got', expected 'held $QPID'"; }
    hd_expect 1 usb qemu-args $STICK
    grep -q "$QPID" "$STATE/hd.err" || { nested_stop; fail "the second VM's refusal does not name process $QPID"; }
    kill -0 "$QPID" 2>/dev/null || fail "the nested QEMU died"
    nested_stop
    wait_stick 30 || fail "usb-storage did not get the stick back after the VM exited: $(usb_iface_driver "$_s")"
    hd_json usb show $STICK --json
    [ "$(jq -r .verdict "$STATE/hd.out")" = ready ] || fail "after the VM exited the stick is '$(jq -r .verdict "$STATE/hd.out")'"
}

# unplugged and plugged back through the outer QEMU's monitor: a new device number; hostdev
# finds it by vendor:product all the same, and by nothing while it is away
t_usb_replug() {
    need_hostdev
    need_stick
    _s=$(usb_dev $STICK); _dn=$(cat /sys/bus/usb/devices/$_s/devnum)
    outer_qmp '{"execute":"device_del","arguments":{"id":"stick"}}' || fail "outer device_del: $(cat "$STATE/outer.out")"
    _i=0
    while usb_dev $STICK >/dev/null && [ $_i -lt 200 ]; do sleep 0.1; _i=$((_i + 1)); done
    usb_dev $STICK >/dev/null && fail "the stick is still in sysfs 20 s after device_del"
    hd_expect 1 usb show $STICK
    grep -q "$STICK" "$STATE/hd.err" || fail "the not-found message does not name $STICK"
    outer_qmp "$STICK_ADD" || fail "outer device_add: $(cat "$STATE/outer.out")"
    wait_stick 30 || fail "the stick did not come back after device_add"
    _s2=$(usb_dev $STICK); _dn2=$(cat /sys/bus/usb/devices/$_s2/devnum)
    note "before: $_s devnum $_dn; after: $_s2 devnum $_dn2"
    dmesg | grep -E 'usb [0-9]-[0-9]' | grep -v -E 'Product|Manufacturer|SerialNumber|strings' >&2
    [ "$_dn2" != "$_dn" ] || fail "the replugged stick kept device number $_dn"
    hd_json usb show $STICK --json
    _got=$(jq -r '"\(.port_path) \(.devnum) \(.serial) \(.verdict)"' "$STATE/hd.out")
    [ "$_got" = "$_s2 $_dn2 HDUSB0001 ready" ] || fail "usb show $STICK after the replug: '$_got', expected '$_s2 $_dn2 HDUSB0001 ready'"
    hd_json usb qemu-args $STICK --json
    jq -e '.args | join(" ") | contains("vendorid=0x46f4,productid=0x0001")' "$STATE/hd.out" >/dev/null ||
        fail "usb qemu-args after the replug: $(jq -c .args "$STATE/hd.out")"
}

# scsi list --json agrees with sysfs; both virtio-scsi LUNs with their WWIDs, sg and block
# nodes, adapter and PCI function, assignable; show by WWID gives the current H:C:T:L
t_scsi_list() {
    need_hostdev
    need_stick
    hd_json scsi list --json
    for _d in /sys/bus/scsi/devices/*:*:*:*; do
        _h=${_d##*/}
        echo "$_h $(scsi_child "$_h" scsi_generic) $(scsi_child "$_h" block) $(cat "$_d/type")"
    done | sort >"$STATE/sys.txt"
    jq -r '.luns[] | "\(.hctl) \(.sg) \(.block) \(.type)"' "$STATE/hd.out" | sort >"$STATE/hd.txt"
    diff "$STATE/sys.txt" "$STATE/hd.txt" >&2 || fail "hostdev scsi list --json disagrees with /sys/bus/scsi/devices (see diff)"
    _g=$(grp $VSCSI); [ "$_g" = none ] && _g=null
    for _w in $WWID0 $WWID1; do
        _h=$(scsi_of_wwid $_w)
        _want="$_h disk $(scsi_child "$_h" scsi_generic) $(scsi_child "$_h" block) virtio_scsi $VSCSI $_g assignable"
        _got=$(jq -r --arg w $_w '.luns[] | select(.wwid == $w) | "\(.hctl) \(.type_name) \(.sg) \(.block) \(.proc_name) \(.pci_address) \(.iommu_group) \(.verdict)"' "$STATE/hd.out")
        [ "$_got" = "$_want" ] || fail "LUN $_w: '$_got', expected '$_want'"
    done
    # the stick's LUN is listed too, on usb-storage
    _sb=$(usb_block "$(usb_dev $STICK)")
    jq -e --arg b "$_sb" '[.luns[] | select(.block == $b and .proc_name == "usb-storage")] | length == 1' "$STATE/hd.out" >/dev/null ||
        fail "the stick's LUN ($_sb, usb-storage) is not listed"
    hd_json scsi show $WWID1 --json
    [ "$(jq -r .hctl "$STATE/hd.out")" = "$(scsi_of_wwid $WWID1)" ] || fail "scsi show $WWID1 gives $(jq -r .hctl "$STATE/hd.out")"
}

# a nested QEMU takes LUN 0 by WWID through scsi-generic with hostdev's arguments: it realizes
# the device on /dev/sgN, hostdev says the LUN is held by it and refuses it to another VM
t_scsi_nested() {
    need_hostdev
    _h=$(scsi_of_wwid $WWID0) || fail "no LUN $WWID0"
    _sg=$(scsi_child "$_h" scsi_generic)
    hd_expect 0 scsi qemu-args $WWID0
    grep -q "/dev/$_sg" "$STATE/hd.out" || fail "scsi qemu-args $WWID0 does not use /dev/$_sg: $(cat "$STATE/hd.out" | tr '\n' ' ')"
    # the text is shell words (the -blockdev JSON quoted)
    eval "set -- $(tr '\n' ' ' <"$STATE/hd.out")"
    nested_start -name guest=scsi-vm "$@"
    nested_handshake || { nested_dump; nested_stop; fail "nested QEMU with scsi-generic did not answer QMP"; }
    nested_hmp "info qtree" 'dev: scsi-generic' 10 || { nested_dump; nested_stop; fail "the nested QEMU has no scsi-generic device"; }
    qmp_send '{"execute":"query-named-block-nodes"}'
    qmp_wait "\"file\": \"/dev/$_sg\"" 15 || { nested_dump; nested_stop; fail "no block node on /dev/$_sg in the nested QEMU"; }
    hd_json scsi show $WWID0 --json
    _got=$(jq -r '"\(.verdict) \(.held_by | join(";"))"' "$STATE/hd.out")
    case "$_got" in "in-use $QPID "*"scsi-vm"*) ;; *) nested_stop; fail "scsi show while the VM has it: '$_got'" ;; esac
    hd_expect 1 scsi qemu-args $WWID0
    grep -q "$QPID" "$STATE/hd.err" || { nested_stop; fail "the second VM's refusal does not name process $QPID"; }
    kill -0 "$QPID" 2>/dev/null || fail "the nested QEMU died"
    nested_stop
    hd_json scsi show $WWID0 --json
    [ "$(jq -r .verdict "$STATE/hd.out")" = assignable ] || fail "after the VM exited the LUN is '$(jq -r .verdict "$STATE/hd.out")'"
}

# LUN 1 formatted and mounted: refused (named mount point) unless --force; assignable again
# after umount
t_scsi_mounted() {
    need_hostdev
    _h=$(scsi_of_wwid $WWID1) || fail "no LUN $WWID1"
    _b=$(scsi_child "$_h" block)
    mke2fs "/dev/$_b" >/dev/null 2>&1 || fail "mke2fs /dev/$_b failed"
    mkdir -p /mnt/lun1
    mount -t ext4 "/dev/$_b" /mnt/lun1 || fail "mount /dev/$_b failed"
    hd_json scsi show $WWID1 --json
    _got=$(jq -r '"\(.verdict) \(.host_use | join(","))"' "$STATE/hd.out")
    [ "$_got" = "refused /dev/$_b on /mnt/lun1" ] || { umount /mnt/lun1; fail "mounted LUN: '$_got'"; }
    hd_expect 1 scsi qemu-args $WWID1
    grep -q "/mnt/lun1" "$STATE/hd.err" || { umount /mnt/lun1; fail "the refusal does not name /mnt/lun1: $(head -c 200 "$STATE/hd.err")"; }
    hd_expect 1 scsi xml $WWID1
    hd_json scsi qemu-args $WWID1 --force --json
    jq -e '.luns[0].warnings | length > 0' "$STATE/hd.out" >/dev/null || { umount /mnt/lun1; fail "--force gave no warning"; }
    umount /mnt/lun1
    hd_json scsi show $WWID1 --json
    [ "$(jq -r .verdict "$STATE/hd.out")" = assignable ] || fail "after umount the LUN is '$(jq -r .verdict "$STATE/hd.out")'"
}

# the stick's node held open by a plain process (a sleep with it on its stdin; not this shell,
# whose fds every hostdev it starts would inherit): held, named by pid, refused unless --force;
# ready again once it is gone
t_usb_held_by_process() {
    need_hostdev
    need_stick
    _s=$(usb_dev $STICK)
    _node=/dev/bus/usb/$(printf %03d "$(cat /sys/bus/usb/devices/$_s/busnum)")/$(printf %03d "$(cat /sys/bus/usb/devices/$_s/devnum)")
    [ -c "$_node" ] || fail "no $_node"
    sleep 120 <"$_node" &
    _hp=$!
    sleep 0.5
    hd_json usb show $STICK --json
    _got=$(jq -r '"\(.verdict) \(.forceable) \([.holders[] | "\(.pid) \(.comm)"] | join(","))"' "$STATE/hd.out")
    [ "$_got" = "held true $_hp sleep" ] || { kill $_hp; fail "usb show with $_node open in process $_hp: '$_got', expected 'held true $_hp sleep'"; }
    hd_expect 1 usb qemu-args $STICK
    grep -q "$_hp" "$STATE/hd.err" && grep -q "$_node" "$STATE/hd.err" || { kill $_hp; fail "the refusal does not name process $_hp and $_node: $(head -c 300 "$STATE/hd.err")"; }
    hd_expect 0 usb qemu-args $STICK --force
    kill $_hp; wait $_hp 2>/dev/null
    hd_json usb show $STICK --json
    [ "$(jq -r .verdict "$STATE/hd.out")" = ready ] || fail "after the node was closed the stick is '$(jq -r .verdict "$STATE/hd.out")'"
}

# LUN 1 as swap (the kernel's /proc/swaps): refused naming it; a LUN named by H:C:T:L is given
# with a warning that the adapter number changes at reboot
t_scsi_swap_hctl() {
    need_hostdev
    _h=$(scsi_of_wwid $WWID1) || fail "no LUN $WWID1"
    _b=$(scsi_child "$_h" block)
    mkswap "/dev/$_b" >/dev/null 2>&1 || fail "mkswap /dev/$_b failed"
    swapon "/dev/$_b" || fail "swapon /dev/$_b failed"
    hd_json scsi show $WWID1 --json
    _got=$(jq -r '"\(.verdict) \(.host_use | join(","))"' "$STATE/hd.out")
    [ "$_got" = "refused /dev/$_b as swap" ] || { swapoff "/dev/$_b"; fail "LUN in swap: '$_got', expected 'refused /dev/$_b as swap'"; }
    hd_expect 1 scsi qemu-args $WWID1
    grep -q "swap" "$STATE/hd.err" || { swapoff "/dev/$_b"; fail "the refusal does not say swap: $(head -c 200 "$STATE/hd.err")"; }
    swapoff "/dev/$_b" || fail "swapoff /dev/$_b failed"
    _h0=$(scsi_of_wwid $WWID0)
    hd_json scsi qemu-args "$_h0" --json
    jq -e --arg h "$_h0" --arg w $WWID0 '.luns[0].hctl == $h and .luns[0].wwid == $w and (.luns[0].warnings | join(" ") | test("H:C:T:L|reboot|adapter"))' "$STATE/hd.out" >/dev/null ||
        fail "scsi qemu-args $_h0: $(jq -c .luns "$STATE/hd.out")"
}

# FCoE over the e1000e: the software FC host (fcoe) with vport_create
fcoe_up() {
    _nd=$(netdevs "$NIC_LONE")
    [ -n "$_nd" ] || fail "$NIC_LONE has no netdev for FCoE"
    [ -e /sys/bus/fcoe/ctlr_create ] || fail "no /sys/bus/fcoe/ctlr_create (fcoe not loaded)"
    ip link set "$_nd" up || fail "ip link set $_nd up failed"
    echo "$_nd" >/sys/bus/fcoe/ctlr_create || fail "ctlr_create $_nd failed"
    for _c in /sys/bus/fcoe/devices/ctlr_*; do echo 1 >"$_c/enabled" || fail "enabling $_c failed"; done
    _i=0
    while [ -z "$(ls /sys/class/fc_host 2>/dev/null)" ] && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
    FC_HOST=$(ls /sys/class/fc_host | head -n1)
    [ -n "$FC_HOST" ] || fail "FCoE over $_nd made no fc_host"
    note "FCoE over $_nd: $FC_HOST, port_name $(cat /sys/class/fc_host/$FC_HOST/port_name), state $(cat /sys/class/fc_host/$FC_HOST/port_state)"
}
WWPN=2001001122334455
WWNN=2000001122334455
t_npiv_create_delete() {
    need_hostdev
    fcoe_up
    _f=/sys/class/fc_host/$FC_HOST
    hd_json npiv list --json
    _want="$FC_HOST $(cat $_f/port_name) $(cat $_f/node_name) $(cat $_f/max_npiv_vports) 0 true fcoe $NIC_LONE null"
    _got=$(jq -r --arg h "$FC_HOST" '.fc_hosts[] | select(.host == $h) | "\(.host) \(.port_name) \(.node_name) \(.max_npiv_vports) \(.npiv_vports_inuse) \(.vport_create) \(.proc_name) \(.pci_address) \(.vport)"' "$STATE/hd.out")
    [ "$_got" = "$_want" ] || fail "npiv list: '$_got', expected '$_want'"
    hd_expect 2 npiv create "$FC_HOST" --wwpn 200100112233445 --wwnn $WWNN
    hd_json npiv create "$FC_HOST" --wwpn $WWPN --wwnn $WWNN --json
    _vp=$(jq -r .vport.name "$STATE/hd.out")
    [ -e "/sys/class/fc_vports/$_vp" ] || fail "create says vport '$_vp', /sys/class/fc_vports has: $(ls /sys/class/fc_vports | tr '\n' ' ')"
    [ "$(cat /sys/class/fc_vports/$_vp/port_name)" = 0x$WWPN ] || fail "$_vp has port_name $(cat /sys/class/fc_vports/$_vp/port_name)"
    [ "$(cat /sys/class/fc_vports/$_vp/vport_type)" = "NPIV VPORT" ] || fail "$_vp is a '$(cat /sys/class/fc_vports/$_vp/vport_type)'"
    [ "$(cat $_f/npiv_vports_inuse)" = 1 ] || fail "npiv_vports_inuse is $(cat $_f/npiv_vports_inuse) after create"
    _vh=
    for _h in /sys/class/fc_host/*; do [ "$(cat "$_h/port_name")" = 0x$WWPN ] && _vh=${_h##*/}; done
    [ -n "$_vh" ] || fail "no vHBA fc_host with port_name 0x$WWPN"
    jq -e --arg h "$_vh" '.vport.host == $h' "$STATE/hd.out" >/dev/null || fail "create names vHBA $(jq -r .vport.host "$STATE/hd.out"), sysfs $_vh"
    note "vport $_vp, vHBA $_vh, state $(cat /sys/class/fc_vports/$_vp/vport_state)"
    hd_json npiv list --json
    _got=$(jq -r --arg h "$_vh" '.fc_hosts[] | select(.host == $h) | "\(.parent) \(.vport)"' "$STATE/hd.out")
    [ "$_got" = "$FC_HOST $_vp" ] || fail "npiv list: vHBA $_vh: '$_got', expected '$FC_HOST $_vp'"
    jq -e --arg v "$_vp" --arg p "$FC_HOST" '[.vports[] | select(.name == $v and .parent == $p and .port_name == "0x'$WWPN'")] | length == 1' "$STATE/hd.out" >/dev/null ||
        fail "npiv list does not list vport $_vp: $(jq -c .vports "$STATE/hd.out")"
    # the WWPN is taken: a second vport with it is refused, nothing made
    hd_expect 1 npiv create "$FC_HOST" --wwpn $WWPN --wwnn 2000001122334466
    [ "$(ls /sys/class/fc_vports | wc -l)" = 1 ] || fail "a refused create made a vport: $(ls /sys/class/fc_vports | tr '\n' ' ')"
    hd_json npiv delete "$_vp" --json
    [ ! -e "/sys/class/fc_vports/$_vp" ] || fail "$_vp still exists after delete"
    [ ! -e "/sys/class/fc_host/$_vh" ] || fail "vHBA $_vh still exists after delete"
    [ "$(cat $_f/npiv_vports_inuse)" = 0 ] || fail "npiv_vports_inuse is $(cat $_f/npiv_vports_inuse) after delete"
    # made again, deleted by its vHBA's name
    hd_json npiv create "$FC_HOST" --wwpn $WWPN --wwnn $WWNN --json
    _vh=$(jq -r .vport.host "$STATE/hd.out")
    [ -e "/sys/class/fc_host/$_vh" ] || fail "second create: no vHBA $_vh"
    hd_json npiv delete "$_vh" --json
    [ -z "$(ls /sys/class/fc_vports)" ] && [ ! -e "/sys/class/fc_host/$_vh" ] || fail "delete $_vh left $(ls /sys/class/fc_vports | tr '\n' ' ')"
    # the FC host itself is no vport
    hd_expect 1 npiv delete "$FC_HOST"
    [ -e "$_f" ] || fail "delete $FC_HOST removed the FC host"
}
# create --persist records it; the vport lost (as at a reboot) shows as missing, restore makes
# it again, delete by WWPN removes it and its record
t_npiv_persist_restore() {
    need_hostdev
    fcoe_up
    hd_json npiv create "$FC_HOST" --wwpn $WWPN --wwnn $WWNN --persist --json
    _vp=$(jq -r .vport.name "$STATE/hd.out")
    [ -e "/sys/class/fc_vports/$_vp" ] || fail "no vport $_vp after create --persist"
    echo "$WWPN:$WWNN" >/sys/class/fc_host/$FC_HOST/vport_delete || fail "raw vport_delete failed"
    [ ! -e "/sys/class/fc_vports/$_vp" ] || fail "raw vport_delete left $_vp"
    hd_json npiv list --json
    _got=$(jq -r '[.recorded[] | "\(.port_name) \(.parent) \(.vport)"] | join(";")' "$STATE/hd.out")
    [ "$_got" = "0x$WWPN $FC_HOST null" ] || fail "npiv list recorded: '$_got', expected '0x$WWPN $FC_HOST null'"
    hd_json npiv restore --json
    _vp2=$(ls /sys/class/fc_vports | head -n1)
    [ -n "$_vp2" ] && [ "$(cat /sys/class/fc_vports/$_vp2/port_name)" = 0x$WWPN ] || fail "restore made no vport with 0x$WWPN: $(jq -c . "$STATE/hd.out")"
    jq -e --arg v "$_vp2" '.report | join(" ") | contains($v)' "$STATE/hd.out" >/dev/null || fail "restore's report does not name $_vp2: $(jq -c .report "$STATE/hd.out")"
    hd_json npiv delete $WWPN --json
    [ -z "$(ls /sys/class/fc_vports)" ] || fail "delete $WWPN left $(ls /sys/class/fc_vports | tr '\n' ' ')"
    hd_json npiv list --json
    jq -e '.recorded | length == 0' "$STATE/hd.out" >/dev/null || fail "delete did not forget the record: $(jq -c .recorded "$STATE/hd.out")"
}

# hostdevd on the real kernel: /v1/usb and /v1/scsi as the CLI says; a long poll on /v1/usb is
# woken by the stick's unplug (the usb uevent, not a timer), the next generation lists it gone
# and /v1/usb/46f4:0001 is 404; plugged back, a later generation lists it with its new number.
# hostdevd hears uevents through GUdev, which listens to what udevd passes on (the "udev"
# netlink group), not to the kernel's own: as on a real host, udevd runs (no rules: it only
# passes the events on); without it no unplug would reach the agent.
udevd_start() {
    [ -x /lib/systemd/systemd-udevd ] || fail "systemd-udevd missing in the image (package udev on the host)"
    # after the boot's burst of events: started while usb-storage was still probing the stick
    # (a scenario right after /init), udevd queued the stick's SCSI events and then heard no
    # uevent at all for the next 20 s (no mdev, no mtty)
    wait_stick 20
    mkdir -p /run/udev
    rm -f /run/udev/control
    # its log to the kernel's (no journal here), where udev_rules_clean reads it
    SYSTEMD_LOG_TARGET=kmsg /lib/systemd/systemd-udevd --daemon >/dev/null 2>&1 || fail "systemd-udevd --daemon failed"
    _i=0
    while [ ! -e /run/udev/control ] && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
    [ -e /run/udev/control ] || fail "systemd-udevd did not start (no /run/udev/control)"
    note "systemd-udevd $(pidof systemd-udevd)"
}
agent_get() {   # path file -> 0 on 200; headers in file.hdr
    wget -q -S -O "$2" --header "$_auth" "$_url$1" 2>"$2.hdr"
}
t_agent_usbscsi() {
    need_stick
    udevd_start
    agent_start 110
    agent_get /v1/usb $_ad/usb || { sed 's/^/  hostdevd: /' $_ad/log >&2; fail "GET /v1/usb failed: $(cat $_ad/usb.hdr)"; }
    _g1=$(jq .generation $_ad/usb)
    _etag=$(grep -i '^ *etag:' $_ad/usb.hdr | head -n1 | sed 's/^[^:]*: *//' | tr -d '\r')
    [ -n "$_etag" ] || fail "GET /v1/usb has no ETag: $(cat $_ad/usb.hdr)"
    _s=$(usb_dev $STICK)
    jq -e --arg s "$_s" '[.devices[] | select(.port_path == $s and .vendor_id == "46f4" and .verdict == "ready")] | length == 1' $_ad/usb >/dev/null ||
        fail "GET /v1/usb does not list the stick at $_s ready"
    agent_get /v1/scsi $_ad/scsi || fail "GET /v1/scsi failed: $(cat $_ad/scsi.hdr)"
    for _w in $WWID0 $WWID1; do
        jq -e --arg w $_w --arg h "$(scsi_of_wwid $_w)" '[.luns[] | select(.wwid == $w and .hctl == $h and .verdict == "assignable")] | length == 1' $_ad/scsi >/dev/null ||
            fail "GET /v1/scsi does not list $_w at $(scsi_of_wwid $_w): $(jq -c '[.luns[] | {hctl, wwid, verdict}]' $_ad/scsi)"
    done
    agent_get /v1/scsi/$WWID0 $_ad/lun || fail "GET /v1/scsi/$WWID0 failed"
    [ "$(jq -r .hctl $_ad/lun)" = "$(scsi_of_wwid $WWID0)" ] || fail "GET /v1/scsi/$WWID0: $(jq -r .hctl $_ad/lun)"
    note "generation $_g1, ETag $_etag; long poll, then unplug"
    rm -f $_ad/poll.rc
    ( wget -q -O $_ad/usb2 --header "$_auth" --header "If-None-Match: $_etag" "$_url/v1/usb?wait=60" 2>$_ad/poll.err
      echo $? >$_ad/poll.rc ) &
    sleep 1
    [ ! -e $_ad/poll.rc ] || fail "the long poll returned before the unplug: $(cat $_ad/poll.err)"
    _t0=$(date +%s)
    outer_qmp '{"execute":"device_del","arguments":{"id":"stick"}}' || fail "outer device_del: $(cat "$STATE/outer.out")"
    _i=0
    while [ ! -e $_ad/poll.rc ] && [ $_i -lt 300 ]; do sleep 0.1; _i=$((_i + 1)); done
    [ -e $_ad/poll.rc ] || fail "the long poll on /v1/usb was not woken by the unplug within 30 s"
    [ "$(cat $_ad/poll.rc)" = 0 ] || fail "the long poll answered an error: $(cat $_ad/poll.err)"
    note "long poll woken after $(($(date +%s) - _t0)) s"
    _g2=$(jq .generation $_ad/usb2)
    [ "$_g2" -gt "$_g1" ] || fail "generation $_g2 after the unplug, was $_g1"
    # the poll may answer at the first of the unplug's events: the stick leaves by the next
    _i=0
    while jq -e '[.devices[] | select(.vendor_id == "46f4")] | length > 0' $_ad/usb2 >/dev/null && [ $_i -lt 20 ]; do
        sleep 0.5; agent_get /v1/usb $_ad/usb2; _i=$((_i + 1))
    done
    jq -e '[.devices[] | select(.vendor_id == "46f4")] | length == 0' $_ad/usb2 >/dev/null || fail "GET /v1/usb still lists the stick after the unplug"
    agent_get /v1/usb/$STICK $_ad/one && fail "GET /v1/usb/$STICK answered 200 with the stick unplugged"
    grep -q 404 $_ad/one.hdr || fail "GET /v1/usb/$STICK with the stick unplugged: $(cat $_ad/one.hdr)"
    _g2=$(jq .generation $_ad/usb2)
    outer_qmp "$STICK_ADD" || fail "outer device_add: $(cat "$STATE/outer.out")"
    wait_stick 30 || fail "the stick did not come back"
    _s2=$(usb_dev $STICK); _dn2=$(cat /sys/bus/usb/devices/$_s2/devnum)
    agent_get /v1/usb/$STICK $_ad/one || fail "GET /v1/usb/$STICK after the replug: $(cat $_ad/one.hdr)"
    [ "$(jq -r '"\(.port_path) \(.devnum)"' $_ad/one)" = "$_s2 $_dn2" ] || fail "GET /v1/usb/$STICK: $(jq -c '{port_path, devnum, generation}' $_ad/one), sysfs $_s2 $_dn2"
    agent_get /v1/usb $_ad/usb3 || fail "GET /v1/usb failed"
    _g3=$(jq .generation $_ad/usb3)
    [ "$_g3" -gt "$_g2" ] || fail "generation $_g3 after the replug, was $_g2"
    jq -e --arg s "$_s2" '[.devices[] | select(.port_path == $s and .vendor_id == "46f4")] | length == 1' $_ad/usb3 >/dev/null ||
        fail "GET /v1/usb does not list the replugged stick at $_s2"
    kill -TERM $_apid
    wait $_apid || fail "hostdevd exited $? on SIGTERM"
}

# a snapshot taken here and replayed with --root says what the kernel says for USB, SCSI and
# NPIV too (an FCoE fc_host with one vport in it). The FCoE port's state moves by itself (it
# goes between Offline and Linkdown while FIP finds no fabric): the states are left out of the
# NPIV comparison.
t_usbscsi_snapshot_replay() {
    need_hostdev
    need_stick
    fcoe_up
    hd_expect 0 npiv create "$FC_HOST" --wwpn $WWPN --wwnn $WWNN
    _snap=/tmp/hostdev-snapshot
    rm -rf "$_snap"
    hd_expect 0 snapshot -d "$_snap"
    for _c in "usb list" "scsi list" "npiv list" "usb show $STICK" "scsi show $WWID0"; do
        # shellcheck disable=SC2086
        hd $_c --json
        _rc=$HD_RC
        cp "$STATE/hd.out" "$STATE/live.json"
        # shellcheck disable=SC2086
        hd --root "$_snap" $_c --json
        if [ "$_c" = "npiv list" ]; then
            for _f in "$STATE/live.json" "$STATE/hd.out"; do
                jq 'walk(if type == "object" then del(.port_state, .vport_state) else . end)' "$_f" >"$_f.n" && mv "$_f.n" "$_f"
            done
        fi
        if [ "$HD_RC" != "$_rc" ] || ! cmp -s "$STATE/live.json" "$STATE/hd.out"; then
            diff -u "$STATE/live.json" "$STATE/hd.out" | head -n 40 >&2
            fail "$_c --json on the snapshot differs from the guest (exit $_rc live, $HD_RC replayed)"
        fi
    done
    rm -rf "$_snap"
}

scenarios_usbscsi() {
    cat <<EOF
harness: qemu-xhci $XHCI with a USB stick ($STICK) and keyboard ($KBD), virtio-scsi $VSCSI with LUNs $WWID0 $WWID1|t_usbscsi_topology
hostdev usb list --json agrees with /sys: stick ready with its disk, the only keyboard, root hubs, controller $XHCI|t_usb_list
hostdev usb qemu-args/xml $STICK by vendor:product; the only keyboard and the mounted stick refused unless --force; a device number refused|t_usb_guest_config
hostdev usb qemu-args: nested QEMU takes $STICK through usb-host (usbfs, held, second VM refused), usb-storage gets it back|t_usb_nested
hostdev usb show $STICK after unplug and replug through the outer QEMU's monitor: new device number, found by vendor:product|t_usb_replug
hostdev scsi list --json agrees with /sys: $WWID0 and $WWID1 with sg, block, virtio_scsi on $VSCSI|t_scsi_list
hostdev scsi qemu-args $WWID0: nested QEMU takes it through scsi-generic, held, second VM refused|t_scsi_nested
hostdev scsi refuses $WWID1 while mounted (unless --force), assignable after umount|t_scsi_mounted
hostdev usb: the stick's node held open by a process, held and refused naming it unless --force|t_usb_held_by_process
hostdev scsi refuses $WWID1 in swap; a LUN named by H:C:T:L is given with a warning|t_scsi_swap_hctl
hostdevd: /v1/usb and /v1/scsi as the CLI; a long poll woken by the stick's unplug, 404 while away, listed again after the replug|t_agent_usbscsi
hostdev snapshot replayed with --root: usb list/show, scsi list/show, npiv list (FCoE, one vport) --json as on the guest|t_usbscsi_snapshot_replay
EOF
    [ "$(guest_kind)" = none ] && return 0
    cat <<EOF
hostdev npiv on FCoE over e1000e $NIC_LONE: list the fc_host, create and delete a vport (bad and duplicate WWPN refused)|t_npiv_create_delete
hostdev npiv create --persist, vport lost, restore makes it again, delete by WWPN forgets it|t_npiv_persist_restore
EOF
}

# ------------------------------------------------------------------ issue 16: a real reboot (intel)
# The boot started with hostdev.reboot=SERIAL (tests/vm/run gives it a 64 MiB ext4 disk,
# virtio-blk with that serial, and lets the guest reboot) reboots once, for real. First boot,
# last scenario: the disk is mounted, the directories hostdev writes for boot are bind-mounted
# onto it, the layout is made with --persist, and the main loop writes the phase marker and the
# TAP count on the disk; /init then reboots (`reboot -f`: the same kernel, initramfs and command
# line). Second boot: /init finds the marker and mounts the disk (as fstab would), and the
# scenarios below mount the same directories before udevd starts, boot as systemd does (udevd,
# modules-load.d, the coldplug, hostdev-npiv.service) and check the layout came back. /init
# counts the boots on the disk: a third one (a panic reboots too) powers off at once.
BOOTDISK=/mnt/hdboot
BOOTMETA=$BOOTDISK/hostdev-vm
# every directory hostdev writes for the next boot (bind/persist.c: udev rule and modprobe.d
# softdep, entries in persist.d; sriov/sriov-persist.c: sriov.d and its rule; mdev: mdevctl.d;
# scsi/npiv.c: npiv.d, all under /etc/hostdev but mdevctl.d and the rules), and its own records
# (/var/lib/hostdev: the origins detach keeps, the journal). /etc/initramfs-tools and
# /etc/dracut.conf.d do not exist in the guest, so no hook is written; the check after the
# --persist commands fails on any file written outside these directories.
BOOT_DIRS="/etc/udev/rules.d /etc/modprobe.d /etc/mdevctl.d /etc/hostdev /var/lib/hostdev"
reboot_phase() { echo "${HOSTDEV_VM_PHASE:-}"; }
bootdisk_bind() {   # the disk mounted at $BOOTDISK (by /init or here), $BOOT_DIRS bound onto it
    grep -q " $BOOTDISK " /proc/mounts ||
        { mkdir -p $BOOTDISK; mount -t ext4 "$HOSTDEV_VM_BOOTDISK" $BOOTDISK || fail "cannot mount the boot disk $HOSTDEV_VM_BOOTDISK"; }
    for _d in $BOOT_DIRS; do
        grep -q " $_d " /proc/mounts && fail "$_d is mounted already"
        mkdir -p "$BOOTDISK/root$_d" "$_d"
        # first boot: what the guest has there so far goes along (hostdev's records of the
        # earlier scenarios); second boot: the disk's copy is the truth
        [ "$(reboot_phase)" = 1 ] && cp -a "$_d/." "$BOOTDISK/root$_d/"
        mount --bind "$BOOTDISK/root$_d" "$_d" || fail "mount --bind $BOOTDISK/root$_d $_d failed"
    done
    note "on the boot disk: $(for _d in $BOOT_DIRS; do echo "$_d"; done | tr '\n' ' ')"
}
bootdisk_reset() {   # a failed first boot: the bind mounts and the disk gone, nothing rebooted
    [ "$(reboot_phase)" = 1 ] || return 0
    for _d in $BOOT_DIRS; do grep -q " $_d " /proc/mounts && umount "$_d"; done
    grep -q " $BOOTDISK " /proc/mounts && umount $BOOTDISK
    return 0
}
t_reboot_layout() {
    [ "$(reboot_phase)" = 1 ] || fail "not the first boot of a boot that reboots (hostdev.reboot=SERIAL on the command line)"
    need_nvme_pf
    need_mtty
    [ -x /lib/systemd/systemd-udevd ] || fail "systemd-udevd missing in the image (package udev on the host)"
    [ -f /usr/share/hostdev-vm/61-hostdev-mdev.rules ] || fail "61-hostdev-mdev.rules is not in the image (tests/vm/run)"
    bootdisk_bind
    mkdir -p $BOOTMETA
    # what the earlier scenarios left in /etc (the undo after the reboot must come back to it)
    (cd $BOOTDISK/root && find ./etc -type f | sort) >$BOOTMETA/files-before
    touch "$STATE/reboot-stamp"
    sleep 1
    # the shipped rule, installed where the mdev boot scenario puts it
    cp /usr/share/hostdev-vm/61-hostdev-mdev.rules $MDEV_RULES
    hd_json sriov "$NVME_PF" --numvfs 2 --autoprobe no --persist --json
    jq -e '.persisted == true and .numvfs == 2 and .drivers_autoprobe == false' "$STATE/hd.out" >/dev/null ||
        fail "sriov --persist --json: $(jq -c . "$STATE/hd.out")"
    VF0=$(vfs_of "$NVME_PF" | head -n1)
    hd_expect 0 detach "$VF0" --persist
    expect_driver "$VF0" vfio-pci "after hostdev detach $VF0 --persist"
    hd_json mdev create mtty mtty-1 --uuid "$MDEV_U1" --persist --json
    jq -e --arg u "$MDEV_U1" '.uuid == $u and .persistent == true' "$STATE/hd.out" >/dev/null ||
        fail "mdev create --persist --json: $(jq -c . "$STATE/hd.out")"
    # a definition mdevctl would not start by itself (mdevctl define's default)
    printf '{\n  "mdev_type": "mtty-2",\n  "start": "manual",\n  "attrs": []\n}' >"/etc/mdevctl.d/mtty/$MDEV_U2"
    fcoe_up
    hd_json npiv create "$FC_HOST" --wwpn $WWPN --wwnn $WWNN --persist --json
    _vp=$(jq -r .vport.name "$STATE/hd.out")
    [ -e "/sys/class/fc_vports/$_vp" ] || fail "no vport $_vp after npiv create --persist"
    # what hostdev wrote for boot is on the disk, and nothing beside it
    for _f in $SRIOV_RULES $VFIO_RULES /etc/modprobe.d/hostdev-vfio.conf "/etc/hostdev/sriov.d/$NVME_PF" \
              "/etc/hostdev/persist.d/$VF0" "/etc/mdevctl.d/mtty/$MDEV_U1" "/etc/mdevctl.d/mtty/$MDEV_U2" $MDEV_RULES; do
        [ -f "$BOOTDISK/root$_f" ] || fail "$_f is not on the boot disk ($(ls -R $BOOTDISK/root | tr '\n' ' '))"
    done
    [ -n "$(ls $BOOTDISK/root/etc/hostdev/npiv.d)" ] || fail "no NPIV record on the boot disk"
    _stray=$(find /etc /var -xdev -newer "$STATE/reboot-stamp" -type f 2>/dev/null)
    [ -z "$_stray" ] || fail "written outside the boot disk's directories (lost at the reboot): $(echo "$_stray" | tr '\n' ' ')"
    find $BOOTDISK/root -type f | sed "s|^$BOOTDISK/root|  on the boot disk: |" >&2
    # what the second boot compares with
    echo "$VF0" >$BOOTMETA/vf0
    cat /sys/class/fc_host/$FC_HOST/port_name >$BOOTMETA/fc-port-name
    cat /proc/sys/kernel/random/boot_id >$BOOTMETA/boot-id
    sync
}

# second boot: the boot disk's directories, udevd and the boot's coldplug (the next scenarios
# check what came of them)
t_reboot_boot() {
    [ "$(reboot_phase)" = 2 ] || fail "not the second boot"
    _b1=$(cat $BOOTMETA/boot-id 2>/dev/null)
    [ -n "$_b1" ] && [ "$_b1" != "$(cat /proc/sys/kernel/random/boot_id)" ] ||
        fail "boot id '$(cat /proc/sys/kernel/random/boot_id)', first boot's '$_b1': no new boot"
    note "second boot (boot id $(cat /proc/sys/kernel/random/boot_id), first $_b1), up $(cut -d' ' -f1 /proc/uptime) s"
    # the layout is gone with the first boot: no VFs, no mdev, no vport, no vfio-pci (/init
    # leaves it out in this boot: the VF rule must load it)
    [ "$(numvfs "$NVME_PF")" = 0 ] || fail "the PF has $(numvfs "$NVME_PF") VFs before udevd ran"
    [ ! -d /sys/module/vfio_pci ] || fail "vfio_pci is loaded before udevd ran"
    [ ! -d /sys/module/mtty ] || fail "mtty is loaded before udevd ran"
    [ -z "$(ls /sys/class/fc_vports 2>/dev/null)" ] || fail "a vport exists before the boot made one"
    bootdisk_bind
    [ -f $MDEV_RULES ] && [ -f $SRIOV_RULES ] && [ -f $VFIO_RULES ] ||
        fail "hostdev's rules are not in /etc/udev/rules.d from the boot disk: $(ls /etc/udev/rules.d | tr '\n' ' ')"
    udevd_start
    # systemd-modules-load.service, alongside udevd: a modules-load.d entry for mtty (a sample
    # driver no hardware asks for); udevd hears its "change" MDEV_STATE=registered
    note "+ insmod $MTTY_KO (modules-load.d)"
    _o=$(insmod "$MTTY_KO" 2>&1) || fail "insmod mtty.ko: $_o"
    # systemd-udev-trigger.service: the coldplug of every device, then systemd-udev-settle
    note "+ udevadm trigger --action=add; udevadm settle"
    udevadm trigger --action=add || fail "udevadm trigger --action=add failed"
    udev_settle || fail "udevadm settle after the coldplug timed out"
    # fcoe.service (fcoe-utils) brings the FCoE port up; then hostdev-npiv.service
    fcoe_up
    [ "$(cat /sys/class/fc_host/$FC_HOST/port_name)" = "$(cat $BOOTMETA/fc-port-name)" ] ||
        fail "the FC host $FC_HOST has port name $(cat /sys/class/fc_host/$FC_HOST/port_name), the first boot's had $(cat $BOOTMETA/fc-port-name)"
    hd_json npiv restore --json
    note "npiv restore: $(jq -c .report "$STATE/hd.out")"
}
t_reboot_sriov() {
    VF0=$(cat $BOOTMETA/vf0)
    BOOT_VFIO=1
    expect_boot_vfs 2 "after the reboot"
    [ -d /sys/module/vfio_pci ] || fail "vfio_pci is not loaded (the VF rule's kmod load)"
}
t_reboot_mdev() {
    _i=0
    while [ ! -e "/sys/bus/mdev/devices/$MDEV_U1" ] && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
    [ -e "/sys/bus/mdev/devices/$MDEV_U1" ] || fail "$MDEV_U1 is not there after the reboot (61-hostdev-mdev.rules)"
    [ "$(basename "$(readlink "/sys/bus/mdev/devices/$MDEV_U1/mdev_type")")" = mtty-1 ] || fail "$MDEV_U1 came back with another type"
    [ ! -e "/sys/bus/mdev/devices/$MDEV_U2" ] || fail "the manual definition $MDEV_U2 was started at boot"
    [ "$(mdev_avail mtty-1)" = 23 ] || fail "mtty-1 has $(mdev_avail mtty-1) available, expected 23 (one instance)"
    hd_json mdev list --json
    jq -e --arg u "$MDEV_U1" --arg m "$MDEV_U2" '([.mdevs[] | select(.uuid == $u and .active and .defined and .start == "auto" and .type == "mtty-1" and .parent == "mtty")] | length) == 1 and ([.mdevs[] | select(.uuid == $m and (.active | not) and .defined and .start == "manual")] | length) == 1' \
        "$STATE/hd.out" >/dev/null || fail "mdev list --json: $(jq -c . "$STATE/hd.out")"
}
t_reboot_npiv() {
    _vp=
    for _v in /sys/class/fc_vports/*; do
        [ -e "$_v" ] && [ "$(cat "$_v/port_name")" = 0x$WWPN ] && _vp=${_v##*/}
    done
    [ -n "$_vp" ] || fail "no vport with port name 0x$WWPN after hostdev npiv restore: $(ls /sys/class/fc_vports | tr '\n' ' ')"
    [ "$(cat /sys/class/fc_vports/$_vp/node_name)" = 0x$WWNN ] || fail "$_vp has node name $(cat /sys/class/fc_vports/$_vp/node_name)"
    _ph=
    for _h in /sys/class/fc_host/*; do [ "$(cat "$_h/port_name")" = "$(cat $BOOTMETA/fc-port-name)" ] && _ph=${_h##*/}; done
    hd_json npiv list --json
    _got=$(jq -r '[.recorded[] | "\(.port_name) \(.parent) \(.vport)"] | join(";")' "$STATE/hd.out")
    [ "$_got" = "0x$WWPN $_ph $_vp" ] || fail "npiv list recorded: '$_got', expected '0x$WWPN $_ph $_vp'"
    jq -e --arg v "$_vp" --arg p "$_ph" '[.vports[] | select(.name == $v and .parent == $p and .port_name == "0x'$WWPN'")] | length == 1' "$STATE/hd.out" >/dev/null ||
        fail "npiv list does not list vport $_vp on $_ph: $(jq -c .vports "$STATE/hd.out")"
}
t_reboot_json() {
    VF0=$(cat $BOOTMETA/vf0)
    VF1=$(vfs_of "$NVME_PF" | sed -n 2p)
    hd_json sriov "$NVME_PF" --json
    jq -e --arg v0 "$VF0" --arg v1 "$VF1" --argjson g "$(grp "$VF0")" '.numvfs == 2 and .drivers_autoprobe == false and .at_boot.numvfs == 2 and .at_boot.not_applied == null and ([.vfs[] | select(.address == $v0 and .driver == "vfio-pci" and .iommu_group == $g)] | length) == 1 and ([.vfs[] | select(.address == $v1 and .driver == null)] | length) == 1' \
        "$STATE/hd.out" >/dev/null || fail "sriov $NVME_PF --json: $(jq -c . "$STATE/hd.out")"
    # the boot-time binding is listed and applies to the card found at its address
    hd_json persist list --json
    jq -e --arg v0 "$VF0" '[.persistent[] | select(.address == $v0 and .driver == "vfio-pci" and .applies and .not_applied == null)] | length == 1' \
        "$STATE/hd.out" >/dev/null || fail "persist list --json: $(jq -c . "$STATE/hd.out")"
    t_hd_list
}
t_reboot_udev_clean() {
    udev_rules_clean $SRIOV_RULES $VFIO_RULES $MDEV_RULES
    # and no program the rules ran failed (the VF's drivers_probe; start-parent, which both mdev
    # rules can run: at mtty's registration with udevd up and at the coldplug add)
    _bad=$(dmesg | grep -F "Process '" | grep -i 'fail')
    [ -z "$_bad" ] || fail "a program run by a rule failed: $(echo "$_bad" | head -n 3 | tr '\n' ' ')"
}
# hostdev's records came back with the layout: giving it all back leaves nothing on the disk
t_reboot_undo() {
    VF0=$(cat $BOOTMETA/vf0)
    hd_expect 0 attach "$VF0"
    expect_driver "$VF0" none "after hostdev attach $VF0"
    hd_json sriov "$NVME_PF" --numvfs 0 --persist --json
    [ "$(numvfs "$NVME_PF")" = 0 ] || fail "the PF has $(numvfs "$NVME_PF") VFs after --numvfs 0"
    hd_json mdev remove "$MDEV_U1" --persist --json
    hd_json mdev remove "$MDEV_U2" --persist --json
    hd_json npiv delete $WWPN --json
    # the VF's binding file and softdep may stay, binding nothing; the mdev rule is the package's
    _left=$(cd $BOOTDISK/root && find ./etc -type f | sort | grep -v -x -F -f $BOOTMETA/files-before |
            grep -v -e '/61-hostdev-mdev\.rules$' -e '/60-hostdev-vfio\.rules$' -e '/hostdev-vfio\.conf$')
    [ -z "$_left" ] || fail "left on the boot disk: $(echo "$_left" | tr '\n' ' ')"
    for _f in $VFIO_RULES /etc/modprobe.d/hostdev-vfio.conf; do
        [ ! -f "$_f" ] || ! grep -v '^#' "$_f" | grep -q . || fail "$_f still binds something: $(cat "$_f")"
    done
}
scenarios_reboot() {
    [ "$(reboot_phase)" = 1 ] || return 0
    cat <<EOF
hostdev reboot (real, first boot): sriov --numvfs 2 --autoprobe no --persist, detach VF0 --persist, mdev create --persist (and a manual definition), npiv create --persist; all of it on the boot disk, nothing else written|t_reboot_layout
EOF
}
# the second boot's scenarios, run one after the other without a reset between them
scenarios_after_reboot() {
    cat <<EOF
hostdev reboot (real, second boot): new boot id; the boot disk's directories mounted, systemd-udevd, mtty loaded (modules-load.d), coldplug (udevadm trigger --action=add, settle), FCoE up, hostdev npiv restore|t_reboot_boot
hostdev reboot: $NVME_PF has 2 VFs, autoprobe 0, VF0 on vfio-pci (its rule loaded vfio-pci) with /dev/vfio/G, VF1 without a driver|t_reboot_sriov
hostdev reboot: mdev list --json: $MDEV_U1 active of type mtty-1, $MDEV_U2 defined and inactive|t_reboot_mdev
hostdev reboot: the NPIV vport is back with WWPN $WWPN on the FC host with the first boot's port name|t_reboot_npiv
hostdev reboot: sriov $NVME_PF --json, persist list --json (VF0's binding applies) and list --json agree with /sys|t_reboot_json
hostdev reboot: udevd's log names none of hostdev's rule files as failing, and no program a rule ran failed|t_reboot_udev_clean
hostdev reboot: attach VF0, --numvfs 0 --persist, mdev remove --persist, npiv delete: nothing of it left on the boot disk|t_reboot_undo
EOF
}

# ------------------------------------------------------------------ the list
# name|function [args]
# ------------------------------------------------------------------ issue 12 items 4 and 10: state
# One state for a group (src/lib/devices/state.h): a nested QEMU started as libvirt does (-name
# guest=NAME) holding the lone edu's group makes it "in-use", named by its VM, in groups and
# show; detach of it is a no-op there, not a refusal.
t_hd_state_in_use() {
    need_hostdev
    hd_expect 0 detach "$EDU_LONE"
    hd_expect 0 qemu-args "$EDU_LONE"
    # shellcheck disable=SC2046
    set -- $(cat "$STATE/hd.out")
    nested_start -name guest=nested-vm,debug-threads=on "$@"
    nested_handshake || { nested_dump; fail "nested QEMU did not answer QMP"; }
    _g=$(grp "$EDU_LONE")
    hd_json groups --json
    _s=$(jq -r --argjson g "$_g" '.groups[] | select(.group == $g) | "\(.state) \(.verdict_code) \(.held_by[0].vm)"' "$STATE/hd.out")
    [ "$_s" = "in-use in-use nested-vm" ] || { nested_stop; fail "group $_g: '$_s', expected 'in-use in-use nested-vm'"; }
    hd_json show "$EDU_LONE" --json
    _s=$(jq -r '"\(.state) \(.group.state)"' "$STATE/hd.out")
    [ "$_s" = "assigned in-use" ] || { nested_stop; fail "show $EDU_LONE: '$_s', expected 'assigned in-use'"; }
    hd_expect 0 detach "$EDU_LONE"
    grep -q "already on vfio-pci" "$STATE/hd.out" || { nested_stop; fail "detach of a held group on vfio-pci was not a no-op"; }
    hd_expect 1 attach "$EDU_LONE"
    grep -q "VM nested-vm" "$STATE/hd.err" || { nested_stop; fail "attach refusal does not name VM nested-vm"; }
    kill -0 "$QPID" 2>/dev/null || fail "nested QEMU died"
    nested_stop
}
# Interrupted operations are visible in every read command until recovered; recover
# --dry-run changes nothing; detach --dry-run after the crash plans recovery first.
t_hd_interrupted_visible() {
    need_hostdev
    note "+ HOSTDEV_CRASH_AT=write:2 hostdev detach $EDU_LONE"
    HOSTDEV_CRASH_AT=write:2 timeout 60 hostdev detach "$EDU_LONE" >/dev/null 2>&1
    _before=$(state "$EDU_LONE")
    for _c in groups check list "show $EDU_LONE"; do
        # shellcheck disable=SC2086
        hd $_c
        grep -q "1 interrupted operation: run hostdev recover" "$STATE/hd.out" ||
            fail "hostdev $_c does not say '1 interrupted operation: run hostdev recover'"
    done
    hd check --json
    jq -e '.interrupted_operations == 1' "$STATE/hd.out" >/dev/null || fail "check --json: interrupted_operations is not 1"
    hd_json recover --dry-run --json
    jq -e '.dry_run == true and .recovered == 1 and (.operations | length) == 1' "$STATE/hd.out" >/dev/null ||
        fail "recover --dry-run --json does not report the one interrupted detach"
    [ "$(state "$EDU_LONE")" = "$_before" ] || fail "recover --dry-run changed $EDU_LONE: $(state "$EDU_LONE")"
    hd_json detach --dry-run "$EDU_LONE" --json
    jq -e '.recovered == 1' "$STATE/hd.out" >/dev/null || fail "detach --dry-run does not plan recovery first"
    [ "$(state "$EDU_LONE")" = "$_before" ] || fail "detach --dry-run changed $EDU_LONE"
    hd_expect 0 recover
    expect_driver "$EDU_LONE" "$(orig "$EDU_LONE")" "after recover"
    hd groups
    grep -q "interrupted operation" "$STATE/hd.out" && fail "groups still reports an interrupted operation after recover"
    return 0
}

scenarios() {
    cat <<EOF
harness: topology as configured (lone edu $EDU_LONE, bridge $BRIDGE -> $BR_EDU1 $BR_EDU2, e1000e $NIC_LONE, mf pair $MF0 $MF1, e1000+edu $NIC_MF $EDU_MFNIC)|t_topology
harness: IOMMU groups exist, /dev/vfio/vfio present|t_groups_exist
harness: interrupt remapping enabled|t_irq_remapping
harness: lone edu alone in group $(grp "$EDU_LONE")|t_lone_group
harness: multifunction pair shares group $(grp $MF0)|t_mf_group
harness: pcie-pci-bridge and both edu behind it share group $(grp "$BRIDGE")|t_bridge_group
harness: e1000e and e1000 bound with netdevs, e1000+edu share group $(grp $NIC_MF)|t_nics
harness: raw bind of lone edu to vfio-pci creates /dev/vfio/$(grp "$EDU_LONE"), raw return clears it|t_raw_bind_lone
harness: nested QEMU with -device vfio-pci,host=$EDU_LONE lists 1234:11e8 in query-pci|t_raw_nested
harness: e1000e raw vfio-pci round trip gets its netdev back|t_raw_nic_roundtrip
harness: nested QEMU refuses non-viable group $(grp $EDU_MFNIC) ('not viable')|t_raw_not_viable
hostdev check --json: iommu-firmware, iommu-kernel, vfio pass|t_hd_check
hostdev snapshot replayed with --root: check, list, groups --json as on the guest|t_snapshot_replay
hostdev list --json agrees with /sys|t_hd_list
hostdev groups --json agrees with /sys and the kernel viability rule|t_hd_groups
hostdev detach/verify/attach lone edu $EDU_LONE|t_hd_lone_roundtrip
hostdev detach $EDU_MFNIC without --group refused, names $NIC_MF|t_hd_mf_refuse_partial
hostdev detach/attach --group multifunction pair $MF0|t_hd_mf_group
hostdev detach/attach --group behind pcie-pci-bridge $BR_EDU1, bridge untouched|t_hd_bridge_group
hostdev detach/verify/attach e1000e $NIC_LONE, netdev goes and comes back|t_hd_nic_roundtrip
hostdev crash at write:1 during detach --group $MF0, recover|crash_then_recover 1 $MF0 --group
hostdev crash at write:2 during detach --group $MF0, recover|crash_then_recover 2 $MF0 --group
hostdev crash at write:3 during detach --group $MF0, recover|crash_then_recover 3 $MF0 --group
hostdev crash at write:4 during detach --group $MF0, recover|crash_then_recover 4 $MF0 --group
hostdev crash at write:5 during detach --group $MF0, recover|crash_then_recover 5 $MF0 --group
hostdev crash at write:6 during detach --group $MF0, recover|crash_then_recover 6 $MF0 --group
hostdev crash at write:1 during detach e1000e $NIC_LONE, recover|crash_then_recover 1 $NIC_LONE
hostdev crash at write:2 during detach e1000e $NIC_LONE, recover|crash_then_recover 2 $NIC_LONE
hostdev crash at write:3 during detach e1000e $NIC_LONE, recover|crash_then_recover 3 $NIC_LONE
hostdev qemu-args: nested QEMU sees detached $EDU_LONE|t_hd_vm_sees
hostdev groups shows group $(grp $EDU_MFNIC) not viable, QEMU refuses it|t_hd_not_viable
hostdev attach refused while nested QEMU holds $EDU_LONE|t_hd_busy
hostdevd: detach/verify/attach lone edu $EDU_LONE over HTTP|t_agent_roundtrip
hostdev state: nested QEMU -name guest=nested-vm holds $EDU_LONE: in-use, named, detach a no-op|t_hd_state_in_use
hostdev interrupted detach of $EDU_LONE visible in groups/check/list/show, recover --dry-run, detach --dry-run|t_hd_interrupted_visible
hostdev detach refused for e1000e $NIC_LONE, a port of a Linux bridge with the default route|t_hd_bridged_nic
EOF
    scenarios_issue12_hints
    scenarios_sriov
}
# what one boot runs: a boot without an IOMMU (--iommu none) runs only what needs its absence
boot_scenarios() {
    [ "$(guest_kind)" = none ] || scenarios
    scenarios_mdev
    scenarios_boot
    scenarios_vhost
    scenarios_usbscsi
    # last: it leaves its layout for the reboot
    scenarios_reboot
}

# ------------------------------------------------------------------ main
mkdir -p "$STATE"
case "${1:-}" in
    --list) boot_scenarios | cut -d'|' -f1; exit 0 ;;
    --run)
        shift
        [ -d "$STATE/orig" ] || record_orig
        trap '' PIPE
        "$@"
        rc=$?
        exit $rc ;;
esac

# the nvme driver probes asynchronously: let it bind the PF before the boot state is recorded
_i=0
while [ -e "$P/$NVME_PF" ] && [ "$(drv "$NVME_PF")" = none ] && [ $_i -lt 200 ]; do sleep 0.1; _i=$((_i + 1)); done
[ -e "$P/$NVME_PF" ] && [ "$(drv "$NVME_PF")" = none ] &&
    echo "# nvme did not bind $NVME_PF: $(dmesg | grep -i nvme | tail -n 5 | tr '\n' ' ')"
record_orig
# scenario number $n: $name, running $cmd in its own process under the timeout; sets rc
run_scenario() {
    rm -f "$STATE/reason"
    start=$(date +%s)
    # shellcheck disable=SC2086
    timeout "$TEST_TIMEOUT" sh "$SELF" --run $cmd >"$STATE/log" 2>&1 </dev/null
    rc=$?
    secs=$(($(date +%s) - start))
    if [ $rc = 0 ]; then
        echo "ok $n - $name"
        [ -n "${HOSTDEV_VM_VERBOSE:-}" ] && sed 's/^/# /' "$STATE/log"
    else
        reason=$(cat "$STATE/reason" 2>/dev/null)
        [ -z "$reason" ] && [ $rc -ge 124 ] && reason="timed out or killed (exit $rc) after ${secs}s"
        [ -z "$reason" ] && reason="exit $rc"
        echo "not ok $n - $name # $reason"
        tail -n 40 "$STATE/log" | sed 's/^/# /'
    fi
    [ "$secs" -ge 5 ] && echo "# ($secs s)"
}
# the second boot of a boot that reboots: its own scenarios, numbered after the first boot's,
# one after the other without a reset between them (each checks what the boot made); the
# filter does not apply (the first boot's filter chose the reboot already)
if [ "$(reboot_phase)" = 2 ]; then
    n=$(cat $BOOTMETA/tap-count 2>/dev/null)
    case "$n" in ''|*[!0-9]*) echo "# the boot disk has no TAP count from the first boot"; n=0 ;; esac
    echo "# second boot: the first printed $n test lines"
    scenarios_after_reboot >"$STATE/scenarios"
    while IFS='|' read -r name cmd; do
        n=$((n + 1))
        run_scenario
    done <"$STATE/scenarios"
    echo "1..$n"
    exit 0
fi
echo "# topology: lone edu $EDU_LONE (group $(grp "$EDU_LONE")); mf pair $MF0 $MF1 (group $(grp $MF0));" \
     "bridge $BRIDGE -> $BR_EDU1 $BR_EDU2 (group $(grp "$BRIDGE")); e1000e $NIC_LONE (group $(grp "$NIC_LONE"));" \
     "e1000 $NIC_MF + edu $EDU_MFNIC (group $(grp $NIC_MF))"
if command -v hostdev >/dev/null 2>&1; then
    echo "# hostdev binaries: $(cat /etc/hostdev-vm/binaries 2>/dev/null | tr '\n' ' ')"
else
    echo "# hostdev binary missing: hostdev scenarios will fail"
fi
n=0
boot_scenarios >"$STATE/scenarios"
while IFS='|' read -r name cmd; do
    if [ -n "${HOSTDEV_VM_FILTER:-}" ] && ! echo "$name" | grep -Eq -- "$HOSTDEV_VM_FILTER"; then
        continue
    fi
    n=$((n + 1))
    run_scenario
    # the layout for the reboot stays: the phase marker and the count go on the disk, and
    # /init reboots instead of printing the plan (the second boot prints it)
    if [ "$cmd" = t_reboot_layout ] && [ $rc = 0 ]; then
        echo "$n" >$BOOTMETA/tap-count && echo 2 >$BOOTMETA/phase && sync && touch "$STATE/reboot" && exit 0
        echo "# cannot write the phase marker on the boot disk: no reboot"
    fi
    restore_all
done <"$STATE/scenarios"
echo "1..$n"
