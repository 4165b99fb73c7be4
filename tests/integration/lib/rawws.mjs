// lib/rawws.mjs — a hand-made WebSocket client over a raw socket, to send
// what a proper library never would (unmasked frames, reserved bits, huge
// lengths) and to stop reading on purpose. Bounded by timeouts.
import { randomBytes } from 'node:crypto';
import net from 'node:net';

export function frame(opcode, payload, { mask = true, fin = true, rsv = 0, lenOverride } = {}) {
  const p = Buffer.from(payload);
  const len = lenOverride ?? p.length;
  let hdr;
  if (len < 126) hdr = Buffer.from([(fin ? 0x80 : 0) | rsv | opcode, (mask ? 0x80 : 0) | len]);
  else if (len <= 0xffff) { hdr = Buffer.alloc(4); hdr[0] = (fin ? 0x80 : 0) | rsv | opcode; hdr[1] = (mask ? 0x80 : 0) | 126; hdr.writeUInt16BE(len, 2); }
  else { hdr = Buffer.alloc(10); hdr[0] = (fin ? 0x80 : 0) | rsv | opcode; hdr[1] = (mask ? 0x80 : 0) | 127; hdr.writeBigUInt64BE(BigInt(len), 2); }
  if (!mask) return Buffer.concat([hdr, p]);
  const m = randomBytes(4);
  const body = Buffer.from(p);
  for (let i = 0; i < body.length; i++) body[i] ^= m[i & 3];
  return Buffer.concat([hdr, m, body]);
}

// Parse server frames (unmasked) from buf; returns {frames, rest}.
export function parseFrames(buf) {
  const frames = [];
  let off = 0;
  for (;;) {
    if (buf.length - off < 2) break;
    const b0 = buf[off], b1 = buf[off + 1];
    let len = b1 & 0x7f, hl = 2;
    if (len === 126) { if (buf.length - off < 4) break; len = buf.readUInt16BE(off + 2); hl = 4; }
    else if (len === 127) { if (buf.length - off < 10) break; len = Number(buf.readBigUInt64BE(off + 2)); hl = 10; }
    if (buf.length - off < hl + len) break;
    frames.push({ fin: !!(b0 & 0x80), opcode: b0 & 0x0f, payload: buf.subarray(off + hl, off + hl + len) });
    off += hl + len;
  }
  return { frames, rest: buf.subarray(off) };
}

export class RawWs {
  constructor(port, { protocol = 'antrean.v1.json', origin } = {}) {
    this.port = port;
    this.protocol = protocol;
    this.origin = origin;
    this.buf = Buffer.alloc(0);
    this.frames = [];
    this.closed = false;
  }

  open(timeoutMs = 5000) {
    return new Promise((resolve, reject) => {
      const s = net.connect(this.port, '127.0.0.1');
      this.sock = s;
      const key = randomBytes(16).toString('base64');
      let head = '';
      let upgraded = false;
      const t = setTimeout(() => reject(new Error('raw ws handshake timeout')), timeoutMs);
      s.on('connect', () => {
        s.write(`GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1:${this.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
          (this.protocol ? `Sec-WebSocket-Protocol: ${this.protocol}\r\n` : '') +
          (this.origin ? `Origin: ${this.origin}\r\n` : '') + '\r\n');
      });
      s.on('data', (d) => {
        if (!upgraded) {
          head += d.toString('latin1');
          const i = head.indexOf('\r\n\r\n');
          if (i < 0) return;
          clearTimeout(t);
          if (!head.startsWith('HTTP/1.1 101')) { reject(new Error(head)); return; }
          upgraded = true;
          this.absorb(Buffer.from(head.slice(i + 4), 'latin1'));
          resolve(this);
          return;
        }
        this.absorb(d);
      });
      s.on('close', () => { this.closed = true; });
      s.on('error', () => { this.closed = true; });
    });
  }

  absorb(d) {
    this.buf = Buffer.concat([this.buf, d]);
    const { frames, rest } = parseFrames(this.buf);
    this.frames.push(...frames);
    this.buf = Buffer.from(rest);
  }

  send(buf) { this.sock.write(buf); }
  sendText(s) { this.send(frame(1, s)); }
  pause() { this.sock.pause(); }
  resume() { this.sock.resume(); }

  closeFrame() { return this.frames.find((f) => f.opcode === 8); }
  closeCode() { const f = this.closeFrame(); return f && f.payload.length >= 2 ? f.payload.readUInt16BE(0) : null; }

  async until(pred, timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (pred()) return true;
      await new Promise((r) => setTimeout(r, 20));
    }
    return pred();
  }

  destroy() { this.sock.destroy(); }
}
