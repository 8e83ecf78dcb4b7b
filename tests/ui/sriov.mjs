#!/usr/bin/env node
// The portal's SR-IOV and mdev views in a real browser (as portal.mjs: Debian's chromium driven by
// playwright-core, a real hostdev-engine serving build/web, real hostdevd agents on fixture roots
// with the sim backend): a host's "SR-IOV and mdev" tab (sriov-server: the PF's VFs, the Set VF
// count dialog with a refusal shown in it, then a change; mdev-host: the capacity per parent and
// type) and a VM's "Mediated devices" tab (add a type from the VM's host, remove; disabled while
// running), by keyboard where a user would, each view checked by axe-core.
// Everything listens on 127.0.0.1 (port 0); every child is killed at the end, and the whole run
// is bounded (HOSTDEV_UI_DEADLINE seconds, default 240). Prints TAP.
//
//   node tests/ui/sriov.mjs         (meson test test-ui-sriov sets the environment below)
//
// HOSTDEV_ENGINE, HOSTDEVD: the binaries; HOSTDEV_SOURCE_DIR: the source tree; HOSTDEV_WEB_ROOT:
// the served tree (build/web); HOSTDEV_UI_LOGS: where screenshots and logs go (default: a
// temporary directory, printed).
//
// Waits are bounded waits for a state (the page shows X), never timed assertions; the time a
// driver change took to show is printed as a measurement, not asserted.
import {spawn, execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import {chromium} from 'playwright-core';

const env = (name) => {
  const v = process.env[name];
  if (!v) { console.log(`Bail out! ${name} is not set (run through meson test)`); process.exit(1); }
  return v;
};
const ENGINE = env('HOSTDEV_ENGINE');
const HOSTDEVD = env('HOSTDEVD');
const SRC = env('HOSTDEV_SOURCE_DIR');
const WEB = env('HOSTDEV_WEB_ROOT');
const CHROMIUM = process.env.HOSTDEV_CHROMIUM || '/usr/bin/chromium';
const deadline = Number(process.env.HOSTDEV_UI_DEADLINE || 240);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hostdev-ui-sriov-'));
const logs = process.env.HOSTDEV_UI_LOGS || path.join(tmp, 'logs');
fs.mkdirSync(logs, {recursive: true});

let n = 0, failed = 0;
let lastPage = null; // its problems are printed when the test stops early
const ok = (cond, what, detail) => {
  n++;
  if (cond) console.log(`ok ${n} - ${what}`);
  else {
    failed++;
    console.log(`not ok ${n} - ${what}`);
    if (detail) for (const l of String(detail).split('\n')) console.log(`# ${l}`);
  }
};
const note = (s) => console.log(`# ${s}`);

const children = [];
function cleanup() {
  for (const c of children) try { c.kill('SIGKILL'); } catch { /* gone */ }
  try { fs.rmSync(tmp, {recursive: true, force: true, maxRetries: 3}); } catch { /* logs kept elsewhere */ }
}
process.on('exit', cleanup);
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => { console.log(`Bail out! ${sig}`); process.exit(1); });
const guard = setTimeout(() => {
  console.log(`Bail out! the browser test did not finish in ${deadline} s`);
  process.exit(1);
}, deadline * 1000);

// Start a server whose first stdout line is "listening URL".
function start(argv, logName) {
  return new Promise((resolve, reject) => {
    const log = fs.openSync(path.join(logs, logName), 'w');
    const child = spawn(argv[0], argv.slice(1), {stdio: ['ignore', 'pipe', log]});
    children.push(child);
    const rl = readline.createInterface({input: child.stdout});
    rl.once('line', (line) => {
      if (!line.startsWith('listening ')) reject(new Error(`${argv[0]}: ${line}`));
      else resolve({child, url: line.slice('listening '.length).replace(/\/$/, '')});
    });
    child.once('exit', (code) => reject(new Error(`${argv[0]} exited ${code} (see ${logName})`)));
  });
}

async function http(base, method, p, token, body) {
  const r = await fetch(base + p, {
    method,
    headers: {Authorization: `Bearer ${token}`, ...(body ? {'Content-Type': 'application/json'} : {})},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  return {status: r.status, json: text ? JSON.parse(text) : null};
}

async function agentOn(topology, name) {
  const root = path.join(tmp, name);
  execFileSync('python3', [path.join(SRC, 'tests/fixtures/mkfixture.py'),
    path.join(SRC, `tests/fixtures/topologies/${topology}.json`), root], {stdio: 'ignore'});
  const agent = await start([HOSTDEVD, '--root', root, '--backend', 'sim', '--libvirt-uri', 'test:///default',
    '--listen', '127.0.0.1:0'], `hostdevd-${name}.log`);
  const token = fs.readFileSync(path.join(root, 'var/lib/hostdev/agent.token'), 'utf8').trim();
  return {url: agent.url, token};
}

async function main() {
  const nic = await agentOn('sriov-server', 'nic1');
  const gpu = await agentOn('mdev-host', 'vgpu1');
  const db = path.join(tmp, 'engine.db');
  const token = (name, role) => execFileSync(ENGINE, ['--db', db, 'token', 'create', name, '--role', role]).toString().trim();
  const admin = token('ada', 'admin');
  const viewer = token('vic', 'viewer');
  const engine = await start([ENGINE, '--db', db, '--listen', '127.0.0.1:0', '--web-root', WEB,
    '--poll-wait', '30', '--retry-max', '1'], 'engine.log');
  const ids = {};
  for (const [name, a] of [['nic1', nic], ['vgpu1', gpu]]) {
    const add = await http(engine.url, 'POST', '/v1/hosts', admin, {name, agent_url: a.url, agent_token: a.token});
    ok(add.status === 201, `host ${name} is added through the API`, JSON.stringify(add.json));
    ids[name] = add.json.id;
  }
  for (let i = 0; i < 600; i++) { // the first syncs, with the mdev capacity (bounded)
    const m = await http(engine.url, 'GET', `/v1/hosts/${ids.vgpu1}/mdev`, admin);
    const h = await http(engine.url, 'GET', `/v1/hosts/${ids.nic1}`, admin);
    if (h.json.status === 'up' && h.json.device_count > 0 && m.json.parents.length > 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const vm = await http(engine.url, 'POST', '/v1/vms', admin, {name: 'term1'});
  ok(vm.status === 201, 'a VM is created through the API', JSON.stringify(vm.json));

  const browser = await chromium.launch({executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-extensions',
      '--disable-background-networking', '--disable-component-update', '--disable-sync']});
  try {
    await sriovSession(browser, engine.url, admin, ids);
    await mdevSession(browser, engine.url, admin, ids, vm.json.id);
    await viewerSession(browser, engine.url, viewer, ids, vm.json.id);
  } finally {
    await browser.close();
  }
  clearTimeout(guard);
  note(`screenshots and logs: ${logs}`);
  console.log(`1..${n}`);
  cleanup();
  process.exit(failed ? 1 : 0);
}

// A context that records every console message, page error and CSP violation.
async function newPage(browser) {
  const ctx = await browser.newContext({viewport: {width: 1400, height: 900}});
  const page = await ctx.newPage();
  page.problems = [];
  lastPage = page;
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) page.problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => page.problems.push(`request failed: ${r.url()} ${r.failure() && r.failure().errorText}`));
  await ctx.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return page;
}

// A screenshot, and axe-core's accessibility rules on the page: no serious or critical violation.
// axe is evaluated through the driver (not a <script> the page's CSP would refuse).
const axeSource = fs.readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), 'node_modules/axe-core/axe.min.js'), 'utf8');
async function shot(page, name) {
  // CSS transitions (PatternFly fades a field's error text in) end first: axe measures the
  // colours as they are drawn, and a colour caught mid-fade fails color-contrast on a loaded machine
  await page.waitForFunction(() => document.getAnimations()
    .every((a) => !(a instanceof CSSTransition) || a.playState !== 'running'), null, {timeout: 10000});
  await page.screenshot({path: path.join(logs, `${name}.png`), fullPage: true});
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axeSource + ';0');
  const {bad, passes} = await page.evaluate(async () => {
    const r = await window.axe.run(document, {resultTypes: ['violations']});
    return {passes: r.passes.length, bad: r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')})`)};
  });
  ok(passes > 0 && bad.length === 0, `axe-core: ${passes} rules pass, no serious or critical violation on ${name}`, bad.join('\n'));
}

async function login(page, url, token) {
  await page.goto(url + '/');
  const field = page.getByLabel('Engine token');
  await field.waitFor();
  await field.fill(token);
  await field.press('Enter'); // the keyboard, not the mouse
  await page.getByRole('heading', {name: 'Hosts'}).waitFor();
  page.problems.length = 0; // the login page's 401 (GET /v1/session before a session) is meant
}

const PF = '0000:18:00.0';

async function sriovSession(browser, url, admin, ids) {
  const page = await newPage(browser);
  await login(page, url, admin);
  await page.goto(`${url}/#/hosts/${ids.nic1}/general`);
  await page.getByTestId('passthrough').waitFor();
  // the tab by keyboard
  await page.getByRole('tab', {name: 'SR-IOV and mdev'}).focus();
  await page.keyboard.press('Enter');
  const card = page.locator(`section[data-pf="${PF}"]`);
  await card.waitFor();
  const text = await card.getByTestId('vf-count').textContent();
  ok(/^4 of 64 VFs enabled; autoprobe yes/.test(text), 'the PF card shows 4 of 64 VFs and autoprobe', text);
  ok(await card.locator('tbody tr').count() === 4, 'the PF card lists its 4 VFs');
  ok(await page.locator('section[data-pf]').count() === 4, 'every SR-IOV PF of the host has a card (three E810 ports, a ConnectX-5)');
  ok(/^0 of 64 VFs enabled/.test(await page.locator('section[data-pf="0000:86:00.1"] [data-testid=vf-count]').textContent())
    && /No VF enabled/.test(await page.locator('section[data-pf="0000:86:00.1"]').textContent()), 'a PF without VFs says so');
  await shot(page, 'sriov-01-tab');

  // the dialog by keyboard: a count above the total is refused in the dialog, in the agent's words
  await page.getByRole('button', {name: `Set VF count of ${PF}`}).focus();
  await page.keyboard.press('Enter');
  const dlg = page.getByRole('dialog', {name: `Set the VF count of ${PF}`});
  await dlg.waitFor();
  const count = dlg.getByLabel('VF count (0 to 64)');
  ok(await page.evaluate(() => document.activeElement && document.activeElement.type === 'number'), 'the dialog puts the focus on the VF count');
  await count.fill('100');
  await count.press('Enter');
  const refusal = dlg.getByRole('alert');
  await refusal.waitFor();
  const words = await refusal.textContent();
  ok(/refused/.test(words) && /at most 64/.test(words), 'a count above the total is refused in the dialog with the agent\'s words', words);
  await shot(page, 'sriov-02-refused');
  page.problems = page.problems.filter((p) => !/status of 400/.test(p)); // the refusal meant
  await count.fill('8');
  await dlg.getByLabel('Autoprobe').selectOption('no');
  await dlg.getByRole('button', {name: 'Set the VF count'}).click();
  await page.getByRole('dialog').waitFor({state: 'detached'});
  const success = await page.locator('.hd-messages').textContent();
  ok(/VF count of 0000:18:00.0: 4 → 8/.test(success), 'the change is confirmed', success);
  // the engine re-reads the inventory: the card follows
  await page.waitForFunction((pf) => {
    const c = document.querySelector(`section[data-pf="${pf}"] [data-testid=vf-count]`);
    return c && /^8 of 64 VFs enabled; autoprobe no/.test(c.textContent);
  }, PF, {timeout: 30000});
  ok(await card.locator('tbody tr').count() === 8, 'the PF card lists the 8 new VFs');
  await shot(page, 'sriov-03-changed');
  ok(page.problems.length === 0, 'no console error or failed request in the SR-IOV session', page.problems.join('\n'));
  await page.context().close();
}

async function mdevSession(browser, url, admin, ids, vmId) {
  const page = await newPage(browser);
  await login(page, url, admin);
  await page.goto(`${url}/#/hosts/${ids.vgpu1}/sriov`);
  const types = page.getByRole('table', {name: 'Mediated device types'});
  await types.waitFor();
  const rows = await types.locator('tbody tr').allTextContents();
  ok(rows.length === 4, 'the mdev panel lists the 4 types of the 2 parents', rows.join(' | '));
  ok(rows.some((r) => /mtty-1/.test(r) && /Single port serial/.test(r) && /22/.test(r)),
    'mtty-1 shows its name and 22 available (one mtty-2 takes two ports)', rows.join(' | '));
  ok(/has no SR-IOV physical function/.test(await page.locator('.hd-sriov').textContent()), 'a host without PFs says so');
  await shot(page, 'mdev-01-capacity');

  // the VM: add an mdev of the host's types (the VM is not pinned: the host is picked)
  await page.goto(`${url}/#/vms/${vmId}/general`);
  await page.getByRole('tab', {name: 'Mediated devices'}).click();
  await page.getByRole('table', {name: 'Mediated devices of the VM'}).waitFor();
  await page.getByRole('button', {name: 'Add mediated device'}).focus();
  await page.keyboard.press('Enter');
  const dlg = page.getByRole('dialog', {name: 'Add a mediated device to term1'});
  await dlg.waitFor();
  await dlg.getByLabel('Host', {exact: true}).selectOption({label: 'vgpu1 (up)'});
  await dlg.getByLabel('Type', {exact: true}).waitFor();
  const options = await dlg.getByLabel('Type', {exact: true}).locator('option').allTextContents();
  ok(options.some((o) => /^mtty-1 — Single port serial \(22 available\)$/.test(o)), 'the types come with their names and capacity', options.join(' | '));
  await dlg.getByLabel('Type', {exact: true}).selectOption('mtty-1');
  await dlg.getByLabel('The guest gets a display from it').uncheck();
  await shot(page, 'mdev-02-add');
  await dlg.getByRole('button', {name: 'Add the mediated device'}).click();
  await page.getByRole('dialog').waitFor({state: 'detached'});
  const row = page.locator('tr[data-mdev]');
  await row.waitFor();
  const rowText = await row.textContent();
  ok(/mtty-1/.test(rowText) && /no/.test(rowText) && /not created/.test(rowText), 'the VM lists the mdev, no display, not created yet', rowText);
  await shot(page, 'mdev-03-listed');

  // running: adding and removing are disabled, with the reason
  const start = await page.evaluate(async (id) => (await fetch(`/v1/vms/${id}/start`, {method: 'POST', credentials: 'same-origin',
    headers: {'X-Hostdev-CSRF': '1'}})).status, vmId);
  ok(start === 200, 'the VM starts (its mdev created on the host)', String(start));
  await page.getByTestId('mdev-why').waitFor();
  ok(await page.getByRole('button', {name: 'Add mediated device'}).isDisabled(), 'Add is disabled while the VM runs');
  const remove = page.locator('tr[data-mdev] button');
  ok(await remove.isDisabled(), 'Remove is disabled while the VM runs');
  await page.waitForFunction(() => /mtty/.test(document.querySelector('tr[data-mdev] td:nth-child(4)').textContent));
  ok(/mtty/.test(await row.locator('td').nth(3).textContent()), 'the parent it was created on is shown');
  await shot(page, 'mdev-04-running');
  const stop = await page.evaluate(async (id) => (await fetch(`/v1/vms/${id}/stop`, {method: 'POST', credentials: 'same-origin',
    headers: {'X-Hostdev-CSRF': '1'}})).status, vmId);
  ok(stop === 200, 'the VM stops (its mdev removed from the host)', String(stop));
  await page.getByTestId('mdev-why').waitFor({state: 'detached'});
  await page.locator('tr[data-mdev] button').focus();
  await page.keyboard.press('Enter');
  await page.getByText('No mediated device.').waitFor();
  ok(/Remove mdev mtty-1: done/.test(await page.locator('.hd-messages').textContent()), 'Remove takes the mdev from the VM');
  ok(page.problems.length === 0, 'no console error or failed request in the mdev session', page.problems.join('\n'));
  await page.context().close();
}

async function viewerSession(browser, url, viewer, ids, vmId) {
  const page = await newPage(browser);
  await login(page, url, viewer);
  await page.goto(`${url}/#/hosts/${ids.nic1}/sriov`);
  await page.locator(`section[data-pf="${PF}"]`).waitFor();
  ok(await page.getByRole('button', {name: /Set VF count/}).count() === 0, 'a viewer sees no Set VF count');
  await page.goto(`${url}/#/vms/${vmId}/mdevs`);
  await page.getByRole('table', {name: 'Mediated devices of the VM'}).waitFor();
  ok(await page.getByRole('button', {name: 'Add mediated device'}).count() === 0, 'a viewer sees no Add mediated device');
  await shot(page, 'viewer-01-mdevs');
  ok(page.problems.length === 0, 'no console error or failed request in the viewer\'s session', page.problems.join('\n'));
  await page.context().close();
}

main().catch((e) => {
  console.log(`not ok ${++n} - the test ran to its end`);
  for (const l of String(e.stack || e).split('\n')) console.log(`# ${l}`);
  if (lastPage) for (const p of lastPage.problems) console.log(`# ${p}`);
  console.log(`1..${n}`);
  cleanup();
  process.exit(1);
});
