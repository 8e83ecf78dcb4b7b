#!/usr/bin/env node
// Every package in package-lock.json must accept the node and npm of a clean Debian 12 (nodejs
// 18.19, npm 9.2), which CI and new users run: a lock refreshed on a newer node would
// otherwise pull in a release that needs node 20 and break only there.
//
//   node check-engines.mjs [--lock PACKAGE-LOCK.json] [NODE_VERSION [NPM_VERSION]]
// (default: tools/api's own lock; the portal's are web/ and tests/ui/)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
let lockFile = path.join(here, 'package-lock.json');
if (argv[0] === '--lock') {
  lockFile = argv[1];
  argv.splice(0, 2);
}
const nodeVersion = argv[0] || '18.19.0';
const npmVersion = argv[1] || '9.2.0';
const lock = JSON.parse(fs.readFileSync(lockFile, 'utf8'));
const bad = [];
for (const [name, pkg] of Object.entries(lock.packages || {})) {
  const engines = pkg.engines;
  if (!engines || Array.isArray(engines)) continue;
  const label = `${name || '(root)'}@${pkg.version || ''}`;
  if (engines.node && !semver.satisfies(nodeVersion, engines.node))
    bad.push(`${label} needs node ${engines.node}`);
  if (engines.npm && !semver.satisfies(npmVersion, engines.npm))
    bad.push(`${label} needs npm ${engines.npm}`);
}
for (const b of bad) console.log(`# ${b}`);
console.log(`# ${Object.keys(lock.packages || {}).length} locked packages checked against node ${nodeVersion}, npm ${npmVersion}`);
process.exit(bad.length ? 1 : 0);
