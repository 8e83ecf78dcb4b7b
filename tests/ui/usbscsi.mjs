#!/usr/bin/env node
// USB devices and SCSI LUNs in the portal, in Debian's chromium driven by playwright-core: a real
// hostdev-engine serving build/web and two real hostdevd agents on fixture roots (sim backend):
// "usb-desk" (a keyboard, a mouse, a hub with two FTDI adapters told apart by serial, a dongle, a
// stick) and "scsi-server" (a disk, a tape, a changer, a LIO LUN, an LVM disk).
//   - the host's USB and SCSI tabs list each device with its identity (vendor:product:serial,
//     port path; WWID, H:C:T:L, block device, host use) and its verdict in words;
//   - a VM's "USB and SCSI" tab: Add opens a dialog choosing from the host's list, by keyboard;
//     never-assignable devices are disabled with the reason; the engine's one-owner refusal is
//     shown naming the VM that has it; Remove; a second VM takes the device once it is free and
//     starts with it; while it runs, Add and Remove are disabled, saying why;
//   - a viewer sees no Add or Remove; axe-core finds no serious or critical violation on each.
// Prints TAP; the scaffolding (servers, browser, axe, bounds) is harness.mjs's.
import {harness} from './harness.mjs';

const {ok, http, agentOn, engineUp, addHost, launch, newPage, shot, noProblems, refusalInDialog, login, run} = harness('usbscsi');

async function hostTabs(page, url, desk, srv) {
  await page.goto(`${url}/#/hosts/${desk}/general`);
  await page.getByRole('tab', {name: 'USB'}).click();
  const ftdi = page.locator('tr[data-port="1-3.1"]');
  await ftdi.waitFor();
  const t = await ftdi.textContent();
  ok(t.includes('0403:6001:A10K7XYZ') && /Assignable/.test(t), 'the USB tab names the adapter by vendor:product:serial and says it is assignable', t);
  const hub = await page.locator('tr[data-port="1-3"]').textContent();
  ok(/Never \(hub\)/.test(hub), 'the hub is never assignable, in words', hub);
  const kbd = await page.locator('tr[data-port="1-1"]').textContent();
  ok(/Host needs it/.test(kbd) && /keyboard/i.test(kbd), 'the only keyboard: the host needs it, and why', kbd);
  ok(await page.locator('tr[data-port^="usb"]').count() === 0, 'root hubs are left out');
  await shot(page, '01-host-usb');

  await page.goto(`${url}/#/hosts/${srv}/scsi`);
  const tape = page.locator('tr[data-hctl="0:0:1:0"]');
  await tape.waitFor();
  const tt = await tape.textContent();
  ok(tt.includes('naa.50014380272a1b2c') && /tape/i.test(tt) && /Assignable/.test(tt), 'the SCSI tab shows the tape by WWID, its type and verdict', tt);
  const disk = await page.locator('tr[data-hctl="0:0:0:0"]').textContent();
  ok(disk.includes('/dev/sda') && !/Assignable/.test(disk), 'the host\'s disk shows its block device and is not assignable', disk);
  await shot(page, '02-host-scsi');
}

// Add through the dialog by keyboard: Enter on the opener, the host when the VM is not pinned
// yet, the radio of @spec and Space, then Enter on Add.
async function addByKeyboard(page, kind, spec, hostId) {
  const opener = page.getByRole('button', {name: kind === 'usb' ? 'Add USB device' : 'Add SCSI LUN', exact: true});
  await opener.focus();
  await page.keyboard.press('Enter');
  const dlg = page.getByRole('dialog');
  await dlg.waitFor();
  const host = dlg.getByLabel('Host', {exact: true});
  await host.or(dlg.locator('[data-spec] input[type=radio]').first()).first().waitFor();
  if (await host.count()) await host.selectOption(hostId);
  const radio = dlg.locator(`[data-spec="${spec}"] input[type=radio]`);
  await radio.waitFor();
  await radio.focus();
  await page.keyboard.press('Space');
  await dlg.getByRole('button', {name: kind === 'usb' ? 'Add the picked USB device' : 'Add the picked SCSI LUN'}).focus();
  await page.keyboard.press('Enter');
  return dlg;
}

async function vmTab(page, url, engine, admin, desk) {
  const mk = async (name) => (await http(engine, 'POST', '/v1/vms', admin, {name, memory_mib: 1024, vcpus: 1})).json.id;
  const lab = await mk('lab');
  const build = await mk('build');
  await page.goto(`${url}/#/vms/${lab}/general`);
  await page.getByRole('tab', {name: 'USB and SCSI'}).click();
  await page.getByRole('button', {name: 'Add USB device', exact: true}).waitFor();
  await shot(page, '03-vm-usbscsi-empty');

  // the dialog: pick the host (the VM is not pinned yet), then the adapter, by keyboard
  const opener = page.getByRole('button', {name: 'Add USB device', exact: true});
  await opener.focus();
  await page.keyboard.press('Enter');
  const dlg = page.getByRole('dialog');
  await dlg.getByLabel('Host', {exact: true}).selectOption(desk);
  await dlg.locator('[data-spec="0403:6001:A10K7XYZ"] input[type=radio]').waitFor();
  const hubRadio = dlg.locator('.hd-pick', {hasText: 'USB2.0 Hub'}).locator('input');
  ok(await hubRadio.isDisabled(), 'the dialog disables the hub');
  const hubWhy = await dlg.locator('.hd-pick', {hasText: 'USB2.0 Hub'}).textContent();
  ok(/never/.test(hubWhy), 'and says why', hubWhy);
  await shot(page, '04-add-usb-dialog');
  await dlg.locator('[data-spec="0403:6001:A10K7XYZ"] input[type=radio]').focus();
  await page.keyboard.press('Space');
  await dlg.getByRole('button', {name: 'Add the picked USB device'}).focus();
  await page.keyboard.press('Enter');
  const row = page.locator('tr[data-usb="0403:6001:A10K7XYZ"]');
  await row.waitFor();
  ok(await page.getByRole('dialog').count() === 0, 'the dialog closes after the engine took it');
  ok(/on host\s*desk1/.test(await page.locator('.hd-on-host').textContent()), 'the VM is pinned to desk1');
  const v = await http(engine, 'GET', `/v1/vms/${lab}`, admin);
  ok(v.json.usb.length === 1 && v.json.usb[0].spec === '0403:6001:A10K7XYZ' && v.json.usb[0].n === 1,
    'the engine has the spec with its number', JSON.stringify(v.json.usb));

  // the host's USB tab names the owner
  await page.goto(`${url}/#/hosts/${desk}/usb`);
  await page.locator('tr[data-port="1-3.1"]').waitFor();
  await page.waitForFunction(() => /lab/.test(document.querySelector('tr[data-port="1-3.1"]').textContent));
  ok(true, 'the host\'s USB tab shows the adapter given to lab');

  // one owner: build is refused the adapter, in the engine's words naming lab
  await page.goto(`${url}/#/vms/${build}/usbscsi`);
  await page.getByRole('button', {name: 'Add USB device', exact: true}).waitFor();
  const opener2 = page.getByRole('button', {name: 'Add USB device', exact: true});
  await opener2.focus();
  await page.keyboard.press('Enter');
  const dlg2 = page.getByRole('dialog');
  await dlg2.getByLabel('Host', {exact: true}).selectOption(desk);
  await dlg2.locator('[data-spec="0403:6001:A10K7XYZ"] input[type=radio]').waitFor();
  await dlg2.locator('[data-spec="0403:6001:A10K7XYZ"] input[type=radio]').check();
  const rt = await refusalInDialog(page, dlg2, 'Add the picked USB device', '05-add-usb-in-use');
  ok(/VM lab's/.test(rt) && /one owner/.test(rt), 'the one-owner refusal names the VM that has the device', rt);

  // Remove on lab (keyboard), then build takes it
  await page.goto(`${url}/#/vms/${lab}/usbscsi`);
  const rm = page.getByRole('button', {name: 'Remove USB device 1 0403:6001:A10K7XYZ'});
  await rm.waitFor();
  await rm.focus();
  await page.keyboard.press('Enter');
  await page.locator('tr[data-usb="0403:6001:A10K7XYZ"]').waitFor({state: 'detached'});
  ok(true, 'Remove takes the device from lab');
  await page.goto(`${url}/#/vms/${build}/usbscsi`);
  await page.getByRole('button', {name: 'Add USB device', exact: true}).waitFor();
  await addByKeyboard(page, 'usb', '0403:6001:A10K7XYZ', desk);
  await page.locator('tr[data-usb="0403:6001:A10K7XYZ"]').waitFor();
  ok(true, 'build takes the adapter once lab gave it back');

  await page.getByRole('tab', {name: 'General'}).click();
  await page.locator('.hd-vm-general').waitFor();
  ok(/USB and SCSI\s*1 USB device/.test(await page.locator('.hd-vm-general').textContent()), 'General counts the VM\'s USB device');
  await page.getByRole('tab', {name: 'USB and SCSI'}).click();
  await page.getByRole('button', {name: 'Add USB device', exact: true}).waitFor();

  // running: Add and Remove are disabled, saying why
  const st = await http(engine, 'POST', `/v1/vms/${build}/start`, admin);
  ok(st.status === 200 && st.json.state === 'running', 'build starts with the adapter (the agent found it by its spec)', JSON.stringify(st.json));
  await page.getByTestId('usbscsi-locked').waitFor();
  ok(await page.getByRole('button', {name: 'Add USB device', exact: true}).isDisabled() &&
    await page.getByRole('button', {name: 'Remove USB device 1 0403:6001:A10K7XYZ'}).isDisabled(),
  'while the VM runs, Add and Remove are disabled');
  ok(/only while it is down/.test(await page.getByTestId('usbscsi-locked').textContent()), 'and the page says why');
  await shot(page, '05b-vm-running');
  return {lab, build};
}

async function scsiVm(page, url, engine, admin, srv) {
  const id = (await http(engine, 'POST', '/v1/vms', admin, {name: 'backup', memory_mib: 1024, vcpus: 1})).json.id;
  await page.goto(`${url}/#/vms/${id}/usbscsi`);
  const opener = page.getByRole('button', {name: 'Add SCSI LUN', exact: true});
  await opener.waitFor();
  await opener.focus();
  await page.keyboard.press('Enter');
  const dlg = page.getByRole('dialog');
  await dlg.getByLabel('Host', {exact: true}).selectOption(srv);
  const tape = dlg.locator('[data-spec="naa.50014380272a1b2c"] input[type=radio]');
  await tape.waitFor();
  await tape.focus();
  await page.keyboard.press('Space');
  await dlg.getByLabel('Shareable: other VMs may take it shareable too').check();
  await shot(page, '06-add-scsi-dialog');
  await dlg.getByRole('button', {name: 'Add the picked SCSI LUN'}).click();
  const row = page.locator('tr[data-scsi="naa.50014380272a1b2c"]');
  await row.waitFor();
  const t = await row.textContent();
  ok(/yes/.test(t), 'the VM lists the tape by WWID, shareable', t);
  await shot(page, '07-vm-scsi');
}

async function viewer(browser, url, token, vmId) {
  const page = await newPage(browser);
  await login(page, url, token);
  await page.goto(`${url}/#/vms/${vmId}/usbscsi`);
  await page.locator('tr[data-usb]').first().waitFor();
  ok(await page.getByRole('button', {name: /Add USB device|Remove/}).count() === 0, 'a viewer sees no Add or Remove');
  await shot(page, '08-viewer');
  await page.context().close();
}

async function main() {
  const usbAgent = await agentOn('usb-desk');
  const scsiAgent = await agentOn('scsi-server');
  const engine = await engineUp();
  const desk = await addHost(engine.url, engine.admin, 'desk1', usbAgent);
  const srv = await addHost(engine.url, engine.admin, 'srv1', scsiAgent);

  const browser = await launch();
  try {
    const page = await newPage(browser);
    await login(page, engine.url, engine.admin);
    await hostTabs(page, engine.url, desk, srv);
    const {build} = await vmTab(page, engine.url, engine.url, engine.admin, desk);
    await scsiVm(page, engine.url, engine.url, engine.admin, srv);
    await noProblems(page);
    await page.context().close();
    await viewer(browser, engine.url, engine.viewer, build);
  } finally {
    await browser.close();
  }
}

run(main);
