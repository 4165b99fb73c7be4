// Staff HTTP routes of SPEC §4: counter actions, reinstate, ticket list,
// stats, every 409 code, and the auth matrix (route × role × hall).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { http } from './lib/client.mjs';
import { hallConfig, sanitizerReports, startServer } from './lib/server.mjs';

let s;
const tok = {};
const T = '/v1/halls/tst';

function assertError(r, status, code) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.body?.error?.code, code, r.text);
  assert.ok(r.body.error.message.length > 3);
}

const act = (counter, action, body, token = tok.operator) =>
  http(s.base, 'POST', `${T}/counters/${counter}/${action}`, { token, body });

async function issue(service, extra = {}, hall = 'tst') {
  const r = await http(s.base, 'POST', `/v1/halls/${hall}/tickets`, { body: { service, ...extra }, token: tok.kiosk });
  assert.equal(r.status, 201, r.text);
  return r.body;
}

before(async () => {
  s = await startServer({ args: ['--issue-burst', '1000', '--issue-per-min', '100000'] });
  tok.admin = s.adminToken;
  const today = new Date().toISOString().slice(0, 10);
  for (const cfg of [
    hallConfig('tst'),
    hallConfig('closed', { hours: { open: '00:00', close: '24:00', weekdays: [1, 2, 3, 4, 5, 6, 7], closed_dates: [today] } }),
    hallConfig('kiosk-only', { self_service: false }),
  ]) {
    const r = await http(s.base, 'POST', '/v1/halls', { token: tok.admin, body: cfg });
    assert.equal(r.status, 201, r.text);
  }
  const mk = async (name, role, halls) => {
    const r = await http(s.base, 'POST', '/v1/tokens', { token: tok.admin, body: { role, halls, label: name } });
    assert.equal(r.status, 201, r.text);
    tok[name] = r.body.token;
  };
  await mk('manager', 'manager', ['tst', 'kiosk-only']);
  await mk('operator', 'operator', ['tst']);
  await mk('kiosk', 'kiosk', ['tst', 'closed', 'kiosk-only']);
  await mk('display', 'display', ['tst']);
  await mk('otherOperator', 'operator', ['mpp-demo']);
  await mk('otherManager', 'manager', ['mpp-demo']);
  await mk('hallAdmin', 'admin', ['tst']);
});

after(async () => {
  const ex = await s.stop();
  assert.equal(ex.code, 0, s.err.slice(-2000));
  assert.deepEqual(sanitizerReports(s.err), []);
  s.cleanup();
});

describe('counter actions', () => {
  test('a full service cycle with every state and error', async () => {
    let r = await act('l01', 'call');
    assertError(r, 409, 'invalid_state'); // closed counter cannot call
    r = await act('l01', 'open');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { counter: { id: 'l01', label: 'Loket 1', state: 'open' }, ticket: null });
    r = await act('l01', 'open');
    assert.equal(r.status, 200, 'opening an open counter is not an error');
    assertError(await act('l01', 'call'), 409, 'queue_empty');
    const a = await issue('ktp');
    const b = await issue('ktp', { priority: 'pregnant' });
    r = await act('l01', 'call');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.ticket.id, b.id, 'priority goes first');
    assert.equal(r.body.ticket.state, 'called');
    assert.equal(r.body.ticket.priority, true);
    assert.deepEqual(Object.keys(r.body.ticket).sort(), ['code', 'id', 'priority', 'recalls', 'service', 'state']);
    assertError(await act('l01', 'call'), 409, 'counter_busy');
    assertError(await act('l01', 'close'), 409, 'counter_busy');
    assertError(await act('l01', 'pause'), 409, 'counter_busy');
    assertError(await act('l01', 'no-show'), 409, 'too_early');
    r = await act('l01', 'recall');
    assert.equal(r.body.ticket.recalls, 1);
    r = await act('l01', 'start');
    assert.equal(r.body.ticket.state, 'serving');
    assertError(await act('l01', 'recall'), 409, 'invalid_state');
    r = await act('l01', 'finish');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.ticket.state, 'done');
    assertError(await act('l01', 'finish'), 409, 'invalid_state');
    r = await act('l01', 'call');
    assert.equal(r.body.ticket.id, a.id);
    await act('l01', 'recall');
    r = await act('l01', 'no-show');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.ticket.state, 'no_show');
    const re = await http(s.base, 'POST', `/v1/tickets/${a.id}/reinstate`, { token: tok.operator });
    assert.equal(re.status, 200, re.text);
    assert.equal(re.body.state, 'waiting');
    assertError(await http(s.base, 'POST', `/v1/tickets/${a.id}/reinstate`, { token: tok.operator }), 409, 'invalid_state');
    r = await act('l01', 'pause');
    assert.equal(r.body.counter.state, 'paused');
    assertError(await act('l01', 'call'), 409, 'invalid_state');
    r = await act('l01', 'resume');
    assert.equal(r.body.counter.state, 'open');
    r = await act('l01', 'call');
    assert.equal(r.body.ticket.id, a.id, 'reinstated ticket is called again');
    await act('l01', 'start');
    await act('l01', 'finish');
    r = await act('l01', 'close');
    assert.equal(r.body.counter.state, 'closed');
  });
  test('call a specific ticket, finish with transfer', async () => {
    await act('l02', 'open');
    await act('l01', 'open');
    const x = await issue('ktp');
    const y = await issue('ktp');
    let r = await act('l01', 'call', { ticket: y.id });
    assert.equal(r.body.ticket.id, y.id);
    await act('l01', 'start');
    r = await act('l01', 'finish', { transfer_to: 'kk', placement: 'first' });
    assert.equal(r.status, 200, r.text);
    const t = await http(s.base, 'GET', `/v1/tickets/${y.id}`, { secret: y.secret });
    assert.equal(t.body.state, 'waiting');
    assert.equal(t.body.service, 'kk');
    assert.equal(t.body.code, y.code, 'same code after transfer');
    r = await act('l02', 'call');
    assert.equal(r.body.ticket.id, y.id);
    assertError(await act('l01', 'finish', { transfer_to: 'nope' }), 409, 'invalid_state');
    assertError(await act('l01', 'call', { ticket: 'xyz' }), 400, 'bad_request');
    assertError(await act('l01', 'call', { bogus: 1 }), 400, 'bad_request');
    r = await act('l01', 'call');
    assert.equal(r.body.ticket.id, x.id);
  });
  test('unknown counter or action → 404', async () => {
    assertError(await act('l99', 'open'), 404, 'not_found');
    assertError(await act('l01', 'dance'), 404, 'not_found');
  });
  test('staff cancel, hall_closed and quota_exhausted', async () => {
    const t = await issue('kk');
    const r = await http(s.base, 'DELETE', `/v1/tickets/${t.id}`, { token: tok.operator });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.state, 'cancelled');
    assertError(await http(s.base, 'POST', '/v1/halls/closed/tickets', { token: tok.kiosk, body: { service: 'ktp' } }), 409, 'hall_closed');
    await issue('paspor');
    await issue('paspor');
    assertError(await http(s.base, 'POST', `${T}/tickets`, { token: tok.kiosk, body: { service: 'paspor' } }), 409, 'quota_exhausted');
  });
});

describe('ticket list and stats', () => {
  test('citizen data only for manager and admin', async () => {
    const t = await issue('ktp', { phone: '+6281234567890', name: 'Siti Aminah', nik: '3171012345678901', priority: 'elderly' });
    const op = await http(s.base, 'GET', `${T}/tickets?state=waiting`, { token: tok.operator });
    assert.equal(op.status, 200, op.text);
    const mine = op.body.find((x) => x.id === t.id);
    assert.ok(mine);
    assert.equal(mine.state, 'waiting');
    for (const secret of ['6281234567890', 'Siti', '3171012345678901', 'elderly']) assert.ok(!op.text.includes(secret), secret);
    const mg = await http(s.base, 'GET', `${T}/tickets?state=waiting`, { token: tok.manager });
    const full = mg.body.find((x) => x.id === t.id);
    assert.equal(full.phone, '+6281234567890');
    assert.equal(full.name, 'Siti Aminah');
    assert.equal(full.nik, '3171012345678901');
    assert.equal(full.priority_reason, 'elderly');
    const all = await http(s.base, 'GET', `${T}/tickets`, { token: tok.manager });
    assert.ok(all.body.length > mg.body.length);
    assert.ok(all.body.some((x) => x.state === 'done'));
    assertError(await http(s.base, 'GET', `${T}/tickets?state=sleeping`, { token: tok.manager }), 400, 'bad_request');
  });
  test('stats as JSON and CSV', async () => {
    const r = await http(s.base, 'GET', `${T}/stats`, { token: tok.manager });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.date, new Date().toISOString().slice(0, 10));
    const ktp = r.body.services.find((x) => x.id === 'ktp');
    for (const k of ['issued', 'served', 'no_show', 'cancelled', 'expired', 'wait_p50_s', 'wait_p90_s', 'wait_max_s', 'service_mean_s', 'within_sla', 'skm_score', 'skm_index'])
      assert.ok(k in ktp, k);
    assert.ok(ktp.issued >= 5);
    assert.ok(ktp.served >= 2);
    assert.ok(r.body.counters.find((x) => x.id === 'l01'));
    const d = await http(s.base, 'GET', `${T}/stats?date=${r.body.date}&format=csv`, { token: tok.manager });
    assert.equal(d.status, 200);
    assert.match(d.headers.get('content-type'), /text\/csv/);
    const lines = d.text.trim().split(/\r?\n/);
    assert.match(lines[0], /^kind,id,issued,served/);
    assert.ok(lines.some((l) => l.startsWith('service,ktp,')));
    assert.ok(lines.some((l) => l.startsWith('counter,l01,')));
    assertError(await http(s.base, 'GET', `${T}/stats?date=2001-01-01`, { token: tok.manager }), 404, 'not_found');
    assertError(await http(s.base, 'GET', `${T}/stats?date=yesterday`, { token: tok.manager }), 400, 'bad_request');
    assertError(await http(s.base, 'GET', `${T}/stats?format=xml`, { token: tok.manager }), 400, 'bad_request');
  });
});

describe('auth matrix', () => {
  const kinds = ['none', 'bogus', 'display', 'kiosk', 'operator', 'manager', 'hallAdmin', 'admin', 'otherOperator', 'otherManager'];
  const routes = [
    // [name, method, path, body, roles allowed]
    ['counter action', 'POST', `${T}/counters/l03/open`, undefined, ['operator', 'manager', 'hallAdmin', 'admin']],
    ['ticket list', 'GET', `${T}/tickets`, undefined, ['operator', 'manager', 'hallAdmin', 'admin']],
    ['stats', 'GET', `${T}/stats`, undefined, ['manager', 'hallAdmin', 'admin']],
    ['kiosk-only issue', 'POST', '/v1/halls/kiosk-only/tickets', { service: 'kk' }, ['kiosk', 'manager', 'admin']],
    ['replace config', 'PUT', T, hallConfig('tst', { name: 'Hall tst' }), ['hallAdmin', 'admin']],
    ['list tokens', 'GET', '/v1/tokens', undefined, ['admin']],
    ['add hall', 'POST', '/v1/halls', hallConfig('x-never'), []],
  ];
  for (const [name, method, path, body, allowed] of routes) {
    test(`${name}: ${method} ${path}`, async () => {
      for (const k of kinds) {
        const token = k === 'none' ? undefined : k === 'bogus' ? 'not-a-token' : tok[k];
        const r = await http(s.base, method, path, { token, body });
        const want = allowed.includes(k) ? 'ok' : k === 'none' || k === 'bogus' ? 401 : 403;
        if (want === 'ok') assert.ok(r.status === 200 || r.status === 201, `${k}: ${r.status} ${r.text}`);
        else if (name === 'add hall' && k === 'admin') assert.ok(r.status === 201 || r.status === 409, r.text);
        else {
          assert.equal(r.status, want, `${k}: ${r.text}`);
          assert.equal(r.body.error.code, want === 401 ? 'unauthorized' : 'forbidden');
        }
      }
    });
  }
  test('reinstate and staff cancel need a token of the ticket\'s hall', async () => {
    const t = await issue('kk');
    assertError(await http(s.base, 'POST', `/v1/tickets/${t.id}/reinstate`), 401, 'unauthorized');
    assertError(await http(s.base, 'POST', `/v1/tickets/${t.id}/reinstate`, { token: tok.otherOperator }), 403, 'forbidden');
    assertError(await http(s.base, 'POST', `/v1/tickets/${t.id}/reinstate`, { token: tok.kiosk }), 403, 'forbidden');
    assertError(await http(s.base, 'DELETE', `/v1/tickets/${t.id}`, { token: tok.otherOperator }), 403, 'forbidden');
    assertError(await http(s.base, 'DELETE', `/v1/tickets/${t.id}`, { token: tok.display }), 403, 'forbidden');
  });
  test('self-service off: no token → 401', async () => {
    assertError(await http(s.base, 'POST', '/v1/halls/kiosk-only/tickets', { body: { service: 'kk' } }), 401, 'unauthorized');
  });
});
