// 10,000 idle connections, then --max-conns reached (issue 13): a connection
// past the limit gets 503 overloaded and is closed, while the hall is still
// served to those already connected (a kept-alive client reads the board and
// issues; a board subscriber gets every event). RSS per idle connection is
// bounded; when the idle ones go, new clients are served again; nothing
// acked is lost.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { rawExchange, ws } from '../lib/client.mjs';
import { H, HallProbe, KeepAlive, abuseServer, teardown, openMany, rssKiB, until } from './lib.mjs';

const IDLE = 10000;

// the client and the server each need a descriptor per connection
// (ctest raises the soft limit; see CMakeLists.txt)
function fdLimit() {
  const m = /Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  return m ? Number(m[1]) : 0;
}

after(teardown);

test('10,000 idle connections and --max-conns reached: 503 for newcomers, the hall still served', async () => {
  assert.ok(fdLimit() >= IDLE + 200, `open-file limit ${fdLimit()} is below ${IDLE + 200}: run under 'ulimit -n 20480'`);
  // room for exactly: the subscriber, the kept-alive client, the idle ones
  const s = await abuseServer(['--max-conns', String(IDLE + 2), '--head-timeout-ms', '300000']);
  const probe = new HallProbe(s);
  await probe.check('start');
  const live = await ws(s, 'json');
  await live.req('subscribe', { hall: H });
  const ka = await new KeepAlive(s.port).open();
  const metric = async (name) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec((await ka.request('GET', '/metrics')).text)[1]);
  // the probe's fetch keeps its connection a few seconds: let it go, so the
  // room left is exactly IDLE
  await until(async () => (await metric('antrean_connections')) === 2, 20000, 'only the subscriber and the kept-alive client left');
  const base = rssKiB(s.proc.pid);

  const idle = await openMany(s.port, IDLE);
  await until(async () => (await metric('antrean_connections')) === IDLE + 2, 20000, 'all idle connections accepted');
  const full = rssKiB(s.proc.pid);
  console.log(`idle: rss base ${base} KiB, with ${IDLE} idle ${full} KiB (${((full - base) / IDLE).toFixed(2)} KiB each)`);
  assert.ok(full - base < 96 * 1024, `RSS grew ${full - base} KiB for ${IDLE} idle connections`);

  // newcomers: 503 overloaded with Retry-After, then closed (bounded: 20 of them)
  const rejectedBefore = await metric('antrean_connections_rejected_total');
  for (let i = 0; i < 20; i++) {
    const r = await rawExchange(s.port, ['GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n'], { timeoutMs: 10000 });
    assert.equal(r.why, 'closed');
    assert.match(r.data, /^HTTP\/1\.1 503 /);
    assert.match(r.data, /"code":"overloaded"/);
    assert.match(r.data, /Retry-After: \d+/i);
  }
  assert.equal(await metric('antrean_connections_rejected_total') - rejectedBefore, 20);

  // those already connected are still served: board, issues, the live feed
  for (let i = 0; i < 10; i++) {
    const b = await ka.request('GET', `/v1/halls/${H}/board`);
    assert.equal(b.status, 200);
    const t = await ka.request('POST', `/v1/halls/${H}/tickets`, { service: 'kk' });
    assert.equal(t.status, 201, t.text);
    probe.acked.push({ id: t.body.id, secret: t.body.secret, code: t.body.code });
  }
  await live.until(() => live.events.filter((e) => e.ev === 'ticket.issued').length >= 10, 10000, 'live events while full');
  const ws2 = live.events.filter((e) => e.ev === 'ticket.issued').map((e) => e.code);
  assert.deepEqual(ws2.slice(-10), probe.acked.slice(-10).map((t) => t.code));

  // the idle ones go: newcomers are served again
  for (const k of idle) k.destroy();
  await until(async () => (await metric('antrean_connections')) <= 3, 20000, 'idle connections released');
  await probe.check('after the idle connections left');
  ka.close();
  live.close();
  assert.ok(await probe.verifyNothingLost() >= 12);
});
