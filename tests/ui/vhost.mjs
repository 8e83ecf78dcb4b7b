#!/usr/bin/env node
// vhost-scsi targets in the portal (issue 17), in Debian's chromium driven by playwright-core: a
// real hostdev-engine serving build/web and a real hostdevd on the "scsi-server" fixture (sim
// backend), whose configfs has two LIO vhost targets: naa.5001405000000001 (TPG 1, a fileio LUN,
// a nexus: ready) and naa.5001405000000011 (no nexus: not ready).
//   - the host's SCSI tab lists both targets with their TPG, LUNs and backstores, nexus, whether
//     each is ready and why not, and the VM given each;
//   - a VM's "USB and SCSI" tab: Add vhost-scsi target opens a dialog choosing from the host's
//     targets, by keyboard; the target that is not ready is disabled with what to set up; the
//     engine's one-owner refusal (in-use) is shown naming the VM that has the target; Remove;
//     the second VM then takes it and starts with it (Add and Remove disabled while it runs);
//     the events name both changes;
//   - a viewer sees no Add or Remove; axe-core finds no serious or critical violation on each.
// Prints TAP; the scaffolding (servers, browser, axe, bounds) is harness.mjs's.
import {harness} from './harness.mjs';

const {ok, http, agentOn, engineUp, addHost, launch, newPage, shot, noProblems, refusalInDialog, login, run} = harness('vhost');

const READY = 'naa.5001405000000001';
const UNREADY = 'naa.5001405000000011';

async function hostTab(page, url, srv, owner) {
  await page.goto(`${url}/#/hosts/${srv}/scsi`);
  const section = page.getByRole('region', {name: 'vhost-scsi targets', exact: true});
  const ready = section.locator(`tr[data-vhost="${READY}"]`);
  await ready.waitFor();
  if (owner) await page.waitForFunction(([w, o]) => document.querySelector(`tr[data-vhost="${w}"]`).textContent.includes(o), [READY, owner]);
  const cells = await ready.locator('td').allTextContents();
  return {cells, unready: await section.locator(`tr[data-vhost="${UNREADY}"] td`).allTextContents(), section};
}

async function hostTargets(page, url, srv) {
  const {cells, unready, section} = await hostTab(page, url, srv, null);
  const head = await section.locator('thead th').allTextContents();
  ok(JSON.stringify(head) === JSON.stringify(['WWPN', 'TPG', 'LUNs and backstores', 'Nexus (initiator)', 'Ready', 'Why not', 'Given to VMs']),
    'the vhost-scsi table has WWPN, TPG, LUNs and backstores, Nexus, Ready, Why not, Given to VMs', head.join(', '));
  ok(cells[0] === READY && cells[1] === '1' && /lun_0/.test(cells[2]) && cells[2].includes('fileio_0/disk0') &&
    cells[2].includes('/srv/vm/lun0.img') && cells[3] === 'naa.5001405000000002' && cells[4] === 'Ready' && cells[5] === '—' && cells[6] === '—',
  'the ready target shows its TPG, its LUN with the backstore and its file, its nexus, Ready, and no VM', cells.join(' | '));
  ok(unready[0] === UNREADY && unready[3] === 'none' && unready[4] === 'Not ready' && /nexus/i.test(unready[5]) && unready[2].includes('iblock_0/data1'),
    'the target without a nexus is not ready, and the page says what to set up', unready.join(' | '));
  await section.scrollIntoViewIfNeeded(); // the screenshot shows the section
  await shot(page, '01-host-vhost');
}

// Open the vhost dialog of the VM page shown (by keyboard), pick @host when the VM is not pinned.
async function openAdd(page, host) {
  const opener = page.getByRole('button', {name: 'Add vhost-scsi target', exact: true});
  await opener.waitFor();
  await opener.focus();
  await page.keyboard.press('Enter');
  const dlg = page.getByRole('dialog');
  await dlg.getByLabel('Host', {exact: true}).selectOption(host);
  await dlg.locator(`[data-spec="${READY}"] input[type=radio]`).waitFor();
  return dlg;
}

async function vmTargets(page, url, engine, admin, srv) {
  const mk = async (name) => (await http(engine, 'POST', '/v1/vms', admin, {name, memory_mib: 1024, vcpus: 1})).json.id;
  const store1 = await mk('store1');
  const store2 = await mk('store2');
  const fresh = await http(engine, 'GET', `/v1/vms/${store1}`, admin);
  ok(Array.isArray(fresh.json.vhost_scsi) && fresh.json.vhost_scsi.length === 0, 'a new VM has "vhost_scsi": []', JSON.stringify(fresh.json));

  await page.goto(`${url}/#/vms/${store1}/general`);
  await page.getByRole('tab', {name: 'USB and SCSI'}).click();
  const dlg = await openAdd(page, srv);
  const unready = dlg.locator(`[data-spec="${UNREADY}"]`);
  ok(await unready.locator('input[type=radio]').isDisabled(), 'the dialog disables the target that is not ready');
  const why = await unready.textContent();
  ok(/not ready/.test(why) && /nexus/i.test(why) && /Not ready/.test(why), 'and says why, and what to set up', why);
  const readyText = await dlg.locator(`[data-spec="${READY}"]`).textContent();
  ok(/TPG 1/.test(readyText) && readyText.includes('fileio_0/disk0') && /Ready/.test(readyText), 'the ready target shows its TPG and LUN', readyText);
  await shot(page, '02-add-vhost-dialog');
  await dlg.locator(`[data-spec="${READY}"] input[type=radio]`).focus();
  await page.keyboard.press('Space');
  await dlg.getByRole('button', {name: 'Add the picked vhost-scsi target'}).focus();
  await page.keyboard.press('Enter');
  await page.locator(`tr[data-vhost="${READY}"]`).waitFor();
  ok(await page.getByRole('dialog').count() === 0, 'the dialog closes after the engine took the target');
  ok(/on host\s*srv1/.test(await page.locator('.hd-on-host').textContent()), 'the VM is pinned to srv1');
  const v = await http(engine, 'GET', `/v1/vms/${store1}`, admin);
  ok(v.json.vhost_scsi.length === 1 && v.json.vhost_scsi[0].wwpn === READY && v.json.vhost_scsi[0].n === 1,
    'the engine has the target\'s WWPN with its number', JSON.stringify(v.json.vhost_scsi));
  await shot(page, '03-vm-vhost');

  // the host's SCSI tab names the VM given the target
  const {cells} = await hostTab(page, url, srv, 'store1');
  ok(cells[6] === 'store1', 'the host\'s SCSI tab shows the target given to store1', cells.join(' | '));

  // one owner: store2 is refused the target, in the engine's words naming store1
  await page.goto(`${url}/#/vms/${store2}/usbscsi`);
  const dlg2 = await openAdd(page, srv);
  await dlg2.locator(`[data-spec="${READY}"] input[type=radio]`).check();
  const rt = await refusalInDialog(page, dlg2, 'Add the picked vhost-scsi target', '04-add-vhost-in-use');
  ok(/VM store1's/.test(rt) && /one owner/.test(rt) && rt.includes(READY), 'the in-use refusal names the VM that has the target', rt);
  const v2 = await http(engine, 'GET', `/v1/vms/${store2}`, admin);
  ok(v2.json.vhost_scsi.length === 0 && !v2.json.host_id, 'store2 has no target and is not pinned', JSON.stringify(v2.json));

  // Remove on store1 (keyboard); then store2 takes the target
  await page.goto(`${url}/#/vms/${store1}/usbscsi`);
  const rm = page.getByRole('button', {name: `Remove vhost-scsi target 1 ${READY}`});
  await rm.waitFor();
  await rm.focus();
  await page.keyboard.press('Enter');
  await page.locator(`tr[data-vhost="${READY}"]`).waitFor({state: 'detached'});
  const v3 = await http(engine, 'GET', `/v1/vms/${store1}`, admin);
  ok(v3.json.vhost_scsi.length === 0, 'Remove takes the target from store1', JSON.stringify(v3.json.vhost_scsi));
  await page.goto(`${url}/#/vms/${store2}/usbscsi`);
  const dlg3 = await openAdd(page, srv);
  await dlg3.locator(`[data-spec="${READY}"] input[type=radio]`).check();
  await dlg3.getByRole('button', {name: 'Add the picked vhost-scsi target'}).click();
  await page.locator(`tr[data-vhost="${READY}"]`).waitFor();
  ok(true, 'store2 takes the target once store1 gave it back');
  await page.getByRole('tab', {name: 'General'}).click();
  await page.locator('.hd-vm-general').waitFor();
  const general = await page.locator('.hd-vm-general').textContent();
  ok(/1 vhost-scsi target/.test(general), 'General counts the VM\'s vhost-scsi target', general);

  // store2 starts with the target (the agent defines it as a scsi_host hostdev); while it runs,
  // Add and Remove are disabled, saying why
  const st = await http(engine, 'POST', `/v1/vms/${store2}/start`, admin);
  ok(st.status === 200 && st.json.state === 'running', 'store2 starts with the target', JSON.stringify(st.json));
  await page.getByRole('tab', {name: 'USB and SCSI'}).click();
  await page.getByTestId('usbscsi-locked').waitFor();
  ok(await page.getByRole('button', {name: 'Add vhost-scsi target', exact: true}).isDisabled() &&
    await page.getByRole('button', {name: `Remove vhost-scsi target 1 ${READY}`}).isDisabled() &&
    /vhost-scsi targets change only while it is down/.test(await page.getByTestId('usbscsi-locked').textContent()),
  'while store2 runs, Add and Remove of vhost-scsi targets are disabled, and the page says why');
  await shot(page, '05-vm-running');

  const ev = await http(engine, 'GET', '/v1/events?limit=1000', admin);
  const actions = (ev.json.events || []).map((e) => `${e.action} ${e.result}`);
  ok(actions.filter((a) => a === 'vm.vhost-scsi.add ok').length === 2 && actions.includes('vm.vhost-scsi.remove ok') &&
    actions.includes('vm.vhost-scsi.add refused'), 'the events record both adds, the refusal and the remove', actions.join(', '));
  return store2;
}

async function viewer(browser, url, token, vmId) {
  const page = await newPage(browser);
  await login(page, url, token);
  await page.goto(`${url}/#/vms/${vmId}/usbscsi`);
  await page.locator(`tr[data-vhost="${READY}"]`).waitFor();
  ok(await page.getByRole('button', {name: /Add vhost-scsi target|Remove/}).count() === 0, 'a viewer sees no Add or Remove of vhost-scsi targets');
  await shot(page, '06-viewer');
  ok(page.problems.length === 0, 'no console error in the viewer\'s session', page.problems.join('\n'));
  await page.context().close();
}

async function main() {
  const scsiAgent = await agentOn('scsi-server');
  const engine = await engineUp();
  const srv = await addHost(engine.url, engine.admin, 'srv1', scsiAgent);

  const browser = await launch();
  try {
    const page = await newPage(browser);
    await login(page, engine.url, engine.admin);
    await hostTargets(page, engine.url, srv);
    const vm = await vmTargets(page, engine.url, engine.url, engine.admin, srv);
    await noProblems(page);
    await page.context().close();
    await viewer(browser, engine.url, engine.viewer, vm);
  } finally {
    await browser.close();
  }
}

run(main);
