// Admin routes (SPEC §4): add and replace halls with whole-config
// validation, tokens shown once, listed without secrets, deleted for good.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, ws } from './lib/client.mjs';
import { hallConfig, sanitizerReports, startServer } from './lib/server.mjs';

let s;
before(async () => { s = await startServer({ demo: false }); });
after(async () => {
  const ex = await s.stop();
  assert.equal(ex.code, 0);
  assert.deepEqual(sanitizerReports(s.err), []);
  s.cleanup();
});

test('POST /v1/halls validates the whole config and lists every problem', async () => {
  const bad = hallConfig('bad-hall', {
    services: [{ id: 'ktp', agency: 'nope', name: 'KTP', prefix: 'a1', est_service_s: 300, sla_wait_s: 1800, daily_quota: 0 }],
    counters: [{ id: 'L1', label: 'x', services: ['zzz'], policy: 'random' }],
  });
  const r = await http(s.base, 'POST', '/v1/halls', { token: s.adminToken, body: bad });
  assert.equal(r.status, 400, r.text);
  assert.equal(r.body.error.code, 'bad_request');
  for (const path of ['services[0].agency', 'services[0].prefix', 'counters[0].id', 'counters[0].policy'])
    assert.ok(r.body.error.message.includes(path), `${path} in ${r.body.error.message}`);
  assert.equal((await http(s.base, 'GET', '/v1/halls/bad-hall')).status, 404);
  const j = await http(s.base, 'POST', '/v1/halls', { token: s.adminToken, raw: '{"id":', headers: { 'content-type': 'application/json' } });
  assert.equal(j.status, 400);
});

test('add a hall, then replace its config; subscribers see hall.config', async () => {
  const cfg = hallConfig('mpp-baru');
  let r = await http(s.base, 'POST', '/v1/halls', { token: s.adminToken, body: cfg });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.id, 'mpp-baru');
  r = await http(s.base, 'POST', '/v1/halls', { token: s.adminToken, body: cfg });
  assert.equal(r.status, 409);
  assert.equal(r.body.error.code, 'invalid_state');
  assert.deepEqual((await http(s.base, 'GET', '/v1/halls')).body, [{ id: 'mpp-baru', name: 'Hall mpp-baru' }]);
  const t = (await http(s.base, 'POST', '/v1/halls/mpp-baru/tickets', { body: { service: 'kk' } })).body;
  const sub = await ws(s, 'json');
  await sub.req('subscribe', { hall: 'mpp-baru' });
  const next = hallConfig('mpp-baru', { name: 'MPP Baru', services: cfg.services.filter((x) => x.id !== 'kk'),
    counters: cfg.counters.map((c) => ({ ...c, services: c.services.filter((x) => x !== 'kk') })).filter((c) => c.services.length) });
  r = await http(s.base, 'PUT', '/v1/halls/mpp-baru', { token: s.adminToken, body: next });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.name, 'MPP Baru');
  assert.equal((await http(s.base, 'GET', '/v1/halls/mpp-baru')).body.name, 'MPP Baru');
  const ev = await sub.until(() => sub.events.find((e) => e.ev === 'hall.config'));
  assert.equal(ev.hall, 'mpp-baru');
  // a service that disappeared keeps its waiting tickets until the day ends
  const still = await http(s.base, 'GET', `/v1/tickets/${t.id}`, { secret: t.secret });
  assert.equal(still.body.state, 'waiting');
  r = await http(s.base, 'PUT', '/v1/halls/mpp-baru', { token: s.adminToken, body: hallConfig('other-id') });
  assert.equal(r.status, 400);
  r = await http(s.base, 'PUT', '/v1/halls/mpp-baru', { token: s.adminToken, body: { ...next, utc_offset_min: 9999 } });
  assert.equal(r.status, 400);
  assert.match(r.body.error.message, /utc_offset_min/);
  sub.close();
});

test('tokens: shown once, listed without secrets, deleted for good', async () => {
  const bads = [{}, { role: 'king', halls: '*' }, { role: 'operator', halls: 'mpp-baru' }, { role: 'operator', halls: ['BAD ID'] },
    { role: 'operator', halls: '*', label: 7 }, { role: 'operator', halls: '*', extra: 1 }];
  for (const b of bads) {
    const r = await http(s.base, 'POST', '/v1/tokens', { token: s.adminToken, body: b });
    assert.equal(r.status, 400, JSON.stringify(b) + r.text);
  }
  const r = await http(s.base, 'POST', '/v1/tokens', { token: s.adminToken, body: { role: 'manager', halls: ['mpp-baru'], label: 'Kepala MPP' } });
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(Object.keys(r.body).sort(), ['halls', 'id', 'label', 'role', 'token']);
  assert.deepEqual(r.body.halls, ['mpp-baru']);
  const list = await http(s.base, 'GET', '/v1/tokens', { token: s.adminToken });
  assert.equal(list.status, 200);
  const mine = list.body.find((x) => x.id === r.body.id);
  assert.equal(mine.role, 'manager');
  assert.equal(mine.label, 'Kepala MPP');
  assert.ok(!list.text.includes(r.body.token));
  assert.ok(!('hash' in mine) && !('token' in mine));
  assert.equal((await http(s.base, 'GET', '/v1/halls/mpp-baru/stats', { token: r.body.token })).status, 200);
  assert.equal((await http(s.base, 'GET', '/v1/tokens', { token: r.body.token })).status, 403);
  const d = await http(s.base, 'DELETE', `/v1/tokens/${r.body.id}`, { token: s.adminToken });
  assert.equal(d.status, 200, d.text);
  assert.equal((await http(s.base, 'GET', '/v1/halls/mpp-baru/stats', { token: r.body.token })).status, 401);
  assert.equal((await http(s.base, 'DELETE', `/v1/tokens/${r.body.id}`, { token: s.adminToken })).status, 404);
  assert.equal((await http(s.base, 'PUT', '/v1/tokens', { token: s.adminToken })).status, 405);
});
