// The portal's shell: who is logged in (GET /v1/session), the page frame (masthead, navigation)
// and the routes, all in the URL fragment: #/hosts,
// #/hosts/ID/general|devices|usb|scsi|sriov|kernel, #/vms, #/vms/ID/general|devices|usbscsi|mdevs,
// #/events.
import {api} from './api.js';
import {h, clear, button} from './dom.js';
import {startFeed, stopFeed} from './feed.js';
import {hostsPage} from './hosts.js';
import {hostPage} from './host.js';
import {eventsPage} from './events.js';
import {vmsPage} from './vms.js';
import {vmPage} from './vm.js';
import {loginPage} from './login.js';

const root = document.getElementById('app');
let session = null; // {name, role, via, expires_at}
let cleanup = null; // the current page's unsubscribe

export const isAdmin = () => session && session.role === 'admin';

function nav(current) {
  const item = (href, text, key) => h('li', {class: 'pf-v6-c-nav__item'},
    h('a', {href, class: `pf-v6-c-nav__link${current === key ? ' pf-m-current' : ''}`,
      'aria-current': current === key ? 'page' : null},
    h('span', {class: 'pf-v6-c-nav__link-text'}, text)));
  return h('nav', {class: 'pf-v6-c-nav', 'aria-label': 'Main'},
    h('ul', {class: 'pf-v6-c-nav__list', role: 'list'},
      item('#/hosts', 'Hosts', 'hosts'),
      item('#/vms', 'VMs', 'vms'),
      item('#/events', 'Events', 'events')));
}

function frame(current, content) {
  const logout = button('Log out', async () => {
    try { await api('DELETE', '/v1/session'); } catch { /* gone already */ }
    session = null;
    stopFeed();
    location.hash = '#/login';
    route();
  }, {variant: 'plain', label: 'Log out'});
  return h('div', {class: 'pf-v6-c-page'},
    h('header', {class: 'pf-v6-c-masthead'},
      h('div', {class: 'pf-v6-c-masthead__main'},
        h('div', {class: 'pf-v6-c-masthead__brand'},
          h('a', {class: 'pf-v6-c-masthead__logo hd-brand', href: '#/hosts'}, 'hostdev'))),
      h('div', {class: 'pf-v6-c-masthead__content hd-masthead-content'},
        h('span', {class: 'hd-user', 'data-testid': 'user'}, `${session.name} (${session.role})`),
        logout)),
    h('div', {class: 'pf-v6-c-page__sidebar'},
      h('div', {class: 'pf-v6-c-page__sidebar-body'}, nav(current))),
    h('div', {class: 'pf-v6-c-page__main-container'},
      h('main', {class: 'pf-v6-c-page__main', tabindex: '-1', id: 'main'}, content)));
}

async function route() {
  if (cleanup) { cleanup(); cleanup = null; }
  const parts = (location.hash.replace(/^#\/?/, '') || 'hosts').split('/').map(decodeURIComponent);
  if (!session) {
    try {
      session = await api('GET', '/v1/session');
    } catch {
      session = null;
    }
  }
  if (!session || parts[0] === 'login') {
    if (session) { location.hash = '#/hosts'; return; }
    clear(root).append(loginPage(async (s) => {
      session = s;
      location.hash = '#/hosts';
      await route();
    }));
    return;
  }
  startFeed();
  const content = h('div', {class: 'hd-content'});
  let current = parts[0];
  clear(root).append(frame(current, content));
  const ctx = {admin: isAdmin(), onCleanup: (f) => { cleanup = f; }};
  if (parts[0] === 'hosts' && parts[1]) {
    current = 'hosts';
    hostPage(content, parts[1], parts[2] || 'general', ctx);
  } else if (parts[0] === 'vms' && parts[1]) {
    vmPage(content, parts[1], parts[2] || 'general', ctx);
  } else if (parts[0] === 'vms') {
    vmsPage(content, ctx);
  } else if (parts[0] === 'events') {
    eventsPage(content, ctx, parts[1] === 'host' || parts[1] === 'vm' ? {[parts[1]]: parts[2]} : {});
  } else {
    hostsPage(content, ctx);
  }
  document.title = `hostdev — ${{events: 'Events', vms: 'VMs'}[parts[0]] || 'Hosts'}`;
}

window.addEventListener('hashchange', route);
window.addEventListener('hd-unauthorized', () => {
  session = null;
  stopFeed();
  route();
});
route();
