// A host's USB devices and SCSI LUNs (the host page's USB and SCSI tabs), read from its agent now
// through the engine (GET /v1/hosts/{id}/usb|scsi): each with the identity that names it for good
// (USB: vendor:product[:serial], or its port path; SCSI: the WWID, with its H:C:T:L and block
// device as they are now, which change at replug or reboot), its verdict and why (what the host
// does with it), and the VM it is given to (the engine keeps one owner per device). No IOMMU is
// needed for either. The VM side (vmusb.js) picks from the same lists.
import {api} from './api.js';
import {h, clear, label} from './dom.js';
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

// The host's USB devices (root hubs left out: the controller's own) or LUNs.
export async function hostList(hostId, kind) {
  const r = await api('GET', `/v1/hosts/${encodeURIComponent(hostId)}/${kind}`);
  return kind === 'usb' ? (r.devices || []).filter((d) => !d.root_hub) : r.luns || [];
}

function table(name, head, rows, empty) {
  return h('div', {class: 'hd-vscroll', tabindex: '0', role: 'region', 'aria-label': `${name}, scrollable`},
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
  try {
    [items, vms] = await Promise.all([hostList(host.id, kind), api('GET', `/v1/vms?host_id=${hid}&limit=1000`)]);
  } catch (e) {
    clear(body).append(h('p', {class: 'hd-note'}, `The ${kind === 'usb' ? 'USB devices' : 'SCSI LUNs'} of ${host.name} cannot be read from its agent now.`));
    show('danger', `${host.name}: ${kind === 'usb' ? 'USB devices' : 'SCSI LUNs'} cannot be read`, e.message);
    return;
  }
  // spec or WWID -> the VMs configured with it
  const owners = new Map();
  for (const vm of vms.vms || [])
    for (const x of (kind === 'usb' ? vm.usb : vm.scsi) || []) {
      const key = kind === 'usb' ? x.spec : x.wwid;
      if (!owners.has(key)) owners.set(key, []);
      owners.get(key).push(vm.name + (vm.state !== 'down' ? ` (${vm.state})` : ''));
    }
  if (kind === 'usb') {
    const head = ['Port path', 'Identity', 'Name', 'Kind', 'Speed (Mb/s)', 'Verdict', 'Why', 'Given to VM'];
    const rows = items.map((d) => row(head, [h('code', {}, d.port_path), h('code', {}, usbSpec(d, items)), usbName(d),
      d.kind || '—', d.speed || '—', usbVerdict(d), usbWhy(d),
      usbSpecs(d).flatMap((s) => owners.get(s) || []).join(', ') || '—'], {'data-port': d.port_path}));
    clear(body).append(h('p', {class: 'hd-note'},
      'A VM names a USB device by vendor:product (with its serial when several are alike) or by its port path, never by its device number, ' +
      'which changes at every replug. No IOMMU is needed.'),
    table(`USB devices of ${host.name}`, head, rows, 'No USB device.'));
  } else {
    const head = ['WWID', 'H:C:T:L now', 'Type', 'Vendor and model', 'Block device', 'Host use', 'Verdict', 'Why', 'Given to VMs'];
    const rows = items.map((l) => row(head, [l.wwid ? h('code', {}, l.wwid) : 'none (cannot be named for good)', h('code', {}, l.hctl),
      l.type_name || '—', lunName(l), l.block ? `/dev/${l.block}` : '—', [...(l.host_use || []), ...(l.holders || [])].join('; ') || '—',
      scsiVerdict(l), scsiWhy(l), (owners.get(l.wwid) || []).join(', ') || '—'], {'data-hctl': l.hctl}));
    clear(body).append(h('p', {class: 'hd-note'},
      'A VM names a LUN by its WWID: the host:channel:target:lun changes at reboot and is resolved again at every start.'),
    table(`SCSI LUNs of ${host.name}`, head, rows, 'No SCSI LUN.'));
    const npiv = await npivSection(host, ctx, show, reload);
    if (body.hdRender === gen) body.append(npiv);
  }
}
