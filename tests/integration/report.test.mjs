// SKM feedback with the nine elements and GET /v1/halls/{hall}/report
// (SPEC §14) over HTTP: validation messages, today's figures by each
// grouping, IKM per element and grade, CSV, manager+ only, no citizen data.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http } from './lib/client.mjs';
import { sanitizerReports, startServer } from './lib/server.mjs';

const H = 'mpp-demo';
let s;
before(async () => { s = await startServer(); });
after(async () => {
  const ex = await s.stop();
  assert.equal(ex.code, 0);
  assert.deepEqual(sanitizerReports(s.err), []);
  s.cleanup();
});

test('SKM elements feedback and the report', async () => {
  const t = (await http(s.base, 'POST', `/v1/halls/${H}/tickets`, { token: s.operatorToken, body: { service: 'ktp', name: 'Sentinel Rpt Citizen' } })).body;
  for (const a of ['open', 'call', 'start', 'finish']) {
    assert.equal((await http(s.base, 'POST', `/v1/halls/${H}/counters/l01/${a}`, { token: s.operatorToken })).status, 200, a);
  }
  const fb = (body) => http(s.base, 'POST', `/v1/tickets/${t.id}/feedback`, { secret: t.secret, body });
  let r = await fb({ elements: [4, 3, 3, 4, 4, 3, 4, 4, 9] });
  assert.equal(r.status, 400);
  assert.match(r.body.error.message, /elements\[8\]/);
  r = await fb({ elements: [4, 3] });
  assert.equal(r.status, 400);
  r = await fb({ score: 4, elements: [4, 4, 4, 4, 4, 4, 4, 4, 4] });
  assert.equal(r.status, 400);
  assert.match(r.body.error.message, /either/);
  r = await fb({ elements: [4, 3, 3, 4, 4, 3, 4, 4, 2], comment: 'ok' });
  assert.ok(r.status === 200 || r.status === 201, r.text);
  assert.equal((await fb({ score: 4 })).status, 409);

  const today = (await http(s.base, 'GET', `/v1/halls/${H}/stats`, { token: s.adminToken })).body.date;
  const q = (p) => http(s.base, 'GET', `/v1/halls/${H}/report?${p}`, { token: s.adminToken });
  for (const by of ['service', 'agency', 'counter', 'day', 'hour']) {
    r = await q(`from=2026-01-01&to=${today}&by=${by}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.by, by);
    assert.equal(r.body.total.issued, 1);
    assert.equal(r.body.total.served, 1);
    assert.equal(r.body.total.skm_elements_count, 1);
    assert.equal(r.body.total.ikm_elements.length, 9);
    assert.equal(r.body.total.ikm_elements[8], 50);
    assert.equal(r.body.total.grade, 'B'); // 31/9 × 25 = 86.11
    assert.ok(Math.abs(r.body.total.ikm - 86.11) < 0.01);
    assert.equal(r.body.rows.reduce((a, x) => a + x.issued, 0), 1);
    assert.ok(!r.text.includes('Sentinel'));
  }
  r = await q(`from=2026-01-01&to=${today}&by=counter&format=csv`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /text\/csv/);
  assert.match(r.text.split('\r\n')[0], /^counter,issued,served/);
  assert.match(r.text, /\r\ntotal,1,1,/);
  for (const [p, want] of [['to=2026-01-01', /from/], ['from=2026-13-01&to=2026-12-01', /from/],
    ['from=2026-12-02&to=2026-12-01', /after/], ['from=2020-01-01&to=2026-01-01', /731/],
    [`from=2026-01-01&to=${today}&by=week`, /by/], [`from=2026-01-01&to=${today}&format=xml`, /format/]]) {
    r = await q(p);
    assert.equal(r.status, 400, p);
    assert.match(r.body.error.message, want, p);
  }
  r = await http(s.base, 'GET', `/v1/halls/${H}/report?from=2026-01-01&to=${today}`, { token: s.operatorToken });
  assert.equal(r.status, 403);
  r = await http(s.base, 'GET', `/v1/halls/${H}/report?from=2026-01-01&to=${today}`);
  assert.equal(r.status, 401);
});
