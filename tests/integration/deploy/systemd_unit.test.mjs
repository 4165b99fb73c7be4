// deploy/antrean.service (issue 13): `systemd-analyze verify` accepts it,
// it has the hardening the issue asks for, and its ExecStart command line
// starts the real server (with only the address and directories rewritten)
// which stops cleanly on the unit's SIGTERM.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { repo, sanitizerReports, serverBinary, tempDir } from '../lib/server.mjs';
import { sleep, which } from './lib.mjs';

const unitText = readFileSync(join(repo, 'deploy', 'antrean.service'), 'utf8');
const dir = tempDir('antrean-unit-');
after(() => rmSync(dir, { recursive: true, force: true }));

// key → values, continuation lines joined
function parseUnit(txt) {
  const m = new Map();
  for (const line of txt.replace(/\\\n\s*/g, ' ').split('\n')) {
    const x = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (x) m.set(x[1], [...(m.get(x[1]) ?? []), x[2]]);
  }
  return m;
}
const unit = parseUnit(unitText);
const ExecStart = unit.get('ExecStart')[0];

test('the unit has its own user, state directory and hardening', () => {
  const want = { DynamicUser: 'yes', User: 'antrean', StateDirectory: 'antrean', ProtectSystem: 'strict',
    NoNewPrivileges: 'yes', Restart: 'on-failure', KillSignal: 'SIGTERM', PrivateTmp: 'yes' };
  for (const [k, v] of Object.entries(want)) assert.deepEqual(unit.get(k), [v], k);
  assert.match(ExecStart, /--data \/var\/lib\/antrean /, 'data in the StateDirectory');
  assert.match(ExecStart, /--listen 127\.0\.0\.1:/, 'loopback only');
  assert.match(ExecStart, /--trusted-proxy 127\.0\.0\.1\/32/);
});

test('systemd-analyze verify', { skip: which('systemd-analyze') ? false : 'systemd-analyze not installed' }, () => {
  const f = join(dir, 'antrean.service');
  writeFileSync(f, unitText.replace('/usr/local/bin/antrean-server', resolve(serverBinary())));
  const r = spawnSync(which('systemd-analyze'), ['verify', f], { encoding: 'utf8', timeout: 30000 });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  assert.doesNotMatch(r.stderr, /antrean\.service/, r.stderr);
});

test('ExecStart starts the server, SIGTERM stops it with exit 0', async () => {
  const data = join(dir, 'state');
  mkdirSync(data);
  const args = ExecStart.split(/\s+/).slice(1).map((a) => a
    .replace(/^127\.0\.0\.1:8080$/, '127.0.0.1:0')
    .replace(/^\/var\/lib\/antrean$/, data)
    .replace(/^\/usr\/local\/share\/antrean\/web$/, join(repo, 'clients', 'web')));
  const p = spawn(resolve(serverBinary()), args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0' } });
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((res) => p.on('exit', (code, signal) => res({ code, signal })));
  const deadline = Date.now() + 15000;
  while (!/listening on http:\/\/127\.0\.0\.1:(\d+)/.test(out) && Date.now() < deadline) await sleep(20);
  const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1];
  try {
    assert.ok(port, `server did not start: ${out}${err}`);
    const r = await fetch(`http://127.0.0.1:${port}/v1/health`, { signal: AbortSignal.timeout(10000) });
    assert.equal(r.status, 200);
  } finally {
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 15000);
    const ex = await exited;
    clearTimeout(t);
    assert.deepEqual(ex, { code: 0, signal: null }, err.slice(-2000));
  }
  assert.deepEqual(sanitizerReports(err), []);
  assert.match(readFileSync(join(data, 'admin.token'), 'utf8'), /\S/);
});
