// antrean-server --check-config FILE (issue 13): every problem with its JSON
// path, the API's own messages, exit status 1; a valid file exits 0. No
// storage is opened and nothing listens.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { http } from './lib/client.mjs';
import { hallConfig, sanitizerReports, serverBinary, startServer, tempDir } from './lib/server.mjs';

const dir = tempDir('antrean-check-');
const check = (file) => spawnSync(resolve(serverBinary()), ['--check-config', file], { encoding: 'utf8', timeout: 10000, cwd: dir });
const write = (name, obj) => {
  const f = join(dir, name);
  writeFileSync(f, typeof obj === 'string' ? obj : JSON.stringify(obj));
  return f;
};

let s;
after(async () => {
  if (s) {
    assert.equal((await s.stop()).code, 0);
    assert.deepEqual(sanitizerReports(s.err), []);
    s.cleanup();
  }
});

test('a valid hall file: exit 0 and a summary', () => {
  const r = check(write('ok.json', hallConfig('mpp-ok')));
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /ok\.json: ok: hall mpp-ok \(2 agencies, 3 services, 3 counters\)/);
  assert.ok(!existsSync(join(dir, 'antrean-data')), 'no data directory was created');
});

test('every problem, each with its JSON path, the same messages as the API; exit 1', async () => {
  const cfg = hallConfig('mpp-bad');
  cfg.services[1].agency = 'imigrasi-x';
  cfg.services[2].prefix = 'abc';
  cfg.counters[0].services = ['ktp', 'nope'];
  cfg.hours.open = '25:00';
  const body = JSON.stringify(cfg);
  const r = check(write('bad.json', body));
  assert.equal(r.status, 1);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], /bad\.json: invalid hall config \(\d+ problems\)/);
  const problems = lines.slice(1).map((l) => l.replace(/^.*?bad\.json: /, ''));
  for (const path of ['services[1].agency', 'services[2].prefix', 'counters[0].services[1]', 'hours.open']) {
    assert.ok(problems.some((p) => p.startsWith(`${path}:`)), `${path} in ${r.stdout}`);
  }
  // the API answers the same config (POST /v1/halls) with the same messages
  s = await startServer();
  const api = await http(s.base, 'POST', '/v1/halls', { token: s.adminToken, raw: body, headers: { 'content-type': 'application/json' } });
  assert.equal(api.status, 400, api.text);
  assert.equal(api.body.error.code, 'bad_request');
  for (const p of problems) assert.ok(api.body.error.message.includes(p), `API message has ${p}`);
});

test('not JSON, empty, missing file: a message and exit 1', () => {
  const r1 = check(write('junk.json', '{"id": "x",'));
  assert.equal(r1.status, 1);
  assert.match(r1.stdout, /junk\.json: .+/);
  const r2 = check(write('empty.json', ''));
  assert.equal(r2.status, 1);
  const r3 = check(join(dir, 'missing.json'));
  assert.equal(r3.status, 1);
  assert.match(r3.stdout, /missing\.json: cannot read: No such file/);
});
