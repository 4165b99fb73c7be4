// abuse/lib.mjs — what every abuse test checks: the hall keeps answering
// (a board read and a ticket issue, acknowledged), the server's RSS stays
// under a generous bound, and nothing acknowledged is lost (every acked
// ticket is read back after a clean restart on the same data directory).
// Every loop is bounded in count and time.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { Server, sanitizerReports, startServer } from '../lib/server.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const H = 'mpp-demo';
// public issue is rate-limited per IP; the abuse comes from one address
export const OPEN_LIMITS = ['--issue-burst', '1000000', '--issue-per-min', '100000000'];

// Under ASan freed memory sits in a quarantine of up to 256 MiB, which would
// hide (or fake) growth; a small one makes RSS say what the server keeps.
// (No effect on a build without ASan.)
export const SERVER_ENV = {
  ASAN_OPTIONS: `${process.env.ASAN_OPTIONS ?? 'detect_leaks=1:abort_on_error=0'}:quarantine_size_mb=8`,
};

const servers = [];
const sockets = [];

// A server for an abuse test: open issue limits, the small quarantine.
export async function abuseServer(args = []) {
  const s = await startServer({ args: [...OPEN_LIMITS, ...args], env: SERVER_ENV });
  servers.push(s);
  return s;
}

// after(teardown) in every file: whatever a failed test left running is
// ended (sockets destroyed, servers killed, data removed).
export async function teardown() {
  for (const k of sockets.splice(0)) k.destroy();
  for (const s of servers.splice(0)) {
    if (!s.exit) await s.kill9();
    s.cleanup();
  }
}

export function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

export async function metric(s, name) {
  const r = await fetch(`${s.base}/metrics`, { signal: AbortSignal.timeout(10000) });
  const m = new RegExp(`^${name} (\\d+)`, 'm').exec(await r.text());
  return m ? Number(m[1]) : NaN;
}

// The hall's two duties, checked once: a board read and an acked issue.
export class HallProbe {
  constructor(s) { this.s = s; this.acked = []; this.checks = 0; this.peakKiB = 0; }

  async check(what = '') {
    const s = this.s;
    const b = await fetch(`${s.base}/v1/halls/${H}/board`, { signal: AbortSignal.timeout(10000) });
    assert.equal(b.status, 200, `board during ${what}`);
    assert.equal((await b.json()).hall, H);
    const r = await fetch(`${s.base}/v1/halls/${H}/tickets`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ service: 'ktp' }), signal: AbortSignal.timeout(10000),
    });
    const t = await r.json();
    assert.equal(r.status, 201, `issue during ${what}: ${JSON.stringify(t)}`);
    this.acked.push({ id: t.id, secret: t.secret, code: t.code });
    this.checks++;
    this.peakKiB = Math.max(this.peakKiB, rssKiB(s.proc.pid));
  }

  // Stop cleanly, start again on the same data, read every acked ticket back.
  async verifyNothingLost() {
    const old = this.s;
    const ex = await old.stop();
    assert.equal(ex.code, 0, old.err.slice(-2000));
    assert.deepEqual(sanitizerReports(old.err), []);
    const again = await new Server({ ...old.opts, dataDir: old.dataDir, adminToken: old.adminToken }).start();
    try {
      for (const t of this.acked) {
        const r = await fetch(`${again.base}/v1/tickets/${t.id}`, { headers: { 'x-ticket-secret': t.secret }, signal: AbortSignal.timeout(10000) });
        assert.equal(r.status, 200, `acked ticket ${t.code} lost`);
        assert.equal((await r.json()).code, t.code);
      }
    } finally {
      const ex2 = await again.stop();
      assert.equal(ex2.code, 0);
      assert.deepEqual(sanitizerReports(again.err), []);
      old.cleanup();
    }
    return this.acked.length;
  }
}

// Opens n plain TCP connections (bounded: at most `concurrency` connecting at once).
export async function openMany(port, n, { concurrency = 200, onSocket } = {}) {
  const socks = [];
  let next = 0;
  const one = () => new Promise((res) => {
    const k = net.connect(port, '127.0.0.1');
    k.on('error', () => {});
    k.once('connect', () => res(k));
    k.once('close', () => res(k));
  });
  const worker = async () => {
    while (next < n) {
      next++;
      const k = await one();
      socks.push(k);
      sockets.push(k);
      if (onSocket) onSocket(k);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return socks;
}

// Polls pred until true or timeoutMs; bounded.
export async function until(pred, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timeout: ${what}`);
    await sleep(100);
  }
}

// One kept-alive HTTP/1.1 connection, requests one at a time: a client that
// was connected before the server filled up (Content-Length bodies only).
export class KeepAlive {
  constructor(port) { this.port = port; this.buf = Buffer.alloc(0); this.waiter = null; }

  open() {
    return new Promise((res, rej) => {
      this.sock = net.connect(this.port, '127.0.0.1', () => res(this));
      sockets.push(this.sock);
      this.sock.on('error', rej);
      this.sock.on('data', (d) => { this.buf = Buffer.concat([this.buf, d]); if (this.waiter) this.waiter(); });
      this.sock.on('close', () => { this.closed = true; if (this.waiter) this.waiter(); });
    });
  }

  async request(method, path, body, timeoutMs = 10000) {
    const payload = body === undefined ? '' : JSON.stringify(body);
    this.sock.write(`${method} ${path} HTTP/1.1\r\nHost: x\r\n` +
      (payload ? `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n` : '') + `\r\n${payload}`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.buf.toString('latin1');
      const i = text.indexOf('\r\n\r\n');
      if (i >= 0) {
        const len = Number(/content-length: (\d+)/i.exec(text.slice(0, i))?.[1] ?? 0);
        if (this.buf.length >= i + 4 + len) {
          const status = Number(text.slice(9, 12));
          const bodyText = this.buf.subarray(i + 4, i + 4 + len).toString('utf8');
          this.buf = this.buf.subarray(i + 4 + len);
          let parsed;
          try { parsed = bodyText ? JSON.parse(bodyText) : undefined; } catch { parsed = undefined; }
          return { status, text: bodyText, body: parsed };
        }
      }
      if (this.closed) throw new Error('keep-alive connection closed');
      if (Date.now() > deadline) throw new Error(`keep-alive ${method} ${path}: timeout`);
      await new Promise((r) => { this.waiter = r; setTimeout(r, 100); });
      this.waiter = null;
    }
  }

  close() { this.sock.destroy(); }
}
