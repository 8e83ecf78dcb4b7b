// A VM: General (state, host it is pinned to, memory, vCPUs, hardware changed and why, the last
// error) and Host devices (requested devices, and the rest of their IOMMU groups greyed as
// placeholders that cannot be removed; the Add dialog: pick the host, which pins the VM,
// filter by class, pick devices and see which placeholders they bring). Edit (name, memory,
// vCPUs: vmedit.js), USB and SCSI (vmusb.js), Start / Stop / Destroy with the engine's refusals
// in words. Re-read when an
// event names the VM or its host.
import {api} from './api.js';
import {h, clear, rerender, append, button, alert, select, label} from './dom.js';
import {subscribe, debounce} from './feed.js';
import {openModal} from './modal.js';
import {editVm} from './vmedit.js';
import {vmUsbScsiTab, usbScsiText} from './vmusb.js';
import {vmMdevTab} from './vmmdev.js';

const stateColor = {down: 'grey', starting: 'blue', running: 'green', stopping: 'orange'};
const stateText = {down: 'Down', starting: 'Starting', running: 'Running', stopping: 'Stopping'};

export function vmStateLabel(vm) {
  const l = label(stateText[vm.state] || vm.state, stateColor[vm.state]);
  if (vm.last_error) l.title = vm.last_error;
  return l;
}

// Edit (any state: vmedit.js), Start (down), Stop and Destroy (running, stopping), Delete (down)
// for an admin; null for a viewer. @show(variant, title, text) puts the answer on the page;
// @after() re-reads. The buttons outlive a re-read that shows the same (dom.js rerender): they
// use only what they show (the VM's id, name and state); Edit opens on @current(), the VM as
// the page's last read has it (the dialog reads it again from the engine too).
export function vmActions(vm, ctx, show, after, {small = false, deleted = null, current = () => vm} = {}) {
  if (!ctx.admin) return null;
  const path = (verb) => `/v1/vms/${encodeURIComponent(vm.id)}${verb ? '/' + verb : ''}`;
  const act = async (what, done, fn) => {
    try {
      await fn();
      show('success', `${what}: ${done}`, '');
    } catch (e) {
      show('danger', `${what}: refused`, e.message);
    }
    if (after) after();
  };
  const list = [];
  // not the call's promise: the button keeps the focus, which the dialog gives back on Escape
  list.push(button('Edit', () => { editVm(current(), show, after); }, {small, label: `Edit ${vm.name}`}));
  if (vm.state === 'down')
    list.push(button('Start', () => act(`Start ${vm.name}`, 'running', () => api('POST', path('start'))),
      {small, variant: 'primary', label: `Start ${vm.name}`}));
  if (vm.state === 'running')
    list.push(button('Stop', () => act(`Stop ${vm.name}`, 'down; its devices are back on their host drivers', () => api('POST', path('stop'))),
      {small, label: `Stop ${vm.name}`}));
  if (vm.state === 'running' || vm.state === 'stopping')
    list.push(button('Destroy', () => openModal(`Power off ${vm.name}?`,
      h('p', {}, `Destroy powers ${vm.name} off at once, like pulling the plug; its devices go back to their host drivers.`),
      (close) => [button('Destroy', async () => { await act(`Destroy ${vm.name}`, 'down', () => api('POST', path('destroy'))); close(); },
        {variant: 'danger', label: `Confirm: Destroy ${vm.name}`}), button('Cancel', close, {variant: 'link'})]),
    {small, variant: 'danger', label: `Destroy ${vm.name}`}));
  if (vm.state === 'down')
    list.push(button('Delete', () => openModal(`Delete ${vm.name}?`,
      h('p', {}, `The engine forgets ${vm.name} and its host devices; its definition on the host's agent is deleted too.`),
      (close) => [button('Delete', async () => {
        try {
          await api('DELETE', path(''));
          close();
          show('success', `Delete ${vm.name}: done`, '');
          if (deleted) deleted(); else if (after) after();
        } catch (e) {
          close();
          show('danger', `Delete ${vm.name}: refused`, e.message);
        }
      }, {variant: 'danger', label: `Confirm: Delete ${vm.name}`}), button('Cancel', close, {variant: 'link'})]),
    {small, variant: 'danger', label: `Delete ${vm.name}`}));
  return h('span', {class: 'hd-row-actions'}, list);
}

// bridges and host bridges stay with the host (the engine refuses them; never placeholders)
const isBridge = (d) => d.is_bridge || /^(0x)?060[04]/.test(d.class || '');

const plural = (k, word) => `${k} ${word}${k === 1 ? '' : 's'}`;
export function devicesText(vm) {
  const req = vm.devices.filter((d) => d.role === 'requested').length;
  if (!req) return 'none';
  const ph = vm.devices.length - req;
  return `${plural(req, 'device')}${ph ? ` + ${plural(ph, 'placeholder')}` : ''}`;
}

export function vmPage(el, id, tab, ctx) {
  const msg = h('div', {class: 'hd-messages', 'aria-live': 'polite'});
  const header = h('div');
  const body = h('div');
  const vid = encodeURIComponent(id);
  let vm = null;
  let inventory = new Map(); // address -> the pinned host's device
  const show = (variant, title, text) => clear(msg).append(alert(variant, title, text));

  let gone = false; // the page was left: a re-read still scheduled does nothing
  async function load() {
    if (gone) return;
    try {
      vm = await api('GET', `/v1/vms/${vid}`);
      inventory = new Map();
      if (vm.host_id && tab === 'devices') {
        const r = await api('GET', `/v1/hosts/${encodeURIComponent(vm.host_id)}/devices`);
        for (const d of r.devices) inventory.set(d.address, d);
      }
    } catch (e) {
      show('danger', 'The VM cannot be read', e.message);
      return;
    }
    // what shows the same is left as it is (rerender); the handlers read the VM as it is now:
    // this page's @vm, which every read replaces
    const current = () => vm;
    rerender(header, renderHeader);
    rerender(body, () => (tab === 'devices' ? devicesTab() : tab === 'usbscsi' ? vmUsbScsiTab(vm, ctx, show, () => load(), current)
      : tab === 'mdevs' ? vmMdevTab(vm, ctx, show, () => load(), current) : general()));
  }

  function renderHeader() {
    const tabLink = (key, text) => h('li', {class: `pf-v6-c-tabs__item${tab === key ? ' pf-m-current' : ''}`, role: 'presentation'},
      h('a', {class: 'pf-v6-c-tabs__link', role: 'tab', 'aria-selected': tab === key ? 'true' : 'false',
        href: `#/vms/${vid}/${key}`}, h('span', {class: 'pf-v6-c-tabs__item-text'}, text)));
    return [
      h('nav', {class: 'pf-v6-c-breadcrumb', 'aria-label': 'Breadcrumb'}, h('a', {href: '#/vms'}, 'VMs'), ' › ', vm.name),
      h('div', {class: 'hd-title-row'},
        h('h1', {class: 'pf-v6-c-title pf-m-2xl'}, vm.name), h('span', {'data-testid': 'vm-state'}, vmStateLabel(vm)),
        vm.host_id ? h('span', {class: 'hd-on-host'}, 'on host ', h('a', {href: `#/hosts/${encodeURIComponent(vm.host_id)}/devices`}, vm.host_name || vm.host_id)) : null,
        vm.hardware_changed ? label('Hardware changed', 'red') : null,
        vmActions(vm, ctx, show, () => load(), {deleted: () => { location.hash = '#/vms'; }, current: () => vm}),
        h('a', {href: `#/events/vm/${vid}`, class: 'hd-events-link'}, `Events of ${vm.name}`)),
      vm.hardware_changed ? h('div', {class: 'hd-banner', 'data-testid': 'hardware-changed'},
        alert('danger', 'Hardware changed: starting is refused', `${vm.hardware_changed}. Re-add the device (Add host devices) or remove it.`)) : null,
      vm.last_error ? h('div', {class: 'hd-banner'}, alert('warning', 'Last error', vm.last_error)) : null,
      h('div', {class: 'pf-v6-c-tabs', role: 'navigation', 'aria-label': 'VM sections'},
        h('ul', {class: 'pf-v6-c-tabs__list', role: 'tablist'}, tabLink('general', 'General'), tabLink('devices', 'Host devices'), tabLink('usbscsi', 'USB and SCSI'), tabLink('mdevs', 'Mediated devices')))];
  }

  function general() {
    const pairs = [
      ['Status', vmStateLabel(vm)],
      ['Host', vm.host_id ? h('a', {href: `#/hosts/${encodeURIComponent(vm.host_id)}/devices`}, vm.host_name || vm.host_id)
        : 'none: the VM is pinned to a host by its first host device'],
      ['Memory', `${vm.memory_mib} MiB`],
      ['vCPUs', String(vm.vcpus)],
      ['Host devices', devicesText(vm)],
      ['USB and SCSI', usbScsiText(vm)],
      ['Hardware changed', vm.hardware_changed || 'no'],
      ['Last error', vm.last_error || '—'],
    ];
    return h('dl', {class: 'pf-v6-c-description-list pf-m-horizontal hd-dl hd-vm-general'}, pairs.map(([t, d]) =>
      h('div', {class: 'pf-v6-c-description-list__group'},
        h('dt', {class: 'pf-v6-c-description-list__term'}, h('span', {class: 'pf-v6-c-description-list__text'}, t)),
        h('dd', {class: 'pf-v6-c-description-list__description'}, h('div', {class: 'pf-v6-c-description-list__text'}, d)))));
  }

  function devicesTab() {
    const canChange = ctx.admin && vm.state === 'down';
    const head = ['Address', 'Role', 'IOMMU group', 'Class', 'Vendor', 'Product', 'Driver on the host', 'Present'];
    if (canChange) head.push('Actions');
    const rows = [...vm.devices].sort((a, b) => a.iommu_group - b.iommu_group || a.address.localeCompare(b.address)).map((d) => {
      const inv = inventory.get(d.address) || {};
      const ph = d.role === 'placeholder';
      const cells = [h('code', {}, d.address),
        ph ? label('Placeholder', 'grey') : label('Requested', 'blue'),
        String(d.iommu_group), inv.class_name || '—', inv.vendor || d.vendor_id || '—', inv.product || d.device_id || '—',
        inv.driver || '(none)', d.present ? 'yes' : label('missing or changed', 'red')];
      if (canChange)
        cells.push(ph ? h('span', {class: 'hd-note'}, 'reserved with its group')
          : button('Remove', async () => {
            try {
              await api('DELETE', `/v1/vms/${vid}/devices/${encodeURIComponent(d.address)}`);
              show('success', `Remove ${d.address}: done`, '');
            } catch (e) {
              show('danger', `Remove ${d.address}: refused`, e.message);
            }
            load();
          }, {small: true, variant: 'secondary', label: `Remove ${d.address}`}));
      return h('tr', {class: `pf-v6-c-table__tr${ph ? ' hd-placeholder' : ''}`, 'data-address': d.address, 'data-role': d.role,
        title: ph ? 'Placeholder: another endpoint of a requested device\'s IOMMU group, reserved for this VM, never passed to it' : null},
      cells.map((c, i) => h('td', {class: 'pf-v6-c-table__td', 'data-label': head[i]}, c)));
    });
    const note = vm.state !== 'down' && ctx.admin
      ? h('p', {class: 'hd-note'}, `Host devices change only while the VM is down (${vm.name} is ${vm.state}).`) : null;
    return h('div', {class: 'hd-vm-devices'},
      canChange ? h('div', {class: 'pf-v6-c-toolbar'}, h('div', {class: 'pf-v6-c-toolbar__content'},
        h('div', {class: 'pf-v6-c-toolbar__content-section hd-toolbar'}, button('Add host devices', addDialog, {variant: 'primary'})))) : null,
      note,
      h('table', {class: 'pf-v6-c-table pf-m-compact', 'aria-label': 'Host devices of the VM'},
        h('thead', {class: 'pf-v6-c-table__thead'}, h('tr', {class: 'pf-v6-c-table__tr'},
          head.map((t) => h('th', {class: 'pf-v6-c-table__th pf-m-wrap', scope: 'col'}, t)))),
        h('tbody', {class: 'pf-v6-c-table__tbody'}, rows.length ? rows
          : h('tr', {class: 'pf-v6-c-table__tr'}, h('td', {class: 'pf-v6-c-table__td', colspan: head.length},
            'No host device. ', canChange ? 'Add one with "Add host devices": it pins the VM to that host.' : '')))),
      h('p', {class: 'hd-note'}, 'Placeholders are the other endpoints of a requested device\'s IOMMU group: they are reserved for this VM and ' +
        'move to vfio-pci with the group at start, but are not passed to the VM. Remove the requested device to release them.'));
  }

  // The Add dialog: the host (fixed when the VM is pinned), a class filter, the host's devices
  // (bridges left out); what the chosen devices bring along as placeholders shows greyed.
  function addDialog() {
    const err = h('div', {'aria-live': 'polite'});
    const hostBox = h('div');
    const list = h('div', {class: 'hd-pick-list', role: 'group', 'aria-label': 'Devices of the host'});
    const summary = h('p', {class: 'hd-note', 'aria-live': 'polite', 'data-testid': 'add-summary'});
    const picked = new Set();
    let hostId = vm.host_id || '';
    let devs = [];
    let cls = '';
    const mine = new Set(vm.devices.filter((d) => d.role === 'requested').map((d) => d.address));

    function renderList() {
      const byGroup = new Map();
      for (const d of devs) if (!isBridge(d)) {
        if (!byGroup.has(d.iommu_group)) byGroup.set(d.iommu_group, []);
        byGroup.get(d.iommu_group).push(d);
      }
      const pickedGroups = new Set(devs.filter((d) => picked.has(d.address) || mine.has(d.address)).map((d) => d.iommu_group));
      const items = devs.filter((d) => !isBridge(d) && (!cls || d.class_name === cls)).map((d) => {
        const already = mine.has(d.address);
        const placeholder = !picked.has(d.address) && !already && d.iommu_group !== null && pickedGroups.has(d.iommu_group);
        const box = h('input', {type: 'checkbox', class: 'pf-v6-c-check__input', id: `hd-pick-${d.address}`, 'data-address': d.address,
          checked: picked.has(d.address) || already || placeholder, disabled: already || placeholder || !d.assignable,
          onchange: () => { if (box.checked) picked.add(d.address); else picked.delete(d.address); renderList(); }});
        const why = already ? 'already requested by this VM'
          : placeholder ? `placeholder: the rest of IOMMU group ${d.iommu_group}, reserved with it (not passed to the VM)`
            : !d.assignable ? `not assignable: ${d.assignable_reason || 'the host needs it'}` : `IOMMU group ${d.iommu_group}`;
        return h('div', {class: `pf-v6-c-check hd-pick${placeholder || !d.assignable ? ' hd-placeholder' : ''}`,
          'data-address': d.address, 'data-placeholder': placeholder ? 'true' : null},
        box, h('label', {class: 'pf-v6-c-check__label', for: box.id}, h('code', {}, d.address), ` ${d.class_name || ''}: ${d.vendor || ''} ${d.product || ''} (${d.driver || 'no driver'})`),
        h('span', {class: 'pf-v6-c-check__description'}, why));
      });
      append(clear(list), [items.length ? items : h('p', {}, hostId ? 'No device matches.' : 'Pick a host first.')]);
      const n = picked.size;
      const phs = devs.filter((d) => !isBridge(d) && !picked.has(d.address) && !mine.has(d.address) && pickedGroups.has(d.iommu_group)).length;
      summary.textContent = n ? `${n} device${n > 1 ? 's' : ''} picked; ${phs} more of their IOMMU groups become placeholders.` : 'No device picked.';
    }

    async function pickHost(id) {
      hostId = id;
      picked.clear();
      devs = [];
      if (id) {
        try {
          devs = (await api('GET', `/v1/hosts/${encodeURIComponent(id)}/devices`)).devices;
        } catch (e) {
          clear(err).append(alert('danger', 'The host\'s devices cannot be read', e.message));
        }
      }
      const classes = [...new Set(devs.filter((d) => !isBridge(d)).map((d) => d.class_name).filter(Boolean))].sort();
      clear(classBox).append(select('Filter by class', [['', 'Any class'], ...classes.map((c) => [c, c])], cls, (v) => { cls = v; renderList(); }));
      renderList();
    }

    const classBox = h('span');
    const form = h('form', {class: 'pf-v6-c-form', novalidate: true}, hostBox,
      h('div', {class: 'hd-toolbar'}, classBox), list, summary, err);
    if (vm.host_id) {
      hostBox.append(h('p', {}, `Host: ${vm.host_name || vm.host_id} (the VM is pinned there by its devices).`));
      pickHost(vm.host_id);
    } else {
      hostBox.append(h('p', {class: 'hd-note'}, 'The host you pick pins the VM: all its host devices come from that host.'));
      api('GET', '/v1/hosts?limit=1000').then((r) => {
        hostBox.append(select('Host', [['', 'Pick a host…'], ...r.hosts.map((x) => [x.id, `${x.name} (${x.status})`])], '', pickHost));
      }).catch((e) => err.append(alert('danger', 'The hosts cannot be read', e.message)));
      renderList();
    }
    openModal(`Add host devices to ${vm.name}`, form, (close) => {
      const submit = async () => {
        clear(err);
        if (!hostId || !picked.size) {
          err.append(alert('danger', 'Nothing to add', 'Pick a host and at least one device.'));
          return;
        }
        try {
          await api('POST', `/v1/vms/${vid}/devices`, {host_id: hostId, addresses: [...picked]});
          close();
          show('success', `Host devices added to ${vm.name}`, 'The rest of their IOMMU groups are placeholders.');
          load();
        } catch (e) {
          err.append(alert('danger', 'The engine refused the devices', e.message));
        }
      };
      form.addEventListener('submit', (ev) => { ev.preventDefault(); submit(); });
      return [button('Add', submit, {variant: 'primary', label: 'Add the picked devices'}), button('Cancel', close, {variant: 'link'})];
    }, {wide: true});
  }

  el.append(h('section', {class: 'pf-v6-c-page__main-section'}, header, msg, body));
  const reload = debounce(load, 100);
  const unsubscribe = subscribe((events) => {
    if (events.some((ev) => ev.object && (ev.object.includes(id) || (vm && vm.host_id && ev.object.includes(vm.host_id))))) reload();
  });
  ctx.onCleanup(() => { gone = true; unsubscribe(); });
  load();
}
