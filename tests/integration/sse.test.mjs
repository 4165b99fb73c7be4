// Server-Sent Events (SPEC §13): GET /v1/halls/{hall}/events carries the
// same public events as the WebSocket feed (id = seq, event = type), starts
// with the board, resumes with Last-Event-ID or ?since= without a gap or a
// duplicate, resyncs when too old, sends heartbeat comments, drops a slow
// consumer, is counted in /metrics, works through a real nginx reverse
// proxy, and 1,000 SSE streams beside 1,000 WebSocket subscribers all get
// the same sequence.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { http, sleep, ws } from './lib/client.mjs';
import { sanitizerReports, startServer } from './lib/server.mjs';
import { sse } from './lib/sse.mjs';

const H = 'mpp-demo';
const SENTINEL = 'Sentinel Sse Citizen 5512';

async function issue(s, service = 'ktp', extra = {}) {
  const r = await http(s.base, 'POST', `/v1/halls/${H}/tickets`, { token: s.operatorToken, body: { service, ...extra } });
  assert.equal(r.status, 201, r.text);
  return r.body;
}

async function stopClean(s) {
  const ex = await s.stop();
  assert.equal(ex.code, 0, s.err.slice(-2000));
  assert.deepEqual(sanitizerReports(s.err), []);
  assert.ok(!s.err.includes(SENTINEL), 'citizen data in the log');
  s.cleanup();
}

function assertGapless(seqs, from, to) {
  const want = [];
  for (let q = from; q <= to; q++) want.push(q);
  assert.deepEqual(seqs, want);
}

async function metric(s, name) {
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec((await http(s.base, 'GET', '/metrics')).text);
  return m ? Number(m[1]) : null;
}

describe('SSE stream', () => {
  let s;
  before(async () => { s = await startServer({ args: ['--sse-heartbeat-ms', '200'] }); });
  after(async () => { await stopClean(s); });

  test('starts with the board, then the public events with id = seq', async () => {
    const st = await sse(s.base, H);
    assert.equal(st.status, 200);
    assert.match(st.resHeaders['content-type'], /^text\/event-stream/);
    assert.equal(st.resHeaders['cache-control'], 'no-cache');
    const b = await st.until(() => st.events[0], 5000, 'board');
    assert.equal(b.event, 'board');
    assert.equal(Number(b.id), b.data.seq);
    assert.equal(b.data.hall, H);
    assert.ok(Array.isArray(b.data.services) && Array.isArray(b.data.counters));
    assert.equal(b.data.resync, undefined);
    const t = await issue(s, 'ktp', { name: SENTINEL, phone: '081234567890' });
    const e = await st.until(() => st.events.find((x) => x.event === 'ticket.issued' && x.data.code === t.code), 5000, 'issued');
    assert.equal(Number(e.id), e.data.seq);
    assert.equal(e.data.ev, 'ticket.issued');
    assert.equal(e.data.hall, H);
    assert.ok(!st.text.includes(SENTINEL) && !st.text.includes('081234567890'), 'no citizen data on a public stream');
    assert.ok(!st.text.includes(t.secret) && !st.text.includes(t.id), 'no ticket secret or id');
    await st.until(() => st.comments >= 2, 5000, 'heartbeat comments');
    assertGapless(st.seqs(), Number(b.id) + 1, st.lastId());
    st.close();
  });

  test('bad requests: unknown hall 404, POST 405, bad resume point 400', async () => {
    assert.equal((await http(s.base, 'GET', '/v1/halls/nope/events')).status, 404);
    assert.equal((await http(s.base, 'POST', `/v1/halls/${H}/events`)).status, 405);
    for (const q of ['?since=abc', '?since=-1', '?since=99999999999999999999999']) {
      const r = await http(s.base, 'GET', `/v1/halls/${H}/events${q}`);
      assert.equal(r.status, 400, q);
      assert.equal(r.body.error.code, 'bad_request');
      assert.match(r.body.error.message, /since/);
    }
    const r = await http(s.base, 'GET', `/v1/halls/${H}/events`, { headers: { 'last-event-id': 'x1' } });
    assert.equal(r.status, 400);
  });

  test('resume after a dropped stream: Last-Event-ID and ?since=, no gap, no duplicate', async () => {
    const ref = await ws(s, 'json');
    const start = (await ref.req('subscribe', { hall: H })).result.seq;
    const a = await sse(s.base, H);
    await a.until(() => a.events[0], 5000, 'board');
    const first = Number(a.events[0].id);
    for (let i = 0; i < 5; i++) await issue(s, 'kk');
    await a.until(() => a.lastId() >= first + 5, 5000, 'first events');
    a.close(); // the stream drops
    const seen = a.seqs();
    const last = a.lastId();
    for (let i = 0; i < 7; i++) await issue(s, 'akta'); // missed while away
    const b = await sse(s.base, H, { lastEventId: last });
    await issue(s, 'ktp'); // live after the resume
    const cur = (await http(s.base, 'GET', `/v1/halls/${H}/board`)).body.seq;
    await b.until(() => b.lastId() >= cur, 5000, 'resumed events');
    assert.ok(!b.events.some((e) => e.event === 'board'), 'a resume within history has no board');
    const all = [...seen, ...b.seqs()];
    assertGapless(all, first + 1, cur);
    // ?since= does the same
    const c = await sse(s.base, H, { since: first });
    await c.until(() => c.lastId() >= cur, 5000, 'since events');
    assertGapless(c.seqs(), first + 1, cur);
    // same events, same bytes of data, as the WebSocket subscriber got
    await ref.until(() => ref.events.find((e) => e.seq === cur), 5000, 'ws events');
    const wsBySeq = new Map(ref.events.map(({ __binary, ...e }) => [e.seq, e]));
    for (const e of c.events) {
      assert.deepEqual(e.data, wsBySeq.get(Number(e.id)), `seq ${e.id}`);
      assert.equal(e.event, e.data.ev);
    }
    assert.ok(start <= first);
    b.close();
    c.close();
    ref.close();
  });

  test('a resume point ahead of the hall gets the board with resync', async () => {
    const st = await sse(s.base, H, { lastEventId: 10_000_000 });
    const b = await st.until(() => st.events[0], 5000, 'board');
    assert.equal(b.event, 'board');
    assert.equal(b.data.resync, true);
    assert.equal(Number(b.id), b.data.seq);
    st.close();
  });

  test('streams are counted in /metrics', async () => {
    // streams of earlier tests were closed by the client; wait until the server saw it
    for (let i = 0; i < 100 && (await metric(s, 'antrean_sse_streams')) !== 0; i++) await sleep(50);
    const total0 = await metric(s, 'antrean_sse_streams_total');
    const streams = [];
    for (let i = 0; i < 3; i++) streams.push(await sse(s.base, H));
    for (const st of streams) await st.until(() => st.events[0], 5000, 'board');
    assert.equal(await metric(s, 'antrean_sse_streams'), 3);
    assert.equal(await metric(s, 'antrean_sse_streams_total'), total0 + 3);
    for (const st of streams) st.close();
    for (let i = 0; i < 50 && (await metric(s, 'antrean_sse_streams')) !== 0; i++) await sleep(50);
    assert.equal(await metric(s, 'antrean_sse_streams'), 0);
  });
});

describe('SSE history limits', () => {
  let s;
  before(async () => { s = await startServer({ args: ['--history', '8', '--ws-max-out', '8192'] }); });
  after(async () => { await stopClean(s); });

  test('a resume older than the retained history starts with the board and resync', async () => {
    for (let i = 0; i < 20; i++) await issue(s, 'ktp');
    const st = await sse(s.base, H, { since: 1 });
    const b = await st.until(() => st.events[0], 5000, 'board');
    assert.equal(b.event, 'board');
    assert.equal(b.data.resync, true);
    assert.equal(b.data.services.find((x) => x.id === 'ktp').waiting, 20);
    st.close();
  });
});

describe('SSE slow consumer', () => {
  let s;
  before(async () => { s = await startServer({ args: ['--ws-max-out', '2048'] }); });
  after(async () => { await stopClean(s); });

  test('a stream whose unsent output passes the limit is dropped and counted', async () => {
    for (let i = 0; i < 40; i++) await issue(s, 'kk', { name: SENTINEL });
    const d0 = await metric(s, 'antrean_sse_slow_dropped_total');
    const w0 = await metric(s, 'antrean_slow_subscribers_dropped_total');
    // a subscriber that does not read, resuming from the start: 40+ events
    // (several KiB) wait for it at once, past the 2 KiB limit
    const sock = net.connect(s.port, '127.0.0.1');
    await new Promise((r) => sock.on('connect', r));
    sock.pause();
    let closed = false;
    sock.on('close', () => { closed = true; });
    sock.on('error', () => { closed = true; });
    sock.write(`GET /v1/halls/${H}/events?since=0 HTTP/1.1\r\nHost: x\r\n\r\n`);
    for (let i = 0; i < 100 && (await metric(s, 'antrean_sse_slow_dropped_total')) === d0; i++) await sleep(50);
    assert.equal(await metric(s, 'antrean_sse_slow_dropped_total'), d0 + 1);
    assert.equal(await metric(s, 'antrean_slow_subscribers_dropped_total'), w0 + 1);
    sock.resume();
    for (let i = 0; i < 100 && !closed; i++) await sleep(50);
    assert.ok(closed, 'the server closed the slow stream');
    sock.destroy();
    assert.equal(await metric(s, 'antrean_sse_streams'), 0);
  });
});

// ---- through nginx ----------------------------------------------------------

function freePort() {
  return new Promise((res, rej) => {
    const srv = net.createServer();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => { const p = srv.address().port; srv.close(() => res(p)); });
  });
}

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));

describe('SSE through nginx (proxy_buffering off)', { skip: NGINX ? false : 'nginx not installed (make deps)' }, () => {
  let s;
  let ng;
  let dir;
  let base;
  before(async () => {
    s = await startServer();
    dir = mkdtempSync(join(tmpdir(), 'antrean-nginx-'));
    mkdirSync(join(dir, 'tmp'));
    const port = await freePort();
    writeFileSync(join(dir, 'nginx.conf'), `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://127.0.0.1:${s.port};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_read_timeout 1h;
    }
  }
}
`);
    ng = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    ng.err = '';
    ng.stderr.on('data', (d) => { ng.err += d; });
    ng.exited = new Promise((r) => ng.on('exit', r));
    base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      try { if ((await http(base, 'GET', '/v1/health')).status === 200) return; } catch { /* not yet */ }
      await sleep(50);
    }
    throw new Error(`nginx did not come up: ${ng.err} ${existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : ''}`);
  });
  after(async () => {
    if (ng && ng.exitCode === null) {
      ng.kill('SIGTERM');
      const t = setTimeout(() => ng.kill('SIGKILL'), 5000);
      await ng.exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
    await stopClean(s);
  });

  test('events arrive live through the proxy and a dropped stream resumes gaplessly', async () => {
    const a = await sse(base, H);
    assert.equal(a.status, 200);
    const b0 = await a.until(() => a.events[0], 5000, 'board via nginx');
    assert.equal(b0.event, 'board');
    const t = await issue(s, 'ktp');
    // arrives while the response is still open: nginx is not buffering it
    await a.until(() => a.events.find((e) => e.event === 'ticket.issued' && e.data.code === t.code), 5000, 'live event via nginx');
    const last = a.lastId();
    a.close();
    for (let i = 0; i < 4; i++) await issue(s, 'kk');
    const cur = (await http(s.base, 'GET', `/v1/halls/${H}/board`)).body.seq;
    const b = await sse(base, H, { lastEventId: last });
    await b.until(() => b.lastId() >= cur, 5000, 'resume via nginx');
    assertGapless([...a.seqs(), ...b.seqs()], Number(b0.id) + 1, cur);
    b.close();
  });
});

// ---- many subscribers ---------------------------------------------------------

describe('1,000 SSE and 1,000 WebSocket subscribers', () => {
  let s;
  before(async () => { s = await startServer(); });
  after(async () => { await stopClean(s); });

  test('all receive the same sequence', { timeout: 240000 }, async () => {
    const N = 1000;
    const streams = [];
    const socks = [];
    for (let i = 0; i < N; i += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, () => sse(s.base, H)));
      streams.push(...batch);
      const wb = await Promise.all(Array.from({ length: 50 }, () => ws(s, i % 100 === 0 ? 'msgpack' : 'json')));
      for (const c of wb) await c.req('subscribe', { hall: H });
      socks.push(...wb);
    }
    for (const st of streams) await st.until(() => st.events[0], 20000, 'board');
    const start = Math.max(...streams.map((st) => Number(st.events[0].id)));
    assert.equal(Math.min(...streams.map((st) => Number(st.events[0].id))), start, 'no event before all were subscribed');
    const op = (a) => http(s.base, 'POST', `/v1/halls/${H}/counters/l01/${a}`, { token: s.operatorToken });
    for (let i = 0; i < 5; i++) await issue(s, 'ktp');
    for (const a of ['open', 'call', 'start', 'finish', 'call', 'recall', 'close']) await op(a);
    const cur = (await http(s.base, 'GET', `/v1/halls/${H}/board`)).body.seq;
    assert.ok(cur >= start + 10);
    for (const st of streams) await st.until(() => st.lastId() >= cur, 60000, 'all SSE events');
    for (const c of socks) await c.until(() => c.events.find((e) => e.seq === cur), 60000, 'all WS events');
    const want = streams[0].events.slice(1).map((e) => e.data);
    assertGapless(want.map((e) => e.seq), start + 1, cur);
    for (const st of streams) assert.deepEqual(st.events.slice(1).map((e) => e.data), want);
    for (const c of socks) assert.deepEqual(c.events.filter((e) => e.hall === H && e.seq <= cur).map(({ __binary, ...e }) => e), want);
    assert.equal(await metric(s, 'antrean_sse_streams'), N);
    for (const st of streams) st.close();
    for (const c of socks) c.close();
  });
});
