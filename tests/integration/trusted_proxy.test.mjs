// --trusted-proxy (issue 13): X-Forwarded-For is believed only from a peer in
// a trusted range, so the per-IP issue limit sees each citizen behind nginx;
// from any other peer the header is ignored, so nobody picks their own bucket.
// The tests connect from 127.0.0.1 and list (or do not list) it as a proxy.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { http } from './lib/client.mjs';
import { sanitizerReports, serverBinary, startServer } from './lib/server.mjs';

const ISSUE = '/v1/halls/mpp-demo/tickets';
const LIMIT = ['--issue-burst', '2', '--issue-per-min', '1'];
const servers = [];

async function server(args) {
  const s = await startServer({ args: [...LIMIT, ...args] });
  servers.push(s);
  return s;
}

after(async () => {
  for (const s of servers) {
    const ex = await s.stop();
    assert.equal(ex.code, 0, s.err.slice(-2000));
    assert.deepEqual(sanitizerReports(s.err), []);
    s.cleanup();
  }
});

const issue = (s, xff) => http(s.base, 'POST', ISSUE, {
  body: { service: 'kk' }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
});

// Issues until the first 429; returns how many got 201 (bounded).
async function untilLimited(s, xff) {
  for (let n = 0; n < 10; n++) {
    const r = await issue(s, xff);
    if (r.status === 429) {
      assert.equal(r.body.error.code, 'rate_limited');
      return n;
    }
    assert.equal(r.status, 201, r.text);
  }
  return Infinity;
}

describe('from a trusted proxy', () => {
  test('each forwarded client has its own bucket', async () => {
    const s = await server(['--trusted-proxy', '127.0.0.1/32']);
    assert.equal(await untilLimited(s, '203.0.113.5'), 2);
    assert.equal(await untilLimited(s, '203.0.113.6'), 2, 'another citizen is not limited by the first');
    assert.equal((await issue(s, '203.0.113.5')).status, 429, 'the first stays limited');
    // the proxy's own requests (no header) are the proxy's bucket
    assert.equal(await untilLimited(s), 2);
  });

  test('the walk from the right stops at the first untrusted hop', async () => {
    const s = await server(['--trusted-proxy', '127.0.0.0/8', '--trusted-proxy', '10.0.0.0/8']);
    // client, then two trusted proxies: the client is 198.51.100.7
    assert.equal(await untilLimited(s, '198.51.100.7, 10.1.2.3, 127.0.0.9'), 2);
    assert.equal((await issue(s, '198.51.100.7')).status, 429, 'same client, fewer hops');
    // a spoofed left part does not move the client: 198.51.100.8 is the hop our proxy saw
    assert.equal(await untilLimited(s, '1.1.1.1, 198.51.100.8'), 2);
    assert.equal((await issue(s, '2.2.2.2, 198.51.100.8')).status, 429);
    // a list without spaces; IPv6 and ports
    assert.equal(await untilLimited(s, ['198.51.100.9', '10.0.0.1']), 2);
    assert.equal((await issue(s, '[2001:db8::1]:4711')).status, 201);
    assert.equal((await issue(s, '2001:db8::1')).status, 201);
    assert.equal((await issue(s, '2001:db8:0::1')).status, 429, 'the same IPv6 client, written differently');
    assert.equal((await issue(s, '198.51.100.10:5555')).status, 201);
  });

  test('garbage in the header ends the walk at the last real hop', async () => {
    const s = await server(['--trusted-proxy', '127.0.0.1']);
    assert.equal(await untilLimited(s, 'not-an-address'), 2);
    // the last real hop is the proxy itself: its own requests share that bucket
    assert.equal((await issue(s)).status, 429);
    assert.equal((await issue(s, `${'9'.repeat(200)}, ,`)).status, 429);
  });

  test('a WebSocket issue uses the client of its upgrade request', async () => {
    const s = await server(['--trusted-proxy', '127.0.0.1/32']);
    // the ws package sends extra headers given as options; use the raw client helper instead
    const { default: WebSocket } = await import('ws');
    const open = (xff) => new Promise((res, rej) => {
      const w = new WebSocket(`ws://127.0.0.1:${s.port}/v1/ws`, ['antrean.v1.json'], { headers: { 'x-forwarded-for': xff } });
      w.on('open', () => res(w));
      w.on('error', rej);
    });
    const req = (w, rid) => new Promise((res) => {
      w.once('message', (d) => res(JSON.parse(d.toString())));
      w.send(JSON.stringify({ op: 'issue', rid, hall: 'mpp-demo', service: 'kk' }));
    });
    const a = await open('203.0.113.20');
    const codes = [];
    for (let i = 1; i <= 3; i++) codes.push((await req(a, i)).ok ? 'ok' : 'limited');
    assert.deepEqual(codes, ['ok', 'ok', 'limited']);
    const b = await open('203.0.113.21');
    assert.equal((await req(b, 9)).ok, true);
    a.close();
    b.close();
  });
});

describe('from an untrusted peer', () => {
  test('X-Forwarded-For is ignored: a spoofed header never buys a new bucket', async () => {
    const s = await server(['--trusted-proxy', '10.0.0.0/8']);
    let n = 0;
    for (; n < 10; n++) {
      const r = await issue(s, `203.0.113.${100 + n}`);
      if (r.status === 429) break;
      assert.equal(r.status, 201, r.text);
    }
    assert.equal(n, 2, 'limited after the burst whatever the header says');
  });

  test('without --trusted-proxy the header is ignored too', async () => {
    const s = await server([]);
    assert.equal(await untilLimited(s, '203.0.113.1'), 2);
    assert.equal((await issue(s, '203.0.113.2')).status, 429);
  });
});

test('a bad --trusted-proxy is refused with a message', () => {
  for (const bad of ['10.0.0.0/33', 'nope', '::1/129', '10.0.0.0/', '[::1]']) {
    const r = spawnSync(serverBinary(), ['--trusted-proxy', bad, '--listen', '127.0.0.1:0'], { encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 2, bad);
    assert.match(r.stderr, /--trusted-proxy wants an address or CIDR/);
  }
});
