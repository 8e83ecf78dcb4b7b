// Events: the engine's audit log, newest first, live through the portal's one long poll;
// filtered by host or VM (#/events/host/ID, #/events/vm/ID preset them: the engine gives the
// newest 500 of that host or VM, new ones are checked here) and by text.
import {h, clear, rerender, fmtTime, label, select} from './dom.js';
import {subscribe, tail} from './feed.js';
import {alert} from './dom.js';
import {api} from './api.js';

const MAX = 500;

export function eventsPage(el, ctx, preset = {}) {
  let events = [];
  let filter = '';
  const by = {host: preset.host || '', vm: preset.vm || ''};
  const hostNames = new Map(); // id -> name, for "host NAME" objects (host.add, host.edit)
  const pickers = h('span', {class: 'hd-contents'});
  const tbody = h('tbody', {class: 'pf-v6-c-table__tbody'});
  const msg = h('div', {class: 'hd-messages', 'aria-live': 'polite'});
  const input = h('input', {type: 'search', 'aria-label': 'Filter events by host, VM or text', placeholder: 'Host, VM, action…'});
  input.addEventListener('input', () => { filter = input.value.trim().toLowerCase(); render(); });

  const color = {ok: 'green', refused: 'orange', failed: 'red'};
  // "host UUID" (the sync's events) shown as the host's name, a link to its page; names are
  // read once per host, and a removed host keeps its id
  const names = new Map();
  const HOST = /^host ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
  function resolve(list) {
    for (const e of list) {
      const m = HOST.exec(e.object || '');
      if (!m || names.has(m[1])) continue;
      names.set(m[1], null);
      api('GET', `/v1/hosts/${m[1]}`).then((host) => { names.set(m[1], host.name); render(); }).catch(() => {});
    }
  }
  function objectCell(e) {
    const m = HOST.exec(e.object || '');
    if (!m) return e.object;
    return h('a', {href: `#/hosts/${m[1]}/general`}, `host ${names.get(m[1]) || m[1]}`);
  }
  function render() {
    const shown = events.filter((e) => {
      const o = e.object || '';
      if (by.host && !o.includes(by.host) && o !== `host ${hostNames.get(by.host)}`) return false;
      if (by.vm && !o.includes(by.vm)) return false;
      if (!filter) return true;
      const m = HOST.exec(e.object || '');
      return [e.object, e.action, e.actor, e.message, m && names.get(m[1])].some((v) => v && v.toLowerCase().includes(filter));
    });
    // rows that show the same are left as they are (dom.js rerender: a link swapped for its copy
    // between the pointer's press and release loses the click); a new event swaps the rows
    rerender(tbody, () => shown.map((e) => h('tr', {class: 'pf-v6-c-table__tr', 'data-event': e.id},
      [fmtTime(e.at), e.actor, e.action, objectCell(e), label(e.result, color[e.result]), e.message]
        .map((c) => h('td', {class: 'pf-v6-c-table__td'}, c)))));
  }

  el.append(h('section', {class: 'pf-v6-c-page__main-section'},
    h('h1', {class: 'pf-v6-c-title pf-m-2xl'}, 'Events'),
    h('div', {class: 'pf-v6-c-toolbar'}, h('div', {class: 'pf-v6-c-toolbar__content'},
      h('div', {class: 'pf-v6-c-toolbar__content-section hd-toolbar'}, pickers, h('span', {class: 'pf-v6-c-form-control'}, input)))),
    msg,
    h('div', {class: 'hd-table-wrap'}, h('table', {class: 'pf-v6-c-table pf-m-compact', 'aria-label': 'Events'},
      h('thead', {class: 'pf-v6-c-table__thead'}, h('tr', {class: 'pf-v6-c-table__tr'},
        ['Time', 'Who', 'Action', 'Object', 'Result', 'Message'].map((t) => h('th', {class: 'pf-v6-c-table__th', scope: 'col'}, t)))),
      tbody))));

  // the host and VM pickers: up to 1,000 of each, by name
  Promise.all([api('GET', '/v1/hosts?limit=1000'), api('GET', '/v1/vms?limit=1000')]).then(([hr, vr]) => {
    for (const x of hr.hosts) hostNames.set(x.id, x.name);
    clear(pickers).append(
      select('Filter events by host', [['', 'Any host'], ...hr.hosts.map((x) => [x.id, x.name])], by.host, (v) => { by.host = v; reload(); }),
      select('Filter events by VM', [['', 'Any VM'], ...vr.vms.map((x) => [x.id, x.name])], by.vm, (v) => { by.vm = v; reload(); }));
    render();
  }).catch(() => {});

  let seen = 0;
  ctx.onCleanup(subscribe((evs) => {
    const fresh = evs.filter((e) => e.id > seen);
    if (!fresh.length) return;
    seen = fresh[fresh.length - 1].id;
    events = [...fresh.reverse(), ...events].slice(0, MAX);
    resolve(fresh);
    render();
  }));
  // the newest of the log, or of the host or VM picked: the engine filters, so an old host's
  // events are there however busy the rest of the fleet was since
  let loading = 0;
  function reload() {
    const mine = ++loading;
    tail(by.host || by.vm ? MAX : 200, by).then((r) => {
      if (mine !== loading) return; // a later pick won
      const older = r.events.filter((e) => e.id > seen || !seen || by.host || by.vm);
      events = [...(by.host || by.vm ? [] : events), ...older.reverse()]
        .filter((e, i, a) => a.findIndex((x) => x.id === e.id) === i)
        .sort((a, b) => b.id - a.id).slice(0, MAX);
      seen = Math.max(seen, r.last_id);
      resolve(events);
      render();
    }).catch((e) => msg.append(alert('danger', 'The events cannot be read', e.message)));
  }
  reload();
}
