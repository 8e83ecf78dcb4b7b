// Edit a VM, as oVirt's "Edit Virtual Machine": name, memory and vCPUs, which is all the engine's
// PATCH /v1/vms/{id} accepts (VmEdit in docs/api/engine-openapi.yaml); the host a VM is pinned to
// and its host devices change on its Host devices tab. The engine takes an edit in any state (a
// running VM gets the new memory and vCPUs at its next start: the dialog says so).
//
// Checked here before anything is sent, with the engine's own rules and words
// (src/engine/body-vms.c, body.c): the name 1 to 64 of A-Z a-z 0-9 . _ - not starting with . or
// -; memory a whole number of MiB from 16 to 16777216; vCPUs a whole number from 1 to 1024. What
// the engine still refuses (a name another VM has: 409 exists) is shown in words in the dialog.
//
// Lost updates: the dialog reads the VM when it opens, with its ETag, and the PATCH carries it in
// If-Match: the engine edits only the VM as it was read, in the edit's own transaction, and
// answers 412 "changed" otherwise; the dialog then says "changed by someone else: reload", with
// what changed, and Reload reads the VM (and its ETag) again. Only the members the admin changed
// are sent.
import {api} from './api.js';
import {h, clear, append, button, alert} from './dom.js';
import {openModal} from './modal.js';

export const VM_NAME_RULE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
export const VM_MEMORY_MIB = [16, 16777216];
export const VM_VCPUS = [1, 1024];

// The engine's rule broken by each field's text, or null: {name, memory, vcpus}.
export function vmEditErrors({name, memory, vcpus}) {
  const whole = (text, [min, max], what) => {
    if (!/^[0-9]+$/.test(text)) return `${what} must be a whole number from ${min} to ${max}`;
    const v = Number(text);
    return v < min || v > max ? `${what} must be from ${min} to ${max}` : null;
  };
  return {
    name: VM_NAME_RULE.test(name) ? null : 'The name must be 1 to 64 of A-Z a-z 0-9 . _ - (not starting with . or -)',
    memory: whole(memory, VM_MEMORY_MIB, 'Memory (MiB)'),
    vcpus: whole(vcpus, VM_VCPUS, 'vCPUs'),
  };
}

let ids = 0;
// A labelled input with PatternFly's helper text; setError(text|null) marks it invalid.
function checkedField(labelText, input, hint) {
  const id = `hd-edit-${++ids}`;
  input.id = id;
  const wrap = h('span', {class: 'pf-v6-c-form-control'}, input);
  const helpText = h('span', {class: 'pf-v6-c-helper-text__item-text'}, hint);
  // PatternFly colours the icon of an error (its text only goes bold)
  const icon = h('span', {class: 'pf-v6-c-helper-text__item-icon', 'aria-hidden': 'true', hidden: true}, '⚠');
  const helpItem = h('div', {class: 'pf-v6-c-helper-text__item', id: `${id}-help`}, icon, helpText);
  input.setAttribute('aria-describedby', `${id}-help`);
  const group = h('div', {class: 'pf-v6-c-form__group'},
    h('div', {class: 'pf-v6-c-form__group-label'},
      h('label', {class: 'pf-v6-c-form__label', for: id}, h('span', {class: 'pf-v6-c-form__label-text'}, labelText))),
    h('div', {class: 'pf-v6-c-form__group-control'}, wrap,
      h('div', {class: 'pf-v6-c-form__helper-text', 'aria-live': 'polite'},
        h('div', {class: 'pf-v6-c-helper-text'}, helpItem))));
  const setError = (text) => {
    wrap.classList.toggle('pf-m-error', !!text);
    helpItem.classList.toggle('pf-m-error', !!text);
    icon.hidden = !text;
    if (text) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
    helpText.textContent = text || hint;
  };
  return {group, setError};
}

const path = (vm) => `/v1/vms/${encodeURIComponent(vm.id)}`;
const WORDS = {name: 'name', memory_mib: 'memory (MiB)', vcpus: 'vCPUs'};

// Opens the dialog for @vm (as the list or page has it; the dialog reads it again first).
// @show(variant, title, text) puts the outcome on the page; @after() re-reads the page.
export async function editVm(vm, show, after) {
  let base;
  let etag = null;
  try {
    const r = await api('GET', path(vm), undefined, {etag: true});
    base = r.json;
    etag = r.etag;
  } catch (e) {
    show('danger', `Edit ${vm.name}: the VM cannot be read`, e.message);
    return;
  }
  const name = h('input', {type: 'text', required: true, autocomplete: 'off', spellcheck: 'false', maxlength: '64'});
  const mem = h('input', {type: 'number', required: true, min: String(VM_MEMORY_MIB[0]), max: String(VM_MEMORY_MIB[1]), step: '1'});
  const cpus = h('input', {type: 'number', required: true, min: String(VM_VCPUS[0]), max: String(VM_VCPUS[1]), step: '1'});
  const fName = checkedField('Name', name, '1 to 64 of A-Z a-z 0-9 . _ - (not starting with . or -)');
  const fMem = checkedField('Memory (MiB)', mem, `From ${VM_MEMORY_MIB[0]} to ${VM_MEMORY_MIB[1]} MiB`);
  const fCpus = checkedField('vCPUs', cpus, `From ${VM_VCPUS[0]} to ${VM_VCPUS[1]}`);
  const err = h('div', {class: 'hd-edit-messages', 'aria-live': 'polite'});
  const running = h('div');
  const fill = (v) => {
    name.value = v.name;
    mem.value = String(v.memory_mib);
    cpus.value = String(v.vcpus);
    for (const f of [fName, fMem, fCpus]) f.setError(null);
    append(clear(running), v.state !== 'down'
      ? alert('info', `${v.name} is ${v.state}`, 'A new memory size or vCPU count takes effect at its next start.') : null);
  };
  fill(base);
  const devices = h('a', {href: `#/vms/${encodeURIComponent(vm.id)}/devices`}, 'Host devices tab');
  const form = h('form', {class: 'pf-v6-c-form hd-edit-vm', novalidate: true, 'data-testid': 'edit-vm'},
    fName.group, fMem.group, fCpus.group, running,
    h('p', {class: 'hd-note'}, 'The host the VM is pinned to and its host devices change on its ', devices, '.'),
    err);

  // the fields' texts checked with the engine's rules; the first wrong field gets the focus
  const check = () => {
    const e = vmEditErrors({name: name.value.trim(), memory: mem.value.trim(), vcpus: cpus.value.trim()});
    fName.setError(e.name);
    fMem.setError(e.memory);
    fCpus.setError(e.vcpus);
    const bad = [[e.name, name], [e.memory, mem], [e.vcpus, cpus]].find(([m]) => m);
    if (bad) bad[1].focus();
    return !bad;
  };
  const conflict = (fresh) => {
    const what = fresh ? Object.keys(WORDS).filter((k) => fresh[k] !== base[k])
      .map((k) => `${WORDS[k]} ${base[k]} → ${fresh[k]}`).join(', ') : '';
    const reload = button('Reload', async () => {
      try {
        const r = await api('GET', path(vm), undefined, {etag: true});
        base = r.json;
        etag = r.etag;
        fill(base);
        clear(err);
        name.focus();
      } catch (e) {
        clear(err).append(alert('danger', 'The VM cannot be read', e.message));
      }
    }, {variant: 'secondary', label: `Reload ${vm.name}`});
    clear(err).append(h('div', {'data-testid': 'edit-conflict'},
      alert('danger', `${base.name} was changed by someone else: reload`,
        `Nothing was saved. ${what ? `Changed since this dialog opened: ${what}. ` : ''}` +
        'Reload shows the VM as it is now (your changes are dropped); edit it again from there.'),
      h('div', {class: 'hd-edit-reload'}, reload)));
  };

  openModal(`Edit ${base.name}`, form, (close) => {
    let saving = false; // Enter in a field while the Save button's call runs sends nothing more
    const save = async () => {
      if (saving) return;
      saving = true;
      try {
        await trySave();
      } finally {
        saving = false;
      }
    };
    const trySave = async () => {
      clear(err);
      if (!check()) return;
      const want = {name: name.value.trim(), memory_mib: Number(mem.value.trim()), vcpus: Number(cpus.value.trim())};
      const body = {};
      for (const k of Object.keys(WORDS)) if (want[k] !== base[k]) body[k] = want[k];
      if (!Object.keys(body).length) {
        err.append(alert('info', 'Nothing to save', 'The name, memory and vCPUs are as the VM has them.'));
        return;
      }
      // the engine sends a VM's ETag with it; without one the edit would be unconditional
      const headers = etag ? {'If-Match': etag} : {};
      try {
        const vmNow = await api('PATCH', path(vm), body, {headers});
        close();
        const changed = Object.keys(body).map((k) => `${WORDS[k]} ${body[k]}`).join(', ');
        show('success', `Edit ${base.name}: saved`, vmNow.state !== 'down'
          ? `${changed}; memory and vCPUs take effect at the next start of ${vmNow.name}.` : changed);
        if (after) after(vmNow);
      } catch (e) {
        if (e.status === 412) {
          let fresh = null;
          try { fresh = await api('GET', path(vm)); } catch { /* the conflict is said without the details */ }
          return conflict(fresh);
        }
        const title = e.status === 404 ? `${base.name} is gone`
          : e.code === 'exists' ? 'The name is taken' : 'The engine refused the change';
        err.append(alert('danger', title, e.message));
      }
    };
    form.addEventListener('submit', (ev) => { ev.preventDefault(); save(); });
    // Enter in a field saves (the buttons are in the dialog's footer, outside the form)
    form.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' && ev.target.matches('input')) { ev.preventDefault(); save(); } });
    devices.addEventListener('click', () => close());
    return [button('Save', save, {variant: 'primary', label: `Save ${vm.name}`}), button('Cancel', close, {variant: 'link'})];
  });
}
