// deploy/nginx.conf in front of a real antrean-server (issue 13): real nginx
// (Debian nginx-light) with a self-signed certificate made here by openssl;
// the board, an issue and a WebSocket subscription go through it over https,
// pages are cached and the API is not, and the per-IP issue limit sees each
// citizen behind the proxy (clients from 127.0.0.2 and 127.0.0.3).
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { sanitizerReports, startServer, tempDir } from '../lib/server.mjs';
import { Nginx, freePort, makeCert, request, siteConf, which } from './lib.mjs';

const missing = ['nginx', 'openssl'].filter((p) => !which(p));
const H = 'mpp-demo';
let s, ngx, dir, cert, httpsPort, httpPort, origin;

const get = (path, opts = {}) => request({ port: httpsPort, ca: cert.pem, path, ...opts });

describe('nginx in front of antrean', { skip: missing.length ? `not installed: ${missing.join(', ')}` : false }, () => {
  before(async () => {
    dir = tempDir('antrean-nginx-');
    cert = makeCert(dir);
    httpsPort = await freePort();
    httpPort = await freePort();
    origin = `https://localhost:${httpsPort}`;
    s = await startServer({
      args: ['--trusted-proxy', '127.0.0.1/32', '--issue-burst', '2', '--issue-per-min', '1', '--allow-origin', origin],
    });
    ngx = new Nginx(join(dir, 'nginx'), siteConf({
      upstreamPort: s.port, httpsPort, httpPort, cert: cert.cert, key: cert.key, cacheDir: join(dir, 'cache'),
    }));
    await ngx.start(httpsPort, cert.pem);
  });

  after(async () => {
    if (ngx) await ngx.stop();
    if (s) {
      const ex = await s.stop();
      assert.equal(ex.code, 0, s.err.slice(-2000));
      assert.deepEqual(sanitizerReports(s.err), []);
      s.cleanup();
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('plain http is redirected to https', async () => {
    const r = await fetch(`http://127.0.0.1:${httpPort}/board/${H}`, { redirect: 'manual', signal: AbortSignal.timeout(10000) });
    assert.equal(r.status, 301);
    assert.match(r.headers.get('location'), /^https:\/\//);
  });

  test('the board over https, with ETag revalidation passed through and never cached by nginx', async () => {
    const a = await get(`/v1/halls/${H}/board`);
    assert.equal(a.status, 200, a.text);
    assert.equal(a.body.hall, H);
    assert.ok(a.headers.etag);
    assert.equal(a.headers['x-cache-status'], undefined, 'the API is not cached');
    assert.match(a.headers['strict-transport-security'], /max-age=/);
    const b = await get(`/v1/halls/${H}/board`, { headers: { 'if-none-match': a.headers.etag } });
    assert.equal(b.status, 304);
  });

  test('pages are cached by nginx', async () => {
    const first = await get(`/board/${H}`);
    assert.equal(first.status, 200);
    assert.match(first.headers['content-type'], /text\/html/);
    const second = await get(`/board/${H}`);
    assert.equal(second.status, 200);
    assert.equal(second.headers['x-cache-status'], 'HIT');
    assert.equal(second.text, first.text);
    assert.match(second.headers['strict-transport-security'], /max-age=/);
  });

  test('HTTP/2 over TLS', async () => {
    const session = http2.connect(`https://127.0.0.1:${httpsPort}`, { ca: cert.pem, servername: 'localhost' });
    try {
      const { status, text } = await new Promise((res, rej) => {
        const req = session.request({ ':path': `/v1/halls/${H}/board` });
        let body = '';
        let st = 0;
        req.setEncoding('utf8');
        req.on('response', (h) => { st = h[':status']; });
        req.on('data', (d) => { body += d; });
        req.on('end', () => res({ status: st, text: body }));
        req.on('error', rej);
        req.setTimeout(10000, () => req.close());
      });
      assert.equal(status, 200);
      assert.equal(JSON.parse(text).hall, H);
    } finally {
      session.close();
    }
  });

  test('Server-Sent Events pass unbuffered (once the server has the route, SPEC §13)', async () => {
    // read the stream until pred(text) or 10 s; the socket is always destroyed
    const stream = (pred, onOpen) => new Promise((res, rej) => {
      const req = https.request({ host: '127.0.0.1', servername: 'localhost', port: httpsPort, path: `/v1/halls/${H}/events`,
        ca: cert.pem, agent: false, headers: { accept: 'text/event-stream' } }, (r) => {
        let text = '';
        const done = (v) => { clearTimeout(t); req.destroy(); res(v); };
        const t = setTimeout(() => done({ status: r.statusCode, headers: r.headers, text, timedOut: true }), 10000);
        r.setEncoding('utf8');
        r.on('data', (d) => {
          text += d;
          if (r.statusCode === 200 && onOpen && /event: board/.test(text)) { const f = onOpen; onOpen = null; f(); }
          if (r.statusCode === 200 && pred(text)) done({ status: r.statusCode, headers: r.headers, text });
        });
        r.on('end', () => done({ status: r.statusCode, headers: r.headers, text }));
      });
      req.on('error', rej);
      req.end();
    });
    let issued;
    const r = await stream((text) => issued && text.includes(`"code":"${issued}"`), async () => {
      const t = await get(`/v1/halls/${H}/tickets`, { method: 'POST', body: { service: 'kk' }, localAddress: '127.0.0.5' });
      assert.equal(t.status, 201, t.text);
      issued = t.body.code;
    });
    if (r.status === 404) {
      // not built yet: the 404 is antrean's own JSON error, so the location proxies
      assert.equal(JSON.parse(r.text).error.code, 'not_found');
      return;
    }
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers['content-type'], /text\/event-stream/);
    assert.ok(!r.timedOut, `the issued ticket's event came through while the stream was open: ${r.text.slice(0, 300)}`);
    assert.match(r.text, /event: ticket\.issued/);
  });

  test('/metrics is not public through the proxy', async () => {
    assert.equal((await get('/metrics')).status, 404);
  });

  test('an issue over https reaches a wss subscriber', async () => {
    const sock = new WebSocket(`wss://127.0.0.1:${httpsPort}/v1/ws`, ['antrean.v1.json'], { ca: cert.pem, servername: 'localhost', origin });
    const msgs = [];
    const waiters = [];
    sock.on('message', (d) => { msgs.push(JSON.parse(d.toString())); waiters.splice(0).forEach((w) => w()); });
    await new Promise((res, rej) => { sock.on('open', res); sock.on('error', rej); setTimeout(() => rej(new Error('wss open timeout')), 10000); });
    assert.equal(sock.protocol, 'antrean.v1.json');
    const until = async (pred, what) => {
      const deadline = Date.now() + 10000;
      while (!pred()) {
        if (Date.now() > deadline) throw new Error(`timeout: ${what}`);
        await new Promise((r) => { waiters.push(r); setTimeout(r, 100); });
      }
      return pred();
    };
    sock.send(JSON.stringify({ op: 'subscribe', rid: 1, hall: H }));
    const sub = await until(() => msgs.find((m) => m.rid === 1), 'subscribe reply');
    assert.equal(sub.ok, true, JSON.stringify(sub));
    const t = await get(`/v1/halls/${H}/tickets`, { method: 'POST', body: { service: 'ktp' }, localAddress: '127.0.0.4' });
    assert.equal(t.status, 201, t.text);
    assert.match(t.body.code, /^[A-Z]{1,2}\d+/);
    const ev = await until(() => msgs.find((m) => m.ev === 'ticket.issued' && m.code === t.body.code), 'ticket.issued event');
    assert.equal(ev.hall, H);
    // and the citizen reads the ticket back through the proxy
    const back = await get(`/v1/tickets/${t.body.id}`, { headers: { 'x-ticket-secret': t.body.secret } });
    assert.equal(back.status, 200, back.text);
    sock.close();
  });

  test('the issue limit is per citizen behind nginx, and a spoofed X-Forwarded-For does not escape it', async () => {
    const issue = (localAddress, headers) => get(`/v1/halls/${H}/tickets`, { method: 'POST', body: { service: 'kk' }, localAddress, headers });
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await issue('127.0.0.2')).status);
    assert.deepEqual(codes, [201, 201, 429]);
    // the same citizen claiming to be someone else: nginx replaces the header
    assert.equal((await issue('127.0.0.2', { 'x-forwarded-for': '198.51.100.1' })).status, 429);
    // another citizen in the same hall is not limited by the first
    assert.equal((await issue('127.0.0.3')).status, 201);
  });
});
