// WebSocket /v1/ws (SPEC §5): subprotocols, every op in both encodings,
// events, since-resume, errors, and the frame limits (1009, 1002, 1008,
// ping and silence).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { http, sleep, ws } from './lib/client.mjs';
import { frame, RawWs } from './lib/rawws.mjs';
import { sanitizerReports, startServer } from './lib/server.mjs';

let s;
const H = 'mpp-demo';
const strip = (e) => { const { __binary, ...rest } = e; return rest; };

before(async () => {
  s = await startServer({
    args: ['--issue-burst', '100000', '--issue-per-min', '1000000', '--history', '64',
      '--ws-ping-ms', '300', '--ws-silent-ms', '900', '--ws-max-out', '65536', '--allow-origin', 'https://kiosk.example'],
  });
});
after(async () => {
  const ex = await s.stop();
  assert.equal(ex.code, 0, s.err.slice(-2000));
  assert.deepEqual(sanitizerReports(s.err), []);
  s.cleanup();
});

describe('handshake', () => {
  test('subprotocol choice: msgpack → binary, json and none → text', async () => {
    for (const [proto, binary] of [['msgpack', true], ['json', false], [undefined, false], [['x.unknown', 'antrean.v1.json'], false]]) {
      const c = await ws(s, proto);
      const r = await c.req('ping');
      assert.equal(r.ok, true);
      assert.equal(r.__binary, binary, String(proto));
      if (typeof proto === 'string') assert.equal(c.sock.protocol, `antrean.v1.${proto}`);
      c.close();
    }
  });
  test('only unknown subprotocols → 400', async () => {
    await assert.rejects(ws(s, ['antrean.v2.cbor']), (e) => e.status === 400 && /subprotocol/.test(e.body));
  });
  test('origin must be allowed', async () => {
    await assert.rejects(new RawWs(s.port, { origin: 'https://evil.example' }).open(), /403/);
    const ok = await new RawWs(s.port, { origin: 'https://kiosk.example' }).open();
    ok.destroy();
    const same = await new RawWs(s.port, { origin: `http://127.0.0.1:${s.port}` }).open();
    same.destroy();
  });
  test('plain GET /v1/ws without upgrade → 400', async () => {
    const r = await http(s.base, 'GET', '/v1/ws');
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'bad_request');
  });
});

describe('ops and events', () => {
  test('every command op, same events in both encodings, nothing private', async () => {
    const subJ = await ws(s, 'json');
    const subM = await ws(s, 'msgpack');
    const a = await subJ.req('subscribe', { hall: H });
    assert.equal(a.ok, true);
    assert.equal(typeof a.result.seq, 'number');
    assert.equal(a.result.board.hall, H);
    const b = await subM.req('subscribe', { hall: H });
    assert.equal(b.result.seq, a.result.seq);
    const from = a.result.seq;

    const staff = await ws(s, 'msgpack', { isPublic: false });
    assert.equal((await staff.req('call', { hall: H, counter: 'l07' })).error.code, 'unauthorized');
    const au = await staff.req('auth', { token: s.operatorToken });
    assert.equal(au.ok, true);
    assert.equal(au.result.role, 'operator');
    const expect = async (op, fields, ok = true) => {
      const r = await staff.req(op, fields);
      assert.equal(r.ok, ok, `${op}: ${JSON.stringify(r)}`);
      return r.result ?? r.error;
    };
    await expect('counter_open', { hall: H, counter: 'l07' });
    const t1 = await expect('issue', { hall: H, service: 'paspor', priority: 'child', phone: '081200000001' });
    assert.equal(t1.priority, true);
    const t2 = await expect('issue', { hall: H, service: 'paspor' });
    const c1 = await expect('call', { hall: H, counter: 'l07' });
    assert.equal(c1.ticket.id, t1.id);
    await expect('recall', { hall: H, counter: 'l07' });
    await expect('start', { hall: H, counter: 'l07' });
    await expect('finish', { hall: H, counter: 'l07', transfer_to: 'skck' });
    await expect('call', { hall: H, counter: 'l07', ticket: t2.id });
    await expect('recall', { hall: H, counter: 'l07' });
    await expect('no_show', { hall: H, counter: 'l07' });
    await expect('reinstate', { ticket: t2.id });
    await expect('cancel', { ticket: t2.id });
    await expect('counter_pause', { hall: H, counter: 'l07' });
    await expect('counter_resume', { hall: H, counter: 'l07' });
    await expect('counter_close', { hall: H, counter: 'l07' });
    assert.equal((await expect('call', { hall: H, counter: 'l07' }, false)).code, 'invalid_state');

    const want = ['counter.state', 'ticket.issued', 'ticket.issued', 'ticket.called', 'ticket.recalled', 'ticket.serving',
      'ticket.transferred', 'ticket.called', 'ticket.recalled', 'ticket.no_show', 'ticket.reinstated', 'ticket.cancelled',
      'counter.state', 'counter.state', 'counter.state'];
    const pick = (c) => c.events.filter((e) => e.ev !== 'service.wait');
    await subJ.until(() => pick(subJ).length >= want.length, 5000, 'json events');
    await subM.until(() => pick(subM).length >= want.length, 5000, 'msgpack events');
    assert.deepEqual(pick(subJ).map((e) => e.ev), want);
    assert.deepEqual(subJ.events.map(strip), subM.events.slice(0, subJ.events.length).map(strip));
    // seq: +1 per event, gapless from the subscribe reply on
    subJ.events.forEach((e, i) => { assert.equal(e.seq, from + 1 + i); assert.equal(e.hall, H); assert.equal(typeof e.at, 'number'); });
    const text = JSON.stringify(subJ.events);
    for (const priv of [t1.id, t1.secret, '081200000001', 'child']) assert.ok(!text.includes(priv), priv);
    assert.ok(subM.events.every((e) => e.__binary));
    for (const c of [subJ, subM, staff]) c.close();
  });

  test('citizen ops with the secret; feedback once after done', async () => {
    const c = await ws(s, 'json');
    const t = (await c.req('issue', { hall: H, service: 'kk', channel: 'app' })).result;
    let r = await c.req('feedback', { ticket: t.id, secret: t.secret, score: 4 });
    assert.equal(r.error.code, 'invalid_state');
    r = await c.req('cancel', { ticket: t.id, secret: 'f'.repeat(32) });
    assert.equal(r.error.code, 'forbidden');
    r = await c.req('cancel', { ticket: t.id });
    assert.equal(r.error.code, 'unauthorized');
    r = await c.req('cancel', { ticket: t.id, secret: t.secret });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.result.state, 'cancelled');
    r = await c.req('reinstate', { ticket: t.id });
    assert.equal(r.error.code, 'unauthorized');
    r = await c.req('cancel', { ticket: '0'.repeat(32), secret: t.secret });
    assert.equal(r.error.code, 'not_found');
    c.close();
  });

  test('malformed requests get error replies, the connection stays', async () => {
    for (const proto of ['json', 'msgpack']) {
      const c = await ws(s, proto);
      if (proto === 'json') {
        c.sock.send('{not json');
        await c.until(() => c.replies.get('null'));
        assert.equal(c.replies.get('null').error.code, 'bad_request');
      } else {
        c.sock.send(Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]));
        await c.until(() => c.replies.get('null'));
        assert.equal(c.replies.get('null').error.code, 'bad_request');
      }
      const cases = [
        ['subscribe', {}, 'bad_request'],
        ['subscribe', { hall: 'nope' }, 'not_found'],
        ['unsubscribe', { hall: H }, 'not_found'],
        ['issue', { hall: H, service: 'ktp', nik: '12' }, 'bad_request'],
        ['issue', { hall: H, service: 'nope' }, 'not_found'],
        ['issue', { hall: H, service: 'ktp', surprise: true }, 'bad_request'],
        ['auth', { token: 'nope' }, 'unauthorized'],
        ['dance', {}, 'bad_request'],
      ];
      for (const [op, f, code] of cases) {
        const r = await c.req(op, f);
        assert.equal(r.ok, false, `${op} ${JSON.stringify(r)}`);
        assert.equal(r.error.code, code, `${op} ${JSON.stringify(r)}`);
        assert.ok(r.error.message.length > 3);
      }
      const rid = 'rid-string-1';
      c.sendRaw({ op: 'ping', rid });
      await c.until(() => c.replies.get(rid));
      assert.equal(c.replies.get(rid).ok, true);
      const sub = await c.req('subscribe', { hall: H });
      assert.equal(sub.ok, true);
      assert.equal((await c.req('unsubscribe', { hall: H })).ok, true);
      c.close();
    }
  });

  test('a token of another hall or role is refused', async () => {
    const mk = async (role, halls) => (await http(s.base, 'POST', '/v1/tokens', { token: s.adminToken, body: { role, halls, label: role } })).body.token;
    const disp = await mk('display', '*');
    const kiosk = await mk('kiosk', ['other-hall']);
    const c = await ws(s, 'json', { isPublic: false });
    assert.equal((await c.req('auth', { token: disp })).ok, true);
    assert.equal((await c.req('counter_open', { hall: H, counter: 'l01' })).error.code, 'forbidden');
    assert.equal((await c.req('auth', { token: kiosk })).ok, true);
    assert.equal((await c.req('issue', { hall: H, service: 'ktp' })).error.code, 'forbidden');
    c.close();
  });

  test('service.wait follows a change within about a second', async () => {
    const c = await ws(s, 'json');
    await c.req('subscribe', { hall: H });
    await http(s.base, 'POST', `/v1/halls/${H}/tickets`, { body: { service: 'oss' } });
    const ev = await c.until(() => c.events.find((e) => e.ev === 'service.wait' && e.services.some((x) => x.id === 'oss')), 4000, 'service.wait');
    const oss = ev.services.find((x) => x.id === 'oss');
    assert.deepEqual(Object.keys(oss).sort(), ['eta_s', 'id', 'oldest_wait_s', 'waiting']);
    c.close();
  });
});

describe('since resume', () => {
  test('reconnect with since gets exactly the missed events', async () => {
    const a = await ws(s, 'json');
    const seq0 = (await a.req('subscribe', { hall: H })).result.seq;
    const issued = [];
    for (let i = 0; i < 5; i++) issued.push((await http(s.base, 'POST', `/v1/halls/${H}/tickets`, { body: { service: 'bank' } })).body);
    await a.until(() => a.events.filter((e) => e.ev === 'ticket.issued').length >= 5);
    const seen = a.events.filter((e) => e.seq <= seq0 + 2); // pretend we lost the link after two events
    a.terminate();
    for (let i = 0; i < 3; i++) await http(s.base, 'POST', `/v1/halls/${H}/tickets`, { body: { service: 'bank' } });
    const b = await ws(s, 'msgpack');
    const last = seen[seen.length - 1].seq;
    const r = await b.req('subscribe', { hall: H, since: last });
    assert.equal(r.ok, true);
    assert.ok(!('board' in r.result), 'no board when history covers since');
    const board = (await http(s.base, 'GET', `/v1/halls/${H}/board`)).body;
    await b.until(() => b.events.length && b.events[b.events.length - 1].seq >= board.seq, 5000, 'catch-up');
    const seqs = b.events.map((e) => e.seq);
    assert.equal(seqs[0], last + 1);
    seqs.forEach((q, i) => assert.equal(q, last + 1 + i, 'gapless'));
    assert.equal(b.events.filter((e) => e.ev === 'ticket.issued').length, 5 + 3 - seen.filter((e) => e.ev === 'ticket.issued').length);
    b.close();
  });
  test('since older than the retained history → full board and resync', async () => {
    const c = await ws(s, 'json');
    for (let i = 0; i < 70; i++) await http(s.base, 'POST', `/v1/halls/${H}/tickets`, { body: { service: 'pkb' } });
    const r = await c.req('subscribe', { hall: H, since: 1 });
    assert.equal(r.result.resync, true);
    assert.equal(r.result.board.hall, H);
    const r2 = await c.req('subscribe', { hall: H, since: 1e12 });
    assert.equal(r2.result.resync, true, 'a since from the future resyncs too');
    c.close();
  });
});

describe('frame limits', () => {
  test('message over 64 KiB → 1009', async () => {
    const c = await ws(s, 'json');
    c.sock.send(JSON.stringify({ op: 'ping', rid: 1, pad: 'x'.repeat(70 * 1024) }));
    await c.closed;
    assert.equal(c.closeCode, 1009);
  });
  test('fragmented message over 64 KiB → 1009', async () => {
    const r = await new RawWs(s.port).open();
    for (let i = 0; i < 5; i++) r.send(frame(i === 0 ? 1 : 0, 'y'.repeat(16000), { fin: false }));
    await r.until(() => r.closeCode() !== null);
    assert.equal(r.closeCode(), 1009);
    r.destroy();
  });
  const violations = [
    ['unmasked client frame', () => frame(1, '{"op":"ping"}', { mask: false })],
    ['reserved bit', () => frame(1, '{"op":"ping"}', { rsv: 0x40 })],
    ['unknown opcode', () => frame(3, 'x')],
    ['fragmented ping', () => frame(9, 'x', { fin: false })],
    ['continuation first', () => frame(0, 'x')],
    ['bad close code', () => frame(8, Buffer.from([0x03, 0xe7]))],
  ];
  for (const [name, mk] of violations) {
    test(`framing violation (${name}) → 1002`, async () => {
      const r = await new RawWs(s.port).open();
      r.send(mk());
      await r.until(() => r.closeCode() !== null);
      assert.equal(r.closeCode(), 1002);
      await r.until(() => r.closed);
      assert.ok(r.closed);
      r.destroy();
    });
  }
  test('invalid UTF-8 text → 1007', async () => {
    const r = await new RawWs(s.port).open();
    r.send(frame(1, Buffer.from([0x7b, 0xff, 0xfe, 0x7d])));
    await r.until(() => r.closeCode() !== null);
    assert.equal(r.closeCode(), 1007);
    r.destroy();
  });
  test('client close is echoed', async () => {
    const c = await ws(s, 'json');
    c.sock.close(4001, 'bye');
    await c.closed;
    assert.equal(c.closeCode, 4001);
  });
  test('server pings; a silent peer is closed, a live one stays', async () => {
    const live = await ws(s, 'json');
    let pings = 0;
    live.sock.on('ping', () => { pings++; });
    const silent = await new RawWs(s.port).open();
    await silent.until(() => silent.closed || silent.closeCode() !== null, 4000);
    assert.ok(silent.frames.some((f) => f.opcode === 9), 'pinged');
    assert.equal(silent.closeCode(), 1001);
    assert.ok(pings >= 2, `pings ${pings}`);
    assert.equal(live.closeCode, null, 'a client that answers pings stays');
    assert.equal((await live.req('ping')).ok, true);
    live.close();
    silent.destroy();
  });
  test('slow subscriber → 1008 and counted', async () => {
    const before = (await http(s.base, 'GET', '/metrics')).text.match(/antrean_slow_subscribers_dropped_total (\d+)/)[1];
    const r = await new RawWs(s.port).open();
    r.pause(); // stop reading
    const req = frame(1, JSON.stringify({ op: 'subscribe', hall: H }));
    for (let i = 0; i < 4000 && !r.closed; i++) {
      r.send(req);
      if (i % 200 === 0) await sleep(5);
    }
    await sleep(300);
    r.resume();
    await r.until(() => r.closeCode() !== null || r.closed, 10000);
    assert.equal(r.closeCode(), 1008);
    const m = (await http(s.base, 'GET', '/metrics')).text.match(/antrean_slow_subscribers_dropped_total (\d+)/)[1];
    assert.ok(Number(m) > Number(before));
    r.destroy();
  });
});
