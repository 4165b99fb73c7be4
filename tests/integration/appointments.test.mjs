// Appointments of SPEC §11 over HTTP and WebSocket: slots, booking (every
// refusal with its code), the citizen's view and cancel with the secret,
// check-in (on time, twice, too early), the staff list with citizen data,
// the public feed without it, and bookings surviving a restart. The hall's
// utc offset is chosen so that its local time is about noon whatever the
// clock says, so the day always has slots ahead.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { http, ws } from './lib/client.mjs';
import { findCli, runCli } from './lib/day.mjs';
import { hallConfig, sanitizerReports, Server, tempDir } from './lib/server.mjs';

const utcMin = new Date().getUTCHours() * 60 + new Date().getUTCMinutes();
let off = 12 * 60 - utcMin;
if (off < -720) off += 1440;
if (off > 840) off -= 1440;
const localDay = (plusDays) => new Date(Date.now() + off * 60000 + plusDays * 86400000).toISOString().slice(0, 10);
const today = localDay(0);
const H = '/v1/halls/appt';
const PHONE = '+6281234567890';
const LIMITS = ['--issue-burst', '100000', '--issue-per-min', '1000000'];

const cfg = hallConfig('appt', { utc_offset_min: off });
cfg.hours = { open: '06:00', close: '20:00', issue_until: '19:00', weekdays: [1, 2, 3, 4, 5, 6, 7] };
cfg.services[0].appointments = { slot_min: 15, per_slot: 2, days_ahead: 7, early_min: 30, late_min: 10 };

let s;
let dir;

function assertError(r, status, code, word) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.body?.error?.code, code, r.text);
  if (word) assert.match(r.body.error.message, word, r.text);
  assert.ok(!r.text.includes(PHONE.slice(1)), r.text);
}

async function book(body, opts = {}) {
  return http(s.base, 'POST', `${H}/appointments`, { body: { service: 'ktp', date: today, ...body }, ...opts });
}

before(async () => {
  dir = tempDir();
  const file = join(dir, 'hall.json');
  writeFileSync(file, JSON.stringify(cfg));
  s = await new Server({ dataDir: join(dir, 'data'), args: ['--hall', file, ...LIMITS] }).start();
});
after(async () => {
  const ex = await s.stop();
  assert.equal(ex.code, 0, s.err.slice(-2000));
  assert.deepEqual(sanitizerReports(s.err), []);
  rmSync(dir, { recursive: true, force: true });
});

let slots;
let first;

describe('slots and booking', () => {
  test('slots: only ahead, inside hours, with free places', async () => {
    const r = await http(s.base, 'GET', `${H}/services/ktp/slots?date=${today}`);
    assert.equal(r.status, 200, r.text);
    slots = r.body;
    assert.ok(slots.length > 4);
    for (const x of slots) {
      assert.deepEqual(Object.keys(x), ['slot', 'free']);
      assert.equal(x.free, 2);
      assert.match(x.slot, /^\d\d:(00|15|30|45)$/);
      assert.ok(x.slot >= '11:45' && x.slot < '19:00', x.slot);
    }
    const t = await http(s.base, 'GET', `${H}/services/ktp/slots?date=${localDay(1)}`);
    assert.equal(t.body[0].slot, '06:00');
    assertError(await http(s.base, 'GET', `${H}/services/kk/slots?date=${today}`), 400, 'bad_request', /no appointments/);
    assertError(await http(s.base, 'GET', `${H}/services/ktp/slots`), 400, 'bad_request', /date/);
    assertError(await http(s.base, 'GET', `${H}/services/ktp/slots?date=${localDay(9)}`), 400, 'bad_request', /days_ahead/);
  });

  test('book: 201 with booking code and /a/ url; idem returns the same booking', async () => {
    const r = await book({ slot: slots[0].slot, phone: PHONE, idem: 'bk-1' });
    assert.equal(r.status, 201, r.text);
    first = r.body;
    assert.match(first.id, /^[0-9a-f]{32}$/);
    assert.match(first.secret, /^[0-9a-f]{32}$/);
    assert.match(first.booking, /^[A-HJKMNP-Z2-9]{6}$/);
    assert.equal(first.url, `/a/${first.id}#${first.secret}`);
    assert.equal(first.service, 'ktp');
    assert.equal(first.date, today);
    assert.equal(first.slot, slots[0].slot);
    assert.ok(!r.text.includes(PHONE));
    const again = await book({ slot: slots[1].slot, idem: 'bk-1' });
    assert.equal(again.status, 201);
    assert.equal(again.body.id, first.id);
  });

  test('refusals name the reason', async () => {
    assert.equal((await book({ slot: slots[0].slot })).status, 201);
    assertError(await book({ slot: slots[0].slot }), 409, 'slot_full', /full/);
    assertError(await book({ slot: '07:00' }), 400, 'bad_request', /already started/);
    assertError(await book({ slot: '05:00' }), 400, 'bad_request', /outside opening hours/);
    assertError(await book({ slot: '12:10' }), 400, 'bad_request', /every 15 min/);
    assertError(await book({ slot: '9.15' }), 400, 'bad_request', /HH:MM/);
    assertError(await book({ date: '2026-13-01', slot: '09:00' }), 400, 'bad_request', /YYYY-MM-DD/);
    assertError(await book({ date: localDay(-1), slot: '09:00' }), 400, 'bad_request', /past/);
    assertError(await book({ date: localDay(8), slot: '09:00' }), 400, 'bad_request', /days_ahead/);
    assertError(await book({ service: 'kk', slot: '09:00' }), 400, 'bad_request', /no appointments/);
    assertError(await book({ slot: slots[2].slot, nik: '123' }), 400, 'bad_request', /nik/);
  });
});

describe('the citizen and the counter', () => {
  test('GET /v1/appointments/{id} with the secret, without citizen data', async () => {
    const r = await http(s.base, 'GET', `/v1/appointments/${first.id}`, { secret: first.secret });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.state, 'booked');
    assert.equal(r.body.booking, first.booking);
    assert.ok(!r.text.includes(PHONE));
    assertError(await http(s.base, 'GET', `/v1/appointments/${first.id}`, { secret: '0'.repeat(32) }), 403, 'forbidden');
    assertError(await http(s.base, 'GET', `/v1/appointments/${first.id}`), 401, 'unauthorized');
    assertError(await http(s.base, 'GET', `/v1/appointments/${'0'.repeat(32)}`, { secret: first.secret }), 404, 'not_found');
  });

  test('check-in: an appointment ticket, once; unknown and too early refused', async () => {
    const typed = first.booking.toLowerCase().replace(/^(...)/, '$1-');
    const r = await http(s.base, 'POST', `${H}/checkin`, { body: { booking: typed } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.appointment, true);
    assert.equal(r.body.service, 'ktp');
    assert.match(r.body.code, /^A\d{3}$/);
    assert.match(r.body.url, /^\/t\/[0-9a-f]{32}#[0-9a-f]{32}$/);
    assert.equal(r.body.late, undefined);
    assertError(await http(s.base, 'POST', `${H}/checkin`, { body: { booking: first.booking } }), 409, 'invalid_state', /already checked in/);
    assertError(await http(s.base, 'POST', `${H}/checkin`, { body: { booking: 'ZZZZZZ' } }), 404, 'not_found', /booking/);
    const later = await book({ date: localDay(1), slot: '09:00' });
    assertError(await http(s.base, 'POST', `${H}/checkin`, { body: { booking: later.body.booking } }), 409, 'too_early', new RegExp(localDay(1)));
    const v = await http(s.base, 'GET', `/v1/appointments/${first.id}`, { secret: first.secret });
    assert.equal(v.body.state, 'checked_in');
    assert.equal(v.body.ticket.code, r.body.code);
    assert.equal(v.body.ticket_url, r.body.url);
  });

  test('cancel with the secret frees the slot; twice is invalid_state', async () => {
    const b = await book({ slot: slots[3].slot });
    const full = await book({ slot: slots[3].slot });
    assert.equal(full.status, 201);
    assertError(await book({ slot: slots[3].slot }), 409, 'slot_full');
    const d = await http(s.base, 'DELETE', `/v1/appointments/${b.body.id}`, { secret: b.body.secret });
    assert.equal(d.status, 200, d.text);
    assert.equal(d.body.state, 'cancelled');
    assertError(await http(s.base, 'DELETE', `/v1/appointments/${b.body.id}`, { secret: b.body.secret }), 409, 'invalid_state');
    const sl = await http(s.base, 'GET', `${H}/services/ktp/slots?date=${today}`);
    assert.equal(sl.body.find((x) => x.slot === slots[3].slot).free, 1);
  });

  test('staff list: citizen data for admin, 401 without a token; stats count', async () => {
    const r = await http(s.base, 'GET', `${H}/appointments?date=${today}&service=ktp`, { token: s.adminToken });
    assert.equal(r.status, 200, r.text);
    const mine = r.body.find((x) => x.id === first.id);
    assert.equal(mine.phone, PHONE);
    assert.equal(mine.state, 'checked_in');
    assert.ok(r.body.every((x) => x.secret === undefined));
    assertError(await http(s.base, 'GET', `${H}/appointments`), 401, 'unauthorized');
    const st = await http(s.base, 'GET', `${H}/stats?date=${today}`, { token: s.adminToken });
    const ktp = st.body.services.find((x) => x.id === 'ktp');
    assert.equal(ktp.appointments, 1);
    assert.equal(ktp.booked, 3, st.text); // first, the second at slot 0, the one left at slot 3
  });
});

describe('antrean-cli book and checkin', { skip: findCli() ? false : 'antrean-cli not built' }, () => {
  test('book prints the code; checkin turns it into an appointment ticket; errors exit 1', async () => {
    const srv = `127.0.0.1:${s.port}`;
    const b = await runCli(['--server', srv, 'book', 'appt', 'ktp', today, slots[1].slot, '--phone', PHONE]);
    assert.equal(b.code, 0, b.stderr);
    assert.deepEqual(sanitizerReports(b.stderr), []);
    const code = /^booking +([A-Z2-9]{6})$/m.exec(b.stdout)?.[1];
    assert.ok(code, b.stdout);
    assert.match(b.stdout, /^url +http:\/\/127\.0\.0\.1:\d+\/a\/[0-9a-f]{32}#[0-9a-f]{32}$/m);
    assert.ok(!b.stdout.includes(PHONE));
    const c = await runCli(['--server', srv, 'checkin', 'appt', code]);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /^service +ktp \(appointment\)$/m);
    const again = await runCli(['--server', srv, 'checkin', 'appt', code]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^antrean-cli: invalid_state: /m);
    const full = await runCli(['--server', srv, 'book', 'appt', 'ktp', today, '9.15']);
    assert.equal(full.code, 1);
    assert.match(full.stderr, /^antrean-cli: bad_request: slot/m);
    const usage = await runCli(['--server', srv, 'book', 'appt', 'ktp']);
    assert.equal(usage.code, 2);
  });
});

describe('feed and restart', () => {
  test('WebSocket: book and checkin ops; public appointment events carry no citizen data', async () => {
    const sub = await ws(s, 'json');
    assert.equal((await sub.req('subscribe', { hall: 'appt' })).ok, true);
    const staff = await ws(s, 'msgpack', { isPublic: false });
    assert.equal((await staff.req('auth', { token: s.adminToken })).ok, true);
    const b = await staff.req('book', { hall: 'appt', service: 'ktp', date: today, slot: slots[4].slot, phone: PHONE });
    assert.equal(b.ok, true, JSON.stringify(b));
    assert.match(b.result.booking, /^[A-Z2-9]{6}$/);
    const ev = await sub.until(() => sub.events.find((m) => m.ev === 'appointment.booked'));
    assert.deepEqual(Object.keys(ev).filter((k) => k !== '__binary').sort(), ['at', 'date', 'ev', 'hall', 'seq', 'service', 'slot']);
    const c = await staff.req('appointment_cancel', { appointment: b.result.id, secret: b.result.secret });
    assert.equal(c.ok, true, JSON.stringify(c));
    assert.equal(c.result.state, 'cancelled');
    await sub.until(() => sub.events.find((m) => m.ev === 'appointment.cancelled'));
    const k = await staff.req('checkin', { hall: 'appt', booking: 'ZZZZZZ' });
    assert.equal(k.error.code, 'not_found');
    sub.close();
    staff.close();
  });

  test('bookings survive a restart', async () => {
    assert.equal((await s.stop()).code, 0);
    s = await new Server({ dataDir: s.dataDir, args: LIMITS }).start();
    const r = await http(s.base, 'GET', `/v1/appointments/${first.id}`, { secret: first.secret });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.state, 'checked_in');
    const sl = await http(s.base, 'GET', `${H}/services/ktp/slots?date=${today}`);
    assert.equal(sl.body.find((x) => x.slot === slots[3].slot).free, 1);
  });
});
