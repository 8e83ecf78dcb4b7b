// A VM's USB devices, SCSI LUNs and vhost-scsi targets (the VM page's "USB and SCSI" tab): what
// it is given, by the identity the engine keeps (a USB spec, a LUN's WWID, a vhost target's
// WWPN) with its number; Add opens a dialog choosing from the host's own list (hostusb.js:
// verdicts and why, the VM already holding each), Remove takes one by number. Both only while
// the VM is down (the buttons are disabled otherwise, saying why); the first one pins the VM to
// its host, as host devices do. The engine's refusals (another VM owns it: in-use, naming the
// VM) are shown in its words. A vhost target that is not ready (no nexus, LUN or vhost_scsi
// module) is disabled with what to set up.
import {api} from './api.js';
import {h, clear, append, button, alert, select, label} from './dom.js';
import {openModal} from './modal.js';
import {hostList, usbSpec, usbVerdict, scsiVerdict, vhostVerdict, usbWhy, scsiWhy, vhostWhy, vhostText, usbName, lunName,
  USB_NEVER} from './hostusb.js';

// @field: the VM's list, @path: the API's (/v1/vms/{id}/PATH and /v1/hosts/{id}/PATH)
const KINDS = {
  usb: {title: 'USB devices', one: 'USB device', key: 'spec', field: 'usb', path: 'usb'},
  scsi: {title: 'SCSI LUNs', one: 'SCSI LUN', key: 'wwid', field: 'scsi', path: 'scsi'},
  vhost: {title: 'vhost-scsi targets', one: 'vhost-scsi target', key: 'wwpn', field: 'vhost_scsi', path: 'vhost-scsi'},
};

// "1 USB device, 2 SCSI LUNs, 1 vhost-scsi target" (General, and the VM list's summary), or "none".
export function usbScsiText(vm) {
  const n = (k, one) => (vm[k] || []).length ? `${vm[k].length} ${one}${vm[k].length > 1 ? 's' : ''}` : null;
  return [n('usb', 'USB device'), n('scsi', 'SCSI LUN'), n('vhost_scsi', 'vhost-scsi target')].filter(Boolean).join(', ') || 'none';
}

// The tab's content; @show(variant, title, text) reports, @reload() re-reads the VM. The tab
// outlives a re-read that shows the same (dom.js rerender): Remove uses only what its row
// shows; the Add dialog opens on @current(), the VM as the page's last read has it (its host
// and what it holds may have changed without changing this tab).
export function vmUsbScsiTab(vm, ctx, show, reload, current = () => vm) {
  const vid = encodeURIComponent(vm.id);
  const down = vm.state === 'down';
  const why = down ? null : `${vm.name} is ${vm.state}: USB devices, LUNs and vhost-scsi targets change only while it is down.`;

  function section(kind) {
    const k = KINDS[kind];
    const list = vm[k.field] || [];
    const head = kind === 'usb' ? ['N', 'Spec', 'Force'] : kind === 'scsi' ? ['N', 'WWID', 'Shareable', 'Read-only', 'Force'] : ['N', 'WWPN'];
    if (ctx.admin) head.push('Actions');
    const rows = list.map((x) => {
      const cells = [String(x.n), h('code', {}, x[k.key])];
      if (kind === 'scsi') cells.push(x.shareable ? 'yes' : 'no', x.readonly ? 'yes' : 'no');
      if (kind !== 'vhost') cells.push(x.force ? label('forced', 'orange') : 'no');
      if (ctx.admin)
        cells.push(button('Remove', async () => {
          try {
            await api('DELETE', `/v1/vms/${vid}/${k.path}/${x.n}`);
            show('success', `Remove ${k.one} ${x[k.key]}: done`, '');
          } catch (e) {
            show('danger', `Remove ${k.one} ${x[k.key]}: refused`, e.message);
          }
          reload();
        }, {small: true, label: `Remove ${k.one} ${x.n} ${x[k.key]}`, disabled: !down}));
      return h('tr', {class: 'pf-v6-c-table__tr', [`data-${kind}`]: x[k.key]},
        cells.map((c, i) => h('td', {class: 'pf-v6-c-table__td', 'data-label': head[i]}, c)));
    });
    return h('section', {class: 'hd-vm-usbscsi', 'aria-label': k.title},
      h('h2', {class: 'pf-v6-c-title pf-m-lg'}, k.title),
      ctx.admin ? h('div', {class: 'pf-v6-c-toolbar'}, h('div', {class: 'pf-v6-c-toolbar__content'},
        h('div', {class: 'pf-v6-c-toolbar__content-section hd-toolbar'},
          button(`Add ${k.one}`, () => addDialog(kind, current()), {variant: 'primary', label: `Add ${k.one}`, disabled: !down})))) : null,
      h('table', {class: 'pf-v6-c-table pf-m-compact', 'aria-label': `${k.title} of the VM`},
        h('thead', {class: 'pf-v6-c-table__thead'}, h('tr', {class: 'pf-v6-c-table__tr'},
          head.map((t) => h('th', {class: 'pf-v6-c-table__th pf-m-wrap', scope: 'col'}, t)))),
        h('tbody', {class: 'pf-v6-c-table__tbody'}, rows.length ? rows
          : h('tr', {class: 'pf-v6-c-table__tr'}, h('td', {class: 'pf-v6-c-table__td', colspan: head.length}, `No ${k.one}.`)))));
  }

  // Pick the host (fixed when the VM is pinned), then one of its devices: never-assignable ones
  // (vhost targets that are not ready) are disabled with the reason, the rest may need Force
  // (the host uses it) and, for LUNs, Shareable or Read-only.
  function addDialog(kind, vm) { // (@vm: the VM now, not the one this tab was built from)
    const k = KINDS[kind];
    const err = h('div', {'aria-live': 'polite'});
    const hostBox = h('div');
    const list = h('div', {class: 'hd-pick-list', role: 'radiogroup', 'aria-label': `${k.title} of the host`});
    const flag = (name, text) => {
      const input = h('input', {type: 'checkbox', class: 'pf-v6-c-check__input', id: `hd-${kind}-${name}`});
      return {input, el: h('div', {class: 'pf-v6-c-check'}, input, h('label', {class: 'pf-v6-c-check__label', for: input.id}, text))};
    };
    const force = kind === 'vhost' ? null : flag('force', kind === 'usb'
      ? 'Force: pass it although the host uses it (held, mounted storage, its only keyboard or mouse)'
      : 'Force: pass it although the host uses it (mounted, swap, LVM; never the root filesystem)');
    const shareable = kind === 'scsi' ? flag('shareable', 'Shareable: other VMs may take it shareable too') : null;
    const readonly = kind === 'scsi' ? flag('readonly', 'Read-only for the guest') : null;
    let hostId = vm.host_id || '';
    let chosen = null;
    // (WWPNs in any case: the engine compares them so)
    const norm = (id) => (kind === 'vhost' && id ? id.toLowerCase() : id);
    const mine = new Set((vm[k.field] || []).map((x) => norm(x[k.key])));

    function render(items) {
      const entries = items.map((d, i) => {
        const spec = kind === 'usb' ? usbSpec(d, items) : kind === 'scsi' ? d.wwid : d.wwpn;
        const never = kind === 'usb' ? USB_NEVER.has(d.verdict) : kind === 'scsi' ? !d.wwid || d.verdict === 'not-assignable' : !d.ready;
        const already = spec && mine.has(norm(spec));
        const radio = h('input', {type: 'radio', name: `hd-pick-${kind}`, class: 'pf-v6-c-radio__input', id: `hd-pick-${kind}-${i}`,
          value: spec || '', disabled: never || already, onchange: () => { chosen = spec; }});
        const text = kind === 'usb'
          ? [h('code', {}, spec || d.port_path), ` ${usbName(d)} (${d.kind || 'device'}, port ${d.port_path}) `, usbVerdict(d)]
          : kind === 'scsi'
            ? [h('code', {}, d.wwid || 'no WWID'), ` ${lunName(d)} (${d.type_name || 'LUN'}, ${d.hctl}${d.block ? ', /dev/' + d.block : ''}) `, scsiVerdict(d)]
            : [h('code', {}, d.wwpn), ` (${vhostText(d)}) `, vhostVerdict(d)];
        const whyText = kind === 'usb' ? usbWhy(d) : kind === 'scsi' ? scsiWhy(d) : vhostWhy(d);
        const neverText = kind === 'usb' ? whyText : kind === 'scsi'
          ? (!d.wwid ? 'it has no WWID, so it cannot be named for good' : whyText) : `not ready: ${whyText}`;
        return h('div', {class: `pf-v6-c-radio hd-pick${never || already ? ' hd-placeholder' : ''}`, 'data-spec': spec || null},
          radio, h('label', {class: 'pf-v6-c-radio__label', for: radio.id}, text),
          h('span', {class: 'pf-v6-c-radio__description'}, already ? `already given to ${vm.name}`
            : never ? (kind === 'vhost' ? neverText : `never: ${neverText}`) : whyText));
      });
      append(clear(list), [entries.length ? entries : h('p', {}, hostId ? `The host has no ${k.one}.` : 'Pick a host first.')]);
    }

    async function pickHost(id) {
      hostId = id;
      chosen = null;
      clear(err);
      if (!id) return render([]);
      try {
        render(await hostList(id, k.path));
      } catch (e) {
        render([]);
        err.append(alert('danger', `The host's ${k.title} cannot be read`, e.message));
      }
    }

    const form = h('form', {class: 'pf-v6-c-form', novalidate: true}, hostBox, list,
      shareable ? shareable.el : null, readonly ? readonly.el : null, force ? force.el : null, err);
    if (vm.host_id) {
      hostBox.append(h('p', {}, `Host: ${vm.host_name || vm.host_id} (the VM is pinned there by its devices).`));
      pickHost(vm.host_id);
    } else {
      hostBox.append(h('p', {class: 'hd-note'}, 'The host you pick pins the VM: all its devices come from that host.'));
      api('GET', '/v1/hosts?limit=1000').then((r) => {
        hostBox.append(select('Host', [['', 'Pick a host…'], ...r.hosts.map((x) => [x.id, `${x.name} (${x.status})`])], '', pickHost));
      }).catch((e) => err.append(alert('danger', 'The hosts cannot be read', e.message)));
      render([]);
    }
    openModal(`Add a ${k.one} to ${vm.name}`, form, (close) => {
      const submit = async () => {
        clear(err);
        if (!hostId || !chosen) {
          err.append(alert('danger', 'Nothing to add', `Pick a host and one ${k.one}.`));
          return;
        }
        const body = {host_id: hostId, [k.key]: chosen};
        if (force && force.input.checked) body.force = true;
        if (shareable && shareable.input.checked) body.shareable = true;
        if (readonly && readonly.input.checked) body.readonly = true;
        try {
          await api('POST', `/v1/vms/${vid}/${k.path}`, body);
          close();
          show('success', `${k.one} ${chosen} added to ${vm.name}`, 'The agent finds it by this identity at every start.');
          reload();
        } catch (e) {
          err.append(alert('danger', `The engine refused the ${k.one}`, e.message));
        }
      };
      form.addEventListener('submit', (ev) => { ev.preventDefault(); submit(); });
      return [button('Add', submit, {variant: 'primary', label: `Add the picked ${k.one}`}), button('Cancel', close, {variant: 'link'})];
    }, {wide: true});
  }

  return h('div', {class: 'hd-vm-usbscsi-tab'},
    why && ctx.admin ? h('p', {class: 'hd-note', 'data-testid': 'usbscsi-locked'}, why) : null,
    section('usb'), section('scsi'), section('vhost'));
}
