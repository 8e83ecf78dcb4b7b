// A host's Kernel tab: a checkbox per kernel option of `hostdev kernel-args` with the exact
// words it stands for on the host's CPU vendor, custom words, the resulting command line (the
// agent's plan: PUT /v1/hosts/ID/kernel-args with dry_run), Apply (only in maintenance; disabled
// with the reason otherwise) and then the reboot banner. The agent's document
// (GET .../kernel-args) says what is running and configured; it does not list the options, so
// their words are here, as src/lib/host/kernel-options.c and cmdline.c map them (the browser
// test checks that each option's plan adds exactly these words).
import {api} from './api.js';
import {h, clear, append, button, alert, field, label} from './dom.js';
import {debounce} from './feed.js';

// words(vendor, value) -> {add: the words the option adds, drop: the words it removes, note:
// said instead when it adds none, unmapped: the engine refuses it on this CPU}
const NO_MAPPING = {add: [], unmapped: true, note: 'no mapping for this CPU (neither Intel nor AMD): use custom words'};
export const OPTIONS = [
  {name: 'iommu', text: 'Turn the IOMMU on (needed for device passthrough)',
    words: (v) => v === 'other' ? NO_MAPPING
      : v === 'amd' ? {add: [], drop: ['amd_iommu=off', 'iommu=off'], note: 'AMD-Vi is on by default: nothing to add; amd_iommu=off and iommu=off are removed'}
        : {add: ['intel_iommu=on'], drop: ['intel_iommu=off', 'iommu=off']}},
  {name: 'iommu-pt', text: 'IOMMU pass-through for the devices the host keeps', words: () => ({add: ['iommu=pt']})},
  {name: 'nested', text: 'Nested virtualization',
    words: (v) => v === 'other' ? NO_MAPPING : {add: [v === 'amd' ? 'kvm-amd.nested=1' : 'kvm-intel.nested=1']}},
  {name: 'unsafe-interrupts', text: 'Assign devices without interrupt remapping (trusted guests only)',
    words: () => ({add: ['vfio_iommu_type1.allow_unsafe_interrupts=1']})},
  {name: 'pci-realloc', text: 'Let the kernel reassign PCI resources (large BARs, SR-IOV)', words: () => ({add: ['pci=realloc']})},
  {name: 'blacklist-nouveau', text: 'Keep nouveau off NVIDIA GPUs', words: () => ({add: ['modprobe.blacklist=nouveau', 'rd.driver.blacklist=nouveau']})},
  {name: 'release-framebuffer', text: 'Keep the firmware framebuffer off the boot GPU',
    words: () => ({add: ['video=efifb:off', 'initcall_blacklist=sysfb_init']})},
  {name: 'vfio-ids', text: 'Bind these vendor:device ids to vfio-pci at boot', value: true,
    words: (v, ids) => ({add: [`vfio-pci.ids=${ids || 'IDS'}`]})},
];

const vendorOf = (host) => ({intel: 'intel', amd: 'amd'})[(host.cpu_vendor || '').toLowerCase()] || 'other';
const vendorName = {intel: 'Intel', amd: 'AMD', other: 'CPU (neither Intel nor AMD)'};

// Is the option on in this command line?
function isOn(opt, vendor, line) {
  const words = new Set(line || []);
  if (opt.value) return (line || []).some((w) => w.startsWith('vfio-pci.ids='));
  const w = opt.words(vendor);
  if (w.unmapped) return false;
  if (!w.add.length) return !(w.drop || []).some((d) => words.has(d));
  return w.add.every((a) => words.has(a));
}

// @el: the tab's body; returns update(host), called when the page re-reads the host (its status
// decides whether Apply is allowed).
export function kernelTab(el, host, ctx, show) {
  const vendor = vendorOf(host);
  const msg = h('div', {class: 'hd-messages', 'aria-live': 'polite'});
  const result = h('div', {class: 'hd-kernel-result', 'data-testid': 'kernel-plan'});
  const applyNote = h('p', {class: 'hd-note', id: 'hd-apply-note', 'data-testid': 'apply-note'});
  const form = h('form', {class: 'pf-v6-c-form', novalidate: true});
  let doc = null;
  let initial = new Map(); // option name -> on in the configured line
  const boxes = new Map();
  let ids = null;
  let custom = null;
  let seq = 0;
  let changes = false; // the last plan changes the configured command line

  const request = (dryRun) => {
    const enable = [], disable = [];
    for (const opt of OPTIONS) {
      const on = boxes.get(opt.name).checked;
      if (on && (!initial.get(opt.name) || opt.value)) {
        if (opt.value) { if (ids.value.trim()) enable.push(`vfio-ids=${ids.value.trim()}`); } else enable.push(opt.name);
      }
      if (!on && initial.get(opt.name)) disable.push(opt.name);
    }
    const body = {enable, disable, dry_run: dryRun};
    if (custom.value.trim()) body.custom = [custom.value.trim()];
    return body;
  };

  function showPlan(plan) {
    const added = new Set(plan.added || []);
    changes = (plan.added || []).length > 0 || (plan.removed || []).length > 0;
    append(clear(result), [
      h('h2', {class: 'pf-v6-c-title pf-m-md'}, 'Resulting command line'),
      h('p', {}, h('code', {class: 'hd-args', 'data-testid': 'kernel-desired'},
        (plan.desired || []).map((w, i) => [i ? ' ' : '', added.has(w) ? h('mark', {}, w) : w]))),
      (plan.added || []).length ? h('p', {}, 'Added: ', h('code', {}, plan.added.join(' '))) : null,
      (plan.removed || []).length ? h('p', {}, 'Removed: ', h('code', {}, plan.removed.join(' '))) : null,
      !(plan.added || []).length && !(plan.removed || []).length ? h('p', {class: 'hd-note'}, 'No change to the configured command line.') : null,
      (plan.notes || []).length ? h('ul', {class: 'hd-note'}, plan.notes.map((n) => h('li', {}, n))) : null,
      h('p', {class: 'hd-note'}, `Written by ${plan.bootloader || 'the boot loader'}${plan.config_path ? ' in ' + plan.config_path : ''}.`)]);
  }

  const plan = debounce(async () => {
    if (!ctx.admin) return;
    const my = ++seq;
    const body = request(true);
    try {
      const p = await api('PUT', `/v1/hosts/${encodeURIComponent(host.id)}/kernel-args`, body);
      if (my !== seq) return;
      clear(msg);
      showPlan(p);
      update(host);
    } catch (e) {
      if (my === seq) clear(msg).append(alert('danger', 'The plan is refused', e.message));
    }
  }, 300);

  async function apply() {
    const body = request(false);
    try {
      const p = await api('PUT', `/v1/hosts/${encodeURIComponent(host.id)}/kernel-args`, body);
      showPlan(p);
      clear(msg).append(alert('success', 'Kernel arguments applied',
        `${host.name} boots with them after its next reboot. Reboot it from the banner above or the Reboot button.`));
      await load();
      if (show) show();
    } catch (e) {
      clear(msg).append(alert('danger', 'Apply: refused', e.message));
    }
    // after the button's own end of progress (which enables it): disabled again when there is
    // nothing left to apply
    setTimeout(() => update(host), 0);
  }
  const applyBtn = ctx.admin ? button('Apply', apply, {variant: 'primary', label: `Apply the kernel arguments on ${host.name}`}) : null;
  if (applyBtn) applyBtn.setAttribute('aria-describedby', 'hd-apply-note');

  function update(hst) {
    host = hst;
    if (!applyBtn) return;
    const inMaint = host.status === 'maintenance';
    applyBtn.disabled = !inMaint || !changes || applyBtn.getAttribute('aria-busy') === 'true';
    applyNote.textContent = inMaint && !changes
      ? `Nothing to apply: the options as checked are ${host.name}'s configured command line.`
      : inMaint ? `${host.name} is in maintenance: Apply writes the command line to its boot configuration; it runs after a reboot.`
        : `Apply is allowed only in maintenance: ${host.name} is ${host.status.replace('_', ' ')}. Put it in maintenance first (the Maintenance button above); until then you can only see the plan.`;
  }

  function render() {
    clear(form);
    const rows = OPTIONS.map((opt) => {
      const on = initial.get(opt.name);
      const unmapped = opt.words(vendor).unmapped;
      const box = h('input', {type: 'checkbox', class: 'pf-v6-c-check__input', checked: on, disabled: !ctx.admin || unmapped,
        id: `hd-kopt-${opt.name}`, 'data-option': opt.name, onchange: plan});
      boxes.set(opt.name, box);
      let idsInput = null;
      if (opt.value) {
        const cur = ((doc.configured || []).find((w) => w.startsWith('vfio-pci.ids=')) || '').slice('vfio-pci.ids='.length);
        idsInput = h('input', {type: 'text', value: cur, placeholder: '10de:1b80,10de:10f0', disabled: !ctx.admin,
          'aria-label': 'vfio-pci ids (VENDOR:DEVICE, comma separated)'});
        idsInput.addEventListener('input', () => { if (idsInput.value.trim()) box.checked = true; plan(); });
        ids = idsInput;
      }
      const w = opt.words(vendor, idsInput && idsInput.value.trim());
      return h('div', {class: 'pf-v6-c-check hd-kopt'},
        box,
        h('label', {class: 'pf-v6-c-check__label', for: box.id}, opt.text, ' ',
          w.add.length ? h('code', {}, w.add.join(' ')) : h('span', {class: 'hd-note'}, `(${w.note})`)),
        h('span', {class: 'pf-v6-c-check__description'}, `${opt.name}${on ? ' — configured now' : ''}`),
        idsInput ? h('span', {class: 'pf-v6-c-form-control hd-ids'}, idsInput) : null);
    });
    custom = h('input', {type: 'text', placeholder: 'e.g. pcie_acs_override=downstream', disabled: !ctx.admin});
    custom.addEventListener('input', plan);
    form.append(
      h('fieldset', {class: 'pf-v6-c-form__fieldset'},
        h('legend', {class: 'pf-v6-c-form__label'}, `Kernel options for this ${vendorName[vendor]} CPU`), rows),
      field('Custom words', h('span', {class: 'pf-v6-c-form-control'}, custom)));
  }

  async function load() {
    try {
      doc = await api('GET', `/v1/hosts/${encodeURIComponent(host.id)}/kernel-args`);
    } catch (e) {
      clear(msg).append(alert('danger', 'The kernel arguments cannot be read', e.message));
      return;
    }
    if (!doc.available) {
      clear(msg).append(alert('warning', 'The boot configuration cannot be read', doc.error || ''));
      return;
    }
    initial = new Map(OPTIONS.map((o) => [o.name, isOn(o, vendor, doc.configured)]));
    render();
    append(clear(current), [
      h('p', {}, 'Running: ', h('code', {class: 'hd-args', 'data-testid': 'kernel-running'}, (doc.running || []).join(' '))),
      h('p', {}, 'Configured: ', h('code', {class: 'hd-args', 'data-testid': 'kernel-configured'}, (doc.configured || []).join(' '))),
      doc.reboot_required ? label('Reboot required', 'orange') : null]);
    showPlan(doc);
    update(host);
  }

  const current = h('div', {class: 'hd-kernel-current'});
  el.append(h('section', {class: 'hd-kernel'},
    h('h2', {class: 'pf-v6-c-title pf-m-lg'}, 'Kernel command line'), current, msg, form, result,
    ctx.admin ? h('div', {class: 'hd-apply'}, applyBtn, applyNote) : null));
  load();
  return update;
}
