// The NPIV section of a host's SCSI tab: its Fibre Channel hosts (vports in use of the most each
// takes) and NPIV vports (virtual HBAs) with their WWPN and WWNN and whether the engine assigned
// them, read from its agent now (GET /v1/hosts/{id}/npiv); an admin's "Create vHBA" dialog
// (POST /v1/hosts/{id}/npiv: parent, WWNs optional: left out, the engine generates ones unique
// across the fleet; a WWN some host has is refused, the engine's words shown in the dialog) and
// Delete per vport (POST /v1/hosts/{id}/npiv/{wwpn}/delete).
import {api} from './api.js';
import {h, clear, append, button, alert, field, label} from './dom.js';
import {openModal} from './modal.js';

const table = (name, head, rows, empty) => h('div', {class: 'hd-vscroll', tabindex: '0', role: 'region', 'aria-label': `${name}, scrollable`},
  h('table', {class: 'pf-v6-c-table pf-m-compact', 'aria-label': name},
    h('thead', {class: 'pf-v6-c-table__thead'}, h('tr', {class: 'pf-v6-c-table__tr'},
      head.map((t) => h('th', {class: 'pf-v6-c-table__th pf-m-wrap', scope: 'col'}, t)))),
    h('tbody', {class: 'pf-v6-c-table__tbody'}, rows.length ? rows
      : h('tr', {class: 'pf-v6-c-table__tr'}, h('td', {class: 'pf-v6-c-table__td', colspan: head.length}, empty)))));

const row = (head, cells, attrs) => h('tr', {class: 'pf-v6-c-table__tr', ...attrs},
  cells.map((c, i) => h('td', {class: 'pf-v6-c-table__td', 'data-label': head[i]}, c)));

const code = (s) => (s ? h('code', {}, s) : '—');
const num = (v) => (v === null || v === undefined ? '?' : String(v));

// The section for @host; @ctx.admin shows the actions; @show(variant, title, text) reports on
// the page; @reload() re-reads the tab.
export async function npivSection(host, ctx, show, reload) {
  const hid = encodeURIComponent(host.id);
  const section = h('section', {class: 'hd-npiv', 'aria-labelledby': 'hd-npiv-title'},
    h('h2', {class: 'pf-v6-c-title pf-m-lg', id: 'hd-npiv-title'}, 'NPIV virtual HBAs'));
  let doc;
  try {
    doc = await api('GET', `/v1/hosts/${hid}/npiv`);
  } catch (e) {
    section.append(alert('danger', `The Fibre Channel hosts of ${host.name} cannot be read`, e.message));
    return section;
  }
  const parents = doc.fc_hosts.filter((f) => f.vport_create && !f.vport);
  const hostHead = ['FC host', 'Port name (WWPN)', 'Node name (WWNN)', 'State', 'Vports in use', 'Kind'];
  const hostRows = doc.fc_hosts.map((f) => row(hostHead, [h('code', {}, f.host), code(f.port_name), code(f.node_name),
    f.port_state || '—', f.vport ? '—' : `${num(f.npiv_vports_inuse)} of ${num(f.max_npiv_vports)}`,
    f.vport ? `vHBA of ${f.parent} (${f.vport})` : f.vport_create ? 'can create vports' : 'no NPIV'], {'data-fc-host': f.host}));
  const vportHead = ['Vport', 'Parent', 'vHBA', 'WWPN', 'WWNN', 'State', 'Made by', ...(ctx.admin ? ['Actions'] : [])];
  const vportRows = doc.vports.map((v) => row(vportHead, [h('code', {}, v.name), v.parent || '—', v.host || '—',
    code(v.port_name), code(v.node_name), v.vport_state || '—',
    v.engine_assigned ? label('the engine (fleet-unique WWNs)', 'blue') : 'outside the engine',
    ...(ctx.admin ? [button('Delete', () => deleteDialog(v), {label: `Delete vport ${v.port_name}`, small: true})] : [])],
  {'data-wwpn': v.port_name}));

  function createDialog() {
    const err = h('div', {'aria-live': 'polite'});
    const parent = h('select', {required: true}, parents.map((f) =>
      h('option', {value: f.host}, `${f.host} (${f.port_name || 'no port name'}; ${num(f.npiv_vports_inuse)} of ${num(f.max_npiv_vports)} vports in use)`)));
    const wwpn = h('input', {type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: 'generated'});
    const wwnn = h('input', {type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: 'generated'});
    const persist = h('input', {type: 'checkbox', class: 'pf-v6-c-check__input', id: `hd-npiv-persist-${host.id}`, checked: true});
    const form = h('form', {class: 'pf-v6-c-form', novalidate: true},
      h('p', {class: 'hd-note', id: 'hd-npiv-wwn-note'}, 'Leave the WWPN and WWNN empty and the engine generates ones unique across the fleet. ' +
        'A WWN given is 16 hex digits (0x2001001122334455 or 20:01:00:11:22:33:44:55) and is refused when any host has it.'),
      field('Parent FC host', h('span', {class: 'pf-v6-c-form-control'}, parent)),
      field('WWPN (optional)', h('span', {class: 'pf-v6-c-form-control'}, wwpn)),
      field('WWNN (optional)', h('span', {class: 'pf-v6-c-form-control'}, wwnn)),
      h('div', {class: 'pf-v6-c-check'}, persist, h('label', {class: 'pf-v6-c-check__label', for: persist.id},
        'Make it again at every boot (vports vanish at a reboot)')),
      err);
    wwpn.setAttribute('aria-describedby', 'hd-npiv-wwn-note');
    wwnn.setAttribute('aria-describedby', 'hd-npiv-wwn-note');
    openModal(`Create a vHBA on ${host.name}`, form, (close) => {
      const submit = async () => {
        clear(err);
        const body = {parent: parent.value, persist: persist.checked};
        if (wwpn.value.trim()) body.wwpn = wwpn.value.trim();
        if (wwnn.value.trim()) body.wwnn = wwnn.value.trim();
        try {
          const r = await api('POST', `/v1/hosts/${hid}/npiv`, body);
          close();
          show('success', `vHBA ${r.vport && r.vport.name ? r.vport.name : ''} created on ${parent.value}`,
            `WWPN ${r.wwpn}, WWNN ${r.wwnn}${r.persist ? ', made again at every boot' : ''}.`);
          reload();
        } catch (e) {
          err.append(alert('danger', 'The vHBA was refused', e.message));
        }
      };
      form.addEventListener('submit', (ev) => { ev.preventDefault(); submit(); });
      return [button('Create', submit, {variant: 'primary', label: 'Create the vHBA'}), button('Cancel', close, {variant: 'link'})];
    });
  }

  function deleteDialog(v) {
    const err = h('div', {'aria-live': 'polite'});
    const body = h('div', {},
      h('p', {}, `Delete vport ${v.name} (WWPN ${v.port_name}) on ${v.parent}? Its LUNs leave the host; `
        + 'it is refused while the host or a VM uses one of them.'),
      err);
    openModal(`Delete vport ${v.name}`, body, (close) => [
      button('Delete', async () => {
        clear(err);
        try {
          await api('POST', `/v1/hosts/${hid}/npiv/${encodeURIComponent(v.port_name)}/delete`, {});
          close();
          show('success', `Vport ${v.name} deleted`, v.engine_assigned ? 'Its WWNs are free for the fleet again.' : '');
          reload();
        } catch (e) {
          err.append(alert('danger', 'The deletion was refused', e.message));
        }
      }, {variant: 'danger', label: `Delete vport ${v.name} now`}),
      button('Cancel', close, {variant: 'link'})]);
  }

  append(section, [
    h('p', {class: 'hd-note'}, 'A vHBA is a virtual Fibre Channel port on an FC host that supports NPIV; the fabric zones LUNs to its WWPN, ' +
      'which is its identity: the engine keeps every WWPN and WWNN it assigns unique across the fleet.'),
    table(`Fibre Channel hosts of ${host.name}`, hostHead, hostRows, `${host.name} has no Fibre Channel host.`),
    ctx.admin && parents.length ? button('Create vHBA', createDialog, {label: `Create vHBA on ${host.name}`}) : null,
    table(`NPIV vports of ${host.name}`, vportHead, vportRows, 'No vport.')]);
  return section;
}
