#!/usr/bin/env node
// NPIV in the portal, in Debian's chromium driven by playwright-core: a real hostdev-engine
// serving build/web and two real hostdevd agents on "scsi-server" fixture roots (sim backend: FC
// host host1 with 254 vports, one of them in use, the vHBA host2).
//   - the SCSI tab's NPIV section lists the FC hosts with vports in use of the most, and the
//     vports with WWPN and WWNN, made outside the engine;
//   - "Create vHBA" by keyboard with generated WWNs: the new vport is listed as the engine's;
//   - the same WWPN typed on the second host is refused in the dialog naming the first host;
//   - Delete removes the vport; a viewer sees no Create or Delete; axe-core finds no serious or
//     critical violation on each state.
// Prints TAP; everything listens on 127.0.0.1 (port 0), every child is killed at the end, the
// run is bounded (HOSTDEV_UI_DEADLINE seconds, default 240). Waits are bounded waits for a state.
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
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hostdev-uinpiv-'));
const logs = path.join(process.env.HOSTDEV_UI_LOGS || path.join(tmp, 'logs'), 'npiv');
fs.mkdirSync(logs, {recursive: true});

let n = 0, failed = 0;
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

async function agentOn(topology, suffix = '') {
  const root = path.join(tmp, topology + suffix);
  execFileSync('python3', [path.join(SRC, 'tests/fixtures/mkfixture.py'),
    path.join(SRC, `tests/fixtures/topologies/${topology}.json`), root], {stdio: 'ignore'});
  const agent = await start([HOSTDEVD, '--root', root, '--backend', 'sim', '--libvirt-uri', 'test:///default',
    '--listen', '127.0.0.1:0'], `hostdevd-${topology}${suffix}.log`);
  return {url: agent.url, token: fs.readFileSync(path.join(root, 'var/lib/hostdev/agent.token'), 'utf8').trim()};
}

async function addHost(engine, admin, name, agent) {
  const add = await http(engine, 'POST', '/v1/hosts', admin, {name, agent_url: agent.url, agent_token: agent.token});
  ok(add.status === 201, `host ${name} is added through the API`, JSON.stringify(add.json));
  for (let i = 0; i < 600; i++) {
    const h = await http(engine, 'GET', `/v1/hosts/${add.json.id}`, admin);
    if (h.json.status === 'up') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return add.json.id;
}

async function newPage(browser) {
  const ctx = await browser.newContext({viewport: {width: 1400, height: 900}});
  const page = await ctx.newPage();
  page.problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) page.problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
  await ctx.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return page;
}

const axeSource = fs.readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), 'node_modules/axe-core/axe.min.js'), 'utf8');
async function shot(page, name) {
  await page.waitForFunction(() => document.getAnimations()
    .every((a) => !(a instanceof CSSTransition) || a.playState !== 'running'), null, {timeout: 10000});
  await page.screenshot({path: path.join(logs, `${name}.png`), fullPage: true});
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axeSource + ';0');
  const {bad, passes} = await page.evaluate(async () => {
    const r = await window.axe.run(document, {resultTypes: ['violations']});
    return {passes: r.passes.length, bad: r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.slice(0, 3).map((x) => x.target.join(' ')).join('; ')})`)};
  });
  ok(passes > 0 && bad.length === 0, `axe-core: ${passes} rules pass, no serious or critical violation on ${name}`, bad.join('\n'));
}

async function login(page, url, token) {
  await page.goto(url + '/');
  const field = page.getByLabel('Engine token');
  await field.waitFor();
  await field.fill(token);
  await field.press('Enter');
  await page.getByRole('heading', {name: 'Hosts'}).waitFor();
}

async function npivTab(page, url, a, b) {
  await page.goto(`${url}/#/hosts/${a}/scsi`);
  const fc = page.locator('tr[data-fc-host="host1"]');
  await fc.waitFor();
  const ft = await fc.textContent();
  ok(ft.includes('0x21000024ff3dc9a0') && ft.includes('1 of 254') && /can create vports/.test(ft),
    'the NPIV section lists host1 with its port name and 1 of 254 vports in use', ft);
  const old = await page.locator('tr[data-wwpn="0x2001001122334455"]').textContent();
  ok(/outside the engine/.test(old), 'the fixture\'s vport is listed as made outside the engine', old);
  await shot(page, '01-npiv');

  // Create vHBA by keyboard, WWNs left to the engine
  const opener = page.getByRole('button', {name: 'Create vHBA on alpha', exact: true});
  await opener.focus();
  await page.keyboard.press('Enter');
  const dlg = page.getByRole('dialog');
  await dlg.waitFor();
  ok(await dlg.getByLabel('Parent FC host').evaluate((e) => e === document.activeElement), 'the dialog opens with the focus on the parent');
  ok(/engine generates ones unique across the fleet/.test(await dlg.textContent()), 'the dialog says the engine generates fleet-unique WWNs');
  await shot(page, '02-create-dialog');
  await page.keyboard.press('Tab'); // WWPN
  await page.keyboard.press('Tab'); // WWNN
  await page.keyboard.press('Tab'); // persist
  await page.keyboard.press('Tab'); // error region skipped: Create
  const focused = await page.evaluate(() => document.activeElement.getAttribute('aria-label'));
  ok(focused === 'Create the vHBA', 'Tab reaches Create', focused);
  await page.keyboard.press('Enter');
  await dlg.waitFor({state: 'detached'});
  const mine = page.locator('tr[data-wwpn^="0x5001a4a"]');
  await mine.waitFor();
  const wwpn = await mine.getAttribute('data-wwpn');
  ok(/the engine/.test(await mine.textContent()), `the new vport ${wwpn} is listed as the engine's`);
  await shot(page, '03-created');

  // the same WWPN on the other host: refused in the dialog, naming alpha
  await page.goto(`${url}/#/hosts/${b}/scsi`);
  await page.locator('tr[data-fc-host="host1"]').waitFor();
  await page.getByRole('button', {name: 'Create vHBA on beta', exact: true}).click();
  await dlg.waitFor();
  await dlg.getByLabel('WWPN (optional)').fill(wwpn);
  await dlg.getByRole('button', {name: 'Create the vHBA'}).click();
  const refusal = dlg.getByRole('alert');
  await refusal.waitFor();
  const rt = await refusal.textContent();
  ok(/in use on host alpha/.test(rt), 'a WWPN host alpha has is refused on beta, naming alpha', rt);
  await shot(page, '04-refused');
  await page.keyboard.press('Escape');
  await dlg.waitFor({state: 'detached'});

  // delete on alpha
  await page.goto(`${url}/#/hosts/${a}/scsi`);
  await page.locator(`tr[data-wwpn="${wwpn}"]`).waitFor();
  await page.getByRole('button', {name: `Delete vport ${wwpn}`}).click();
  await dlg.waitFor();
  await shot(page, '05-delete-dialog');
  await dlg.getByRole('button', {name: /^Delete vport .* now$/}).click();
  await dlg.waitFor({state: 'detached'});
  await page.locator(`tr[data-wwpn="${wwpn}"]`).waitFor({state: 'detached'});
  ok(true, 'Delete removes the vport from the list');
}

async function viewer(browser, url, token, a) {
  const page = await newPage(browser);
  await login(page, url, token);
  await page.goto(`${url}/#/hosts/${a}/scsi`);
  await page.locator('tr[data-fc-host="host1"]').waitFor();
  ok(await page.getByRole('button', {name: /Create vHBA|Delete vport/}).count() === 0, 'a viewer sees no Create or Delete');
  await shot(page, '06-viewer');
  await page.context().close();
}

async function main() {
  const agentA = await agentOn('scsi-server', 'a');
  const agentB = await agentOn('scsi-server', 'b');
  const db = path.join(tmp, 'engine.db');
  const token = (name, role) => execFileSync(ENGINE, ['--db', db, 'token', 'create', name, '--role', role]).toString().trim();
  const admin = token('ada', 'admin');
  const viewerToken = token('vic', 'viewer');
  const engine = await start([ENGINE, '--db', db, '--listen', '127.0.0.1:0', '--web-root', WEB,
    '--poll-wait', '30', '--retry-max', '1'], 'engine.log');
  const a = await addHost(engine.url, admin, 'alpha', agentA);
  const b = await addHost(engine.url, admin, 'beta', agentB);

  const browser = await chromium.launch({executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-extensions',
      '--disable-background-networking', '--disable-component-update', '--disable-sync']});
  try {
    const page = await newPage(browser);
    await login(page, engine.url, admin);
    page.problems.length = 0; // the login page's 401 (GET /v1/session before the token) was meant
    await npivTab(page, engine.url, a, b);
    // the refusal's 409 is logged by chromium as a failed resource load: meant
    const problems = page.problems.filter((p) => !/status of 409/.test(p));
    const csp = await page.evaluate(() => window.__cspViolations);
    ok(problems.length === 0 && csp.length === 0, 'no console error, page error or CSP violation',
      [...problems, ...csp].join('\n'));
    await page.context().close();
    await viewer(browser, engine.url, viewerToken, a);
  } finally {
    await browser.close();
  }
  clearTimeout(guard);
  note(`screenshots and logs: ${logs}`);
  console.log(`1..${n}`);
  cleanup();
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.log(`Bail out! ${String(e && e.stack || e).split('\n').join(' | ')}`);
  process.exit(1);
});
