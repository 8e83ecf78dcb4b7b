// A host's life-cycle buttons, for the hosts list and the host page alike: Maintenance (up),
// Reboot and Activate (maintenance), Refresh, Remove. Which buttons show follows the status the
// engine reports; the engine still decides, and its refusal is shown in words (a VM running on
// the host blocks maintenance, and the message names it). Only an admin gets them.
import {api} from './api.js';
import {h, button} from './dom.js';
import {openModal} from './modal.js';

// @show(variant, title, text) puts a message on the page; @after(what) runs after a call that
// worked (the page re-reads). Returns null for a viewer.
export function hostActions(host, ctx, show, after, {small = false, removed = null} = {}) {
  if (!ctx.admin) return null;
  const path = (verb) => `/v1/hosts/${encodeURIComponent(host.id)}${verb ? '/' + verb : ''}`;
  const act = async (what, done, fn) => {
    try {
      await fn();
      show('success', `${what}: ${done}`, '');
      if (after) after(what);
    } catch (e) {
      show('danger', `${what}: refused`, e.message);
    }
  };
  const b = (text, variant, what, done, method, verb) => button(text,
    () => act(what, done, () => api(method, path(verb))), {small, variant, label: `${text} ${host.name}`});
  const confirm = (title, text, okText, variant, fn) => openModal(title, h('p', {}, text), (close) => [
    // the dialog stays, its button showing the call's progress, until the engine answered
    button(okText, async () => { await fn(); close(); }, {variant, label: `Confirm: ${okText} ${host.name}`}),
    button('Cancel', close, {variant: 'link'}),
  ]);

  const list = [];
  if (host.status === 'up')
    list.push(button('Maintenance', () => confirm(`Maintenance for ${host.name}?`,
      `No VM can start on ${host.name} while it is in maintenance; VMs running there must be stopped first. ` +
      'In maintenance the kernel options can be applied and the host rebooted.', 'Maintenance', 'primary',
      () => act(`Maintenance for ${host.name}`, 'the host is in maintenance', () => api('POST', path('maintenance')))),
    {small, label: `Maintenance ${host.name}`}));
  if (host.status === 'maintenance') {
    list.push(button('Reboot', () => confirm(`Reboot ${host.name}?`,
      `The agent on ${host.name} reboots the machine; the host shows "Rebooting" until the agent answers with a new boot, ` +
      'then it stays in maintenance until you activate it.', 'Reboot', 'warning',
      () => act(`Reboot ${host.name}`, 'rebooting; the host comes back in maintenance', () => api('POST', path('reboot')))),
    {small, label: `Reboot ${host.name}`}));
    list.push(b('Activate', 'primary', `Activate ${host.name}`, 'the engine reads the host again and puts it up', 'POST', 'activate'));
  }
  list.push(b('Refresh', 'secondary', `Refresh ${host.name}`, 'the engine re-reads the agent', 'POST', 'refresh'));
  list.push(button('Remove', () => confirm(`Remove ${host.name}?`,
    `The engine forgets ${host.name} and its inventory. The agent keeps running.`, 'Remove', 'danger',
    async () => {
      try {
        await api('DELETE', path(''));
        show('success', `Remove ${host.name}: done`, '');
        if (removed) removed(); else if (after) after('remove');
      } catch (e) {
        show('danger', `Remove ${host.name}: refused`, e.message);
      }
    }), {small, variant: 'danger', label: `Remove ${host.name}`}));
  return h('span', {class: 'hd-row-actions'}, list);
}
