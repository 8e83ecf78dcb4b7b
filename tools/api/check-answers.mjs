#!/usr/bin/env node
// Checks the agent's recorded answers against docs/api/openapi.yaml and prints TAP.
//
//   node check-answers.mjs [--spec FILE] ANSWERS_DIR
//
// ANSWERS_DIR holds the answer-*.json files tests/test-agent.c writes when HOSTDEV_API_ANSWERS
// is set: {test, method, path, status, content_type, body_utf8, body}. Each answer is matched to
// the operation whose path template and method fit (HEAD is GET without a body); then:
//   - its status must be documented for that operation (exactly, or as 4XX/5XX, or default);
//   - its Content-Type must be one the response documents, and a response documented without
//     content must have an empty body;
//   - its body must be valid UTF-8 and validate against the response schema ($refs resolved,
//     OpenAPI 3.0's nullable turned into JSON Schema's null type), where an object that lists
//     its properties is closed: a member the document does not name is a disagreement.
// An answer to a path no operation has must be 404, and to a documented path with a method it
// does not have 405 (or, refused before routing, 400 bad-request), all with the Error schema.
// One TAP line per operation (not ok when an answer disagrees or no answer covers it), one for
// the answers outside the operations; the uncovered operations are listed.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';

const here = path.dirname(fileURLToPath(import.meta.url));
let specFile = path.join(here, '..', '..', 'docs', 'api', 'openapi.yaml');
const args = process.argv.slice(2);
let dir = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--spec') specFile = args[++i];
  else if (!dir) dir = args[i];
  else {
    console.error(`check-answers: unexpected argument ${args[i]}`);
    process.exit(2);
  }
}
if (!dir) {
  console.error('usage: check-answers.mjs [--spec FILE] ANSWERS_DIR');
  process.exit(2);
}

const doc = yaml.load(fs.readFileSync(specFile, 'utf8'));
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

// A local reference ("#/components/...") to the object it names.
function lookup(ref) {
  if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported: ${ref}`);
  let node = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw.replace(/~1/g, '/').replace(/~0/g, '~'));
    if (node === undefined || node === null || !(key in node)) throw new Error(`unresolved $ref ${ref}`);
    node = node[key];
  }
  return node;
}

function deref(node) {
  const seen = new Set();
  while (node && typeof node === 'object' && typeof node.$ref === 'string') {
    if (seen.has(node.$ref)) throw new Error(`$ref cycle at ${node.$ref}`);
    seen.add(node.$ref);
    node = lookup(node.$ref);
  }
  return node;
}

// allOf of object schemas merged into one (properties and required united), so that the
// merged object can be closed below.
function mergeAllOf(schema, stack) {
  const merged = { ...schema };
  delete merged.allOf;
  merged.properties = { ...(schema.properties || {}) };
  const required = new Set(schema.required || []);
  for (let branch of schema.allOf) {
    if (branch.$ref) {
      if (stack.includes(branch.$ref)) throw new Error(`recursive schema ${branch.$ref}`);
      stack = [...stack, branch.$ref];
      branch = lookup(branch.$ref);
    }
    if (branch.allOf) branch = mergeAllOf(branch, stack);
    for (const [k, v] of Object.entries(branch)) {
      if (k === 'properties') Object.assign(merged.properties, v);
      else if (k === 'required') v.forEach((r) => required.add(r));
      else if (k === 'type' && merged.type && merged.type !== v) throw new Error(`allOf of ${merged.type} and ${v}`);
      else if (!(k in merged) && k !== 'description' && k !== 'nullable') merged[k] = v;
    }
  }
  if (required.size) merged.required = [...required];
  if (Object.keys(merged.properties).length === 0) delete merged.properties;
  return merged;
}

// An OpenAPI 3.0 schema object to a JSON Schema (draft 7) that Ajv validates: $refs inlined,
// nullable as a null alternative, the OpenAPI-only annotations dropped, allOf merged, and every
// object with properties closed (additionalProperties false unless the document says
// otherwise), so that a member the agent sends but the document does not name fails: answers'
// shapes are the contract.
function toJsonSchema(schema, stack = []) {
  if (typeof schema === 'boolean') return schema;
  if (schema.$ref) {
    if (stack.includes(schema.$ref)) throw new Error(`recursive schema ${schema.$ref}`);
    return toJsonSchema(lookup(schema.$ref), [...stack, schema.$ref]);
  }
  if (schema.allOf) schema = mergeAllOf(schema, stack);
  const out = {};
  for (const [k, v] of Object.entries(schema)) {
    switch (k) {
      case 'nullable':
      case 'example':
      case 'xml':
      case 'externalDocs':
      case 'discriminator':
        break;
      case 'properties':
        out.properties = Object.fromEntries(
          Object.entries(v).map(([name, s]) => [name, toJsonSchema(s, stack)]));
        break;
      case 'items':
      case 'not':
        out[k] = toJsonSchema(v, stack);
        break;
      case 'additionalProperties':
        out[k] = typeof v === 'object' ? toJsonSchema(v, stack) : v;
        break;
      case 'allOf':
      case 'anyOf':
      case 'oneOf':
        out[k] = v.map((s) => toJsonSchema(s, stack));
        break;
      default:
        out[k] = v;
    }
  }
  if (out.properties && !('additionalProperties' in out)) out.additionalProperties = false;
  if (schema.nullable === true) return { anyOf: [{ type: 'null' }, out] };
  return out;
}

const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
addFormats(ajv);

// The operations: method, path template as a regular expression, responses.
const operations = [];
for (const [template, item] of Object.entries(doc.paths || {})) {
  const re = new RegExp(
    '^' + template.split(/(\{[^}]+\})/).map((part) =>
      part.startsWith('{') ? '([^/]+)' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('') + '$');
  for (const method of METHODS) {
    if (!item[method]) continue;
    const op = item[method];
    operations.push({
      id: op.operationId || `${method.toUpperCase()} ${template}`,
      method: method.toUpperCase(),
      template,
      re,
      responses: op.responses || {},
      answers: 0,
      statuses: new Set(),
      failures: [],
    });
  }
}

const validators = new Map();
function validatorFor(key, schema) {
  if (!validators.has(key)) validators.set(key, ajv.compile(toJsonSchema(schema)));
  return validators.get(key);
}

const errorSchema = doc.components?.schemas?.Error;

// Problems of @answer against the response @resp (already dereferenced); [] when it agrees.
function checkBody(answer, resp, key, bodyless) {
  const problems = [];
  const body = answer.body ?? '';
  if (answer.body_utf8 === false) problems.push('the body is not valid UTF-8');
  const content = resp.content || {};
  const types = Object.keys(content);
  if (types.length === 0 || bodyless) {
    if (body !== '') problems.push(`a body where none is documented: ${body.slice(0, 200)}`);
    return problems;
  }
  const ct = (answer.content_type || '').split(';')[0].trim().toLowerCase();
  const media = types.find((t) => t.toLowerCase() === ct);
  if (!media) {
    problems.push(`Content-Type "${answer.content_type}" is not one of ${types.join(', ')}`);
    return problems;
  }
  const schema = content[media].schema;
  if (!schema) return problems;
  let value = body;
  if (/\bjson$/.test(media)) {
    try {
      value = JSON.parse(body);
    } catch (e) {
      problems.push(`the body is not JSON (${e.message}): ${body.slice(0, 200)}`);
      return problems;
    }
  }
  const validate = validatorFor(`${key} ${media}`, schema);
  if (!validate(value)) {
    for (const e of validate.errors.slice(0, 8))
      problems.push(`body${e.instancePath} ${e.message}${e.params && Object.keys(e.params).length ? ' ' + JSON.stringify(e.params) : ''}`);
  }
  return problems;
}

function responseFor(op, status) {
  const s = String(status);
  if (op.responses[s]) return [s, op.responses[s]];
  const range = `${s[0]}XX`;
  if (op.responses[range]) return [range, op.responses[range]];
  if (op.responses.default) return ['default', op.responses.default];
  return [null, null];
}

let files;
try {
  files = fs.readdirSync(dir).filter((f) => /^answer-.*\.json$/.test(f)).sort();
} catch (e) {
  files = [];
}
const outside = { answers: 0, failures: [] };
for (const f of files) {
  const answer = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  const where = `${f} (${answer.test}): ${answer.method} ${answer.path} -> ${answer.status}`;
  const pathOnly = answer.path.split('?')[0];
  const method = answer.method === 'HEAD' ? 'GET' : answer.method;
  const onPath = operations.filter((o) => o.re.test(pathOnly));
  const op = onPath.find((o) => o.method === method);
  if (!op) {
    // Not an operation of the document: only a 404 (no such path) or 405 (no such method).
    outside.answers++;
    // A request the HTTP layer refuses before routing (framing, an undecodable path) is 400
    // bad-request on any path.
    const want = onPath.length ? 405 : 404;
    const problems = [];
    let code = null;
    try {
      code = JSON.parse(answer.body).error.code;
    } catch (e) {
      code = null;
    }
    if (answer.status !== want && !(answer.status === 400 && code === 'bad-request'))
      problems.push(`${onPath.length ? 'a method the path does not have' : 'a path no operation has'} must be ${want} (or 400 bad-request)`);
    else if (errorSchema)
      problems.push(...checkBody(answer, { content: { 'application/json': { schema: errorSchema } } }, `outside ${answer.status}`, false));
    for (const p of problems) outside.failures.push(`${where}: ${p}`);
    continue;
  }
  op.answers++;
  op.statuses.add(answer.status);
  const [key, ref] = responseFor(op, answer.status);
  if (!ref) {
    op.failures.push(`${where}: status ${answer.status} is not documented for ${op.id} (documented: ${Object.keys(op.responses).join(', ')})`);
    continue;
  }
  const resp = deref(ref);
  for (const p of checkBody(answer, resp, `${op.id} ${key}`, answer.method === 'HEAD'))
    op.failures.push(`${where}: ${p}`);
}

const lines = [];
const uncovered = [];
for (const op of operations) {
  const statuses = [...op.statuses].sort().join(', ');
  if (op.answers === 0) {
    uncovered.push(op.id);
    lines.push([false, `${op.id} (${op.method} ${op.template}): no answer covered it`, []]);
  } else {
    lines.push([op.failures.length === 0,
      `${op.id} (${op.method} ${op.template}): ${op.answers} answers (${statuses})`, op.failures]);
  }
}
lines.push([outside.failures.length === 0,
  `answers outside the document's operations are 404/405 errors: ${outside.answers}`, outside.failures]);
if (files.length === 0) lines.push([false, `no answer-*.json in ${dir}`, []]);

console.log(`1..${lines.length}`);
lines.forEach(([ok, text, problems], i) => {
  console.log(`${ok ? 'ok' : 'not ok'} ${i + 1} - ${text}`);
  for (const p of problems) console.log(`# ${p}`);
});
if (uncovered.length) console.log(`# operations no answer covered: ${uncovered.join(', ')}`);
console.log(`# ${files.length} answers, ${operations.length} operations`);
process.exit(lines.every(([ok]) => ok) ? 0 : 1);
