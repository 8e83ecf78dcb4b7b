// A VM's "Mediated devices" tab: the mdevs it asks for (type, display, the UUID it keeps, the
// parent the engine created it on while the VM runs), an admin's Add dialog (the type from the
// capacity of the VM's host, GET /v1/hosts/{id}/mdev; a VM not pinned yet picks its host, which
// pins it) and Remove. Adding and removing change the VM's definition: only while it is down;
// otherwise the buttons are shown disabled with the reason.
import {api} from './api.js';
import {h, clear, button, alert, field, select, label} from './dom.js';
import {openModal} from './modal.js';

// The tab's element. @show(variant, title, text): the page's message; @reload(): re-read. The
// tab outlives a re-read that shows the same (dom.js rerender): Remove uses only what its row
// shows; Add opens on @current(), the VM as the page's last read has it.
export function vmMdevTab(vm, ctx, show, reload, current = () => vm) {
  const vid = encodeURIComponent(vm.id);
  const down = vm.state === 'down';
  const why = down ? null : `Mediated devices change only while the VM is down (${vm.name} is ${vm.state}).`;
  const head = ['UUID', 'Type', 'Display', 'Created on'];
  if (ctx.admin) head.push('Actions');
  const rows = vm.mdevs.map((m) => {
    const cells = [h('code', {}, m.uuid), h('code', {}, m.type), m.display ? 'yes' : 'no',
      m.parent ? h('code', {}, m.parent) : h('span', {class: 'hd-note'}, 'not created: the engine creates it just before the VM starts')];
    if (ctx.admin)
      cells.push(button('Remove', async () => {
        try {
          await api('DELETE', `/v1/vms/${vid}/mdevs/${encodeURIComponent(m.uuid)}`);
          show('success', `Remove mdev ${m.type}: done`, '');
        } catch (e) {
          show('danger', `Remove mdev ${m.type}: refused`, e.message);
        }
        reload();
      }, {small: true, label: `Remove mdev ${m.uuid}`, disabled: !down}));
    return h('tr', {class: 'pf-v6-c-table__tr', 'data-mdev': m.uuid},
      cells.map((c, i) => h('td', {class: 'pf-v6-c-table__td', 'data-label': head[i]}, c)));
  });
  return h('div', {class: 'hd-vm-mdevs'},
    ctx.admin ? h('div', {class: 'pf-v6-c-toolbar'}, h('div', {class: 'pf-v6-c-toolbar__content'},
      h('div', {class: 'pf-v6-c-toolbar__content-section hd-toolbar'},
        button('Add mediated device', () => { addDialog(current(), show, reload); }, {variant: 'primary', disabled: !down})))) : null,
    why && ctx.admin ? h('p', {class: 'hd-note', 'data-testid': 'mdev-why'}, why) : null,
    h('p', {}, 'Placement: ', label(vm.mdev_placement || 'compact', 'blue'),
      vm.mdev_placement === 'separate' ? ' (each on a parent without one of its type when there is one)' : ' (the first parent with room)'),
    h('table', {class: 'pf-v6-c-table pf-m-compact', 'aria-label': 'Mediated devices of the VM'},
      h('thead', {class: 'pf-v6-c-table__thead'}, h('tr', {class: 'pf-v6-c-table__tr'},
        head.map((t) => h('th', {class: 'pf-v6-c-table__th pf-m-wrap', scope: 'col'}, t)))),
      h('tbody', {class: 'pf-v6-c-table__tbody'}, rows.length ? rows
        : h('tr', {class: 'pf-v6-c-table__tr'}, h('td', {class: 'pf-v6-c-table__td', colspan: head.length},
          'No mediated device.')))));
}

function addDialog(vm, show, reload) {
  const vid = encodeURIComponent(vm.id);
  const err = h('div', {'aria-live': 'polite'});
  const hostBox = h('div');
  const typeBox = h('div');
  const display = h('input', {type: 'checkbox', class: 'pf-v6-c-check__input', id: `hd-mdev-display-${vm.id}`, checked: true});
  let hostId = vm.host_id || '';
  let type = '';

  async function pickHost(id) {
    hostId = id;
    type = '';
    clear(typeBox);
    if (!id) return;
    let mdev;
    try {
      mdev = await api('GET', `/v1/hosts/${encodeURIComponent(id)}/mdev`);
    } catch (e) {
      err.append(alert('danger', 'The host\'s mediated device types cannot be read', e.message));
      return;
    }
    const opts = [];
    const seen = new Set();
    for (const p of mdev.parents)
      for (const t of p.types) {
        if (seen.has(t.type)) continue;
        seen.add(t.type);
        const avail = mdev.parents.reduce((n, q) => n + q.types.filter((u) => u.type === t.type)
          .reduce((k, u) => k + (u.available_instances || 0), 0), 0);
        opts.push([t.type, `${t.type}${t.name ? ` — ${t.name}` : ''} (${avail} available)`]);
      }
    if (!opts.length) {
      typeBox.append(h('p', {}, 'This host has no mediated device type.'));
      return;
    }
    type = opts[0][0];
    typeBox.append(field('Type', select('Type', opts, type, (v) => { type = v; })));
  }

  const form = h('form', {class: 'pf-v6-c-form', novalidate: true}, hostBox, typeBox,
    h('div', {class: 'pf-v6-c-check'}, display, h('label', {class: 'pf-v6-c-check__label', for: display.id}, 'The guest gets a display from it')),
    h('p', {class: 'hd-note'}, 'The mdev keeps its UUID; the engine creates it on a parent of the host just before each start and removes it after the stop.'),
    err);
  if (vm.host_id) {
    hostBox.append(h('p', {}, `Host: ${vm.host_name || vm.host_id} (the VM is pinned there).`));
    pickHost(vm.host_id);
  } else {
    hostBox.append(h('p', {class: 'hd-note'}, 'The host you pick pins the VM.'));
    api('GET', '/v1/hosts?limit=1000').then((r) => {
      hostBox.append(field('Host', select('Host', [['', 'Pick a host…'], ...r.hosts.map((x) => [x.id, `${x.name} (${x.status})`])], '', pickHost)));
    }).catch((e) => err.append(alert('danger', 'The hosts cannot be read', e.message)));
  }
  openModal(`Add a mediated device to ${vm.name}`, form, (close) => {
    const submit = async () => {
      clear(err);
      if (!hostId || !type) {
        err.append(alert('danger', 'Nothing to add', 'Pick a host and a type.'));
        return;
      }
      try {
        await api('POST', `/v1/vms/${vid}/mdevs`, {host_id: hostId, type, display: display.checked});
        close();
        show('success', `Mediated device ${type} added to ${vm.name}`, 'It is created on the host when the VM starts.');
        reload();
      } catch (e) {
        err.append(alert('danger', 'The engine refused the mediated device', e.message));
      }
    };
    form.addEventListener('submit', (ev) => { ev.preventDefault(); submit(); });
    return [button('Add', submit, {variant: 'primary', label: 'Add the mediated device'}), button('Cancel', close, {variant: 'link'})];
  });
}
