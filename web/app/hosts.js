// Hosts: one page of GET /v1/hosts at a time (filters and pagination are the engine's, so the
// page costs the same at 1,000 hosts as at 10), re-read when an event names a host.
import {api, q} from './api.js';
import {h, clear, rerender, button, alert, field, select, fmtTime} from './dom.js';
import {subscribe, debounce} from './feed.js';
import {statusLabel, passthroughLabel, rebootBadge} from './hostinfo.js';
import {openModal} from './modal.js';
import {hostActions} from './hostactions.js';

const state = {name_prefix: '', status: '', passthrough: '', limit: 50, offset: 0};

export function hostsPage(el, ctx) {
  const msg = h('div', {class: 'hd-messages', 'aria-live': 'polite'});
  const tableWrap = h('div', {class: 'hd-table-wrap'});
  const pager = h('div', {class: 'hd-pager'});
  let seq = 0;

  const show = (variant, title, text) => { clear(msg).append(alert(variant, title, text)); };

  async function load() {
    const my = ++seq;
    let r;
    try {
      r = await api('GET', `/v1/hosts${q(state)}`);
    } catch (e) {
      if (my === seq) show('danger', 'The hosts cannot be read', e.message);
      return;
    }
    if (my !== seq) return;
    if (r.total > 0 && state.offset >= r.total) {
      state.offset = Math.max(0, Math.floor((r.total - 1) / state.limit) * state.limit);
      return load();
    }
    // the same table and pager are left as they are (rerender): a row's buttons (hostActions)
    // use only the host's id, name and status, which the row shows
    rerender(tableWrap, () => table(r.hosts));
    rerender(pager, () => pagination(r.total));
  }

  function table(hosts) {
    const head = ['Name', 'Status', 'Device passthrough', 'Devices', 'IOMMU groups', 'Kernel', 'Last sync'];
    if (ctx.admin) head.push('Actions');
    return h('table', {class: 'pf-v6-c-table pf-m-compact pf-m-grid-md', 'aria-label': 'Hosts'},
      h('thead', {class: 'pf-v6-c-table__thead'}, h('tr', {class: 'pf-v6-c-table__tr'},
        head.map((t) => h('th', {class: 'pf-v6-c-table__th pf-m-wrap', scope: 'col'}, t)))),
      h('tbody', {class: 'pf-v6-c-table__tbody'},
        hosts.length ? hosts.map(row) : h('tr', {class: 'pf-v6-c-table__tr'},
          h('td', {class: 'pf-v6-c-table__td', colspan: head.length}, 'No host matches. ',
            ctx.admin ? 'Add one with "Add host".' : ''))));
  }

  function row(host) {
    const cells = [
      h('a', {href: `#/hosts/${encodeURIComponent(host.id)}/general`, class: 'hd-host-link'}, host.name),
      statusLabel(host),
      h('span', {}, passthroughLabel(host), ' ', rebootBadge(host)),
      String(host.device_count),
      String(host.group_count),
      h('span', {class: 'hd-nowrap'}, host.kernel_release || '—'),
      fmtTime(host.last_sync),
    ];
    if (ctx.admin) cells.push(hostActions(host, ctx, show, () => load(), {small: true}));
    return h('tr', {class: 'pf-v6-c-table__tr', 'data-host': host.name},
      cells.map((c, i) => h('td', {class: 'pf-v6-c-table__td', 'data-label': ['Name', 'Status', 'Device passthrough', 'Devices', 'IOMMU groups', 'Kernel', 'Last sync', 'Actions'][i]}, c)));
  }

  function addHost() {
    const name = h('input', {type: 'text', required: true});
    const url = h('input', {type: 'url', required: true, placeholder: 'http://127.0.0.1:8086'});
    const token = h('input', {type: 'password', required: true, autocomplete: 'off'});
    const err = h('div', {'aria-live': 'polite'});
    const form = h('form', {class: 'pf-v6-c-form', novalidate: true},
      field('Name', h('span', {class: 'pf-v6-c-form-control'}, name)),
      field('Agent URL', h('span', {class: 'pf-v6-c-form-control'}, url)),
      field('Agent token', h('span', {class: 'pf-v6-c-form-control'}, token)), err);
    openModal('Add host', form, (close) => {
      const submit = async () => {
        clear(err);
        try {
          await api('POST', '/v1/hosts', {name: name.value.trim(), agent_url: url.value.trim(), agent_token: token.value.trim()});
          close();
          show('success', `Host ${name.value.trim()} added`, 'It connects to its agent now.');
          load();
        } catch (e) {
          err.append(alert('danger', 'The engine refused the host', e.message));
        }
      };
      form.addEventListener('submit', (ev) => { ev.preventDefault(); submit(); });
      // Enter in a field submits (the buttons are in the dialog's footer, outside the form)
      form.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' && ev.target.matches('input')) { ev.preventDefault(); submit(); } });
      return [button('Add', submit, {variant: 'primary'}), button('Cancel', close, {variant: 'link'})];
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
      h('span', {class: 'hd-page-size'}, select('Hosts per page', [['20', '20 per page'], ['50', '50 per page'], ['100', '100 per page'], ['500', '500 per page']],
        String(state.limit), (v) => { state.limit = Number(v); state.offset = 0; load(); })),
      h('span', {class: 'pf-v6-c-pagination__total-items', 'data-testid': 'hosts-range'}, `${first} – ${last} of ${total}`),
      h('nav', {class: 'pf-v6-c-pagination__nav', 'aria-label': 'Hosts pages'}, prev, next));
  }

  const nameFilter = h('input', {type: 'search', 'aria-label': 'Filter hosts by name prefix', placeholder: 'Name starts with…', value: state.name_prefix});
  nameFilter.addEventListener('input', debounce(() => { state.name_prefix = nameFilter.value.trim(); state.offset = 0; load(); }, 250));
  const toolbar = h('div', {class: 'pf-v6-c-toolbar'}, h('div', {class: 'pf-v6-c-toolbar__content'},
    h('div', {class: 'pf-v6-c-toolbar__content-section hd-toolbar'},
      h('span', {class: 'pf-v6-c-form-control'}, nameFilter),
      select('Filter hosts by status', [['', 'Any status'], ['up', 'Up'], ['connecting', 'Connecting'], ['maintenance', 'Maintenance'], ['rebooting', 'Rebooting'], ['non_responsive', 'Non responsive']],
        state.status, (v) => { state.status = v; state.offset = 0; load(); }),
      select('Filter hosts by device passthrough', [['', 'Passthrough: any'], ['enabled', 'Passthrough: enabled'], ['disabled', 'Passthrough: disabled']],
        state.passthrough, (v) => { state.passthrough = v; state.offset = 0; load(); }),
      ctx.admin ? button('Add host', addHost, {variant: 'primary'}) : null)));

  el.append(h('section', {class: 'pf-v6-c-page__main-section'},
    h('h1', {class: 'pf-v6-c-title pf-m-2xl'}, 'Hosts'), toolbar, msg, tableWrap, pager));
  const reload = debounce(load, 200);
  ctx.onCleanup(subscribe((events) => {
    if (events.some((ev) => ev.action.startsWith('host.'))) reload();
  }));
  load();
}
