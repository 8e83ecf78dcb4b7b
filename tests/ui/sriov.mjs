#!/usr/bin/env node
// The portal's SR-IOV and mdev views in a real browser (as portal.mjs: Debian's chromium driven by
// playwright-core, a real hostdev-engine serving build/web, real hostdevd agents on fixture roots
// with the sim backend): a host's "SR-IOV and mdev" tab (sriov-server: the PF's VFs, the Set VF
// count dialog with a refusal shown in it, then a change; mdev-host: the capacity per parent and
// type) and a VM's "Mediated devices" tab (add a type from the VM's host, remove; disabled while
// running), by keyboard where a user would, each view checked by axe-core.
// Prints TAP; the scaffolding (servers, browser, axe, bounds) is harness.mjs's.
import {harness} from './harness.mjs';

const {ok, http, agentOn, engineUp, launch, newPage, shot, login, run} = harness('sriov');

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

async function main() {
  const nic = await agentOn('sriov-server', 'nic1');
  const gpu = await agentOn('mdev-host', 'vgpu1');
  const engine = await engineUp();
  const {admin, viewer} = engine;
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

  const browser = await launch();
  try {
    await sriovSession(browser, engine.url, admin, ids);
    await mdevSession(browser, engine.url, admin, ids, vm.json.id);
    await viewerSession(browser, engine.url, viewer, ids, vm.json.id);
  } finally {
    await browser.close();
  }
}

run(main);
