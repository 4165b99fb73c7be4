// Limits of SPEC §9 over HTTP: head 431, body 413, slowloris, keep-alive
// idle, pipelining, max-conns 503, per-IP issue rate limit 429 with
// Retry-After, and /metrics.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { http, rawExchange, sleep } from './lib/client.mjs';
import { sanitizerReports, startServer } from './lib/server.mjs';

let s;
before(async () => {
  s = await startServer({ args: ['--head-timeout-ms', '700', '--idle-timeout-ms', '1200', '--max-conns', '40', '--issue-burst', '5', '--issue-per-min', '6'] });
});
after(async () => {
  const ex = await s.stop();
  assert.equal(ex.code, 0, s.err.slice(-2000));
  assert.deepEqual(sanitizerReports(s.err), []);
  s.cleanup();
});

const status = (raw) => Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);
const bodyOf = (raw) => JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));

describe('request size', () => {
  test('head over 8 KiB → 431 too_large and close', async () => {
    const r = await rawExchange(s.port, [`GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(9000)}\r\n\r\n`]);
    assert.equal(status(r.data), 431, r.data.slice(0, 200));
    assert.equal(bodyOf(r.data).error.code, 'too_large');
    assert.match(r.data, /Connection: close/i);
    assert.equal(r.why, 'closed');
  });
  test('many headers over 8 KiB → 431', async () => {
    let h = '';
    for (let i = 0; i < 60; i++) h += `X-H${i}: ${'b'.repeat(150)}\r\n`;
    const r = await rawExchange(s.port, [`GET /v1/health HTTP/1.1\r\nHost: x\r\n${h}\r\n`]);
    assert.equal(status(r.data), 431);
  });
  test('a 7 KiB head is fine', async () => {
    const r = await rawExchange(s.port, [`GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(7000)}\r\nConnection: close\r\n\r\n`]);
    assert.equal(status(r.data), 200);
  });
  test('body over 64 KiB → 413 too_large (declared or chunked)', async () => {
    const big = JSON.stringify({ service: 'ktp', name: 'x'.repeat(70000) });
    const r = await http(s.base, 'POST', '/v1/halls/mpp-demo/tickets', { raw: big, headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 413);
    assert.equal(r.body.error.code, 'too_large');
    const chunk = 'x'.repeat(30000);
    const c = await rawExchange(s.port, ['POST /v1/halls/mpp-demo/tickets HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n',
      ...[0, 1, 2].map(() => `${chunk.length.toString(16)}\r\n${chunk}\r\n`), '0\r\n\r\n']);
    assert.equal(status(c.data), 413);
  });
  test('garbage → 400 and close, never a hang', async () => {
    const r = await rawExchange(s.port, ['\x16\x03\x01\x02\x00 this is not http\r\n\r\n']);
    assert.equal(status(r.data), 400);
    assert.equal(r.why, 'closed');
  });
});

describe('timeouts', () => {
  test('slowloris: head not complete in time → closed', async () => {
    const parts = ['GET /v1/health HTTP/1.1\r\n', 'Host: x\r\n', 'X-A: 1\r\n', 'X-B: 2\r\n', 'X-C: 3\r\n', 'X-D: 4\r\n', 'X-E: 5\r\n', '\r\n'];
    const r = await rawExchange(s.port, parts, { gapMs: 250, timeoutMs: 5000 });
    assert.equal(r.why, 'closed');
    assert.ok(r.ms >= 600 && r.ms < 2500, `closed after ${r.ms} ms`);
    assert.ok(!r.data.includes('200 OK'));
  });
  test('connect and say nothing → closed by the head timeout', async () => {
    const r = await rawExchange(s.port, [], { timeoutMs: 5000 });
    assert.equal(r.why, 'closed');
    assert.ok(r.ms < 2500);
  });
  test('idle keep-alive → closed after the idle timeout', async () => {
    const r = await rawExchange(s.port, ['GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n'], { timeoutMs: 6000 });
    assert.equal(status(r.data), 200);
    assert.equal(r.why, 'closed');
    assert.ok(r.ms >= 1000 && r.ms < 4000, `${r.ms}`);
  });
});

describe('keep-alive and pipelining', () => {
  test('pipelined requests are answered in order, commands included', async () => {
    const reqs = [];
    for (let i = 0; i < 3; i++) {
      reqs.push('GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n');
      reqs.push('GET /v1/halls/mpp-demo/services/ktp/wait HTTP/1.1\r\nHost: x\r\n\r\n');
      const body = JSON.stringify({ service: 'ktp', idem: `pipe-${i}` });
      reqs.push(`POST /v1/halls/mpp-demo/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    }
    reqs.push('GET /v1/nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const r = await rawExchange(s.port, [reqs.join('')], { timeoutMs: 5000 });
    const statuses = [...r.data.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
    assert.deepEqual(statuses.slice(0, 9).map((x, i) => (i % 3 === 2 ? (x === 201 || x === 429 ? 'issue' : x) : x)),
      [200, 200, 'issue', 200, 200, 'issue', 200, 200, 'issue']);
    assert.equal(statuses[9], 404);
    assert.equal(r.why, 'closed');
  });
});

describe('connections and rate limits', () => {
  test('past --max-conns → 503 overloaded with Retry-After, then close', async () => {
    const socks = [];
    for (let i = 0; i < 45; i++) {
      const sk = net.connect(s.port, '127.0.0.1');
      sk.on('error', () => {});
      socks.push(sk);
    }
    await sleep(300);
    const r = await rawExchange(s.port, ['GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n']);
    assert.equal(status(r.data), 503, r.data);
    assert.match(r.data, /Retry-After: \d+/i);
    assert.equal(bodyOf(r.data).error.code, 'overloaded');
    for (const sk of socks) sk.destroy();
    await sleep(300);
    const ok = await http(s.base, 'GET', '/v1/health');
    assert.equal(ok.status, 200);
  });
  test('public issue: burst then 429 rate_limited with Retry-After; kiosk tokens are not limited', async () => {
    let limited = null;
    let n = 0;
    for (; n < 20 && !limited; n++) {
      const r = await http(s.base, 'POST', '/v1/halls/mpp-demo/tickets', { body: { service: 'kk' } });
      if (r.status === 429) limited = r;
      else assert.equal(r.status, 201, r.text);
    }
    assert.ok(limited, 'rate limited');
    assert.ok(n <= 7, `limited after ${n}`);
    assert.equal(limited.body.error.code, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    const k = await http(s.base, 'POST', '/v1/tokens', { token: s.adminToken, body: { role: 'kiosk', halls: ['mpp-demo'], label: 'kiosk 1' } });
    for (let i = 0; i < 10; i++) {
      const r = await http(s.base, 'POST', '/v1/halls/mpp-demo/tickets', { token: k.body.token, body: { service: 'kk' } });
      assert.equal(r.status, 201);
    }
  });
});

describe('metrics', () => {
  test('/metrics has the figures of SPEC §4', async () => {
    const r = await http(s.base, 'GET', '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /text\/plain/);
    for (const name of ['antrean_http_requests_total{route="/v1/health",status="200"}', 'antrean_command_seconds_bucket',
      'antrean_commit_batch_events_bucket', 'antrean_commit_seconds_bucket', 'antrean_connections ', 'antrean_subscribers ',
      'antrean_slow_subscribers_dropped_total ', 'antrean_hall_events_total{hall="mpp-demo"}', 'antrean_tickets_waiting{hall="mpp-demo"}',
      'antrean_http_requests_total{route="POST /v1/halls/{hall}/tickets",status="429"}'])
      assert.ok(r.text.includes(name), name);
    const waiting = Number(/antrean_tickets_waiting\{hall="mpp-demo"\} (\d+)/.exec(r.text)[1]);
    assert.ok(waiting >= 5);
  });
});

describe('malformed input never crashes or hangs the server', () => {
  test('random bytes over HTTP and WebSocket', async () => {
    const { RawWs } = await import('./lib/rawws.mjs');
    const { randomBytes } = await import('node:crypto');
    let seed = 7;
    const rnd = (n) => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n; };
    const starts = ['GET / HTTP/1.1\r\n', 'POST /v1/halls/mpp-demo/tickets HTTP/1.1\r\nContent-Length: 5\r\n\r\n', 'GET /v1/ws HTTP/1.1\r\n', ''];
    const runs = [];
    for (let i = 0; i < 60; i++) {
      const head = starts[rnd(starts.length)];
      runs.push(rawExchange(s.port, [head + randomBytes(1 + rnd(3000)).toString('latin1')], { timeoutMs: 3000, endAfter: true }));
    }
    const res = await Promise.all(runs);
    assert.ok(res.every((r) => r.why !== 'timeout' || r.data === ''), 'answered or closed');
    for (let i = 0; i < 20; i++) {
      const w = await new RawWs(s.port).open();
      w.send(randomBytes(1 + rnd(500)));
      await w.until(() => w.closed || w.closeCode() !== null, 3000);
      w.destroy();
    }
    for (let i = 0; i < 20; i++) {
      const w = await new RawWs(s.port).open();
      const { frame } = await import('./lib/rawws.mjs');
      w.send(frame(rnd(2) ? 1 : 2, randomBytes(rnd(300)).toString('latin1')));
      w.send(frame(1, '{"op":"ping","rid":1}'));
      await w.until(() => w.closed || w.frames.length > 0, 3000);
      w.destroy();
    }
    const h = await http(s.base, 'GET', '/v1/health');
    assert.equal(h.status, 200);
    assert.equal(h.body.ok, true);
  });
});
