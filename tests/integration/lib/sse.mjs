// lib/sse.mjs — a small Server-Sent Events reader over node:http for tests.
//
// It parses the text/event-stream format as the WHATWG spec does (fields
// id, event, data; comment lines start with ':'; a blank line ends an
// event) and keeps every event and comment, so a test can compare what a
// stream carried with what WebSocket subscribers got. Every wait is bounded.
import http from 'node:http';
import { received } from './client.mjs';

export class SseClient {
  // url: full URL; headers: extra request headers (e.g. Last-Event-ID).
  constructor(url, headers = {}) {
    this.url = url;
    this.headers = headers;
    this.events = []; // {id, event, data (parsed JSON)}
    this.comments = 0;
    this.status = null;
    this.resHeaders = null;
    this.ended = false;
    this.buf = '';
    this.text = '';
    this.waiters = [];
  }

  open(timeoutMs = 10000) {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`SSE open timed out: ${this.url}`)), timeoutMs);
      this.req = http.get(this.url, { headers: { accept: 'text/event-stream', ...this.headers }, agent: false }, (res) => {
        clearTimeout(t);
        this.status = res.statusCode;
        this.resHeaders = res.headers;
        this.res = res;
        res.setEncoding('utf8');
        res.on('data', (d) => this.onData(d));
        res.on('end', () => { this.ended = true; this.wake(); });
        res.on('error', () => { this.ended = true; this.wake(); });
        res.on('close', () => { this.ended = true; this.wake(); });
        resolve(this);
      });
      this.req.on('error', (e) => { clearTimeout(t); this.ended = true; this.wake(); reject(e); });
    });
  }

  onData(d) {
    this.text += d;
    received.push(d);
    this.buf += d;
    let i;
    while ((i = this.buf.indexOf('\n\n')) >= 0) {
      const block = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 2);
      const ev = { id: null, event: 'message', data: [] };
      let any = false;
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) { this.comments++; continue; }
        const c = line.indexOf(':');
        const f = c < 0 ? line : line.slice(0, c);
        let v = c < 0 ? '' : line.slice(c + 1);
        if (v.startsWith(' ')) v = v.slice(1);
        if (f === 'id') { ev.id = v; any = true; } else if (f === 'event') { ev.event = v; any = true; } else if (f === 'data') { ev.data.push(v); any = true; }
      }
      if (!any || ev.data.length === 0) continue; // comment-only block or retry:
      ev.raw = ev.data.join('\n');
      ev.data = JSON.parse(ev.raw);
      this.events.push(ev);
    }
    this.wake();
  }

  wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  // Wait until pred() is truthy; throws after timeoutMs.
  async until(pred, timeoutMs = 10000, what = 'condition') {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = pred();
      if (v) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`SSE: timed out waiting for ${what}; got ${this.events.length} events, ended=${this.ended}`);
      await new Promise((r) => {
        const t = setTimeout(r, Math.min(left, 200));
        this.waiters.push(() => { clearTimeout(t); r(); });
      });
    }
  }

  lastId() {
    return this.events.length ? Number(this.events[this.events.length - 1].id) : null;
  }

  // Seqs of feed events (not the board).
  seqs() {
    return this.events.filter((e) => e.event !== 'board').map((e) => Number(e.id));
  }

  close() {
    this.req?.destroy();
    this.res?.destroy();
  }
}

export async function sse(base, hall, { since, lastEventId, headers = {} } = {}) {
  const h = { ...headers };
  if (lastEventId !== undefined) h['last-event-id'] = String(lastEventId);
  const q = since !== undefined ? `?since=${since}` : '';
  return new SseClient(`${base}/v1/halls/${hall}/events${q}`, h).open();
}
