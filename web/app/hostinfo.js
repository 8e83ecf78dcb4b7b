// What the pages say about a host, in words, from GET /v1/hosts answers.
import {h, label} from './dom.js';

const statusColor = {up: 'green', connecting: 'blue', maintenance: 'orange', rebooting: 'purple', non_responsive: 'red'};
const statusText = {up: 'Up', connecting: 'Connecting', maintenance: 'Maintenance', rebooting: 'Rebooting', non_responsive: 'Non responsive'};

export function statusLabel(host) {
  return label(statusText[host.status] || host.status, statusColor[host.status]);
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

// The configured kernel arguments differ from the running ones: a reboot applies them.
export function rebootRequired(host) {
  const k = host.kernel_args || {};
  if (host.reboot_required !== undefined) return !!host.reboot_required;
  if (!Array.isArray(k.configured) || !Array.isArray(k.running)) return false;
  const a = [...k.configured].sort().join(' ');
  const b = [...k.running].sort().join(' ');
  return a !== b;
}

export function rebootBadge(host) {
  return rebootRequired(host) ? label('Reboot required', 'orange') : null;
}

export function args(list) {
  if (!Array.isArray(list)) return '—';
  return list.length ? h('code', {class: 'hd-args'}, list.join(' ')) : '(none)';
}
