// Ack ordering without kill -9 (storage issue): fsync/fdatasync are made to
// block or fail by an LD_PRELOAD shim (tests/integration/shim/fsync_shim.c).
// While the disk "hangs", no reply and no broadcast of a command leaves the
// server; when it fails, the command answers `unavailable`, nothing is
// acknowledged from then on, reads keep working and /v1/health says so.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { http, ws } from './lib/client.mjs';
import { sanitizerReports, startServer, tempDir } from './lib/server.mjs';

const shim = process.env.ANTREAN_FSYNC_SHIM;
const H = '/v1/halls/mpp-demo';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('no reply before its commit; a failed fsync is unavailable, never acknowledged', { skip: !shim && 'ANTREAN_FSYNC_SHIM not set' }, async () => {
  assert.ok(existsSync(shim), `shim at ${shim}`);
  const ctl = mkdtempSync(join(tmpdir(), 'antrean-shim-'));
  const dataDir = tempDir();
  const env = {
    LD_PRELOAD: shim,
    ANT_SHIM_DIR: ctl,
    // the shim comes before the sanitizer runtime in the preload list
    ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0:verify_asan_link_order=0',
  };
  const s = await startServer({ dataDir, env });
  try {
    const sub = await ws(s, 'json');
    await sub.req('subscribe', { hall: 'mpp-demo' });
    const a = await http(s.base, 'POST', `${H}/tickets`, { body: { service: 'ktp' } });
    assert.equal(a.status, 201, 'the shim lets syncs through by default');

    // the disk hangs: the issue is applied in memory but neither answered nor broadcast
    writeFileSync(join(ctl, 'block'), '');
    let answered = null;
    const pending = http(s.base, 'POST', `${H}/tickets`, { body: { service: 'ktp' } }).then((r) => { answered = r; return r; });
    await sleep(600);
    assert.equal(answered, null, 'a reply left before its commit was durable');
    assert.equal(sub.events.filter((e) => e.ev === 'ticket.issued').length, 1, 'an event left before its commit');
    unlinkSync(join(ctl, 'block'));
    const b = await pending;
    assert.equal(b.status, 201, b.text);
    await sub.until(() => sub.events.filter((e) => e.ev === 'ticket.issued').length === 2, 5000, 'broadcast after commit');

    // the disk fails: unavailable, and unavailable from then on, even once it "recovers"
    writeFileSync(join(ctl, 'fail'), '');
    const c = await http(s.base, 'POST', `${H}/tickets`, { body: { service: 'ktp' } });
    assert.equal(c.status, 503, c.text);
    assert.equal(c.body.error.code, 'unavailable');
    assert.ok(c.headers.get('retry-after'));
    unlinkSync(join(ctl, 'fail'));
    const d = await http(s.base, 'POST', `${H}/counters/l01/open`, { token: s.operatorToken });
    assert.equal(d.status, 503, 'a failed writer never retries silently');
    const health = (await http(s.base, 'GET', '/v1/health')).body;
    assert.equal(health.ok, false);
    assert.equal((await http(s.base, 'GET', `${H}/board`)).status, 200, 'reads keep working');
    assert.ok(!sub.events.some((e) => e.ev === 'counter.state'), 'nothing unpersisted was broadcast');
    assert.match(s.err, /storage failed/);
    assert.equal((await s.stop()).code, 0);
    assert.deepEqual(sanitizerReports(s.err), []);

    // a restart without the shim has every acknowledged ticket
    const s2 = await startServer({ dataDir });
    try {
      for (const t of [a.body, b.body]) {
        const g = await http(s2.base, 'GET', `/v1/tickets/${t.id}`, { secret: t.secret });
        assert.equal(g.status, 200, `acknowledged ${t.code} is back`);
      }
      const l01 = (await http(s2.base, 'GET', `${H}/board`)).body.counters.find((x) => x.id === 'l01');
      assert.equal(l01.state, 'closed', 'the refused open did not happen');
    } finally {
      await s2.stop();
      s2.cleanup();
    }
  } finally {
    await s.stop();
    rmSync(ctl, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
});
