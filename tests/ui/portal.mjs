#!/usr/bin/env node
// The portal in a real browser: Debian's chromium (headless), driven by playwright-core, against
// a real hostdev-engine serving build/web and a real hostdevd on a fixture root (sim backend).
// Everything listens on 127.0.0.1 (port 0); every child is killed at the end, and the whole run
// is bounded (HOSTDEV_UI_DEADLINE seconds, default 240). Prints TAP.
//
//   node tests/ui/portal.mjs        (meson test test-ui-portal sets the environment: harness.mjs)
//
// Waits are bounded waits for a state (the page shows X), never timed assertions; the time a
// driver change took to show is printed as a measurement, not asserted.
// Prints TAP; the scaffolding (servers, browser, axe, bounds) is harness.mjs's.
import fs from 'node:fs';
import path from 'node:path';
import {harness} from './harness.mjs';

const {SRC, tmp, ok, note, runChild, atCleanup, http, agentAt, agentOn, engineUp, waitHost, addHost, launch, newPage, shot, login, run} =
  harness('portal');

async function main() {
  // one agent on the desktop fixture (GPU + HDMI audio in one group), an engine, two tokens
  const agent = await agentOn('desktop', 'desk');
  const agentToken = agent.token;
  const engine = await engineUp();
  const {admin, viewer} = engine;
  const hostId = await addHost(engine.url, admin, 'desk1', agent);
  await waitHost(engine.url, admin, hostId, (h) => h.status === 'up' && h.device_count > 0); // the first sync (bounded)

  // a host of ~4,200 devices (bench/gen-tree.py large), built while the browser works
  const bigParent = fs.existsSync('/dev/shm') ? fs.mkdtempSync('/dev/shm/hostdev-ui-') : tmp;
  if (bigParent !== tmp) atCleanup(() => fs.rmSync(bigParent, {recursive: true, force: true, maxRetries: 3}));
  const bigRoot = path.join(bigParent, 'big');
  const gen = runChild(['python3', path.join(SRC, 'bench/gen-tree.py'), 'large', bigRoot]);

  const browser = await launch();
  try {
    await adminSession(browser, engine.url, agent, agentToken, admin);
    await viewerSession(browser, engine.url, viewer);
    await gen;
    await bigHost(browser, engine.url, admin, bigRoot);
    await thousandHosts(browser);
  } finally {
    await browser.close();
  }
}

async function adminSession(browser, url, agent, agentToken, admin) {
  const page = await newPage(browser);
  await page.goto(url + '/');
  await page.getByLabel('Engine token').waitFor();
  await shot(page, '01-login');
  // a wrong token: the engine's refusal in words
  await page.getByLabel('Engine token').fill('not-a-token');
  await page.getByRole('button', {name: 'Log in'}).click();
  const refusal = page.getByRole('alert');
  await refusal.waitFor();
  ok((await refusal.textContent()).includes('not valid for this engine'), 'a wrong token is refused in words');

  await login(page, url, admin);
  page.problems.length = 0; // the 401s of the login page (GET /v1/session, the wrong token) were meant
  const cookies = await page.context().cookies();
  const c = cookies.find((x) => x.name === 'hostdev_session');
  ok(c && c.httpOnly && c.sameSite === 'Strict', 'the session cookie is HttpOnly and SameSite=Strict', JSON.stringify(c));
  ok(await page.evaluate(() => document.cookie) === '', 'the page script cannot read the session cookie');

  const row = page.locator('tr[data-host="desk1"]');
  await row.waitFor();
  const rowText = await row.textContent();
  ok(/Device passthrough: (enabled|disabled)/.test(rowText), 'the hosts list shows the device passthrough column', rowText);
  ok(/Up/.test(rowText), 'the hosts list shows the status', rowText);
  for (const name of ['Add host', 'Refresh desk1', 'Remove desk1'])
    ok(await page.getByRole('button', {name}).count() === 1, `an admin sees "${name}"`);
  await shot(page, '02-hosts');

  // Remove refused? No VM uses it here, so show a refusal with Add host instead: a duplicate name
  await page.getByRole('button', {name: 'Add host'}).click();
  const dlg = page.getByRole('dialog', {name: 'Add host'});
  await dlg.getByLabel('Name', {exact: true}).fill('desk1');
  await dlg.getByLabel('Agent URL', {exact: true}).fill(agent.url);
  await dlg.getByLabel('Agent token', {exact: true}).fill(agentToken);
  await dlg.getByRole('button', {name: 'Add', exact: true}).click();
  const dialogAlert = page.getByRole('dialog').getByRole('alert');
  await dialogAlert.waitFor();
  const dup = await dialogAlert.textContent();
  ok(/desk1/.test(dup) && /refused/i.test(dup), 'adding a host with a taken name shows the engine\'s refusal in words', dup);
  await shot(page, '03-add-host-refused');
  page.problems = page.problems.filter((p) => !/status of 409/.test(p)); // the refusal meant
  await page.keyboard.press('Escape');
  ok(await page.getByRole('dialog').count() === 0, 'Escape closes the dialog');

  // the host page, by keyboard: focus the link and press Enter
  await page.getByRole('link', {name: 'desk1'}).focus();
  await page.keyboard.press('Enter');
  await page.getByTestId('passthrough').waitFor();
  const general = await page.locator('.hd-general').textContent();
  ok(/Kernel arguments running/.test(general) && /intel_iommu=on/.test(general), 'General shows the running kernel arguments', general);
  ok(/CPU vendor/.test(general) && /intel/i.test(general), 'General shows the CPU vendor', general);
  await shot(page, '04-host-general');

  await page.getByRole('tab', {name: 'Host devices'}).click();
  const gpuRow = page.locator('tr[data-address="0000:01:00.0"]');
  await gpuRow.waitFor();
  const headers = await page.locator('.hd-vtable thead th').allTextContents();
  ok(JSON.stringify(headers) === JSON.stringify(['Name', 'Class', 'Vendor', 'Product', 'Driver', 'IOMMU group', 'NUMA node', 'Used by VM', 'Attached to VMs']),
    'the device table has Name, Class, Vendor, Product, Driver, IOMMU group, NUMA node, Used by VM, Attached to VMs', headers.join(', '));
  const before = await gpuRow.locator('td').nth(4).textContent();
  await shot(page, '05-host-devices');

  // filters: text, class, driver
  const count = page.getByTestId('device-count');
  const total = Number((await count.textContent()).split(' of ')[1].split(' ')[0]);
  await page.getByLabel('Filter devices by text').fill('0000:01:00');
  await page.waitForFunction(() => /^2 of /.test(document.querySelector('[data-testid=device-count]').textContent));
  ok(await page.locator('tr.hd-vrow').count() === 2, 'the text filter leaves the GPU and its audio function');
  await page.getByLabel('Filter devices by text').fill('');
  await page.getByLabel('Filter devices by driver').selectOption(before);
  await page.waitForFunction((t) => !document.querySelector('[data-testid=device-count]').textContent.startsWith(`${t} of`), total);
  const drivers = await page.locator('tr.hd-vrow td:nth-child(5)').allTextContents();
  ok(drivers.length > 0 && drivers.every((d) => d === before), `the driver filter shows only ${before} devices`, drivers.join(','));
  await page.getByLabel('Filter devices by driver').selectOption('');
  await page.getByLabel('Filter devices by class').selectOption({index: 1});
  const cls = await page.getByLabel('Filter devices by class').inputValue();
  const classes = await page.locator('tr.hd-vrow td:nth-child(2)').allTextContents();
  ok(classes.length > 0 && classes.every((x) => x === cls), `the class filter shows only "${cls}"`, classes.join(','));
  await page.getByLabel('Filter devices by class').selectOption('');

  // live: the GPU's group goes to vfio-pci through the agent; the open page follows
  const t0 = Date.now();
  const det = await http(agent.url, 'POST', '/v1/devices/0000:01:00.0/detach', agentToken, {group: true});
  ok(det.status === 200, 'the agent detaches the GPU group (sim backend)', JSON.stringify(det.json));
  await page.waitForFunction(() => {
    const r = document.querySelector('tr[data-address="0000:01:00.0"]');
    return r && r.children[4].textContent === 'vfio-pci';
  }, null, {timeout: 30000});
  const ms = Date.now() - t0;
  ok(true, `the driver change shows in the open page without a reload (${before} -> vfio-pci)`);
  note(`measured: the driver change reached the open page ${ms} ms after the agent call`);
  await shot(page, '06-host-devices-live');

  // the group view: each group's verdict in words
  await page.getByRole('button', {name: 'IOMMU groups'}).click();
  const groupCard = page.locator('section.hd-group').filter({hasText: '0000:01:00.0'});
  await groupCard.waitFor();
  const verdict = await groupCard.locator('.hd-verdict').textContent();
  ok(verdict.length > 10, 'the group view says the GPU group\'s verdict in words', verdict);
  await shot(page, '07-host-groups');

  // events: live, newest first
  await page.getByRole('link', {name: 'Events', exact: true}).click();
  await page.locator('tr[data-event]').first().waitFor();
  const firstRow = await page.locator('tr[data-event]').first().textContent();
  ok(/host\.sync\.(devices|groups)/.test(firstRow), 'Events lists the newest (the inventory change) first', firstRow);
  await page.locator('tr[data-event]').first().getByRole('link', {name: 'host desk1'}).waitFor();
  ok(true, 'Events names the host of a sync event by its name, with a link to its page');
  await page.getByLabel('Filter events by host, VM or text').fill('desk1');
  await page.waitForFunction(() => [...document.querySelectorAll('tr[data-event]')].every((r) => r.textContent.includes('desk1')));
  ok(await page.locator('tr[data-event]').count() > 1, 'the events filter keeps the host\'s events');
  await page.getByLabel('Filter events by host, VM or text').fill('');
  const nBefore = await page.locator('tr[data-event]').count();
  await http(url, 'POST', '/v1/hosts', admin, {name: 'desk1', agent_url: agent.url, agent_token: agentToken}); // refused: audit row
  await page.waitForFunction((k) => document.querySelectorAll('tr[data-event]').length > k, nBefore, {timeout: 30000});
  const newest = await page.locator('tr[data-event]').first().textContent();
  ok(/host\.add/.test(newest) && /refused/.test(newest), 'a refused call appears live at the top of Events', newest);
  await shot(page, '08-events');

  // the CSP is enforced: an inline script is refused (and reported), none was before
  const violations = await page.evaluate(() => window.__cspViolations.slice());
  ok(violations.length === 0 && page.problems.length === 0, 'no CSP violation, console error or failed request while using the portal',
    [...violations, ...page.problems].join('\n'));
  const ran = await page.evaluate(async () => {
    window.__inline = false;
    const s = document.createElement('script');
    s.textContent = 'window.__inline = true';
    document.body.append(s);
    await new Promise((r) => setTimeout(r, 50));
    return {ran: window.__inline, violations: window.__cspViolations.slice()};
  });
  ok(!ran.ran && ran.violations.some((v) => v.startsWith('script-src')), 'an inline script is blocked by the Content-Security-Policy', JSON.stringify(ran));
  await page.context().close();
}

async function viewerSession(browser, url, viewer) {
  const page = await newPage(browser);
  await login(page, url, viewer);
  await page.locator('tr[data-host="desk1"]').waitFor();
  const buttons = await page.getByRole('button').allTextContents();
  ok(!buttons.some((b) => /Add host|Refresh|Remove/.test(b)), 'a viewer sees no mutating button on Hosts', buttons.join(', '));
  await shot(page, '09-viewer-hosts');
  await page.getByRole('link', {name: 'desk1'}).click();
  await page.getByTestId('passthrough').waitFor();
  const hostButtons = await page.getByRole('button').allTextContents();
  ok(!hostButtons.some((b) => /Refresh|Remove/.test(b)), 'a viewer sees no mutating button on the host page', hostButtons.join(', '));
  // and the engine refuses a viewer's change even when it is made by hand
  const status = await page.evaluate(async () => (await fetch('/v1/hosts', {method: 'POST', credentials: 'same-origin',
    headers: {'Content-Type': 'application/json', 'X-Hostdev-CSRF': '1'},
    body: JSON.stringify({name: 'x', agent_url: 'http://127.0.0.1:1', agent_token: 'y'})})).status);
  ok(status === 403, 'a viewer\'s change is 403 even from the page', String(status));
  const csrf = await page.evaluate(async () => (await fetch('/v1/session', {method: 'DELETE', credentials: 'same-origin'})).status);
  ok(csrf === 403, 'a cookie call without X-Hostdev-CSRF is refused (403)', String(csrf));
  await page.getByRole('button', {name: 'Log out'}).click();
  await page.getByLabel('Engine token').waitFor();
  ok(await page.evaluate(async () => (await fetch('/v1/hosts')).status) === 401, 'after Log out the cookie opens nothing');
  const problems = page.problems.filter((p) => !/status of 40[13]/.test(p)); // the 403s and 401 provoked above
  ok(problems.length === 0, 'no console error or failed request in the viewer\'s session', problems.join('\n'));
  await page.context().close();
}

// ~4,200 devices on one host: the Host devices tab keeps a few dozen rows in the DOM and scrolls
// to the last device; the frame times of a scroll from top to bottom are printed (measured, not
// asserted).
async function bigHost(browser, url, admin, root) {
  const agent = await agentAt(root, 'big');
  const add = await http(url, 'POST', '/v1/hosts', admin, {name: 'big1', agent_url: agent.url, agent_token: agent.token});
  ok(add.status === 201, 'a host of ~4,200 devices is added', JSON.stringify(add.json));
  let host = null;
  for (let i = 0; i < 1200; i++) { // bounded: the first sync of 4,200 devices
    host = (await http(url, 'GET', `/v1/hosts/${add.json.id}`, admin)).json;
    if (host.status === 'up' && host.device_count > 4000 && host.group_count > 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  ok(host.device_count > 4000, `the engine holds its ${host.device_count} devices`);
  const inv = await http(url, 'GET', `/v1/hosts/${add.json.id}/devices`, admin);
  const lastAddr = inv.json.devices[inv.json.devices.length - 1].address;

  const page = await newPage(browser);
  await login(page, url, admin);
  page.problems.length = 0;
  const t0 = Date.now();
  await page.goto(`${url}/#/hosts/${add.json.id}/devices`);
  await page.locator('tr.hd-vrow').first().waitFor();
  note(`measured: Host devices of ${host.device_count} devices shown ${Date.now() - t0} ms after the navigation`);
  const inDom = await page.locator('tr.hd-vrow').count();
  ok(inDom < 100, `only the rows in view are in the DOM (${inDom} of ${host.device_count})`);
  const frames = await page.evaluate(async () => {
    const sc = document.querySelector('.hd-vscroll');
    const times = [];
    let last = performance.now();
    while (sc.scrollTop + sc.clientHeight < sc.scrollHeight - 1) {
      sc.scrollTop += 600; // about 16 rows a frame
      await new Promise((r) => requestAnimationFrame(r));
      const now = performance.now();
      times.push(now - last);
      last = now;
    }
    await new Promise((r) => requestAnimationFrame(r));
    times.sort((a, b) => a - b);
    return {n: times.length, p50: times[Math.floor(times.length / 2)], p95: times[Math.floor(times.length * 0.95)], max: times[times.length - 1]};
  });
  note(`measured: scrolling top to bottom in ${frames.n} frames, frame interval p50 ${frames.p50.toFixed(1)} ms, p95 ${frames.p95.toFixed(1)} ms, max ${frames.max.toFixed(1)} ms`);
  await page.locator(`tr[data-address="${lastAddr}"]`).waitFor();
  ok(true, `scrolling reaches the last device (${lastAddr})`);
  await shot(page, '10-host-devices-4200');
  // keyboard: the list is a focusable region; Home brings the first device back
  await page.locator('.hd-vscroll').focus();
  await page.keyboard.press('Home');
  await page.locator(`tr[data-address="${inv.json.devices[0].address}"]`).waitFor();
  ok(true, 'Home on the focused list scrolls back to the first device');
  await page.getByRole('button', {name: 'IOMMU groups'}).click();
  await page.locator('section.hd-group').first().waitFor();
  const cards = await page.locator('section.hd-group').count();
  ok(cards <= 100 && await page.getByRole('button', {name: /Show more groups/}).count() === 1,
    `the group view shows ${cards} groups and a "Show more groups" button`);
  ok(page.problems.length === 0, 'no console error with 4,200 devices', page.problems.join('\n'));
  await page.context().close();
}

// 1,000 hosts (agents that do not answer: non_responsive, backoff up to an hour) on an engine of
// their own: the list is one page at a time, its range and paging come from the engine.
async function thousandHosts(browser) {
  const engine = await engineUp({name: 'engine-thousand', args: ['--retry-max', '3600']});
  const {admin} = engine;
  const t0 = Date.now();
  for (let i = 1; i <= 1000; i += 25) {
    const batch = [];
    for (let j = i; j < i + 25; j++)
      batch.push(http(engine.url, 'POST', '/v1/hosts', admin,
        {name: `host${String(j).padStart(4, '0')}`, agent_url: 'http://127.0.0.1:1', agent_token: 'agent-token-0123456789'}));
    const r = await Promise.all(batch);
    if (r.some((x) => x.status !== 201)) throw new Error(`adding hosts: ${JSON.stringify(r.find((x) => x.status !== 201))}`);
  }
  note(`measured: 1,000 hosts added through the API in ${Date.now() - t0} ms`);
  const page = await newPage(browser);
  let t = Date.now();
  await login(page, engine.url, admin);
  page.problems.length = 0; // the login page's GET /v1/session (401) was meant
  await page.locator('tr[data-host="host0001"]').waitFor();
  note(`measured: login to the first page of 1,000 hosts in ${Date.now() - t} ms`);
  ok(await page.getByTestId('hosts-range').textContent() === '1 – 50 of 1000', 'the hosts list says 1 – 50 of 1000',
    await page.getByTestId('hosts-range').textContent());
  ok(await page.locator('tr[data-host]').count() === 50, 'one page of 50 hosts is in the DOM');
  t = Date.now();
  await page.getByRole('button', {name: 'Next page'}).click();
  await page.locator('tr[data-host="host0051"]').waitFor();
  note(`measured: the next page in ${Date.now() - t} ms`);
  ok(await page.getByTestId('hosts-range').textContent() === '51 – 100 of 1000', 'Next page shows 51 – 100 of 1000');
  await page.getByLabel('Filter hosts by name prefix').fill('host09');
  await page.waitForFunction(() => document.querySelector('[data-testid=hosts-range]').textContent === '1 – 50 of 100');
  const names = await page.locator('tr[data-host]').evaluateAll((rows) => rows.map((r) => r.dataset.host));
  ok(names.length === 50 && names.every((n) => n.startsWith('host09')), 'the name filter pages through the engine: 1 – 50 of 100, all host09..');
  await page.getByLabel('Hosts per page').selectOption('100');
  await page.waitForFunction(() => document.querySelectorAll('tr[data-host]').length === 100);
  ok(true, '100 per page shows the 100 matching hosts');
  await shot(page, '11-hosts-1000');
  ok(page.problems.length === 0, 'no console error with 1,000 hosts', page.problems.join('\n'));
  await page.context().close();
}

run(main);
