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
// Prints TAP; the scaffolding (servers, browser, axe, bounds) is harness.mjs's.
import {harness} from './harness.mjs';

const {ok, agentOn, engineUp, addHost, launch, newPage, shot, noProblems, login, run} = harness('npiv');

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
  const agentA = await agentOn('scsi-server', 'scsi-server-a');
  const agentB = await agentOn('scsi-server', 'scsi-server-b');
  const engine = await engineUp();
  const a = await addHost(engine.url, engine.admin, 'alpha', agentA);
  const b = await addHost(engine.url, engine.admin, 'beta', agentB);

  const browser = await launch();
  try {
    const page = await newPage(browser);
    await login(page, engine.url, engine.admin);
    await npivTab(page, engine.url, a, b);
    // the refusal's 409 is logged by chromium as a failed resource load: meant
    await noProblems(page, undefined, /status of 409/);
    await page.context().close();
    await viewer(browser, engine.url, engine.viewer, a);
  } finally {
    await browser.close();
  }
}

run(main);
