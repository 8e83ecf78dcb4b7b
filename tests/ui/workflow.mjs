#!/usr/bin/env node
// The seed's workflow in a real browser, click by click: Debian's chromium (headless), driven by
// playwright-core, against a real hostdev-engine serving build/web and two real hostdevd agents
// on fixture roots (sim backend, libvirt test:///default):
//   - "office" (tests/fixtures firmware-only: the firmware has VT-d, the kernel runs with
//     intel_iommu=off): passthrough disabled -> Kernel tab: the IOMMU option and its exact
//     argument, the plan, Apply disabled outside maintenance (the reason shown) -> Maintenance ->
//     Apply -> the reboot banner -> Reboot (Rebooting shown) -> back in maintenance ->
//     Activate -> up, passthrough enabled;
//   - "desk1" (desktop: GPU + HDMI audio in one IOMMU group): Create VM -> Add host devices:
//     the GPU, its audio function greyed as a placeholder -> Start -> the host's devices on
//     vfio-pci, "Used by VM" and "Attached to VMs" -> refusals in words (a second VM sharing
//     the GPU, maintenance of a host with a running VM) -> Stop -> back on their drivers;
//   - Edit VM (the row's and the VM page's Edit): name and memory by keyboard, the list updated;
//     the engine's rules checked in the dialog before anything is sent; a name another VM has
//     refused in words; a change made through the API while the dialog is open reported as a
//     conflict (If-Match: the engine's 412, nothing overwritten), Reload, save; the running VM's
//     dialog says when memory and vCPUs take effect; Escape and the focus trap;
//   - Events filtered by VM; a viewer sees none of the mutating buttons; no CSP violation or
//     console error; axe-core on every page (no serious or critical violation).
// Bounded (HOSTDEV_UI_DEADLINE seconds, default 240); waits are bounded waits for a state,
// never timed assertions. Prints TAP; screenshots under HOSTDEV_UI_LOGS/workflow.
// The scaffolding (servers, browser, axe, bounds) is harness.mjs's.
import fs from 'node:fs';
import path from 'node:path';
import {harness} from './harness.mjs';

const {logs, ok, http, agentOn, engineUp, waitHost, addHost, launch, newPage: openPage, lastPage, shot, login, run} =
  harness('workflow');
// tall pages (the screenshots show whole pages) that record answers of 400 and more too
const newPage = (browser) => openPage(browser, {height: 1300, answers: true});

let deletedVm = null; // the id of the VM the workflow deletes

async function main() {
  // office: its reboot is held 2 s by the sim agent, so that the page has a "Rebooting" to show
  const office = await agentOn('firmware-only', 'office', {HOSTDEVD_TEST_REBOOT_DELAY_MS: '2000'});
  const desk = await agentOn('desktop', 'desk');
  const pve = await agentOn('proxmox-host', 'pve'); // an AMD CPU, Proxmox's /etc/kernel/cmdline
  const engine = await engineUp();
  const {admin, viewer} = engine;
  const ids = {};
  for (const [name, agent] of [['office', office], ['desk1', desk], ['pve', pve]]) {
    ids[name] = await addHost(engine.url, admin, name, agent);
    const h = await waitHost(engine.url, admin, ids[name], (x) => x.status === 'up' && x.device_count > 0);
    ok(h.status === 'up', `host ${name} is up`, JSON.stringify(h));
  }

  const browser = await launch();
  try {
    const page = await newPage(browser);
    await login(page, engine.url, admin);
    page.problems.length = 0; // the login page's GET /v1/session (401) was meant
    await hostLifecycle(page, engine.url, admin, ids.office, ids.pve);
    await amdWords(page, engine.url, admin, ids.pve);
    await vmWorkflow(page, engine.url, admin, ids.desk1, desk);
    await vmEdit(page, engine.url, admin, ids.desk1);
    const violations = await page.evaluate(() => window.__cspViolations.slice());
    // the refusals provoked above; and a re-read of linux2's page that was on its way when
    // linux2 was deleted may be answered 404 (with the browser's console line for it)
    let late = page.problems.filter((p) => p.startsWith('answer 404: GET') && deletedVm && p.endsWith(`/v1/vms/${deletedVm}`)).length;
    // (412: the Edit VM dialog's conflict, provoked below)
    const problems = page.problems.filter((p) => !/status of 4(09|12)|answer 4(09|12)/.test(p))
      .filter((p) => !(deletedVm && p.startsWith('answer 404: GET') && p.endsWith(`/v1/vms/${deletedVm}`)))
      .filter((p) => !(/status of 404/.test(p) && late-- > 0));
    ok(violations.length === 0 && problems.length === 0, 'no CSP violation, console error or failed request in the admin\'s workflow',
      [...violations, ...problems].join('\n'));
    await page.context().close();
    await viewerSession(browser, engine.url, viewer, ids);
  } catch (e) {
    if (lastPage()) try { await lastPage().screenshot({path: path.join(logs, 'failed.png'), fullPage: true}); } catch { /* closed */ }
    throw e;
  } finally {
    await browser.close();
  }
}

const text = async (loc) => (await loc.textContent()) || '';
const alertText = async (page) => {
  const a = page.locator('.hd-messages .pf-v6-c-alert').first();
  await a.waitFor();
  return text(a);
};
// the message region is cleared first, so that the next alert is the answer to the next click
const clearMessages = (page) => page.evaluate(() => document.querySelectorAll('.hd-messages').forEach((m) => m.replaceChildren()));

// Wait for the page's next GET of @pathname (a re-read) after @fn() and for it to be rendered.
async function afterReread(page, pathname, fn) {
  const got = page.waitForResponse((r) => r.request().method() === 'GET' && new URL(r.url()).pathname === pathname);
  await fn();
  const r = await got;
  await r.finished();
  await page.evaluate(() => new Promise((done) => setTimeout(done, 300))); // (its JSON read and shown)
}

async function hostLifecycle(page, url, admin, id, pveId) {
  const row = page.locator('tr[data-host="office"]');
  await row.waitFor();
  ok(/Device passthrough: disabled/.test(await text(row)), 'office: the hosts list says "Device passthrough: disabled"', await text(row));
  ok(await row.getByRole('button', {name: 'Maintenance office'}).count() === 1, 'office: the hosts list offers Maintenance');

  // the hosts list re-reads on every host event; one that changes nothing it shows (pve is
  // refreshed while the list shows office only) leaves its buttons as they are
  const filter = page.getByRole('searchbox', {name: 'Filter hosts by name prefix'});
  await filter.fill('office');
  await page.waitForFunction(() => document.querySelectorAll('tr[data-host]').length === 1);
  // office's own sync may still move its row (its last sync) during a re-read: such a re-read
  // changed what the row shows, and may swap it; the check is made on one that did not
  let kept = null;
  for (let tries = 0; tries < 5 && kept === null; tries++) {
    const before = await text(row);
    const listed = await row.getByRole('button', {name: 'Maintenance office'}).elementHandle();
    await afterReread(page, '/v1/hosts', () => http(url, 'POST', `/v1/hosts/${pveId}/refresh`, admin));
    if (await text(row) === before)
      kept = await listed.evaluate((b) => b.isConnected);
  }
  ok(kept === true, 'a re-read of the hosts list that changes nothing keeps its rows\' buttons (no click lost to a swap)',
    kept === null ? 'office\'s row changed at each of 5 re-reads' : 'the button was replaced');
  await filter.fill('');
  await page.locator('tr[data-host="pve"]').waitFor();
  await row.getByRole('link', {name: 'office'}).click();
  await page.getByTestId('passthrough').waitFor();
  ok(/disabled/.test(await text(page.getByTestId('passthrough'))), 'office: General says passthrough disabled');

  // the Kernel tab: the exact argument per option for this Intel CPU; Apply disabled outside maintenance
  await page.getByRole('tab', {name: 'Kernel'}).click();
  const iommu = page.getByRole('checkbox', {name: /Turn the IOMMU on/});
  await iommu.waitFor();
  ok(/intel_iommu=on/.test(await text(page.locator('label[for="hd-kopt-iommu"]'))), 'the IOMMU option shows its Intel argument intel_iommu=on');
  await sameWords(page, url, admin, id, 'office (Intel)');
  const apply = page.getByRole('button', {name: 'Apply the kernel arguments on office'});
  ok(await apply.isDisabled(), 'Apply is disabled while the host is up');
  const why = await text(page.getByTestId('apply-note'));
  ok(/only in maintenance/.test(why) && /office is up/.test(why), 'the reason is shown: Apply only in maintenance', why);
  await iommu.check();
  await page.waitForFunction(() => /intel_iommu=on/.test(document.querySelector('[data-testid=kernel-desired]').textContent) &&
    !/intel_iommu=off/.test(document.querySelector('[data-testid=kernel-desired]').textContent));
  ok(true, 'checking the IOMMU option plans a command line with intel_iommu=on instead of intel_iommu=off');
  await page.getByLabel('Custom words').fill('quiet');
  await shot(page, '21-kernel-up');

  // a re-read that changes nothing leaves the header's buttons as they are: a button swapped for
  // its copy between the pointer's press and release loses the click (the page re-reads on
  // every event). Refresh re-reads the host; the Maintenance button is the same element after.
  const maintenance = await page.getByRole('button', {name: 'Maintenance office'}).elementHandle();
  const reread = page.waitForResponse((r) => r.request().method() === 'GET' && new URL(r.url()).pathname === `/v1/hosts/${id}`);
  await page.getByRole('button', {name: 'Refresh office'}).click();
  await reread;
  await page.getByText('Refresh office: the engine re-reads the agent').waitFor();
  await page.waitForFunction(() => !document.querySelector('button[aria-label="Refresh office"]').disabled);
  ok(await maintenance.evaluate((b) => b.isConnected), 'a re-read of the host that changes nothing keeps the header\'s buttons (no click lost to a swap)');

  // Maintenance (from the header, confirmed), then Apply
  await page.getByRole('button', {name: 'Maintenance office'}).click();
  await page.getByRole('dialog').getByRole('button', {name: 'Confirm: Maintenance office'}).click();
  await page.waitForFunction(() => /Maintenance/.test(document.querySelector('.hd-title-row').textContent));
  await page.waitForFunction(() => !document.querySelector('button[aria-label="Apply the kernel arguments on office"]').disabled);
  ok(true, 'in maintenance Apply is enabled');
  ok(/office is in maintenance/.test(await text(page.getByTestId('apply-note'))), 'the note says the host is in maintenance');
  ok(await iommu.isChecked(), 'the checked option survives the re-read of the host');
  await apply.click();
  const applied = await alertText(page.locator('.hd-kernel'));
  ok(/applied/i.test(applied), 'Apply answers in words', applied);
  const banner = page.getByTestId('reboot-banner');
  await banner.waitFor();
  ok(/Reboot required/.test(await text(banner)), 'the reboot banner shows after Apply', await text(banner));
  ok(/intel_iommu=on/.test(await text(page.getByTestId('kernel-configured'))), 'the configured command line has intel_iommu=on');
  await page.waitForFunction(() => document.querySelector('button[aria-label="Apply the kernel arguments on office"]').disabled);
  ok(/Nothing to apply/.test(await text(page.getByTestId('apply-note'))), 'after Apply there is nothing left to apply: Apply disabled, and why',
    await text(page.getByTestId('apply-note')));
  await shot(page, '22-kernel-applied');

  // the hosts list: reboot-required badge from the engine's reboot_required
  await page.getByRole('link', {name: 'Hosts', exact: true}).first().click();
  const orow = page.locator('tr[data-host="office"]');
  await orow.waitFor();
  ok(/Reboot required/.test(await text(orow)) && /Maintenance/.test(await text(orow)), 'the hosts list shows Maintenance and the reboot-required badge', await text(orow));
  ok(await orow.getByRole('button', {name: 'Reboot office'}).count() === 1 && await orow.getByRole('button', {name: 'Activate office'}).count() === 1,
    'in maintenance the list offers Reboot and Activate');
  await shot(page, '23-hosts-maintenance');

  // Reboot from the host page's banner: Rebooting, then back in maintenance with the IOMMU on
  await orow.getByRole('link', {name: 'office'}).click();
  await page.getByRole('button', {name: 'Reboot now office'}).click();
  await page.waitForFunction(() => /Rebooting/.test(document.querySelector('.hd-title-row').textContent));
  ok(/is rebooting/.test(await text(page.getByTestId('reboot-banner'))), 'the host shows Rebooting with a banner while it reboots');
  await shot(page, '24-host-rebooting');
  await page.waitForFunction(() => /Maintenance/.test(document.querySelector('.hd-title-row').textContent), null, {timeout: 60000});
  ok(await page.getByTestId('reboot-banner').count() === 0, 'back in maintenance: no reboot required any more');
  await clearMessages(page);
  await page.getByRole('button', {name: 'Activate office'}).click();
  await page.waitForFunction(() => /Up/.test(document.querySelector('.hd-title-row').textContent), null, {timeout: 60000});
  await page.waitForFunction(() => /enabled/.test(document.querySelector('[data-testid=passthrough]').textContent), null, {timeout: 60000});
  ok(true, 'Activate: office is up with "Device passthrough: enabled"');
  const running = await text(page.locator('.hd-general'));
  ok(/intel_iommu=on/.test(running), 'General shows intel_iommu=on running', running);
  await shot(page, '25-host-activated');
}

// Each option's words as the page shows them are the words the engine's plan adds for it (the
// page's table in kernel.js cannot drift from src/lib/host/cmdline.c unnoticed).
async function sameWords(page, url, admin, id, what) {
  await page.locator('.hd-kopt').first().waitFor();
  const shown = await page.locator('.hd-kopt').evaluateAll((els) => els.map((e) => ({
    name: e.querySelector('input').dataset.option, words: (e.querySelector('label code') || {textContent: ''}).textContent})));
  ok(shown.length === 8, `${what}: the Kernel tab has a checkbox per option (8)`, JSON.stringify(shown));
  for (const o of shown.filter((x) => x.name !== 'vfio-ids')) {
    const r = await http(url, 'PUT', `/v1/hosts/${id}/kernel-args`, admin, {enable: [o.name], dry_run: true});
    ok(r.status === 200 && (r.json.added || []).join(' ') === o.words, `${what}, option ${o.name}: the page's words "${o.words}" are what the plan adds`,
      JSON.stringify(r.json && r.json.added));
  }
}

async function amdWords(page, url, admin, id) {
  await page.goto(`${url}/#/hosts/${id}/kernel`);
  await page.getByRole('heading', {name: 'pve'}).waitFor();
  await page.getByTestId('kernel-configured').waitFor();
  ok(/AMD CPU/.test(await text(page.locator('.hd-kernel legend'))), 'pve: the Kernel tab says the options are for its AMD CPU');
  ok(/kvm-amd\.nested=1/.test(await text(page.locator('label[for="hd-kopt-nested"]'))), 'pve: nested shows kvm-amd.nested=1');
  ok(/nothing to add/.test(await text(page.locator('label[for="hd-kopt-iommu"]'))), 'pve: the IOMMU option says AMD-Vi needs nothing added');
  await sameWords(page, url, admin, id, 'pve (AMD)');
  ok(await page.getByRole('button', {name: 'Apply the kernel arguments on pve'}).isDisabled(), 'pve is up: Apply is disabled',
    await page.getByRole('button', {name: 'Apply the kernel arguments on pve'}).evaluate((e) => e.outerHTML));
  await shot(page, '20-kernel-amd');
}

async function vmWorkflow(page, url, admin, deskId, desk) {
  // Create VM
  await page.getByLabel('Main').getByRole('link', {name: 'VMs'}).click();
  await page.getByRole('heading', {name: 'VMs'}).waitFor();
  // by keyboard alone: Enter on the button, the focus in the first field, Tab, Enter submits
  await page.getByRole('button', {name: 'Create VM'}).focus();
  await page.keyboard.press('Enter');
  const dlg = page.getByRole('dialog', {name: 'Create VM'});
  await dlg.waitFor();
  ok(await dlg.getByLabel('Name', {exact: true}).evaluate((e) => e === document.activeElement), 'the Create VM dialog puts the focus in Name');
  await page.keyboard.type('win10');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('2048');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', {name: 'win10'}).waitFor();
  ok(true, 'Create VM by keyboard opens the new VM');
  const created = (await http(url, 'GET', '/v1/vms?name_prefix=win10', admin)).json.vms[0];
  ok(created && created.memory_mib === 2048 && created.host_id === null, 'the engine has win10 with the memory typed, not pinned yet', JSON.stringify(created));

  // Add host devices: desk1 (pins the VM), class filter, the GPU; its audio function greyed
  await page.getByRole('button', {name: 'Add host devices'}).click();
  const add = page.getByRole('dialog', {name: 'Add host devices to win10'});
  await add.getByLabel('Host', {exact: true}).selectOption({label: 'desk1 (up)'});
  const gpu = add.locator('input[data-address="0000:01:00.0"]');
  await gpu.waitFor();
  const gpuClass = await add.locator('.hd-pick[data-address="0000:01:00.0"] label').textContent();
  const cls = (await add.getByLabel('Filter by class').locator('option').allTextContents()).find((c) => gpuClass.includes(c) && c !== 'Any class');
  await add.getByLabel('Filter by class').selectOption(cls);
  ok(await add.locator('.hd-pick').evaluateAll((els, c) => els.every((e) => e.textContent.includes(c)), cls), `the class filter keeps "${cls}" devices`);
  await gpu.focus();
  await page.keyboard.press('Space'); // the keyboard picks the GPU
  ok(await gpu.isChecked(), 'Space picks the GPU in the dialog');
  await add.getByLabel('Filter by class').selectOption('');
  const audio = add.locator('.hd-pick[data-address="0000:01:00.1"]');
  await audio.waitFor();
  ok(await audio.getAttribute('data-placeholder') === 'true' && await audio.locator('input').isDisabled() && await audio.locator('input').isChecked(),
    'the GPU\'s audio function appears greyed as a placeholder in the dialog', await text(audio));
  ok(/placeholder/.test(await text(audio)), 'the dialog says why: the rest of the IOMMU group', await text(audio));
  await shot(page, '26-vm-add-dialog');
  await add.getByRole('button', {name: 'Add the picked devices'}).click();
  const audioRow = page.locator('tr[data-address="0000:01:00.1"]');
  await audioRow.waitFor();
  ok(await audioRow.getAttribute('data-role') === 'placeholder' && /Placeholder/.test(await text(audioRow)), 'the VM lists the audio function as a placeholder');
  ok(await audioRow.getByRole('button').count() === 0, 'a placeholder has no Remove button');
  ok(await page.locator('tr[data-address="0000:01:00.0"]').getByRole('button', {name: 'Remove 0000:01:00.0'}).count() === 1, 'the requested GPU can be removed');
  await shot(page, '27-vm-devices');

  // a second VM sharing the GPU (through the API), for the refusal
  const vm2 = await http(url, 'POST', '/v1/vms', admin, {name: 'linux2'});
  const add2 = await http(url, 'POST', `/v1/vms/${vm2.json.id}/devices`, admin, {host_id: deskId, addresses: ['0000:01:00.0']});
  ok(add2.status === 200, 'a second VM gets the same GPU (both down)', JSON.stringify(add2.json));

  // Start win10: running; the host's devices on vfio-pci, used by win10
  const before = (await http(desk.url, 'GET', '/v1/devices/0000:01:00.0', desk.token)).json.driver;
  const beforeAudio = (await http(desk.url, 'GET', '/v1/devices/0000:01:00.1', desk.token)).json.driver;
  await clearMessages(page);
  await page.getByRole('button', {name: 'Start win10'}).click();
  await page.waitForFunction(() => /Running/.test(document.querySelector('[data-testid=vm-state]').textContent), null, {timeout: 60000});
  ok(true, 'Start: win10 is running');
  await shot(page, '28-vm-running');
  await page.getByRole('link', {name: 'desk1'}).first().click();
  const gpuRow = page.locator('tr[data-address="0000:01:00.0"]');
  await gpuRow.waitFor();
  await page.waitForFunction(() => ['0000:01:00.0', '0000:01:00.1'].every((a) => {
    const r = document.querySelector(`tr[data-address="${a}"]`);
    return r && r.children[4].textContent === 'vfio-pci' && r.children[7].textContent === 'win10';
  }), null, {timeout: 30000});
  ok(true, 'the host\'s devices tab shows the GPU and its audio function on vfio-pci, "Used by VM" win10');
  const attached = await page.locator('tr[data-address="0000:01:00.1"] td').nth(8).textContent();
  ok(/win10 \(placeholder\)/.test(attached) && /linux2 \(placeholder\)/.test(attached), '"Attached to VMs" names both VMs, as placeholders for the audio function', attached);
  ok(/win10/.test(await gpuRow.locator('td').nth(8).textContent()), '"Attached to VMs" names win10 for the GPU');
  await shot(page, '29-host-devices-used');

  // refusal: maintenance of a host with a running VM names it
  await page.getByRole('button', {name: 'Maintenance desk1'}).click();
  await page.getByRole('dialog').getByRole('button', {name: 'Confirm: Maintenance desk1'}).click();
  const maint = await alertText(page);
  ok(/refused/.test(maint) && /win10/.test(maint), 'maintenance refused in words, naming the running VM', maint);

  // refusal: the second VM sharing the GPU
  await page.goto(`${url}/#/vms`);
  await page.locator('tr[data-vm="linux2"]').getByRole('link', {name: 'linux2'}).click();
  await page.getByRole('heading', {name: 'linux2'}).waitFor();
  await page.getByRole('button', {name: 'Start linux2'}).click();
  const refusal = await alertText(page);
  ok(/0000:01:00\.0/.test(refusal) && /is used by VM win10 on host desk1/.test(refusal), 'starting a VM sharing the GPU is refused in words', refusal);
  await shot(page, '30-vm-start-refused');
  // Remove: linux2's GPU goes with its placeholder, and linux2 is pinned nowhere any more
  await page.getByRole('tab', {name: 'Host devices'}).click();
  await page.getByRole('button', {name: 'Remove 0000:01:00.0'}).click();
  await page.waitForFunction(() => document.querySelectorAll('tr[data-address]').length === 0);
  const unpinned = (await http(url, 'GET', `/v1/vms/${vm2.json.id}`, admin)).json;
  ok(unpinned.devices.length === 0 && unpinned.host_id === null, 'Remove takes the GPU and its placeholder off linux2, which is unpinned', JSON.stringify(unpinned));
  // Delete, confirmed: back on the list, without linux2
  deletedVm = vm2.json.id;
  await page.getByRole('button', {name: 'Delete linux2'}).click();
  await page.getByRole('dialog').getByRole('button', {name: 'Confirm: Delete linux2'}).click();
  await page.getByRole('heading', {name: 'VMs'}).waitFor();
  await page.locator('tr[data-vm="win10"]').waitFor();
  ok(await page.locator('tr[data-vm="linux2"]').count() === 0 && (await http(url, 'GET', `/v1/vms/${vm2.json.id}`, admin)).status === 404,
    'Delete (confirmed) removes linux2 and shows the VMs list');

  // the VMs list: status and host, filters
  await page.getByLabel('Main').getByRole('link', {name: 'VMs'}).click();
  const wrow = page.locator('tr[data-vm="win10"]');
  await wrow.waitFor();
  ok(/Running/.test(await text(wrow)) && /desk1/.test(await text(wrow)), 'the VMs list shows win10 running on desk1', await text(wrow));
  await wrow.getByRole('button', {name: 'Edit win10'}).click();
  const runEdit = page.getByRole('dialog', {name: 'Edit win10'});
  await runEdit.waitFor();
  const runNote = await text(runEdit.locator('.pf-v6-c-alert'));
  ok(/win10 is running/.test(runNote) && /next start/.test(runNote), 'Edit of a running VM says memory and vCPUs take effect at its next start', runNote);
  await page.keyboard.press('Escape');
  await runEdit.waitFor({state: 'detached'});
  // (bounded wait: the list may be re-rendering for an event; the focus must land there all the same)
  const back = await page.waitForFunction(() => document.activeElement && document.activeElement.getAttribute('aria-label') === 'Edit win10',
    null, {timeout: 5000}).then(() => true, () => false);
  ok(back, 'Escape closes the Edit dialog and gives the focus back to its Edit button',
    await page.evaluate(() => document.activeElement && document.activeElement.outerHTML));
  await page.getByLabel('Filter VMs by status').selectOption('running');
  await page.waitForFunction(() => document.querySelectorAll('tr[data-vm]').length === 1);
  ok(await page.locator('tr[data-vm="win10"]').count() === 1, 'the status filter keeps the running VM only');
  await shot(page, '31-vms');
  await page.getByLabel('Filter VMs by status').selectOption('');

  // Stop: the devices back on their drivers
  await page.locator('tr[data-vm="win10"]').getByRole('button', {name: 'Stop win10'}).click();
  await page.waitForFunction(() => /Down/.test(document.querySelector('tr[data-vm="win10"]').textContent), null, {timeout: 60000});
  ok(true, 'Stop: win10 is down');
  await page.goto(`${url}/#/hosts/${deskId}/devices`);
  await page.waitForFunction(([g, a]) => {
    const r0 = document.querySelector('tr[data-address="0000:01:00.0"]');
    const r1 = document.querySelector('tr[data-address="0000:01:00.1"]');
    return r0 && r1 && r0.children[4].textContent === g && r1.children[4].textContent === a && r0.children[7].textContent === '—';
  }, [before || '(none)', beforeAudio || '(none)'], {timeout: 30000});
  ok(true, `after Stop the GPU and its audio function are back on ${before} and ${beforeAudio}, used by no VM`);

  // Events: filtered by VM
  await page.getByLabel('Main').getByRole('link', {name: 'Events'}).click();
  await page.locator('tr[data-event]').first().waitFor();
  const vmPick = page.getByLabel('Filter events by VM');
  await vmPick.waitFor();
  await vmPick.selectOption({label: 'win10'});
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('tr[data-event]')];
    return rows.length > 0 && rows.every((r) => r.textContent.includes('win10'));
  });
  const actions = await page.locator('tr[data-event] td:nth-child(3)').allTextContents();
  ok(actions.includes('vm.start') && actions.includes('vm.stop'), 'the events filtered by VM show its start and stop', actions.join(', '));
  await shot(page, '32-events-vm');

  // refusal: its host in maintenance
  const m = await http(url, 'POST', `/v1/hosts/${deskId}/maintenance`, admin);
  ok(m.status === 200, 'desk1 goes to maintenance (API)', JSON.stringify(m.json));
  await page.goto(`${url}/#/vms`);
  await page.locator('tr[data-vm="win10"]').getByRole('link', {name: 'win10'}).click();
  await page.getByRole('heading', {name: 'win10'}).waitFor();
  await clearMessages(page);
  await page.getByRole('button', {name: 'Start win10'}).click();
  const inMaint = await alertText(page);
  ok(/its host desk1 is in maintenance/.test(inMaint) && /activate/.test(inMaint), 'starting a VM whose host is in maintenance is refused in words', inMaint);
  const act = await http(url, 'POST', `/v1/hosts/${deskId}/activate`, admin);
  ok(act.status === 200, 'desk1 is activated again (API)', JSON.stringify(act.json));
  await waitHost(url, admin, deskId, (x) => x.status === 'up');

  // hardware changed: the audio function vanishes from desk1 (the sim's tree) while win10 has it
  fs.unlinkSync(path.join(desk.root, 'sys/bus/pci/devices/0000:01:00.1'));
  await http(url, 'POST', `/v1/hosts/${deskId}/refresh`, admin);
  const hw = page.getByTestId('hardware-changed');
  await hw.waitFor({timeout: 60000}); // the open page follows the engine's event
  const hwText = await text(hw);
  ok(/0000:01:00\.1 is no longer on host desk1/.test(hwText), 'the open VM page shows "Hardware changed" with its reason, without a reload', hwText);
  await clearMessages(page);
  await page.getByRole('button', {name: 'Start win10'}).click();
  const hwRefusal = await alertText(page);
  ok(/refused/.test(hwRefusal) && /0000:01:00\.1/.test(hwRefusal), 'starting it is refused in words', hwRefusal);
  await shot(page, '35-vm-hardware-changed');
  // the VM's events, from its page: the Events page with the VM picked
  await page.getByRole('link', {name: 'Events of win10'}).click();
  await page.waitForFunction(() => {
    const sel = document.querySelector('select[aria-label="Filter events by VM"]');
    const rows = [...document.querySelectorAll('tr[data-event]')];
    return sel && sel.selectedOptions[0].textContent === 'win10' && rows.length > 0 && rows.every((r) => r.textContent.includes('win10'));
  });
  ok(/vm\.hardware_changed/.test(await text(page.locator('tbody'))), '"Events of win10" opens Events filtered by the VM, its hardware change listed');
}

// Edit VM: the row's Edit by keyboard, the engine's rules in the dialog (nothing sent while a field
// breaks one), a taken name refused in words, a concurrent change through the API reported and
// not overwritten, Reload, the VM page's Edit.
async function vmEdit(page, url, admin, deskId) {
  const vm = (await http(url, 'POST', '/v1/vms', admin, {name: 'edit1', memory_mib: 1024, vcpus: 1})).json;
  const other = await http(url, 'POST', '/v1/vms', admin, {name: 'taken1'});
  ok(vm && vm.id && other.status === 201, 'VMs edit1 and taken1 are created through the API', JSON.stringify(vm));
  const patches = []; // the portal's PATCHes: body, If-Match, the engine's status
  const onReq = (r) => { if (r.method() === 'PATCH') patches.push({body: r.postData(), ifMatch: r.headers()['if-match'], status: 0}); };
  const onResp = (r) => {
    const p = patches.find((x) => !x.status && r.request().method() === 'PATCH');
    if (p) p.status = r.status();
  };
  page.on('request', onReq);
  page.on('response', onResp);
  const shown = () => patches.map((p) => JSON.stringify(p)).join('\n');
  await page.goto(`${url}/#/vms`);
  const row = page.locator('tr[data-vm="edit1"]');
  await row.waitFor();

  // by keyboard: Enter on the row's Edit, the focus in Name, the values the engine has
  await row.getByRole('button', {name: 'Edit edit1'}).focus();
  await page.keyboard.press('Enter');
  const dlg = page.getByRole('dialog', {name: 'Edit edit1'});
  await dlg.waitFor();
  const nameIn = dlg.getByLabel('Name', {exact: true});
  const memIn = dlg.getByLabel('Memory (MiB)');
  const cpuIn = dlg.getByLabel('vCPUs');
  ok(await nameIn.evaluate((e) => e === document.activeElement), 'the Edit dialog puts the focus in Name');
  ok(await nameIn.inputValue() === 'edit1' && await memIn.inputValue() === '1024' && await cpuIn.inputValue() === '1',
    'the Edit dialog shows the VM\'s name, memory and vCPUs');
  // the focus trap: Tab through every control and back, never leaving the dialog
  let inside = true;
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab');
    inside = inside && await dlg.evaluate((d) => d.contains(document.activeElement));
  }
  ok(inside, 'Tab keeps the focus inside the Edit dialog');
  await shot(page, '36-vm-edit-dialog');

  // the engine's rules, in the dialog, before anything is sent
  await nameIn.fill('-bad name');
  await memIn.fill('8');
  await cpuIn.fill('2000');
  await dlg.getByRole('button', {name: 'Save edit1'}).click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=edit-vm] [aria-invalid=true]').length === 3);
  const helps = await dlg.locator('.pf-v6-c-helper-text__item.pf-m-error').allTextContents();
  ok(/1 to 64 of A-Z a-z 0-9/.test(helps[0] || '') && /from 16 to 16777216/.test(helps[1] || '') && /from 1 to 1024/.test(helps[2] || ''),
    'a bad name, memory and vCPU count are each refused under their field in the engine\'s words', helps.join(' | '));
  ok(await nameIn.evaluate((e) => e === document.activeElement), 'the focus goes to the first wrong field');
  ok(await memIn.getAttribute('aria-describedby') !== null && await memIn.getAttribute('aria-invalid') === 'true', 'the wrong field is marked invalid for assistive technology');
  ok(patches.length === 0, 'nothing is sent while a field breaks a rule', shown());
  await shot(page, '37-vm-edit-invalid');

  // a name another VM has: the engine's refusal in the dialog
  await nameIn.fill('taken1');
  await memIn.fill('1024');
  await cpuIn.fill('1');
  await dlg.getByRole('button', {name: 'Save edit1'}).click();
  const takenAlert = dlg.locator('.hd-edit-messages .pf-v6-c-alert').first();
  await takenAlert.waitFor();
  const taken = await text(takenAlert);
  ok(/name is taken/i.test(taken) && /taken1/.test(taken), 'a name another VM has is refused in words in the dialog', taken);
  ok(await dlg.isVisible(), 'the dialog stays open after a refusal');

  // name and memory by keyboard; Enter saves; the list shows the new values
  await nameIn.fill('');
  await nameIn.focus();
  await page.keyboard.type('edit2');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('4096');
  await page.keyboard.press('Enter');
  await dlg.waitFor({state: 'detached'});
  const row2 = page.locator('tr[data-vm="edit2"]');
  await row2.waitFor();
  ok(/4096 MiB/.test(await text(row2)) && await page.locator('tr[data-vm="edit1"]').count() === 0,
    'after Save the VMs list shows edit2 with 4096 MiB, and no edit1', await text(row2));
  const saved = (await http(url, 'GET', `/v1/vms/${vm.id}`, admin)).json;
  ok(saved.name === 'edit2' && saved.memory_mib === 4096 && saved.vcpus === 1, 'the engine has the new name and memory, the vCPUs untouched', JSON.stringify(saved));
  ok(patches.length === 2 && JSON.stringify(JSON.parse(patches[1].body)) === '{"name":"edit2","memory_mib":4096}',
    'the PATCH carries only the members that changed', shown());
  ok(patches.length === 2 && patches.every((p) => /^"vm-[0-9a-f]+"$/.test(p.ifMatch || '')),
    'each PATCH carries the VM\'s ETag in If-Match', shown());
  ok(/saved/.test(await alertText(page)), 'the page says the edit was saved');

  // the VMs list re-reads on every VM event; one that changes nothing it shows (taken1 edited
  // while the list shows edit* only) leaves its buttons as they are
  const vmFilter = page.getByRole('searchbox', {name: 'Filter VMs by name prefix'});
  await vmFilter.fill('edit');
  await page.waitForFunction(() => document.querySelectorAll('tr[data-vm]').length === 1);
  const listedEdit = await row2.getByRole('button', {name: 'Edit edit2'}).elementHandle();
  await afterReread(page, '/v1/vms', () => http(url, 'PATCH', `/v1/vms/${other.json.id}`, admin, {vcpus: 2}));
  ok(await listedEdit.evaluate((b) => b.isConnected), 'a re-read of the VMs list that changes nothing keeps its rows\' buttons (no click lost to a swap)');
  await vmFilter.fill('');
  await page.locator('tr[data-vm="taken1"]').waitFor();

  // a concurrent change: the VM's page, Edit open, the memory changed through the API, then Save
  await row2.getByRole('link', {name: 'edit2'}).click();
  await page.getByRole('heading', {name: 'edit2'}).waitFor();
  await page.getByRole('button', {name: 'Edit edit2'}).click();
  const dlg2 = page.getByRole('dialog', {name: 'Edit edit2'});
  await dlg2.waitFor();
  const theirs = await http(url, 'PATCH', `/v1/vms/${vm.id}`, admin, {memory_mib: 8192});
  ok(theirs.status === 200, 'someone else changes the memory through the API while the dialog is open', JSON.stringify(theirs.json));
  await dlg2.getByLabel('vCPUs').fill('4');
  await dlg2.getByRole('button', {name: 'Save edit2'}).click();
  const conflict = page.getByTestId('edit-conflict');
  await conflict.waitFor();
  const ctext = await text(conflict);
  ok(/changed by someone else: reload/.test(ctext) && /memory \(MiB\) 4096 → 8192/.test(ctext),
    'Save after a concurrent change says "changed by someone else: reload" and what changed', ctext);
  const kept = (await http(url, 'GET', `/v1/vms/${vm.id}`, admin)).json;
  ok(kept.memory_mib === 8192 && kept.vcpus === 1 && patches.length === 3 && patches[2].status === 412,
    'the other change is not overwritten: the engine refused the stale If-Match with 412', `${JSON.stringify(kept)}\n${shown()}`);
  await shot(page, '38-vm-edit-conflict');
  await conflict.getByRole('button', {name: 'Reload edit2'}).click();
  await page.waitForFunction(() => document.querySelector('[data-testid=edit-vm] input[type=number]').value === '8192');
  ok(await page.getByTestId('edit-conflict').count() === 0, 'Reload shows the VM as it is now (8192 MiB) and clears the conflict');
  await dlg2.getByLabel('vCPUs').fill('4');
  await dlg2.getByRole('button', {name: 'Save edit2'}).click();
  await dlg2.waitFor({state: 'detached'});
  await page.waitForFunction(() => {
    const dt = [...document.querySelectorAll('.hd-vm-general dt')].find((d) => d.textContent === 'vCPUs');
    return dt && dt.nextElementSibling.textContent === '4';
  });
  const after = (await http(url, 'GET', `/v1/vms/${vm.id}`, admin)).json;
  ok(after.vcpus === 4 && after.memory_mib === 8192, 'after Reload the edit is saved on top of the other change; General shows 4 vCPUs', JSON.stringify(after));

  // the VM page re-reads on the VM's events: the memory changed through the API shows in General,
  // the header (which does not show the memory) is left as it is, and its Edit, made before the
  // change, opens on the VM as it is now (its handler does not use the VM it was built with)
  await clearMessages(page);
  const headerEdit = await page.getByRole('button', {name: 'Edit edit2'}).elementHandle();
  const changed = await http(url, 'PATCH', `/v1/vms/${vm.id}`, admin, {memory_mib: 2048});
  ok(changed.status === 200, 'the memory is changed through the API while the VM\'s page is open', JSON.stringify(changed.json));
  await page.waitForFunction(() => {
    const dt = [...document.querySelectorAll('.hd-vm-general dt')].find((d) => d.textContent === 'Memory');
    return dt && dt.nextElementSibling.textContent === '2048 MiB';
  });
  ok(await headerEdit.evaluate((b) => b.isConnected), 'a re-read of the VM that changes nothing its header shows keeps the header\'s buttons (no click lost to a swap)');
  await page.getByRole('button', {name: 'Edit edit2'}).click();
  const dlg3 = page.getByRole('dialog', {name: 'Edit edit2'});
  await dlg3.waitFor();
  ok(await dlg3.getByLabel('Memory (MiB)').inputValue() === '2048' && await dlg3.getByLabel('vCPUs').inputValue() === '4',
    'the header\'s Edit, kept across the re-read, shows the VM as it is now (2048 MiB), not as it was when the button was made');
  await dlg3.getByRole('button', {name: 'Cancel'}).click();
  await dlg3.waitFor({state: 'detached'});

  // a tab kept across a re-read opens its dialog on the VM as it is now: edit2 is pinned to
  // desk1 by a host device added through the API, which its USB and SCSI tab does not show;
  // the tab's Add USB device, made while edit2 had no host, knows the host it is pinned to
  await page.getByRole('tab', {name: 'USB and SCSI'}).click();
  const addUsb = page.getByRole('button', {name: 'Add USB device', exact: true});
  await addUsb.waitFor();
  const addUsbEl = await addUsb.elementHandle();
  const free = (await http(url, 'GET', `/v1/hosts/${deskId}/devices`, admin)).json.devices
    .find((d) => d.assignable && !d.is_bridge && !d.address.startsWith('0000:01:00.'));
  const pinned = free && await http(url, 'POST', `/v1/vms/${vm.id}/devices`, admin, {host_id: deskId, addresses: [free.address]});
  ok(pinned && pinned.status === 200, `a host device of desk1 (${free && free.address}) is added to edit2 through the API: it pins edit2 to desk1`,
    pinned && JSON.stringify(pinned.json));
  await page.locator('.hd-on-host', {hasText: 'desk1'}).waitFor();
  ok(await addUsbEl.evaluate((b) => b.isConnected), 'a re-read that changes nothing the VM\'s USB and SCSI tab shows keeps its buttons');
  await addUsb.click();
  const dlg4 = page.getByRole('dialog', {name: 'Add a USB device to edit2'});
  await dlg4.waitFor();
  const hostLine = await text(dlg4.locator('form > div').first());
  ok(/Host: desk1 \(the VM is pinned there/.test(hostLine) && await dlg4.getByLabel('Host', {exact: true}).count() === 0,
    'the kept Add USB device opens on the VM as it is now: pinned to desk1, no host to pick', hostLine);
  await dlg4.getByRole('button', {name: 'Cancel'}).click();
  await dlg4.waitFor({state: 'detached'});
  page.off('request', onReq);
  page.off('response', onResp);
}

async function viewerSession(browser, url, viewer, ids) {
  const page = await newPage(browser);
  await login(page, url, viewer);
  page.problems.length = 0;
  const mutating = /^(Maintenance|Reboot|Reboot now|Activate|Refresh|Remove|Add host|Apply|Create VM|Edit|Start|Stop|Destroy|Delete|Add host devices)/;
  const check = async (where) => {
    const b = await page.getByRole('button').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') || e.textContent.trim()));
    ok(!b.some((x) => mutating.test(x)), `a viewer sees no mutating button on ${where}`, b.join(', '));
  };
  await page.locator('tr[data-host="office"]').waitFor();
  await check('Hosts');
  await page.goto(`${url}/#/hosts/${ids.office}/kernel`);
  await page.locator('.hd-kopt').first().waitFor();
  await page.getByTestId('kernel-configured').waitFor();
  await check('the Kernel tab');
  ok(await page.locator('.hd-kopt input[type=checkbox]').evaluateAll((els) => els.every((e) => e.disabled)), 'a viewer\'s kernel options are read-only');
  await shot(page, '33-viewer-kernel');
  await page.goto(`${url}/#/vms`);
  await page.locator('tr[data-vm="win10"]').waitFor();
  await check('VMs');
  await page.locator('tr[data-vm="win10"]').getByRole('link', {name: 'win10'}).click();
  await page.getByRole('heading', {name: 'win10'}).waitFor();
  await page.getByRole('tab', {name: 'Host devices'}).click();
  await page.locator('tr[data-address="0000:01:00.1"]').waitFor();
  await check('the VM\'s Host devices');
  ok(await page.getByRole('button', {name: /^Edit/}).count() === 0, 'a viewer has no Edit button on the VM\'s page');
  await shot(page, '34-viewer-vm-devices');
  const status = await page.evaluate(async () => (await fetch('/v1/vms', {method: 'POST', credentials: 'same-origin',
    headers: {'Content-Type': 'application/json', 'X-Hostdev-CSRF': '1'}, body: JSON.stringify({name: 'x'})})).status);
  ok(status === 403, 'a viewer\'s Create VM by hand is 403', String(status));
  const win10 = (await page.evaluate(async () => (await fetch('/v1/vms?name_prefix=win10', {credentials: 'same-origin'})).json())).vms[0];
  const edit = await page.evaluate(async (id) => (await fetch(`/v1/vms/${id}`, {method: 'PATCH', credentials: 'same-origin',
    headers: {'Content-Type': 'application/json', 'X-Hostdev-CSRF': '1'}, body: JSON.stringify({vcpus: 2})})).status, win10.id);
  ok(edit === 403, 'a viewer\'s edit of a VM by hand is 403', String(edit));
  const violations = await page.evaluate(() => window.__cspViolations.slice());
  const problems = page.problems.filter((p) => !/status of 403|answer 403/.test(p));
  ok(violations.length === 0 && problems.length === 0, 'no CSP violation or console error in the viewer\'s session', [...violations, ...problems].join('\n'));
  await page.context().close();
}

run(main);
