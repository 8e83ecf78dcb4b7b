// VMs: one page of GET /v1/vms at a time (name prefix, state and host filters, pagination: the
// engine's), with status, host and host devices; Create VM; each row's actions (vm.js: Edit,
// Start, Stop, ...). Re-read when an event names a VM.
import {api, q} from './api.js';
import {h, clear, rerender, button, alert, field, select, label} from './dom.js';
import {subscribe, debounce} from './feed.js';
import {openModal} from './modal.js';
import {vmStateLabel, vmActions, devicesText} from './vm.js';

const state = {name_prefix: '', state: '', host_id: '', limit: 50, offset: 0};

export function vmsPage(el, ctx) {
  const msg = h('div', {class: 'hd-messages', 'aria-live': 'polite'});
  const tableWrap = h('div', {class: 'hd-table-wrap'});
  const pager = h('div', {class: 'hd-pager'});
  const hostSel = h('span');
  let seq = 0;
  let latest = new Map(); // id -> the VM as the last read has it
  const show = (variant, title, text) => { clear(msg).append(alert(variant, title, text)); };

  async function load() {
    const my = ++seq;
    let r;
    try {
      r = await api('GET', `/v1/vms${q(state)}`);
    } catch (e) {
      if (my === seq) show('danger', 'The VMs cannot be read', e.message);
      return;
    }
    if (my !== seq) return;
    if (r.total > 0 && state.offset >= r.total) {
      state.offset = Math.max(0, Math.floor((r.total - 1) / state.limit) * state.limit);
      return load();
    }
    // the same table and pager are left as they are (rerender); a row's Edit opens on the VM
    // as this read has it
    latest = new Map(r.vms.map((vm) => [vm.id, vm]));
    rerender(tableWrap, () => table(r.vms));
    rerender(pager, () => pagination(r.total));
  }

  const HEAD = ['Name', 'Status', 'Host', 'Host devices', 'Memory', 'vCPUs'];
  function table(vms) {
    const head = ctx.admin ? [...HEAD, 'Actions'] : HEAD;
    return h('table', {class: 'pf-v6-c-table pf-m-compact pf-m-grid-md', 'aria-label': 'VMs'},
      h('thead', {class: 'pf-v6-c-table__thead'}, h('tr', {class: 'pf-v6-c-table__tr'},
        head.map((t) => h('th', {class: 'pf-v6-c-table__th pf-m-wrap', scope: 'col'}, t)))),
      h('tbody', {class: 'pf-v6-c-table__tbody'},
        vms.length ? vms.map(row) : h('tr', {class: 'pf-v6-c-table__tr'},
          h('td', {class: 'pf-v6-c-table__td', colspan: head.length}, 'No VM matches. ',
            ctx.admin ? 'Create one with "Create VM".' : ''))));
  }

  function row(vm) {
    const cells = [
      h('a', {href: `#/vms/${encodeURIComponent(vm.id)}/general`}, vm.name),
      h('span', {}, vmStateLabel(vm), vm.hardware_changed ? [' ', label('Hardware changed', 'red')] : null),
      vm.host_id ? h('a', {href: `#/hosts/${encodeURIComponent(vm.host_id)}/devices`}, vm.host_name || vm.host_id) : '— (not pinned)',
      devicesText(vm),
      `${vm.memory_mib} MiB`,
      String(vm.vcpus),
    ];
    if (ctx.admin) cells.push(vmActions(vm, ctx, show, () => load(), {small: true, current: () => latest.get(vm.id) || vm}));
    const names = ctx.admin ? [...HEAD, 'Actions'] : HEAD;
    return h('tr', {class: 'pf-v6-c-table__tr', 'data-vm': vm.name},
      cells.map((c, i) => h('td', {class: 'pf-v6-c-table__td', 'data-label': names[i]}, c)));
  }

  function createVm() {
    const name = h('input', {type: 'text', required: true});
    const mem = h('input', {type: 'number', min: '16', value: '1024', required: true});
    const cpus = h('input', {type: 'number', min: '1', value: '1', required: true});
    const err = h('div', {'aria-live': 'polite'});
    const form = h('form', {class: 'pf-v6-c-form', novalidate: true},
      field('Name', h('span', {class: 'pf-v6-c-form-control'}, name)),
      field('Memory (MiB)', h('span', {class: 'pf-v6-c-form-control'}, mem)),
      field('vCPUs', h('span', {class: 'pf-v6-c-form-control'}, cpus)),
      h('p', {class: 'hd-note'}, 'The VM has no host until you add host devices: the first one pins it to its host.'), err);
    openModal('Create VM', form, (close) => {
      const submit = async () => {
        clear(err);
        try {
          const vm = await api('POST', '/v1/vms', {name: name.value.trim(), memory_mib: Number(mem.value), vcpus: Number(cpus.value)});
          close();
          location.hash = `#/vms/${encodeURIComponent(vm.id)}/devices`;
        } catch (e) {
          err.append(alert('danger', 'The engine refused the VM', e.message));
        }
      };
      form.addEventListener('submit', (ev) => { ev.preventDefault(); submit(); });
      // Enter in a field submits (the buttons are in the dialog's footer, outside the form)
      form.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' && ev.target.matches('input')) { ev.preventDefault(); submit(); } });
      return [button('Create', submit, {variant: 'primary'}), button('Cancel', close, {variant: 'link'})];
    });
  }

  function pagination(total) {
    const first = total ? state.offset + 1 : 0;
    const last = Math.min(state.offset + state.limit, total);
    const prev = button('‹ Previous', () => { state.offset = Math.max(0, state.offset - state.limit); load(); },
      {variant: 'plain', label: 'Previous page', disabled: state.offset === 0});
    const next = button('Next ›', () => { state.offset += state.limit; load(); },
      {variant: 'plain', label: 'Next page', disabled: last >= total});
    return h('div', {class: 'pf-v6-c-pagination'},
      h('span', {class: 'hd-page-size'}, select('VMs per page', [['20', '20 per page'], ['50', '50 per page'], ['100', '100 per page'], ['500', '500 per page']],
        String(state.limit), (v) => { state.limit = Number(v); state.offset = 0; load(); })),
      h('span', {class: 'pf-v6-c-pagination__total-items', 'data-testid': 'vms-range'}, `${first} – ${last} of ${total}`),
      h('nav', {class: 'pf-v6-c-pagination__nav', 'aria-label': 'VMs pages'}, prev, next));
  }

  // the host filter: the hosts by name (one page of up to 1,000)
  api('GET', '/v1/hosts?limit=1000').then((r) => {
    clear(hostSel).append(select('Filter VMs by host', [['', 'Any host'], ...r.hosts.map((x) => [x.id, x.name])],
      state.host_id, (v) => { state.host_id = v; state.offset = 0; load(); }));
  }).catch(() => {});

  const nameFilter = h('input', {type: 'search', 'aria-label': 'Filter VMs by name prefix', placeholder: 'Name starts with…', value: state.name_prefix});
  nameFilter.addEventListener('input', debounce(() => { state.name_prefix = nameFilter.value.trim(); state.offset = 0; load(); }, 250));
  const toolbar = h('div', {class: 'pf-v6-c-toolbar'}, h('div', {class: 'pf-v6-c-toolbar__content'},
    h('div', {class: 'pf-v6-c-toolbar__content-section hd-toolbar'},
      h('span', {class: 'pf-v6-c-form-control'}, nameFilter),
      select('Filter VMs by status', [['', 'Any status'], ['down', 'Down'], ['starting', 'Starting'], ['running', 'Running'], ['stopping', 'Stopping']],
        state.state, (v) => { state.state = v; state.offset = 0; load(); }),
      hostSel,
      ctx.admin ? button('Create VM', createVm, {variant: 'primary'}) : null)));

  el.append(h('section', {class: 'pf-v6-c-page__main-section'},
    h('h1', {class: 'pf-v6-c-title pf-m-2xl'}, 'VMs'), toolbar, msg, tableWrap, pager));
  const reload = debounce(load, 200);
  ctx.onCleanup(subscribe((events) => {
    if (events.some((ev) => ev.action.startsWith('vm.'))) reload();
  }));
  load();
}
