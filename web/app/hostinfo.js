// What the pages say about a host, in words, from GET /v1/hosts answers.
import {h, label} from './dom.js';

const statusColor = {up: 'green', connecting: 'blue', maintenance: 'orange', rebooting: 'purple', non_responsive: 'red'};
const statusText = {up: 'Up', connecting: 'Connecting', maintenance: 'Maintenance', rebooting: 'Rebooting', non_responsive: 'Non responsive'};

export function statusLabel(host) {
  const l = label(statusText[host.status] || host.status, statusColor[host.status]);
  if (host.status === 'non_responsive' && host.last_error) l.title = host.last_error; // why, on hover
  return l;
}

export function passthroughText(host) {
  const p = host.passthrough || {};
  if (p.enabled === true) return 'enabled';
  if (p.enabled === false) return 'disabled';
  return 'unknown';
}

export function passthroughLabel(host) {
  const t = passthroughText(host);
  return label(`Device passthrough: ${t}`, t === 'enabled' ? 'green' : t === 'disabled' ? 'red' : null);
}

// The engine's reboot_required when it has one; until then: a configured kernel argument is
// not running (the running line also holds what the boot loader adds: BOOT_IMAGE, root, ro).
export function rebootRequired(host) {
  const k = host.kernel_args || {};
  if (host.reboot_required !== undefined) return !!host.reboot_required;
  if (!Array.isArray(k.configured) || !Array.isArray(k.running)) return false;
  const running = new Set(k.running);
  return k.configured.some((a) => !running.has(a));
}

export function rebootBadge(host) {
  return rebootRequired(host) ? label('Reboot required', 'orange') : null;
}

export function args(list) {
  if (!Array.isArray(list)) return '—';
  return list.length ? h('code', {class: 'hd-args'}, list.join(' ')) : '(none)';
}
