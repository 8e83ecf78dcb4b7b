// A host's "SR-IOV and mdev" tab: a card per SR-IOV physical function of the host's inventory
// (VFs enabled of the total, autoprobe, its VFs with their driver, IOMMU group and the VM that
// has each), an admin's "Set VF count" dialog (POST /v1/hosts/{id}/devices/{pf}/sriov: the
// engine's or the agent's refusal shown in the dialog, in their words), and the mediated
// device capacity (GET /v1/hosts/{id}/mdev: parents, types, instances still available, and
// mdevs of deleted VMs the engine still has to remove). host.js re-reads on events.
import {api} from './api.js';
import {h, clear, rerender, button, alert, field} from './dom.js';
import {openModal} from './modal.js';

const table = (name, head, rows, empty) => h('table', {class: 'pf-v6-c-table pf-m-compact', 'aria-label': name},
  h('thead', {class: 'pf-v6-c-table__thead'}, h('tr', {class: 'pf-v6-c-table__tr'},
    head.map((t) => h('th', {class: 'pf-v6-c-table__th pf-m-wrap', scope: 'col'}, t)))),
  h('tbody', {class: 'pf-v6-c-table__tbody'}, rows.length ? rows.map((cells, i) =>
    h('tr', {class: 'pf-v6-c-table__tr', 'data-row': String(i)}, cells.map((c, j) => h('td', {class: 'pf-v6-c-table__td', 'data-label': head[j]}, c))))
    : h('tr', {class: 'pf-v6-c-table__tr'}, h('td', {class: 'pf-v6-c-table__td', colspan: head.length}, empty))));

// @body: the tab's element; @host: the Host; @show(variant, title, text): the page's message;
// @reload(): re-read the page.
export async function sriovTab(body, host, ctx, show, reload) {
  const hid = encodeURIComponent(host.id);
  let devices = [], vms = [], mdev = null;
  try {
    [devices, vms, mdev] = await Promise.all([
      api('GET', `/v1/hosts/${hid}/devices`).then((r) => r.devices),
      api('GET', `/v1/vms?host_id=${hid}&limit=1000`).then((r) => r.vms),
      api('GET', `/v1/hosts/${hid}/mdev`),
    ]);
  } catch (e) {
    rerender(body, () => alert('danger', 'The host\'s SR-IOV and mdev state cannot be read', e.message));
    return;
  }
  const vmOf = new Map();
  for (const vm of vms) for (const d of vm.devices || []) if (!vmOf.has(d.address)) vmOf.set(d.address, vm.name);
  const pfs = devices.filter((d) => d.sriov_totalvfs > 0);
  const cards = pfs.map((pf) => {
    const vfs = devices.filter((d) => d.physfn === pf.address);
    const auto = pf.sriov_drivers_autoprobe === true ? 'yes' : pf.sriov_drivers_autoprobe === false ? 'no' : 'unknown';
    return h('section', {class: 'pf-v6-c-card pf-m-compact hd-sriov-pf', 'aria-label': `SR-IOV PF ${pf.address}`, 'data-pf': pf.address},
      h('div', {class: 'pf-v6-c-card__title'}, h('h3', {class: 'pf-v6-c-card__title-text'},
        `PF ${pf.address} `, h('span', {class: 'hd-note'}, `${pf.vendor || pf.vendor_id || ''} ${pf.product || pf.device_id || ''}`))),
      h('div', {class: 'pf-v6-c-card__body'},
        h('p', {'data-testid': 'vf-count'}, `${pf.sriov_numvfs ?? 0} of ${pf.sriov_totalvfs} VFs enabled; autoprobe ${auto}; driver ${pf.driver || '(none)'}`),
        ctx.admin ? button('Set VF count', () => { setDialog(pf, auto); }, {label: `Set VF count of ${pf.address}`}) : null,
        table(`VFs of ${pf.address}`, ['VF', 'Driver', 'IOMMU group', 'VM'],
          vfs.map((vf) => [h('code', {}, vf.address), vf.driver || '(none)', String(vf.iommu_group ?? '—'), vmOf.get(vf.address) || '—']),
          'No VF enabled.')));
  });

  function setDialog(pf, auto) {
    const err = h('div', {'aria-live': 'polite'});
    const count = h('input', {type: 'number', min: '0', max: String(pf.sriov_totalvfs), step: '1', required: true, value: String(pf.sriov_numvfs ?? 0)});
    const probe = h('select', {}, [['yes', 'yes: the VFs' + '\u2019 own driver binds them'], ['no', 'no: leave them for vfio-pci']]
      .map(([v, t]) => h('option', {value: v, selected: v === auto}, t)));
    const persist = h('input', {type: 'checkbox', class: 'pf-v6-c-check__input', id: `hd-persist-${pf.address}`});
    const form = h('form', {class: 'pf-v6-c-form', novalidate: true},
      h('p', {class: 'hd-note'}, `Changing the count removes every VF first (the kernel goes through 0): it is refused while a VF is a VM's device or in use on the host.`),
      field(`VF count (0 to ${pf.sriov_totalvfs})`, h('span', {class: 'pf-v6-c-form-control'}, count)),
      field('Autoprobe', h('span', {class: 'pf-v6-c-form-control'}, probe)),
      h('div', {class: 'pf-v6-c-check'}, persist, h('label', {class: 'pf-v6-c-check__label', for: persist.id}, 'Make the same VFs at every boot')),
      err);
    openModal(`Set the VF count of ${pf.address}`, form, (close) => {
      const submit = async () => {
        clear(err);
        const n = Number(count.value);
        if (count.value === '' || !Number.isInteger(n) || n < 0) {
          err.append(alert('danger', 'Not a VF count', `Give a whole number from 0 to ${pf.sriov_totalvfs}.`));
          return;
        }
        try {
          const r = await api('POST', `/v1/hosts/${hid}/devices/${encodeURIComponent(pf.address)}/sriov`,
            {numvfs: n, autoprobe: probe.value === 'yes', ...(persist.checked ? {persist: true} : {})});
          close();
          show('success', `VF count of ${pf.address}: ${r.changed ? `${r.numvfs_before} → ${r.numvfs}` : `already ${r.numvfs}`}`,
            'The host\'s device list follows as soon as the engine has read it again.');
          reload();
        } catch (e) {
          err.append(alert('danger', 'The VF count was refused', e.message));
        }
      };
      form.addEventListener('submit', (ev) => { ev.preventDefault(); submit(); });
      return [button('Set', submit, {variant: 'primary', label: 'Set the VF count'}), button('Cancel', close, {variant: 'link'})];
    });
  }

  const rows = [];
  for (const p of mdev.parents)
    for (const t of p.types)
      rows.push([h('code', {}, p.parent), h('code', {}, t.type), t.name || '—', t.description ? h('span', {class: 'hd-note'}, t.description) : '—',
        t.available_instances === null ? 'unknown' : String(t.available_instances), String(t.instances)]);
  const leftovers = (mdev.leftovers || []).map((l) =>
    h('li', {}, h('code', {}, l.uuid), ` (${l.type} on ${l.parent}) of deleted VM ${l.vm_name}: ${l.last_error || 'to be removed'}`));
  // what shows the same is left as it is (dom.js rerender): Set VF count uses only what its card
  // shows (the PF's address, VF count and total, autoprobe)
  rerender(body, () => [
    h('section', {class: 'hd-sriov', 'aria-labelledby': 'hd-sriov-title'},
      h('h2', {class: 'pf-v6-c-title pf-m-lg', id: 'hd-sriov-title'}, 'SR-IOV physical functions'),
      cards.length ? cards : h('p', {}, `${host.name} has no SR-IOV physical function.`)),
    h('section', {class: 'hd-mdev', 'aria-labelledby': 'hd-mdev-title'},
      h('h2', {class: 'pf-v6-c-title pf-m-lg', id: 'hd-mdev-title'}, 'Mediated devices'),
      h('p', {class: 'hd-note'}, 'Capacity is shared between a parent\'s types: creating one instance lowers what every type of that parent has available.'),
      table('Mediated device types', ['Parent', 'Type', 'Name', 'Description', 'Available', 'Instances'], rows,
        `${host.name} has no mediated device parent.`),
      leftovers.length ? h('div', {'data-testid': 'mdev-leftovers'}, alert('warning', 'Mediated devices of deleted VMs still on the host',
        'The engine removes them at every sync of the host.'), h('ul', {}, leftovers)) : null),
  ]);
}
