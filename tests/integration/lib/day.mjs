// lib/day.mjs — helpers for interop_day.test.mjs and cli.test.mjs: a seeded
// PRNG, a WebSocket subscriber written straight on `ws` + `@msgpack/msgpack`
// (not on lib/client.mjs, so the server is checked against a client nobody
// here wrote), a hall-clock pin that keeps a test away from the hall's
// midnight, and a runner for antrean-cli. Every wait is bounded.
import { decode, encode } from '@msgpack/msgpack';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { repo } from './server.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// mulberry32: small, fast, deterministic for a given 32-bit seed.
export function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)), // inclusive
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    chance: (p) => next() < p,
    // picks a key of {key: weight} (weights <= 0 are skipped); null when none
    weighted(w) {
      const e = Object.entries(w).filter(([, v]) => v > 0);
      const total = e.reduce((s, [, v]) => s + v, 0);
      if (!total) return null;
      let x = next() * total;
      for (const [k, v] of e) { if ((x -= v) < 0) return k; }
      return e[e.length - 1][0];
    },
  };
}

// HTTP with a timeout; never throws on a status. {status, headers, text, body}
export async function req(base, method, path, { body, token, secret, timeoutMs = 10000 } = {}) {
  const h = {};
  if (token) h.authorization = `Bearer ${token}`;
  if (secret) h['x-ticket-secret'] = secret;
  let payload;
  if (body !== undefined) { payload = JSON.stringify(body); h['content-type'] = 'application/json'; }
  const res = await fetch(base + path, { method, headers: h, body: payload, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  let parsed;
  try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
  return { status: res.status, headers: res.headers, text, body: parsed };
}

// Replaces the demo hall's config with itself (PUT; the public config
// lacks priority and no_show: the demo's values are max_consecutive 2,
// min_recalls 1, reinstate_within_s 1800) except utc_offset_min, chosen so
// that the hall's local time is far from midnight (about noon, at worst
// 07:00–14:00) on the hall's current local date: a test then never runs
// across the hall's midnight (day rollover), whatever the machine's clock
// says, and "today" stays the same day.
export async function pinHallMidday(base, adminToken, hall = 'mpp-demo') {
  const cfg = (await req(base, 'GET', `/v1/halls/${hall}`)).body;
  const nowMin = Math.floor(Date.now() / 60000);
  const day = Math.floor((nowMin + cfg.utc_offset_min) / 1440); // the hall's local date, in days
  const off = Math.max(-720, Math.min(840, day * 1440 + 720 - nowMin));
  const local = nowMin + off - day * 1440;
  if (local < 60 || local > 1380) throw new Error(`pinHallMidday: no offset keeps ${hall} away from midnight (${local})`);
  const full = { ...cfg, utc_offset_min: off, priority: { max_consecutive: 2 },
    no_show: { min_recalls: 1, reinstate_within_s: 1800 } };
  const r = await req(base, 'PUT', `/v1/halls/${hall}`, { token: adminToken, body: full });
  if (r.status !== 200) throw new Error(`PUT hall config: ${r.status} ${r.text}`);
  return full;
}

// One WebSocket connection subscribed to hall feeds. Keeps every decoded
// message and the raw bytes of every frame (for privacy scans).
export class Subscriber {
  constructor(port, protocol) {
    this.port = port;
    this.protocol = protocol; // 'json' | 'msgpack'
    this.events = [];
    this.replies = new Map();
    this.raw = [];
    this.rid = 0;
    this.waiters = new Set();
    this.isClosed = false;
  }

  open(timeoutMs = 5000) {
    this.sock = new WebSocket(`ws://127.0.0.1:${this.port}/v1/ws`, [`antrean.v1.${this.protocol}`]);
    this.closed = new Promise((res) => this.sock.on('close', (code) => {
      this.isClosed = true;
      this.closeCode = code;
      res(code);
      this.wake();
    }));
    this.sock.on('message', (data, isBinary) => {
      const buf = Buffer.isBuffer(data) ? data : Buffer.concat(data);
      this.raw.push(buf);
      const want = this.protocol === 'msgpack';
      if (isBinary !== want) this.wrongFrameType = (this.wrongFrameType ?? 0) + 1;
      const m = isBinary ? decode(buf) : JSON.parse(buf.toString('utf8'));
      if (m && typeof m === 'object' && 'ev' in m) this.events.push(m);
      else if (m && m.rid !== undefined && m.rid !== null) this.replies.set(m.rid, m);
      else this.stray = m;
      this.wake();
    });
    return new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error('ws open timeout')), timeoutMs);
      this.sock.on('open', () => { clearTimeout(t); res(this); });
      this.sock.on('error', (e) => { clearTimeout(t); rej(e); });
    });
  }

  wake() { for (const w of [...this.waiters]) w(); }

  async until(pred, timeoutMs, what) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = pred();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timeout (${timeoutMs} ms) waiting for ${what}`);
      await new Promise((res) => {
        const t = setTimeout(done, Math.min(100, Math.max(1, deadline - Date.now())));
        const self = this;
        function done() { clearTimeout(t); self.waiters.delete(done); res(); }
        this.waiters.add(done);
      });
    }
  }

  async request(op, fields = {}, timeoutMs = 5000) {
    const rid = ++this.rid;
    const msg = { op, rid, ...fields };
    this.sock.send(this.protocol === 'msgpack' ? encode(msg) : JSON.stringify(msg));
    return this.until(() => this.replies.get(rid), timeoutMs, `reply to ${op}`);
  }

  lastSeq() { return this.events.length ? this.events[this.events.length - 1].seq : null; }

  // close: 'terminate' drops the TCP connection, 'close' does the handshake
  async shut(how = 'close', timeoutMs = 5000) {
    if (!this.isClosed) {
      if (how === 'terminate') this.sock.terminate(); else this.sock.close(1000, 'bye');
    }
    let timer;
    const t = new Promise((res, rej) => { timer = setTimeout(() => rej(new Error('ws close timeout')), timeoutMs); });
    try {
      await Promise.race([this.closed, t]);
    } finally {
      clearTimeout(timer);
      this.wake();
    }
  }
}

// antrean-cli: $ANTREAN_CLI, else the first build directory that has one; null when none.
export function findCli() {
  if (process.env.ANTREAN_CLI) return process.env.ANTREAN_CLI;
  const candidates = ['build/antrean-cli', 'build-cli/antrean-cli', 'build-asan/antrean-cli', 'build-it/antrean-cli']
    .map((p) => join(repo, p));
  return candidates.find((c) => existsSync(c)) ?? null;
}

export function cliBinary() {
  const c = findCli();
  if (!c) throw new Error('antrean-cli not found; build it or set ANTREAN_CLI');
  return c;
}

// Runs antrean-cli with args; resolves {code, signal, stdout, stderr} (never
// rejects on a non-zero exit). onStdout(chunk, child) sees output as it comes.
export function runCli(args, { env = {}, timeoutMs = 15000, onStdout } = {}) {
  return new Promise((resolve) => {
    const e = { ...process.env, ...env };
    delete e.ANTREAN_SERVER; // the tests always say --server (or set it in env)
    delete e.ANTREAN_TOKEN;
    Object.assign(e, env);
    e.ASAN_OPTIONS = e.ASAN_OPTIONS ?? 'detect_leaks=1:abort_on_error=0';
    const child = execFile(cliBinary(), args, { env: e, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 8 << 20 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0,
          signal: err?.signal ?? null, killed: !!err?.killed, stdout, stderr });
      });
    if (onStdout) child.stdout.on('data', (d) => onStdout(d.toString(), child));
  });
}

// A TCP proxy 127.0.0.1:port → 127.0.0.1:target that can cut every
// connection and refuse new ones for a while (a network outage between a
// client and the server, without touching the server).
export async function tcpProxy(target) {
  const net = await import('node:net');
  const pairs = new Set();
  let down = false;
  const srv = net.createServer((c) => {
    if (down) { c.destroy(); return; }
    const u = net.connect(target, '127.0.0.1');
    const pair = [c, u];
    pairs.add(pair);
    const end = () => { c.destroy(); u.destroy(); pairs.delete(pair); };
    c.on('error', end); u.on('error', end); c.on('close', end); u.on('close', end);
    c.pipe(u); u.pipe(c);
  });
  await new Promise((res) => srv.listen(0, '127.0.0.1', res));
  return {
    port: srv.address().port,
    connections: () => pairs.size,
    cut() { down = true; for (const [c, u] of [...pairs]) { c.destroy(); u.destroy(); } pairs.clear(); },
    restore() { down = false; },
    close() { this.cut(); return new Promise((res) => srv.close(res)); },
  };
}
