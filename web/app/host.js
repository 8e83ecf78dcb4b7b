// A host: General (passthrough and why, CPU, kernel, kernel arguments), Host devices (the
// inventory the engine keeps, filtered here, with the VMs that hold or have configured each
// device; a virtual scroller keeps 4,000 rows smooth; a group view with each IOMMU group's
// verdict in words) and Kernel (kernel.js). The life-cycle buttons (hostactions.js) and the
// reboot banner on top; USB and SCSI (hostusb.js). Re-read when an event names the host (or a
// VM, on Host devices, USB and SCSI).
import {api} from './api.js';
import {h, clear, rerender, button, alert, select, fmtTime, label} from './dom.js';
import {subscribe, debounce} from './feed.js';
import {statusLabel, passthroughText, rebootRequired, args} from './hostinfo.js';
import {hostActions} from './hostactions.js';
import {kernelTab} from './kernel.js';
import {hostUsbScsiTab} from './hostusb.js';
import {sriovTab} from './hostsriov.js';

const ROW = 36; // px: one device row (portal.css .hd-vrow)

export function hostPage(el, id, tab, ctx) {
  const msg = h('div', {class: 'hd-messages', 'aria-live': 'polite'});
  const header = h('div', {class: 'hd-host-header'});
  const body = h('div', {class: 'hd-host-body'});
  const filters = {text: '', cls: '', driver: '', view: 'devices'};
  let host = null, devices = [], groups = [];
  let renderDevices = null, kernelUpdate = null;
  // address -> the VM that holds it now (not down); address -> [{name, id, role}] configured
  let usedBy = new Map(), attached = new Map();

  const show = (variant, title, text) => clear(msg).append(alert(variant, title, text));
  const hid = encodeURIComponent(id);

  let gone = false; // the page was left: a re-read still scheduled does nothing
  async function load() {
    if (gone) return;
    try {
      const [hr, dr, gr, vr] = await Promise.all([
        api('GET', `/v1/hosts/${hid}`),
        tab === 'devices' ? api('GET', `/v1/hosts/${hid}/devices`) : null,
        tab === 'devices' ? api('GET', `/v1/hosts/${hid}/groups`) : null,
        tab === 'devices' ? api('GET', `/v1/vms?host_id=${hid}&limit=1000`) : null,
      ]);
      host = hr;
      if (dr) devices = dr.devices;
      if (gr) groups = gr.groups;
      if (vr) vmMaps(vr.vms);
    } catch (e) {
      show('danger', 'The host cannot be read', e.message);
      return;
    }
    renderHeader();
    if (tab === 'devices') {
      if (renderDevices) renderDevices(); else devicesTab();
    } else if (tab === 'usb' || tab === 'scsi') {
      hostUsbScsiTab(body, host, tab, show, ctx, () => load());
    } else if (tab === 'sriov') {
      sriovTab(body, host, ctx, show, () => load());
    } else if (tab === 'kernel') {
      if (kernelUpdate) kernelUpdate(host);
      else kernelUpdate = kernelTab(body, host, ctx, () => load());
    } else {
      rerender(body, () => general());
    }
  }

  function renderHeader() {
    const actions = hostActions(host, ctx, show, () => load(), {removed: () => { location.hash = '#/hosts'; }});
    const tabLink = (key, text) => h('li', {class: `pf-v6-c-tabs__item${tab === key ? ' pf-m-current' : ''}`, role: 'presentation'},
      h('a', {class: 'pf-v6-c-tabs__link', role: 'tab', 'aria-selected': tab === key ? 'true' : 'false',
        href: `#/hosts/${encodeURIComponent(id)}/${key}`}, h('span', {class: 'pf-v6-c-tabs__item-text'}, text)));
    // the same header is left as it is (rerender): its buttons (hostActions, Reboot now) use
    // only the host's id, name and status, which it shows
    rerender(header, () => [
      h('nav', {class: 'pf-v6-c-breadcrumb', 'aria-label': 'Breadcrumb'}, h('a', {href: '#/hosts'}, 'Hosts'), ' › ', host.name),
      h('div', {class: 'hd-title-row'},
        h('h1', {class: 'pf-v6-c-title pf-m-2xl'}, host.name), statusLabel(host),
        rebootRequired(host) ? label('Reboot required', 'orange') : null, actions,
        h('a', {href: `#/events/host/${hid}`, class: 'hd-events-link'}, `Events of ${host.name}`)),
      banner(),
      h('div', {class: 'pf-v6-c-tabs', role: 'navigation', 'aria-label': 'Host sections'},
        h('ul', {class: 'pf-v6-c-tabs__list', role: 'tablist'}, tabLink('general', 'General'), tabLink('devices', 'Host devices'), tabLink('usb', 'USB'), tabLink('scsi', 'SCSI'), tabLink('sriov', 'SR-IOV and mdev'), tabLink('kernel', 'Kernel')))]);
  }

  // rebooting: until the agent answers with a new boot; reboot required: configured != running
  function banner() {
    if (host.status === 'rebooting')
      return h('div', {class: 'hd-banner', 'data-testid': 'reboot-banner'}, alert('info', `${host.name} is rebooting`,
        `Asked ${fmtTime(host.rebooting_since)}. The engine waits for its agent to answer with a new boot; the host then stays in maintenance.` +
        (host.last_error ? ` Last error: ${host.last_error}` : '')));
    if (!rebootRequired(host)) return null;
    const text = host.status === 'maintenance'
      ? `The configured kernel arguments are not the running ones. Reboot ${host.name} to run them.`
      : `The configured kernel arguments are not the running ones. Put ${host.name} in maintenance, then reboot it.`;
    const b = h('div', {class: 'hd-banner', 'data-testid': 'reboot-banner'}, alert('warning', 'Reboot required', text));
    if (ctx.admin && host.status === 'maintenance')
      b.append(button('Reboot now', async () => {
        try { await api('POST', `/v1/hosts/${hid}/reboot`); show('success', `Reboot ${host.name}: rebooting`, ''); load(); }
        catch (e) { show('danger', `Reboot ${host.name}: refused`, e.message); }
      }, {variant: 'warning', label: `Reboot now ${host.name}`}));
    return b;
  }

  function vmMaps(vms) {
    usedBy = new Map();
    attached = new Map();
    for (const vm of vms)
      for (const d of vm.devices || []) {
        if (!attached.has(d.address)) attached.set(d.address, []);
        attached.get(d.address).push({name: vm.name, id: vm.id, role: d.role});
        if (vm.state !== 'down') usedBy.set(d.address, vm.name);
      }
  }

  function dl(pairs) {
    return h('dl', {class: 'pf-v6-c-description-list pf-m-horizontal hd-dl'}, pairs.map(([t, d]) =>
      h('div', {class: 'pf-v6-c-description-list__group'},
        h('dt', {class: 'pf-v6-c-description-list__term'}, h('span', {class: 'pf-v6-c-description-list__text'}, t)),
        h('dd', {class: 'pf-v6-c-description-list__description'}, h('div', {class: 'pf-v6-c-description-list__text'}, d)))));
  }

  function general() {
    const pt = passthroughText(host);
    return h('section', {class: 'hd-general'}, dl([
      ['Device passthrough', h('span', {'data-testid': 'passthrough'}, label(pt, pt === 'enabled' ? 'green' : pt === 'disabled' ? 'red' : null))],
      ['Why', (host.passthrough && host.passthrough.reason) || '—'],
      ['Status', host.status === 'non_responsive' && host.last_error ? `non responsive: ${host.last_error}` : host.status],
      ['CPU vendor', host.cpu_vendor || '—'],
      ['Kernel', host.kernel_release || '—'],
      ['Kernel arguments running', args(host.kernel_args && host.kernel_args.running)],
      ['Kernel arguments configured', args(host.kernel_args && host.kernel_args.configured)],
      ['Kernel arguments desired', host.kernel_args && host.kernel_args.desired ? args(host.kernel_args.desired) : '— (no plan through the Kernel tab yet)'],
      ['Reboot required', rebootRequired(host) ? 'yes: the configured kernel arguments are not the running ones' : 'no'],
      ['Devices', `${host.device_count} in ${host.group_count} IOMMU groups`],
      ['Agent', host.agent_url],
      ['Last sync', fmtTime(host.last_sync)],
    ]));
  }

  // ---- Host devices ----
  function matches(d) {
    if (filters.cls && (d.class_name || d.class || '') !== filters.cls) return false;
    if (filters.driver && (d.driver || '(none)') !== filters.driver) return false;
    if (!filters.text) return true;
    const t = filters.text.toLowerCase();
    return [d.address, d.class_name, d.vendor, d.product, d.driver, d.vendor_id, d.device_id]
      .some((v) => v && String(v).toLowerCase().includes(t));
  }

  function devicesTab() {
    const classes = [...new Set(devices.map((d) => d.class_name || d.class || ''))].filter(Boolean).sort();
    const drivers = [...new Set(devices.map((d) => d.driver || '(none)'))].sort();
    const text = h('input', {type: 'search', 'aria-label': 'Filter devices by text', placeholder: 'Address, vendor, product…', value: filters.text});
    const count = h('span', {class: 'hd-count', 'aria-live': 'polite', 'data-testid': 'device-count'});
    const list = h('div', {class: 'hd-devices'});
    text.addEventListener('input', debounce(() => { filters.text = text.value.trim(); renderDevices(); }, 150));
    const viewToggle = h('div', {class: 'pf-v6-c-toggle-group', role: 'group', 'aria-label': 'View'},
      ['devices', 'groups'].map((v) => h('div', {class: 'pf-v6-c-toggle-group__item'},
        h('button', {type: 'button', class: `pf-v6-c-toggle-group__button${filters.view === v ? ' pf-m-selected' : ''}`,
          'aria-pressed': filters.view === v ? 'true' : 'false',
          onclick: () => { filters.view = v; clear(body); renderDevices = null; devicesTab(); }},
        h('span', {class: 'pf-v6-c-toggle-group__text'}, v === 'devices' ? 'Devices' : 'IOMMU groups')))));
    const toolbar = h('div', {class: 'pf-v6-c-toolbar'}, h('div', {class: 'pf-v6-c-toolbar__content'},
      h('div', {class: 'pf-v6-c-toolbar__content-section hd-toolbar'},
        viewToggle,
        h('span', {class: 'pf-v6-c-form-control'}, text),
        select('Filter devices by class', [['', 'Any class'], ...classes.map((c) => [c, c])], filters.cls, (v) => { filters.cls = v; renderDevices(); }),
        select('Filter devices by driver', [['', 'Any driver'], ...drivers.map((c) => [c, c])], filters.driver, (v) => { filters.driver = v; renderDevices(); }),
        count)));
    body.append(toolbar, list);
    renderDevices = () => {
      const shown = devices.filter(matches);
      count.textContent = `${shown.length} of ${devices.length} devices`;
      if (filters.view === 'groups') groupView(list, shown);
      else virtualTable(list, shown);
    };
    renderDevices();
  }

  const COLS = [['Name', (d) => d.address], ['Class', (d) => d.class_name || d.class || '—'], ['Vendor', (d) => d.vendor || d.vendor_id],
    ['Product', (d) => d.product || d.device_id], ['Driver', (d) => d.driver || '(none)'],
    ['IOMMU group', (d) => d.iommu_group ?? '—'], ['NUMA node', (d) => d.numa_node ?? '—'],
    ['Used by VM', (d) => usedBy.get(d.address) || '—'],
    ['Attached to VMs', (d) => (attached.get(d.address) || []).map((a) => a.role === 'placeholder' ? `${a.name} (placeholder)` : a.name).join(', ') || '—']];

  // the columns' widths: portal.css .hd-vtable th:nth-child(N)

  // Only the rows in view (and a few around) are in the DOM: spacer rows above and below
  // take the height of the rest.
  function virtualTable(list, shown) {
    let scroller = list.querySelector('.hd-vscroll');
    if (!scroller) {
      clear(list);
      const tbody = h('tbody', {class: 'pf-v6-c-table__tbody'});
      scroller = h('div', {class: 'hd-vscroll', tabindex: '0', role: 'region', 'aria-label': 'Host devices, scrollable'},
        h('table', {class: 'pf-v6-c-table pf-m-compact hd-vtable', 'aria-label': 'Host devices'},
          h('thead', {class: 'pf-v6-c-table__thead'}, h('tr', {class: 'pf-v6-c-table__tr'},
            COLS.map(([t]) => h('th', {class: 'pf-v6-c-table__th pf-m-wrap', scope: 'col'}, t)))), tbody));
      let frame = 0;
      scroller.addEventListener('scroll', () => {
        if (!frame) frame = requestAnimationFrame(() => { frame = 0; scroller.hdPaint(); });
      });
      list.append(scroller);
    }
    const tbody = scroller.querySelector('tbody');
    scroller.hdPaint = () => {
      const first = Math.max(0, Math.floor(scroller.scrollTop / ROW) - 10);
      const count = Math.ceil((scroller.clientHeight || 600) / ROW) + 20;
      const last = Math.min(shown.length, first + count);
      const spacer = (px) => {
        const tr = h('tr', {class: 'hd-spacer', 'aria-hidden': 'true'}, h('td', {colspan: COLS.length}));
        tr.style.height = `${px}px`; // CSSOM, not an inline style attribute: allowed by the CSP
        return tr;
      };
      const rows = [];
      for (let i = first; i < last; i++) {
        const d = shown[i];
        rows.push(h('tr', {class: 'pf-v6-c-table__tr hd-vrow', 'data-address': d.address, 'aria-rowindex': i + 2},
          COLS.map(([t, f]) => h('td', {class: 'pf-v6-c-table__td', 'data-label': t, title: String(f(d))}, String(f(d))))));
      }
      rerender(tbody, () => [spacer(first * ROW), ...rows, spacer((shown.length - last) * ROW),
        shown.length ? null : h('tr', {}, h('td', {colspan: COLS.length}, 'No device matches the filters.'))]);
    };
    scroller.hdPaint();
  }

  const VERDICTS = {
    'ready': ['Assignable', 'green'], 'ready-with-bridge': ['Assignable', 'green'],
    'needs-group': ['Needs the whole group', 'orange'], 'partly-detached': ['Partly detached', 'orange'],
    'boot-gpu': ['Host needs it', 'red'], 'host-needs-it': ['Host needs it', 'red'], 'in-use': ['In use', 'red'],
    'no-endpoint': ['Bridges only', null], 'interrupted': ['Interrupted', 'red'],
  };
  function verdictLabel(g) {
    const [text, color] = VERDICTS[g.verdict_code] || [g.verdict_code || 'Unknown', null];
    return label(text, color);
  }

  // The groups as cards, GROUP_PAGE at a time ("Show more"): a host of 4,000 groups does not
  // put 4,000 cards in the DOM at once.
  const GROUP_PAGE = 100;
  let groupLimit = GROUP_PAGE;
  function groupView(list, shown) {
    const byAddr = new Map(devices.map((d) => [d.address, d]));
    const wanted = new Set(shown.map((d) => d.address));
    const matching = groups.filter((g) => (g.devices || []).some((a) => wanted.has(a)) || (!filters.text && !filters.cls && !filters.driver));
    const cards = matching.slice(0, groupLimit)
      .map((g) => h('section', {class: 'pf-v6-c-card pf-m-compact hd-group', 'aria-label': `IOMMU group ${g.group}`, 'data-group': g.group},
        h('div', {class: 'pf-v6-c-card__title'}, h('h2', {class: 'pf-v6-c-card__title-text'}, `IOMMU group ${g.group} `,
          verdictLabel(g), g.viable ? label('On vfio-pci', 'blue') : null)),
        h('div', {class: 'pf-v6-c-card__body'},
          h('p', {class: 'hd-verdict'}, g.verdict || ''),
          g.shared_reason ? h('p', {class: 'hd-note'}, g.shared_reason) : null,
          h('ul', {class: 'hd-members'}, (g.devices || []).map((a) => {
            const d = byAddr.get(a) || {};
            const bridge = (g.bridges || []).includes(a);
            return h('li', {class: bridge ? 'hd-bridge' : null}, h('code', {}, a),
              ` ${d.class_name || ''} — ${d.vendor || ''} ${d.product || ''} — driver ${d.driver || '(none)'}${bridge ? ' (bridge, stays on the host)' : ''}`);
          })))));
    const more = matching.length > groupLimit
      ? h('div', {class: 'hd-more'}, button(`Show more groups (${groupLimit} of ${matching.length} shown)`, () => {
        groupLimit += GROUP_PAGE * 5;
        renderDevices(); // the devices as the last read has them, not as this button's
      }, {variant: 'link'}))
      : null;
    rerender(list, () => h('div', {class: 'hd-vscroll', tabindex: '0', role: 'region', 'aria-label': 'IOMMU groups, scrollable'},
      h('div', {class: 'hd-groups'}, cards.length ? cards : h('p', {}, 'No group matches the filters.')), more));
  }

  el.append(h('section', {class: 'pf-v6-c-page__main-section'}, header, msg, body));
  const reload = debounce(load, 100);
  const unsubscribe = subscribe((events) => {
    if (events.some((ev) => (ev.object && ev.object.includes(id)) || (tab !== 'general' && tab !== 'kernel' && ev.action.startsWith('vm.')))) reload();
  });
  ctx.onCleanup(() => { gone = true; unsubscribe(); });
  load();
}
