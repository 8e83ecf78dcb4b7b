// The scaffolding of the portal's browser tests (portal.mjs, workflow.mjs, sriov.mjs, usbscsi.mjs,
// npiv.mjs): TAP output,
// the servers a test starts (real hostdevd agents on fixture roots with the sim backend, a real
// hostdev-engine serving build/web), Debian's chromium through playwright-core, pages that record
// every console error, page error, failed request and CSP violation, and a screenshot with
// axe-core's accessibility rules (no serious or critical violation) at each view.
//
// Everything listens on 127.0.0.1 (port 0); every child is killed at the end, and the whole run
// is bounded (HOSTDEV_UI_DEADLINE seconds, default 240). The environment (meson test sets it):
// HOSTDEV_ENGINE, HOSTDEVD: the binaries; HOSTDEV_SOURCE_DIR: the source tree; HOSTDEV_WEB_ROOT:
// the served tree (build/web); HOSTDEV_UI_LOGS: where screenshots and logs go (default: a
// temporary directory, printed); HOSTDEV_CHROMIUM: the browser (default /usr/bin/chromium).
//
// Waits are bounded waits for a state (the page shows X), never timed assertions.
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

const axeSource = fs.readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname),
  'node_modules/axe-core/axe.min.js'), 'utf8');

// One test program: @name names its temporary directory and its folder of logs.
export function harness(name) {
  const ENGINE = env('HOSTDEV_ENGINE');
  const HOSTDEVD = env('HOSTDEVD');
  const SRC = env('HOSTDEV_SOURCE_DIR');
  const WEB = env('HOSTDEV_WEB_ROOT');
  const CHROMIUM = process.env.HOSTDEV_CHROMIUM || '/usr/bin/chromium';
  const deadline = Number(process.env.HOSTDEV_UI_DEADLINE || 240);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `hostdev-ui-${name}-`));
  const logs = path.join(process.env.HOSTDEV_UI_LOGS || path.join(tmp, 'logs'), name);
  fs.mkdirSync(logs, {recursive: true});

  let n = 0, failed = 0;
  let lastPage = null; // its problems are printed when the test stops early
  const children = [];
  const atExit = []; // more to remove at the end (atCleanup)

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

  function cleanup() {
    for (const c of children) try { c.kill('SIGKILL'); } catch { /* gone */ }
    for (const f of atExit.splice(0)) try { f(); } catch { /* best effort */ }
    try { fs.rmSync(tmp, {recursive: true, force: true, maxRetries: 3}); } catch { /* logs kept elsewhere */ }
  }
  process.on('exit', cleanup);
  for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => { console.log(`Bail out! ${sig}`); process.exit(1); });
  const guard = setTimeout(() => {
    console.log(`Bail out! the browser test did not finish in ${deadline} s`);
    process.exit(1);
  }, deadline * 1000);

  // Start a server whose first stdout line is "listening URL"; stderr to @logName; @extraEnv
  // added to the environment.
  function start(argv, logName, extraEnv = {}) {
    return new Promise((resolve, reject) => {
      const log = fs.openSync(path.join(logs, logName), 'w');
      const child = spawn(argv[0], argv.slice(1), {stdio: ['ignore', 'pipe', log], env: {...process.env, ...extraEnv}});
      children.push(child);
      const rl = readline.createInterface({input: child.stdout});
      rl.once('line', (line) => {
        if (!line.startsWith('listening ')) reject(new Error(`${argv[0]}: ${line}`));
        else resolve({child, url: line.slice('listening '.length).replace(/\/$/, '')});
      });
      child.once('exit', (code) => reject(new Error(`${argv[0]} exited ${code} (see ${logName})`)));
    });
  }

  // A helper program (killed at the end if still running): resolves when it exits 0.
  function runChild(argv) {
    return new Promise((resolve, reject) => {
      const c = spawn(argv[0], argv.slice(1), {stdio: 'ignore'});
      children.push(c);
      c.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${argv.join(' ')} exited ${code}`))));
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

  // hostdevd (sim backend) on the fixture root @root, its log hostdevd-@name.log, @extraEnv
  // added to its environment: {url, token, root}.
  async function agentAt(root, name, extraEnv = {}) {
    const agent = await start([HOSTDEVD, '--root', root, '--backend', 'sim', '--libvirt-uri', 'test:///default',
      '--listen', '127.0.0.1:0'], `hostdevd-${name}.log`, extraEnv);
    return {url: agent.url, token: fs.readFileSync(path.join(root, 'var/lib/hostdev/agent.token'), 'utf8').trim(), root};
  }

  // hostdevd on a new fixture root of @topology (tmp/@rootName): {url, token, root}.
  async function agentOn(topology, rootName = topology, extraEnv = {}) {
    const root = path.join(tmp, rootName);
    execFileSync('python3', [path.join(SRC, 'tests/fixtures/mkfixture.py'),
      path.join(SRC, `tests/fixtures/topologies/${topology}.json`), root], {stdio: 'ignore'});
    return agentAt(root, rootName, extraEnv);
  }

  // hostdev-engine on tmp/@name.db serving build/web, with an admin ("ada") and a viewer
  // ("vic") token, @args after its --db, --listen and --web-root: {url, admin, viewer, db}.
  async function engineUp({name = 'engine', args = ['--poll-wait', '30', '--retry-max', '1']} = {}) {
    const db = path.join(tmp, `${name}.db`);
    const token = (who, role) => execFileSync(ENGINE, ['--db', db, 'token', 'create', who, '--role', role]).toString().trim();
    const admin = token('ada', 'admin');
    const viewer = token('vic', 'viewer');
    const engine = await start([ENGINE, '--db', db, '--listen', '127.0.0.1:0', '--web-root', WEB, ...args], `${name}.log`);
    return {url: engine.url, admin, viewer, db};
  }

  // GET /v1/hosts/@id until @pred holds of the host (bounded: 600 tries 50 ms apart); the last
  // answer either way.
  async function waitHost(engine, token, id, pred) {
    let h = null;
    for (let i = 0; i < 600; i++) {
      h = (await http(engine, 'GET', `/v1/hosts/${id}`, token)).json;
      if (pred(h)) return h;
      await new Promise((r) => setTimeout(r, 50));
    }
    return h;
  }

  // POST /v1/hosts, then wait (bounded) for the host to be up; its id.
  async function addHost(engine, admin, hostName, agent) {
    const add = await http(engine, 'POST', '/v1/hosts', admin, {name: hostName, agent_url: agent.url, agent_token: agent.token});
    ok(add.status === 201, `host ${hostName} is added through the API`, JSON.stringify(add.json));
    await waitHost(engine, admin, add.json.id, (h) => h.status === 'up');
    return add.json.id;
  }

  function launch() {
    return chromium.launch({executablePath: CHROMIUM, headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-extensions',
        '--disable-background-networking', '--disable-component-update', '--disable-sync']});
  }

  // A page in a context of its own that records every console error, page error, failed
  // request and CSP violation (page.problems; window.__cspViolations); with @answers, every
  // answer of status 400 or more too ("answer STATUS: METHOD URL"). @height: the viewport's.
  async function newPage(browser, {height = 900, answers = false} = {}) {
    const ctx = await browser.newContext({viewport: {width: 1400, height}});
    const page = await ctx.newPage();
    page.problems = [];
    lastPage = page;
    page.on('console', (m) => {
      if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) page.problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
    if (answers)
      page.on('response', (r) => { if (r.status() >= 400) page.problems.push(`answer ${r.status()}: ${r.request().method()} ${r.url()}`); });
    page.on('requestfailed', (r) => page.problems.push(`request failed: ${r.url()} ${r.failure() && r.failure().errorText}`));
    await ctx.addInitScript(() => {
      window.__cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    return page;
  }

  // A screenshot, and axe-core's rules on the page: no serious or critical violation. axe runs
  // through the driver (not a <script> the page's CSP would refuse), after CSS transitions end
  // (PatternFly fades a field's error text in: a colour caught mid-fade fails color-contrast).
  async function shot(page, shotName) {
    await page.waitForFunction(() => document.getAnimations()
      .every((a) => !(a instanceof CSSTransition) || a.playState !== 'running'), null, {timeout: 10000});
    await page.screenshot({path: path.join(logs, `${shotName}.png`), fullPage: true});
    if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axeSource + ';0');
    const {bad, passes} = await page.evaluate(async () => {
      const r = await window.axe.run(document, {resultTypes: ['violations']});
      return {passes: r.passes.length, bad: r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.slice(0, 3).map((x) => x.target.join(' ')).join('; ')})`)};
    });
    ok(passes > 0 && bad.length === 0, `axe-core: ${passes} rules pass, no serious or critical violation on ${shotName}`, bad.join('\n'));
  }

  // No CSP violation, console error, page error or failed request recorded on @page but those
  // @meant matches (the refusals a test provoked): the test @what.
  async function noProblems(page, what = 'no console error, page error or CSP violation', meant = null) {
    const csp = await page.evaluate(() => window.__cspViolations);
    const problems = page.problems.filter((p) => !(meant && meant.test(p)));
    ok(problems.length === 0 && csp.length === 0, what, [...problems, ...csp].join('\n'));
  }

  // Click the button @button of the dialog @dlg, which the engine refuses (409: the failed load
  // chromium logs for it is meant): the text of the dialog's alert, after a screenshot
  // @shotName; then Escape closes the dialog (a test).
  async function refusalInDialog(page, dlg, button, shotName) {
    await dlg.getByRole('button', {name: button}).click();
    const refusal = dlg.getByRole('alert');
    await refusal.waitFor();
    const text = await refusal.textContent();
    await shot(page, shotName);
    page.problems = page.problems.filter((p) => !/status of 409/.test(p));
    await page.keyboard.press('Escape');
    ok(await page.getByRole('dialog').count() === 0, 'Escape closes the dialog');
    return text;
  }

  // The login page by keyboard; the 401 it meets first (GET /v1/session) is meant.
  async function login(page, url, token) {
    await page.goto(url + '/');
    const field = page.getByLabel('Engine token');
    await field.waitFor();
    await field.fill(token);
    await field.press('Enter');
    await page.getByRole('heading', {name: 'Hosts'}).waitFor();
    page.problems.length = 0;
  }

  // Run @main, then print the plan and exit: 1 on any failure. An exception is a failed test
  // with its stack and the last page's problems.
  function run(main) {
    main().then(() => {
      clearTimeout(guard);
      note(`screenshots and logs: ${logs}`);
      console.log(`1..${n}`);
      cleanup();
      process.exit(failed ? 1 : 0);
    }, (e) => {
      console.log(`not ok ${++n} - the test ran to its end`);
      for (const l of String(e && e.stack || e).split('\n')) console.log(`# ${l}`);
      if (lastPage) for (const p of lastPage.problems) console.log(`# ${p}`);
      console.log(`1..${n}`);
      cleanup();
      process.exit(1);
    });
  }

  return {ENGINE, SRC, tmp, logs, ok, note, start, runChild, atCleanup: (f) => atExit.push(f), http, agentAt, agentOn,
    engineUp, waitHost, addHost, launch, newPage, lastPage: () => lastPage, shot, noProblems, refusalInDialog, login, run};
}
