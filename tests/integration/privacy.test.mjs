// Citizen data never reaches a public client or the log (SPEC §3): tickets
// carry sentinel phone/name/NIK/comment values; everything public clients
// received (HTTP bodies, WebSocket frames in both encodings, /metrics) and
// the server's stderr are scanned for them.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, received, ws } from './lib/client.mjs';
import { sanitizerReports, startServer } from './lib/server.mjs';

const PHONE = '+628777000111222';
const NAME = 'Sentinelia Rahasia';
const NIK = '3174999988887777';
const COMMENT = 'komentar-sentinel-rahasia';
const SENTINELS = [PHONE.slice(1), NAME, 'Sentinelia', NIK, COMMENT, 'pregnant', 'disabled'];
// the citizen's address as forwarded by a trusted proxy: used for the issue
// limit, never logged
const CLIENT_IP = '198.51.100.77';
const XFF = { 'x-forwarded-for': CLIENT_IP };
// the per-request access line, whole: nothing but these keys
const ACCESS = /^ts=\S+ level=info msg=access conn=\d+ method=[A-Z]+ route="(?:(?:[A-Z]+ )?\/[a-z0-9/{}._-]*|pages|\?)" status=\d{3} dur_us=\d+$/;

let s;
before(async () => {
  s = await startServer({ args: ['--issue-burst', '1000', '--issue-per-min', '100000', '--trusted-proxy', '127.0.0.1/32', '--log-level', 'debug'] });
});
after(async () => { s.cleanup(); });

test('no citizen data in anything public or in the log', async () => {
  const H = '/v1/halls/mpp-demo';
  const subJ = await ws(s, 'json');
  const subM = await ws(s, 'msgpack');
  await subJ.req('subscribe', { hall: 'mpp-demo' });
  await subM.req('subscribe', { hall: 'mpp-demo' });
  const op = s.operatorToken;
  await http(s.base, 'POST', `${H}/counters/l16/open`, { token: op });
  const mine = [];
  for (const prio of ['pregnant', 'disabled', undefined]) {
    const r = await http(s.base, 'POST', `${H}/tickets`, { body: { service: 'bpjs-kes', phone: PHONE, name: NAME, nik: NIK, priority: prio }, headers: XFF });
    assert.equal(r.status, 201, r.text);
    mine.push(r.body);
  }
  // the same over WebSocket, in both encodings
  for (const c of [subJ, subM]) {
    const r = await c.req('issue', { hall: 'mpp-demo', service: 'bpjs-kes', phone: PHONE, name: NAME, nik: NIK, priority: 'pregnant' });
    assert.equal(r.ok, true, JSON.stringify(r));
    mine.push(r.result);
  }
  // invalid citizen data is refused without being echoed
  for (const bad of [{ nik: `${NIK}0` }, { phone: `${PHONE}x` }, { name: `${NAME}\u0001` }]) {
    const r = await http(s.base, 'POST', `${H}/tickets`, { body: { service: 'ktp', ...bad }, headers: XFF });
    assert.equal(r.status, 400);
    const w = await subJ.req('issue', { hall: 'mpp-demo', service: 'ktp', ...bad });
    assert.equal(w.ok, false);
  }
  for (const t of mine.slice(0, 2)) {
    await http(s.base, 'POST', `${H}/counters/l16/call`, { token: op, body: { ticket: t.id } });
    await http(s.base, 'POST', `${H}/counters/l16/recall`, { token: op });
    await http(s.base, 'POST', `${H}/counters/l16/start`, { token: op });
    await http(s.base, 'POST', `${H}/counters/l16/finish`, { token: op });
    const f = await http(s.base, 'POST', `/v1/tickets/${t.id}/feedback`, { secret: t.secret, body: { score: 3, comment: COMMENT } });
    assert.equal(f.status, 200, f.text);
  }
  await http(s.base, 'DELETE', `/v1/tickets/${mine[2].id}`, { secret: mine[2].secret });
  for (const t of mine) await http(s.base, 'GET', `/v1/tickets/${t.id}`, { secret: t.secret, headers: XFF });
  await http(s.base, 'GET', `/v1/tickets/${mine[0].id}?nik=${NIK}&phone=${PHONE.slice(1)}`, { secret: mine[0].secret, headers: XFF });
  await http(s.base, 'GET', `/t/${mine[0].id}`);
  await http(s.base, 'GET', `${H}/board`);
  await http(s.base, 'GET', `${H}/services/bpjs-kes/wait`);
  await http(s.base, 'GET', '/metrics');
  await http(s.base, 'GET', `${H}/tickets?state=waiting`); // refused without a token
  // staff see it (manager+): proves the sentinels were really stored
  const staff = await http(s.base, 'GET', `${H}/tickets`, { token: s.adminToken });
  assert.ok(staff.text.includes(NIK) && staff.text.includes(NAME));
  await subJ.until(() => subJ.events.filter((e) => e.ev === 'ticket.done').length >= 2);
  await subM.until(() => subM.events.filter((e) => e.ev === 'ticket.done').length >= 2);
  subJ.close();
  subM.close();
  const ex = await s.stop();
  assert.equal(ex.code, 0);
  assert.deepEqual(sanitizerReports(s.err), []);

  assert.ok(received.length > 20);
  const pub = received.join('\n');
  for (const x of SENTINELS) {
    assert.ok(!pub.includes(x), `public clients received ${x}`);
    assert.ok(!s.err.includes(x) && !s.out.includes(x), `the log contains ${x}`);
  }
  // the secret of a ticket reaches only its citizen (the issue reply), never an event
  const events = JSON.stringify(subJ.events) + JSON.stringify(subM.events);
  for (const t of mine) {
    assert.ok(!events.includes(t.secret));
    assert.ok(!events.includes(t.id));
    assert.ok(!s.err.includes(t.secret) && !s.err.includes(t.id));
  }
  // one access line per request, with its latency, and nothing else in it:
  // no path (ticket ids), query, address (CLIENT_IP), token or body
  const access = s.err.split('\n').filter((l) => l.includes('msg=access'));
  assert.ok(access.length >= 30, `${access.length} access lines`);
  for (const l of access) assert.match(l, ACCESS);
  assert.ok(access.some((l) => /route="(GET )?\/v1\/tickets\/{id}"/.test(l)), 'ticket reads are logged by template');
  assert.ok(!s.err.includes(CLIENT_IP), 'the forwarded client address is not logged');
  assert.ok(!s.err.includes(s.adminToken) && !s.err.includes(s.operatorToken));
});

