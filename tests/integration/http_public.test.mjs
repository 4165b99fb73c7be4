// Public HTTP routes of SPEC §4: health, halls, board, wait (ETag/304),
// self-service issue, the citizen's ticket (secret), cancel, feedback.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { http } from './lib/client.mjs';
import { sanitizerReports, startServer } from './lib/server.mjs';

let s;
const H = '/v1/halls/mpp-demo';
const op = () => s.operatorToken;

function assertError(r, status, code) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.headers.get('content-type'), 'application/json');
  assert.equal(typeof r.body?.error?.message, 'string', r.text);
  assert.ok(r.body.error.message.length > 3, r.text);
  assert.equal(r.body.error.code, code, r.text);
  assert.deepEqual(Object.keys(r.body), ['error']);
}

async function issue(body = { service: 'ktp' }) {
  const r = await http(s.base, 'POST', `${H}/tickets`, { body });
  assert.equal(r.status, 201, r.text);
  return r.body;
}

before(async () => { s = await startServer({ args: ['--issue-burst', '100000', '--issue-per-min', '1000000'] }); });
after(async () => {
  const ex = await s.stop();
  assert.equal(ex.code, 0, s.err.slice(-2000));
  assert.deepEqual(sanitizerReports(s.err), []);
  s.cleanup();
});

describe('health and halls', () => {
  test('GET /v1/health', async () => {
    const r = await http(s.base, 'GET', '/v1/health');
    assert.equal(r.status, 200);
    assert.equal(r.body.ok, true);
    assert.equal(typeof r.body.version, 'string');
    assert.equal(r.body.durability, 'always');
  });
  test('GET /v1/halls lists the demo hall', async () => {
    const r = await http(s.base, 'GET', '/v1/halls');
    assert.equal(r.status, 200);
    assert.ok(Array.isArray(r.body));
    assert.deepEqual(r.body.find((h) => h.id === 'mpp-demo'), { id: 'mpp-demo', name: 'Mal Pelayanan Publik Demo' });
  });
  test('GET /v1/halls/{hall}: public config of a realistic MPP', async () => {
    const r = await http(s.base, 'GET', H);
    assert.equal(r.status, 200);
    assert.equal(r.body.id, 'mpp-demo');
    assert.ok(r.body.agencies.length >= 6);
    assert.ok(r.body.services.length >= 12);
    assert.ok(r.body.counters.length >= 20);
    assert.equal(r.body.self_service, true);
    const ids = r.body.services.map((x) => x.id);
    for (const want of ['ktp', 'kk', 'akta', 'paspor', 'skck', 'sim', 'bpjs-kes', 'bpjs-tk', 'oss'])
      assert.ok(ids.includes(want), want);
  });
  test('unknown hall, route, service → 404 not_found', async () => {
    assertError(await http(s.base, 'GET', '/v1/halls/nope'), 404, 'not_found');
    assertError(await http(s.base, 'GET', '/v1/halls/nope/board'), 404, 'not_found');
    assertError(await http(s.base, 'GET', '/v1/nothing'), 404, 'not_found');
    assertError(await http(s.base, 'GET', '/v1/halls/mpp-demo/services/nope/wait'), 404, 'not_found');
    assertError(await http(s.base, 'GET', '/v1/tickets/zz'), 404, 'not_found');
    assertError(await http(s.base, 'GET', `/v1/tickets/${'0'.repeat(32)}`, { secret: '0'.repeat(32) }), 404, 'not_found');
  });
  test('wrong method → 405 method_not_allowed', async () => {
    assertError(await http(s.base, 'DELETE', '/v1/health'), 405, 'method_not_allowed');
    assertError(await http(s.base, 'POST', `${H}/board`), 405, 'method_not_allowed');
    assertError(await http(s.base, 'PUT', '/v1/halls'), 405, 'method_not_allowed');
    assertError(await http(s.base, 'GET', `${H}/counters/l01/open`), 405, 'method_not_allowed');
  });
});

describe('board and wait', () => {
  test('board shape', async () => {
    const r = await http(s.base, 'GET', `${H}/board`);
    assert.equal(r.status, 200);
    const b = r.body;
    assert.equal(b.hall, 'mpp-demo');
    assert.equal(typeof b.seq, 'number');
    assert.ok(Array.isArray(b.now_calling));
    for (const sv of b.services) assert.deepEqual(Object.keys(sv).sort(), ['eta_s', 'id', 'name', 'oldest_wait_s', 'waiting']);
    for (const c of b.counters) assert.deepEqual(Object.keys(c).sort(), ['id', 'label', 'state', 'ticket']);
  });
  for (const path of [`${H}/board`, `${H}/services/ktp/wait`]) {
    test(`ETag, 304 and Cache-Control on ${path}`, async () => {
      const a = await http(s.base, 'GET', path);
      assert.equal(a.status, 200);
      const etag = a.headers.get('etag');
      assert.ok(etag && etag.startsWith('"'), etag);
      assert.equal(a.headers.get('cache-control'), 'no-cache');
      const b = await http(s.base, 'GET', path, { headers: { 'if-none-match': etag } });
      assert.equal(b.status, 304);
      assert.equal(b.text, '');
      assert.equal(b.headers.get('etag'), etag);
      assert.equal(b.headers.get('cache-control'), 'no-cache');
      await issue({ service: 'ktp' });
      const c = await http(s.base, 'GET', path, { headers: { 'if-none-match': etag } });
      assert.equal(c.status, 200);
      assert.notEqual(c.headers.get('etag'), etag);
      assert.notDeepEqual(c.body, a.body);
    });
  }
  test('wait shape follows issues', async () => {
    const a = await http(s.base, 'GET', `${H}/services/sim/wait`);
    assert.deepEqual(Object.keys(a.body).sort(), ['eta_s', 'oldest_wait_s', 'seq', 'waiting']);
    await issue({ service: 'sim' });
    await issue({ service: 'sim' });
    const b = await http(s.base, 'GET', `${H}/services/sim/wait`);
    assert.equal(b.body.waiting, a.body.waiting + 2);
    assert.ok(b.body.seq >= a.body.seq + 2);
  });
});

describe('self-service issue', () => {
  test('201 with every field, codes count up per service', async () => {
    // bpjs-tk has one counter (l17): each new ticket is one place further back
    const a = await issue({ service: 'bpjs-tk', channel: 'web' });
    assert.deepEqual(Object.keys(a).sort(), ['code', 'eta_s', 'id', 'issued_at', 'position', 'priority', 'secret', 'service', 'url']);
    assert.match(a.id, /^[0-9a-f]{32}$/);
    assert.match(a.secret, /^[0-9a-f]{32}$/);
    assert.notEqual(a.id, a.secret);
    assert.equal(a.url, `/t/${a.id}#${a.secret}`);
    assert.equal(a.service, 'bpjs-tk');
    assert.equal(a.priority, false);
    assert.ok(Math.abs(a.issued_at - Date.now()) < 60000);
    const b = await issue({ service: 'bpjs-tk', channel: 'app' });
    assert.match(a.code, /^K\d{3}$/);
    assert.equal(Number(b.code.slice(1)), Number(a.code.slice(1)) + 1);
    assert.equal(b.position, a.position + 1);
  });
  test('priority is a reason in, a boolean out', async () => {
    const a = await issue({ service: 'bpjs-tk', priority: 'elderly', channel: 'kiosk' });
    assert.equal(a.priority, true);
    assert.ok(!JSON.stringify(a).includes('elderly'));
  });
  test('idem key returns the same ticket, never a second one', async () => {
    const body = { service: 'skck', idem: 'kiosk-7-req-123' };
    const a = await issue(body);
    const b = await issue(body);
    assert.deepEqual(b, a);
    const c = await issue({ ...body, idem: 'kiosk-7-req-124' });
    assert.notEqual(c.id, a.id);
  });
  test('invalid requests → 400 bad_request naming the field', async () => {
    const cases = [
      [{ raw: '{"service":', headers: { 'content-type': 'application/json' } }, /JSON/],
      [{ raw: '[1,2]' }, /object/],
      [{ body: {} }, /service/],
      [{ body: { service: 'ktp', bogus: 1 } }, /bogus/],
      [{ body: { service: 'ktp', priority: 'vip' } }, /priority/],
      [{ body: { service: 'ktp', channel: 'staff' } }, /channel/],
      [{ body: { service: 'ktp', nik: '12345' } }, /nik/],
      [{ body: { service: 'ktp', phone: 'call me' } }, /phone/],
      [{ body: { service: 'ktp', idem: 'x'.repeat(65) } }, /idem/],
      [{ body: { service: 'Not An Id' } }, /service/],
      [{ body: { service: 42 } }, /service/],
    ];
    for (const [opts, re] of cases) {
      const r = await http(s.base, 'POST', `${H}/tickets`, opts);
      assertError(r, 400, 'bad_request');
      assert.match(r.body.error.message, re, JSON.stringify(opts));
    }
    const r = await http(s.base, 'POST', `${H}/tickets`, { body: { service: 'ktp', nik: '12345' } });
    assert.ok(!r.text.includes('12345'), 'citizen data must not be echoed');
  });
  test('unknown service → 404 not_found', async () => {
    assertError(await http(s.base, 'POST', `${H}/tickets`, { body: { service: 'nope' } }), 404, 'not_found');
  });
});

describe('the citizen\'s ticket', () => {
  test('GET needs the secret; wrong secret is refused', async () => {
    const t = await issue({ service: 'npwp' });
    assertError(await http(s.base, 'GET', `/v1/tickets/${t.id}`), 401, 'unauthorized');
    assertError(await http(s.base, 'GET', `/v1/tickets/${t.id}`, { secret: t.id }), 403, 'forbidden');
    assertError(await http(s.base, 'GET', `/v1/tickets/${t.id}`, { secret: 'short' }), 403, 'forbidden');
    const r = await http(s.base, 'GET', `/v1/tickets/${t.id}`, { secret: t.secret });
    assert.equal(r.status, 200);
    assert.equal(r.body.code, t.code);
    assert.equal(r.body.state, 'waiting');
    assert.equal(r.body.service, 'npwp');
    assert.equal(r.body.hall, 'mpp-demo', 'the citizen page learns its hall');
    assert.equal(typeof r.body.position, 'number');
    assert.equal(typeof r.body.eta_s, 'number');
    assert.ok(!('secret' in r.body));
  });
  test('called ticket shows counter and label', async () => {
    const t = await issue({ service: 'pbg' });
    await http(s.base, 'POST', `${H}/counters/l20/open`, { token: op() });
    const c = await http(s.base, 'POST', `${H}/counters/l20/call`, { token: op(), body: { ticket: t.id } });
    assert.equal(c.status, 200, c.text);
    const r = await http(s.base, 'GET', `/v1/tickets/${t.id}`, { secret: t.secret });
    assert.equal(r.body.state, 'called');
    assert.equal(r.body.counter, 'l20');
    assert.equal(r.body.label, 'Loket 20');
  });
  test('DELETE with the secret cancels; twice → 409 invalid_state', async () => {
    const t = await issue({ service: 'kk' });
    const r = await http(s.base, 'DELETE', `/v1/tickets/${t.id}`, { secret: t.secret });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.state, 'cancelled');
    assertError(await http(s.base, 'DELETE', `/v1/tickets/${t.id}`, { secret: t.secret }), 409, 'invalid_state');
    assertError(await http(s.base, 'DELETE', `/v1/tickets/${t.id}`), 401, 'unauthorized');
  });
  test('feedback: only after done, only once, only with the secret', async () => {
    const t = await issue({ service: 'bank' });
    assertError(await http(s.base, 'POST', `/v1/tickets/${t.id}/feedback`, { secret: t.secret, body: { score: 4 } }), 409, 'invalid_state');
    await http(s.base, 'POST', `${H}/counters/l21/open`, { token: op() });
    for (const a of ['call', 'start', 'finish']) {
      const r = await http(s.base, 'POST', `${H}/counters/l21/${a}`, { token: op(), body: a === 'call' ? { ticket: t.id } : undefined });
      assert.equal(r.status, 200, `${a}: ${r.text}`);
    }
    assertError(await http(s.base, 'POST', `/v1/tickets/${t.id}/feedback`, { body: { score: 4 } }), 401, 'unauthorized');
    assertError(await http(s.base, 'POST', `/v1/tickets/${t.id}/feedback`, { secret: t.secret, body: { score: 5 } }), 400, 'bad_request');
    const ok = await http(s.base, 'POST', `/v1/tickets/${t.id}/feedback`, { secret: t.secret, body: { score: 4, comment: 'cepat dan ramah' } });
    assert.equal(ok.status, 200, ok.text);
    assert.ok(!ok.text.includes('ramah'));
    assertError(await http(s.base, 'POST', `/v1/tickets/${t.id}/feedback`, { secret: t.secret, body: { score: 3 } }), 409, 'invalid_state');
  });
});
