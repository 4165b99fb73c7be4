// Durability through the server (SPEC §6): kill -9 under load loses no
// acknowledged ticket and seq continues; SIGTERM closes WebSockets with 1001,
// exits 0 and restarts into the same state; the admin token file.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { http, sleep, ws } from './lib/client.mjs';
import { hallConfig, sanitizerReports, Server, startServer, tempDir } from './lib/server.mjs';

const H = '/v1/halls/mpp-demo';
const loadArgs = ['--issue-burst', '1000000', '--issue-per-min', '100000000'];

describe('crash and restart', () => {
  test('kill -9 mid-load: every acknowledged ticket survives, numbering and seq continue', async () => {
    const dataDir = tempDir();
    const s1 = await startServer({ dataDir, args: loadArgs });
    const sub = await ws(s1, 'msgpack');
    await sub.req('subscribe', { hall: 'mpp-demo' });
    const acked = [];
    let stop = false;
    const services = ['ktp', 'kk', 'akta', 'paspor'];
    const worker = async (w) => {
      for (let i = 0; i < 2000 && !stop; i++) {
        try {
          const r = await http(s1.base, 'POST', `${H}/tickets`, { body: { service: services[w], idem: `w${w}-${i}` } });
          if (r.status === 201) acked.push(r.body);
        } catch { return; } // the server died under us
      }
    };
    const op = s1.operatorToken;
    const counterLoop = async () => {
      await http(s1.base, 'POST', `${H}/counters/l01/open`, { token: op });
      for (let i = 0; i < 500 && !stop; i++) {
        try {
          await http(s1.base, 'POST', `${H}/counters/l01/call`, { token: op });
          await http(s1.base, 'POST', `${H}/counters/l01/start`, { token: op });
          await http(s1.base, 'POST', `${H}/counters/l01/finish`, { token: op });
        } catch { return; }
      }
    };
    const runs = [0, 1, 2, 3].map(worker).concat([counterLoop()]);
    // kill once the load is really flowing (a loaded CI machine is slow), at most 15 s
    await sleep(1200);
    for (let i = 0; i < 138 && acked.length <= 40; i++) await sleep(100);
    await s1.kill9();
    stop = true;
    await Promise.allSettled(runs);
    assert.ok(acked.length > 20, `only ${acked.length} tickets were acknowledged`);
    const lastSeen = sub.events.length ? sub.events[sub.events.length - 1].seq : 0;
    assert.deepEqual(sanitizerReports(s1.err), []);

    const s2 = await startServer({ dataDir, args: loadArgs });
    try {
      for (const t of acked) {
        const r = await http(s2.base, 'GET', `/v1/tickets/${t.id}`, { secret: t.secret });
        assert.equal(r.status, 200, `ticket ${t.code} lost: ${r.text}`);
        assert.equal(r.body.code, t.code);
      }
      const board = (await http(s2.base, 'GET', `${H}/board`)).body;
      assert.ok(board.seq >= lastSeen, `seq went back: ${board.seq} < ${lastSeen}`);
      // idempotency keys survived: a retry returns the same ticket
      const again = await http(s2.base, 'POST', `${H}/tickets`, { body: { service: acked[0].service, idem: 'w' + services.indexOf(acked[0].service) + '-0' } });
      const first = acked.find((t) => t.service === again.body.service && t.code === again.body.code);
      assert.ok(first, 'idem replay returns an acknowledged ticket');
      const sub2 = await ws(s2, 'json');
      const subSeq = (await sub2.req('subscribe', { hall: 'mpp-demo' })).result.seq;
      assert.ok(subSeq >= board.seq);
      const fresh = (await http(s2.base, 'POST', `${H}/tickets`, { body: { service: 'ktp' } })).body;
      const maxKtp = Math.max(0, ...acked.filter((t) => t.service === 'ktp').map((t) => Number(t.code.slice(1))));
      assert.ok(Number(fresh.code.slice(1)) > maxKtp, `numbering restarted: ${fresh.code} after A${maxKtp}`);
      await sub2.until(() => sub2.events.find((e) => e.ev === 'ticket.issued' && e.code === fresh.code));
      sub2.events.forEach((e, i) => assert.equal(e.seq, subSeq + 1 + i, 'seq continues without a gap'));
      sub2.close();
    } finally {
      const ex = await s2.stop();
      assert.equal(ex.code, 0);
      assert.deepEqual(sanitizerReports(s2.err), []);
      s2.cleanup();
    }
  });

  test('SIGTERM: WebSockets get 1001, exit 0, restart restores the same state', async () => {
    const dataDir = tempDir();
    const s1 = await startServer({ dataDir, args: loadArgs });
    const op = s1.operatorToken;
    await http(s1.base, 'POST', `${H}/counters/l02/open`, { token: op });
    await http(s1.base, 'POST', `${H}/counters/l03/open`, { token: op });
    const ts = [];
    for (let i = 0; i < 6; i++) ts.push((await http(s1.base, 'POST', `${H}/tickets`, { body: { service: 'ktp', priority: i === 3 ? 'disabled' : undefined } })).body);
    await http(s1.base, 'POST', `${H}/counters/l02/call`, { token: op });
    await http(s1.base, 'POST', `${H}/counters/l03/call`, { token: op });
    await http(s1.base, 'POST', `${H}/counters/l03/start`, { token: op });
    await http(s1.base, 'POST', `${H}/counters/l03/finish`, { token: op });
    await http(s1.base, 'DELETE', `/v1/tickets/${ts[5].id}`, { secret: ts[5].secret });
    const before = (await http(s1.base, 'GET', `${H}/board`)).body;
    const list1 = (await http(s1.base, 'GET', `${H}/tickets`, { token: s1.adminToken })).body;
    const c = await ws(s1, 'json');
    await c.req('subscribe', { hall: 'mpp-demo' });
    const ex = await s1.stop();
    assert.equal(ex.code, 0, s1.err.slice(-1500));
    await c.closed;
    assert.equal(c.closeCode, 1001);
    assert.deepEqual(sanitizerReports(s1.err), []);

    const s2 = await startServer({ dataDir, args: loadArgs });
    try {
      const after = (await http(s2.base, 'GET', `${H}/board`)).body;
      const list2 = (await http(s2.base, 'GET', `${H}/tickets`, { token: s2.adminToken })).body;
      const norm = (b) => ({ seq: b.seq, now_calling: b.now_calling, counters: b.counters, waiting: b.services.map((x) => [x.id, x.waiting]) });
      assert.ok(after.seq >= before.seq);
      assert.deepEqual(norm({ ...after, seq: before.seq }), norm(before));
      const key = (l) => l.map((t) => [t.id, t.code, t.state, t.service, t.priority, t.priority_reason ?? null]);
      assert.deepEqual(key(list2), key(list1));
    } finally {
      assert.equal((await s2.stop()).code, 0);
      s2.cleanup();
    }
  });
});

describe('storage failure', () => {
  test('data size limit reached → 503 unavailable, reads work, nothing acknowledged is lost', async () => {
    const dataDir = tempDir();
    const s1 = await startServer({ dataDir, args: [...loadArgs, '--max-data-size', '300K'] });
    const acked = [];
    let last;
    for (let i = 0; i < 5000; i++) {
      last = await http(s1.base, 'POST', `${H}/tickets`, { body: { service: 'kk', name: 'x'.repeat(90) } });
      if (last.status !== 201) break;
      acked.push(last.body);
    }
    assert.equal(last.status, 503, last.text);
    assert.equal(last.body.error.code, 'unavailable');
    assert.ok(last.headers.get('retry-after'));
    const again = await http(s1.base, 'POST', `${H}/counters/l01/open`, { token: s1.operatorToken });
    assert.equal(again.status, 503);
    const health = await http(s1.base, 'GET', '/v1/health');
    assert.equal(health.body.ok, false);
    assert.equal((await http(s1.base, 'GET', `${H}/board`)).status, 200, 'reads keep working');
    assert.equal((await s1.stop()).code, 0);
    const s2 = await startServer({ dataDir, args: loadArgs });
    try {
      const w = (await http(s2.base, 'GET', `${H}/services/kk/wait`)).body;
      assert.equal(w.waiting, acked.length, 'exactly the acknowledged tickets are back');
      for (const t of acked.slice(-5)) assert.equal((await http(s2.base, 'GET', `/v1/tickets/${t.id}`, { secret: t.secret })).status, 200);
    } finally {
      assert.equal((await s2.stop()).code, 0);
      s2.cleanup();
    }
  });
});

describe('hall files', () => {
  test('--hall FILE loads a hall the first time; later the stored config wins', async () => {
    const dataDir = tempDir();
    const file = `${dataDir}-hall.json`;
    writeFileSync(file, JSON.stringify(hallConfig('dari-file', { name: 'Versi 1' })));
    const s1 = await startServer({ dataDir, demo: false, args: ['--hall', file] });
    assert.equal((await http(s1.base, 'GET', '/v1/halls/dari-file')).body.name, 'Versi 1');
    assert.equal((await s1.stop()).code, 0);
    writeFileSync(file, JSON.stringify(hallConfig('dari-file', { name: 'Versi 2' })));
    const s2 = await startServer({ dataDir, demo: false, args: ['--hall', file] });
    assert.equal((await http(s2.base, 'GET', '/v1/halls/dari-file')).body.name, 'Versi 1');
    assert.equal((await s2.stop()).code, 0);
    writeFileSync(file, '{"id":"broken"');
    const bad = new Server({ dataDir: tempDir(), demo: false, args: ['--hall', file] });
    await assert.rejects(bad.start(), /did not start/);
    s2.cleanup();
    bad.cleanup();
  });
});

describe('admin token', () => {
  test('generated into DATA/admin.token with mode 0600 and its path printed', async () => {
    const s1 = await new Server({ adminToken: null }).start();
    const path = join(s1.dataDir, 'admin.token');
    try {
      assert.ok(existsSync(path));
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.ok((s1.out + s1.err).includes(path), 'path printed');
      const token = readFileSync(path, 'utf8').trim();
      assert.match(token, /^[0-9a-f]{40}$/);
      assert.equal((await http(s1.base, 'GET', '/v1/tokens', { token })).status, 200);
      const list = (await http(s1.base, 'GET', '/v1/tokens', { token })).text;
      assert.ok(!list.includes(token), 'tokens are never listed');
      assert.equal((await s1.stop()).code, 0);
      const s2 = await new Server({ adminToken: null, dataDir: s1.dataDir }).start();
      assert.equal(readFileSync(path, 'utf8').trim(), token, 'kept across restarts');
      assert.equal((await http(s2.base, 'GET', '/v1/tokens', { token })).status, 200);
      assert.equal((await s2.stop()).code, 0);
    } finally {
      s1.cleanup();
    }
  });
});
