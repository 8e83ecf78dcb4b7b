#!/usr/bin/env node
// Self-test of check-answers.mjs (scripts/test): a small document and hand-made answers, each
// case checking that a disagreement is found (and an agreement is not). Prints TAP.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'check-answers-'));
const spec = path.join(work, 'spec.yaml');
fs.writeFileSync(spec, `openapi: 3.0.3
info: { title: t, version: "1" }
paths:
  /things/{id}:
    get:
      operationId: getThing
      responses:
        "200":
          description: a thing
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Thing" }
        "304": { description: not modified }
        "404": { $ref: "#/components/responses/NotFound" }
  /metrics:
    get:
      operationId: getMetrics
      responses:
        "200":
          description: text
          content:
            text/plain:
              schema: { type: string }
components:
  responses:
    NotFound:
      description: none
      content:
        application/json:
          schema: { $ref: "#/components/schemas/Error" }
  schemas:
    Error:
      type: object
      required: [error]
      properties:
        error:
          type: object
          required: [code]
          properties: { code: { type: string, enum: [not-found, bad-request] } }
    Group:
      type: object
      required: [group]
      properties: { group: { type: integer } }
    Thing:
      type: object
      required: [name, group]
      properties:
        name: { type: string, example: x }
        size: { type: integer, nullable: true }
        group:
          type: object
          nullable: true
          allOf:
            - $ref: "#/components/schemas/Group"
`);

const thing = (group = { group: 3 }, extra = {}) => JSON.stringify({ name: 'a', size: null, group, ...extra });
const ok200 = { method: 'GET', path: '/things/7', status: 200, content_type: 'application/json', body: thing() };
const metrics = { method: 'GET', path: '/metrics', status: 200, content_type: 'text/plain; version=0.0.4', body: 'x 1\n' };

// [name, answers, expected exit status, text the output must contain]
const cases = [
  ['agreeing answers pass', [ok200, metrics], 0, 'ok 1 - getThing'],
  ['null for a nullable $ref (allOf) passes', [{ ...ok200, body: thing(null) }, metrics], 0, 'ok 1 - getThing'],
  ['a query string is not part of the template', [{ ...ok200, path: '/things/7?x=1' }, metrics], 0, 'ok 1 - getThing'],
  ['a 304 without a body passes', [ok200, { ...ok200, status: 304, content_type: null, body: '' }, metrics], 0, 'ok 1 - getThing'],
  ['a wrong type fails', [{ ...ok200, body: thing({ group: 'three' }) }, metrics], 1, 'must be integer'],
  ['a missing required member fails', [{ ...ok200, body: '{"name":"a"}' }, metrics], 1, "must have required property 'group'"],
  ['an undocumented status fails', [ok200, { ...ok200, status: 409, body: '{"error":{"code":"not-found"}}' }, metrics], 1,
    'status 409 is not documented for getThing'],
  ['an error code outside the enum fails', [ok200, { ...ok200, status: 404, body: '{"error":{"code":"nope"}}' }, metrics], 1,
    'must be equal to one of the allowed values'],
  ['a body that is not JSON fails', [{ ...ok200, body: '<html>' }, metrics], 1, 'the body is not JSON'],
  ['an undocumented Content-Type fails', [{ ...ok200, content_type: 'text/html' }, metrics], 1, 'is not one of application/json'],
  ['a body on a bodyless response fails', [ok200, { ...ok200, status: 304, body: '{}' }, metrics], 1, 'a body where none is documented'],
  ['a body that is not UTF-8 fails', [{ ...ok200, body_utf8: false }, metrics], 1, 'not valid UTF-8'],
  ['an uncovered operation fails and is listed', [ok200], 1, 'operations no answer covered: getMetrics'],
  ['an unknown path must be 404', [ok200, metrics, { ...ok200, path: '/nothing', status: 200 }], 1, 'must be 404'],
  ['an unknown path answered 404 passes', [ok200, metrics, { ...ok200, path: '/nothing', status: 404, body: '{"error":{"code":"not-found"}}' }], 0,
    'errors: 1'],
  ['a method the path lacks must be 405', [ok200, metrics, { ...ok200, method: 'DELETE', status: 404, body: '{"error":{"code":"not-found"}}' }], 1,
    'must be 405'],
  ['no answers at all fail', [], 1, 'no answer-*.json'],
];

console.log(`1..${cases.length}`);
let failed = 0;
cases.forEach(([name, answers, wantStatus, wantText], i) => {
  const dir = path.join(work, `case-${i}`);
  fs.mkdirSync(dir);
  answers.forEach((a, n) =>
    fs.writeFileSync(path.join(dir, `answer-1-${String(n).padStart(5, '0')}.json`), JSON.stringify({ test: name, body_utf8: true, ...a })));
  const r = spawnSync(process.execPath, [path.join(here, 'check-answers.mjs'), '--spec', spec, dir], { encoding: 'utf8' });
  const good = r.status === wantStatus && r.stdout.includes(wantText);
  if (!good) failed++;
  console.log(`${good ? 'ok' : 'not ok'} ${i + 1} - check-answers: ${name}`);
  if (!good) {
    console.log(`# exit ${r.status} (wanted ${wantStatus}), output lacks or has: ${wantText}`);
    for (const line of (r.stdout + r.stderr).split('\n')) console.log(`#   ${line}`);
  }
});
fs.rmSync(work, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
