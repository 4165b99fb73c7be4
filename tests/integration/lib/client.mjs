// lib/client.mjs — HTTP and WebSocket clients for the tests.
//
// http() returns {status, headers, text, body}; ws() wraps the `ws` package
// with request/reply matching by rid and an event log. Every wait has a
// timeout, and every byte a client receives is kept in `received` so the
// privacy test can scan what public clients saw.
import { decode, encode } from '@msgpack/msgpack';
import net from 'node:net';
import WebSocket from 'ws';

export const received = []; // strings of everything public clients received

export async function http(base, method, path, { body, headers = {}, token, secret, raw, record = true } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  if (secret) h['x-ticket-secret'] = secret;
  let payload;
  if (raw !== undefined) payload = raw;
  else if (body !== undefined) { payload = JSON.stringify(body); h['content-type'] = 'application/json'; }
  const res = await fetch(base + path, { method, headers: h, body: payload, signal: AbortSignal.timeout(10000) });
  const text = await res.text();
  if (record && !token) received.push(text);
  let parsed;
  try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
  return { status: res.status, headers: res.headers, text, body: parsed };
}

// Raw TCP: send bytes, collect everything until the server closes or timeout.
export function rawExchange(port, chunks, { timeoutMs = 5000, gapMs = 0, endAfter = false } = {}) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    let closed = false;
    const t0 = Date.now();
    const done = (why) => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ data: data.toString('latin1'), why, ms: Date.now() - t0 });
    };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    s.on('data', (d) => { data = Buffer.concat([data, d]); });
    s.on('close', () => done('closed'));
    s.on('error', () => done('error'));
    s.on('connect', async () => {
      for (const c of chunks) {
        if (closed) return;
        s.write(c);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
      if (endAfter) s.end();
    });
  });
}

export class WsClient {
  constructor(url, protocol) {
    this.url = url;
    this.protocol = protocol; // 'json' | 'msgpack' | undefined (no subprotocol) | array
    this.events = [];
    this.replies = new Map();
    this.waiters = [];
    this.rid = 1;
    this.closeCode = null;
    this.public = true;
  }

  open() {
    const protos = this.protocol === undefined ? undefined
      : Array.isArray(this.protocol) ? this.protocol : [`antrean.v1.${this.protocol}`];
    this.sock = new WebSocket(this.url, protos);
    this.sock.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    this.closed = new Promise((res) => this.sock.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      res(code);
      this.wake();
    }));
    return new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error('ws open timeout')), 5000);
      this.sock.on('open', () => { clearTimeout(t); res(this); });
      this.sock.on('unexpected-response', (req, resp) => {
        clearTimeout(t);
        let b = '';
        resp.on('data', (d) => { b += d; });
        resp.on('end', () => { const e = new Error(`ws refused ${resp.statusCode}`); e.status = resp.statusCode; e.body = b; rej(e); });
      });
      this.sock.on('error', (e) => { clearTimeout(t); rej(e); });
    });
  }

  onMessage(data, isBinary) {
    let m;
    if (isBinary) { m = decode(data); if (this.public) received.push(JSON.stringify(m) + Buffer.from(data).toString('latin1')); }
    else { const s = data.toString(); if (this.public) received.push(s); m = JSON.parse(s); }
    m.__binary = isBinary;
    if (m.ev) this.events.push(m);
    else if ('rid' in m && m.rid !== null && m.rid !== undefined) this.replies.set(String(m.rid), m);
    else this.replies.set('null', m);
    this.wake();
  }

  wake() {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  async until(pred, timeoutMs = 5000, what = 'condition') {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = pred();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timeout waiting for ${what}`);
      await new Promise((res) => {
        this.waiters.push(res);
        setTimeout(res, Math.min(100, Math.max(1, deadline - Date.now())));
      });
    }
  }

  sendRaw(obj) {
    if (this.protocol === 'msgpack') this.sock.send(encode(obj));
    else this.sock.send(JSON.stringify(obj));
  }

  async req(op, fields = {}, timeoutMs = 5000) {
    const rid = this.rid++;
    this.sendRaw({ op, rid, ...fields });
    return this.until(() => this.replies.get(String(rid)), timeoutMs, `reply to ${op}`);
  }

  close() { try { this.sock.close(); } catch { /* closed */ } }
  terminate() { try { this.sock.terminate(); } catch { /* closed */ } }
}

export async function ws(server, protocol = 'json', { isPublic = true } = {}) {
  const c = new WsClient(`ws://127.0.0.1:${server.port}/v1/ws`, protocol);
  c.public = isPublic;
  return c.open();
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
