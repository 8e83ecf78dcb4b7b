// A host's USB devices and SCSI LUNs (the host page's USB and SCSI tabs), read from its agent now
// through the engine (GET /v1/hosts/{id}/usb|scsi): each with the identity that names it for good
// (USB: vendor:product[:serial], or its port path; SCSI: the WWID, with its H:C:T:L and block
// device as they are now, which change at replug or reboot), its verdict and why (what the host
// does with it), and the VM it is given to (the engine keeps one owner per device). No IOMMU is
// needed for either. The SCSI tab also lists the host's vhost-scsi targets (GET
// /v1/hosts/{id}/vhost-scsi: LIO targets in configfs by WWPN, with their TPG, LUNs and
// backstores, nexus, whether each is ready and why not, and the VM given each). The VM side
// (vmusb.js) picks from the same lists.
import {api} from './api.js';
import {h, rerender, label, alert} from './dom.js';
import {npivSection} from './hostnpiv.js';

// A serial one can type in a spec (libhostdev's rule: printable ASCII, no blanks or quotes).
const typeable = (s) => typeof s === 'string' && /^[\x21-\x7e]{1,126}$/.test(s) && !/["']/.test(s);

// The spec that names @d for good among @all the host's devices: vendor:product:serial when its
// serial can be typed, vendor:product when no other device has it, else its port path.
export function usbSpec(d, all) {
  const ids = d.vendor_id && d.product_id ? `${d.vendor_id}:${d.product_id}` : null;
  if (ids && typeable(d.serial)) return `${ids}:${d.serial}`;
  if (ids && all.filter((x) => !x.root_hub && x.vendor_id === d.vendor_id && x.product_id === d.product_id).length === 1) return ids;
  return d.port_path;
}

// Every spec that names @d (the engine compares specs as given).
const usbSpecs = (d) => [d.port_path, d.vendor_id && `${d.vendor_id}:${d.product_id}`,
  d.vendor_id && d.serial && `${d.vendor_id}:${d.product_id}:${d.serial}`].filter(Boolean);

export const USB_NEVER = new Set(['root-hub', 'hub', 'root-fs']);
const USB_VERDICTS = {
  ready: ['Assignable', 'green'], held: ['In use', 'red'], 'host-storage': ['Host uses it', 'orange'],
  'only-keyboard': ['Host needs it', 'orange'], 'only-mouse': ['Host needs it', 'orange'],
  hub: ['Never (hub)', 'grey'], 'root-hub': ['Never (root hub)', 'grey'], 'root-fs': ['Never (root filesystem)', 'grey'],
};
const SCSI_VERDICTS = {
  assignable: ['Assignable', 'green'], 'in-use': ['In use', 'red'], refused: ['Host uses it', 'orange'],
  'not-assignable': ['Not assignable', 'grey'],
};
export function usbVerdict(d) {
  const [t, c] = USB_VERDICTS[d.verdict] || [d.verdict || 'Unknown', null];
  return label(t, c);
}
export function scsiVerdict(l) {
  const [t, c] = SCSI_VERDICTS[l.verdict] || [l.verdict || 'Unknown', null];
  return label(t, c);
}
export const usbWhy = (d) => (d.reasons || []).join('; ') || (d.verdict === 'ready' ? 'nothing stands in the way' : d.verdict || '—');
export const scsiWhy = (l) => [l.reason, ...(l.warnings || [])].filter(Boolean).join(' ') || (l.verdict === 'assignable' ? 'nothing stands in the way' : '—');
export const usbName = (d) => [d.manufacturer || d.vendor_name, d.product || d.product_name].filter(Boolean).join(' ') || '—';
export const lunName = (l) => [l.vendor, l.model].filter(Boolean).join(' ') || '—';
export const vhostVerdict = (t) => (t.ready ? label('Ready', 'green') : label('Not ready', 'orange'));
export const vhostWhy = (t) => (t.ready ? 'nothing stands in the way' : t.reason || 'not ready');
// "TPG 1, lun_0: fileio_0/disk0 (/srv/vm/lun0.img)"
export const vhostText = (t) => [t.tpgt === null || t.tpgt === undefined ? 'no TPG' : `TPG ${t.tpgt}`,
  ...((t.luns || []).length ? t.luns : ['no LUN'])].join(', ');

// The host's USB devices (root hubs left out: the controller's own), LUNs ("scsi") or vhost
// targets ("vhost-scsi").
export async function hostList(hostId, kind) {
  const r = await api('GET', `/v1/hosts/${encodeURIComponent(hostId)}/${kind}`);
  return kind === 'usb' ? (r.devices || []).filter((d) => !d.root_hub) : kind === 'scsi' ? r.luns || [] : r.targets || [];
}

// identity -> the names of the VMs of @vms configured with it (each VM's @field list, by @key;
// WWPNs compared in lower case)
function ownersOf(vms, field, key) {
  const owners = new Map();
  for (const vm of vms)
    for (const x of vm[field] || []) {
      const id = key === 'wwpn' ? String(x[key]).toLowerCase() : x[key];
      if (!owners.has(id)) owners.set(id, []);
      owners.get(id).push(vm.name + (vm.state !== 'down' ? ` (${vm.state})` : ''));
    }
  return owners;
}

// (@fit: as tall as its rows, up to the others' height)
function table(name, head, rows, empty, fit = false) {
  return h('div', {class: fit ? 'hd-vscroll hd-fit' : 'hd-vscroll', tabindex: '0', role: 'region', 'aria-label': `${name}, scrollable`},
    h('table', {class: 'pf-v6-c-table pf-m-compact', 'aria-label': name},
      h('thead', {class: 'pf-v6-c-table__thead'}, h('tr', {class: 'pf-v6-c-table__tr'},
        head.map((t) => h('th', {class: 'pf-v6-c-table__th pf-m-wrap', scope: 'col'}, t)))),
      h('tbody', {class: 'pf-v6-c-table__tbody'}, rows.length ? rows
        : h('tr', {class: 'pf-v6-c-table__tr'}, h('td', {class: 'pf-v6-c-table__td', colspan: head.length}, empty)))));
}

const row = (head, cells, attrs) => h('tr', {class: 'pf-v6-c-table__tr', ...attrs},
  cells.map((c, i) => h('td', {class: 'pf-v6-c-table__td', 'data-label': head[i]}, c)));

// Fill @body with the host's @kind ("usb" or "scsi") tab; @show(variant, title, text) reports;
// the SCSI tab ends with the NPIV section (hostnpiv.js: @ctx.admin's actions, @reload()).
export async function hostUsbScsiTab(body, host, kind, show, ctx = {}, reload = () => {}) {
  const hid = encodeURIComponent(host.id);
  const gen = (body.hdRender = (body.hdRender || 0) + 1); // a newer read replaces this one
  let items, vms;
  // the vhost targets are read alongside; their failure is told in their section only
  const vhost = kind === 'scsi' ? hostList(host.id, 'vhost-scsi').then((targets) => ({targets}), (error) => ({error})) : null;
  try {
    [items, vms] = await Promise.all([hostList(host.id, kind), api('GET', `/v1/vms?host_id=${hid}&limit=1000`)]);
  } catch (e) {
    if (body.hdRender === gen)
      rerender(body, () => h('p', {class: 'hd-note'}, `The ${kind === 'usb' ? 'USB devices' : 'SCSI LUNs'} of ${host.name} cannot be read from its agent now.`));
    show('danger', `${host.name}: ${kind === 'usb' ? 'USB devices' : 'SCSI LUNs'} cannot be read`, e.message);
    return;
  }
  // spec or WWID -> the VMs configured with it
  const owners = kind === 'usb' ? ownersOf(vms.vms || [], 'usb', 'spec') : ownersOf(vms.vms || [], 'scsi', 'wwid');
  if (kind === 'usb') {
    const head = ['Port path', 'Identity', 'Name', 'Kind', 'Speed (Mb/s)', 'Verdict', 'Why', 'Given to VM'];
    const rows = items.map((d) => row(head, [h('code', {}, d.port_path), h('code', {}, usbSpec(d, items)), usbName(d),
      d.kind || '—', d.speed || '—', usbVerdict(d), usbWhy(d),
      usbSpecs(d).flatMap((s) => owners.get(s) || []).join(', ') || '—'], {'data-port': d.port_path}));
    if (body.hdRender === gen)
      rerender(body, () => [h('p', {class: 'hd-note'},
        'A VM names a USB device by vendor:product (with its serial when several are alike) or by its port path, never by its device number, ' +
        'which changes at every replug. No IOMMU is needed.'),
      table(`USB devices of ${host.name}`, head, rows, 'No USB device.')]);
  } else {
    const head = ['WWID', 'H:C:T:L now', 'Type', 'Vendor and model', 'Block device', 'Host use', 'Verdict', 'Why', 'Given to VMs'];
    const rows = items.map((l) => row(head, [l.wwid ? h('code', {}, l.wwid) : 'none (cannot be named for good)', h('code', {}, l.hctl),
      l.type_name || '—', lunName(l), l.block ? `/dev/${l.block}` : '—', [...(l.host_use || []), ...(l.holders || [])].join('; ') || '—',
      scsiVerdict(l), scsiWhy(l), (owners.get(l.wwid) || []).join(', ') || '—'], {'data-hctl': l.hctl}));
    // the whole tab at once, when its last part is read: what shows the same is left as it is
    const targets = vhostSection(host, await vhost, ownersOf(vms.vms || [], 'vhost_scsi', 'wwpn'));
    const npiv = await npivSection(host, ctx, show, reload);
    if (body.hdRender === gen)
      rerender(body, () => [h('p', {class: 'hd-note'},
        'A VM names a LUN by its WWID: the host:channel:target:lun changes at reboot and is resolved again at every start.'),
      table(`SCSI LUNs of ${host.name}`, head, rows, 'No SCSI LUN.'), targets, npiv]);
  }
}

// The vhost-scsi section of the SCSI tab: @read is {targets} or {error}; @owners by WWPN.
function vhostSection(host, read, owners) {
  const section = h('section', {class: 'hd-vhost', 'aria-labelledby': 'hd-vhost-title'},
    h('h2', {class: 'pf-v6-c-title pf-m-lg', id: 'hd-vhost-title'}, 'vhost-scsi targets'));
  if (read.error) {
    section.append(alert('danger', `The vhost-scsi targets of ${host.name} cannot be read`, read.error.message));
    return section;
  }
  const head = ['WWPN', 'TPG', 'LUNs and backstores', 'Nexus (initiator)', 'Ready', 'Why not', 'Given to VMs'];
  const rows = read.targets.map((t) => row(head, [h('code', {}, t.wwpn),
    t.tpgt === null || t.tpgt === undefined ? 'none' : String(t.tpgt),
    (t.luns || []).length ? h('ul', {class: 'hd-plain'}, t.luns.map((l) => h('li', {}, h('code', {}, l)))) : 'none',
    t.nexus ? h('code', {}, t.nexus) : 'none', vhostVerdict(t),
    t.ready ? '—' : h('span', {class: 'hd-wrap-any'}, vhostWhy(t)), // (its configfs paths are long)
    (owners.get(t.wwpn.toLowerCase()) || []).join(', ') || '—'], {'data-vhost': t.wwpn}));
  section.append(h('p', {class: 'hd-note'},
    'A VM is given a LIO vhost target by its WWPN (QEMU\'s vhost-scsi-pci): the guest sees the target\'s LUNs, the host keeps ' +
    'their backstores. A target is ready when the vhost_scsi module is loaded and a TPG has a nexus and at least one LUN.'),
  table(`vhost-scsi targets of ${host.name}`, head, rows, 'No vhost-scsi target (configfs: target/vhost).', true));
  return section;
}
