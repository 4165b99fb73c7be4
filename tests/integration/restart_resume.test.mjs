// `since` resumes survive a server restart (SPEC §5: at least the last
// 10,000 events are retained): the history is read back from the log, also
// from before the newest snapshot, and a board that reconnects after the
// restart gets exactly the events it missed, with no resync.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { http, ws } from './lib/client.mjs';
import { sanitizerReports, startServer, tempDir } from './lib/server.mjs';

const H = '/v1/halls/mpp-demo';
const args = ['--snap-every-events', '50', '--issue-burst', '1000', '--issue-per-min', '100000'];

test('resume with since after a restart, across snapshots', async () => {
  const dataDir = tempDir();
  try {
    const s1 = await startServer({ dataDir, args });
    const sub = await ws(s1, 'msgpack');
    const start = (await sub.req('subscribe', { hall: 'mpp-demo' })).result.seq;
    for (let i = 0; i < 300; i++) {
      const r = await http(s1.base, 'POST', `${H}/tickets`, { body: { service: i % 2 ? 'kk' : 'ktp' } });
      assert.equal(r.status, 201, r.text);
    }
    const last = (await http(s1.base, 'GET', `${H}/board`)).body.seq;
    await sub.until(() => sub.events.some((e) => e.seq === last), 10000, 'all events');
    const seen = sub.events.filter((e) => e.hall === 'mpp-demo' && e.seq > start);
    sub.close();
    assert.equal((await s1.stop()).code, 0);
    assert.deepEqual(sanitizerReports(s1.err), []);

    const s2 = await startServer({ dataDir, args });
    try {
      for (const [proto, back] of [['msgpack', 250], ['json', 20]]) {
        const since = last - back;
        const c = await ws(s2, proto);
        const rep = await c.req('subscribe', { hall: 'mpp-demo', since });
        assert.equal(rep.ok, true);
        assert.equal(rep.result.resync, undefined, `no resync for since=${since} after a restart`);
        assert.equal(rep.result.board, undefined);
        await c.until(() => c.events.some((e) => e.seq === last), 10000, 'the missed events');
        const got = c.events.filter((e) => e.hall === 'mpp-demo');
        assert.deepEqual(got.map((e) => e.seq), seen.filter((e) => e.seq > since).map((e) => e.seq));
        const plain = (list) => list.map(({ __binary, ...e }) => e); // frame kind aside
        assert.deepEqual(plain(got), plain(seen.filter((e) => e.seq > since)), 'the same events as before the restart');
        c.close();
      }
      // and the stream goes on from there
      const c = await ws(s2, 'json');
      await c.req('subscribe', { hall: 'mpp-demo', since: last });
      const r = await http(s2.base, 'POST', `${H}/tickets`, { body: { service: 'ktp' } });
      assert.equal(r.status, 201);
      const ev = await c.until(() => c.events.find((e) => e.ev === 'ticket.issued'), 5000, 'a new event');
      assert.equal(ev.seq, last + 1);
      c.close();
    } finally {
      assert.equal((await s2.stop()).code, 0);
      assert.deepEqual(sanitizerReports(s2.err), []);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
