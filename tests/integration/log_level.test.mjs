// --log-level (issue 13): lines below the level are not written. info (the
// default) has one access line per request with its latency; warn keeps
// only warnings and errors; a bad level is refused with a message.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { http } from './lib/client.mjs';
import { sanitizerReports, serverBinary, startServer } from './lib/server.mjs';

async function run(args) {
  const s = await startServer({ args });
  try {
    for (let i = 0; i < 5; i++) assert.equal((await http(s.base, 'GET', '/v1/halls/mpp-demo/board')).status, 200);
    assert.equal((await http(s.base, 'GET', '/v1/halls/nope/board')).status, 404);
  } finally {
    assert.equal((await s.stop()).code, 0);
    assert.deepEqual(sanitizerReports(s.err), []);
    s.cleanup();
  }
  return s.err.split('\n').filter((l) => l.startsWith('ts='));
}

test('info: one access line per request, with its latency', async () => {
  const lines = await run([]);
  const access = lines.filter((l) => l.includes('msg=access'));
  assert.equal(access.filter((l) => l.includes('/v1/halls/{hall}/board')).length, 6);
  for (const l of access) assert.match(l, / status=\d{3} dur_us=\d+$/);
  assert.ok(access.some((l) => l.includes('status=404')));
  assert.ok(lines.some((l) => l.includes('msg="listening"')));
});

test('warn and error: no info lines, no access lines', async () => {
  for (const level of ['warn', 'error']) {
    const lines = await run(['--log-level', level]);
    assert.deepEqual(lines.filter((l) => / level=(info|debug) /.test(l)), [], level);
  }
});

test('an unknown level is refused', () => {
  const r = spawnSync(serverBinary(), ['--log-level', 'loud'], { encoding: 'utf8', timeout: 10000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--log-level wants debug, info, warn or error/);
});
