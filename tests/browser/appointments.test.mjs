// Appointments (SPEC §11) in the pages: /book/{hall} picks service → day →
// slot and shows the booking code with a QR code to /a/{id}#{secret}; that
// page shows the booking (secret only in X-Ticket-Secret) and cancels it;
// the kiosk's "Saya punya janji" turns a code into an appointment ticket
// (and says when it is too early); the counter page marks the ticket; the
// admin page lists the day's bookings. A second hall, added by the test, has
// its utc offset chosen so its local time is about noon: today always has
// slots ahead, whatever the clock says.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Server, browser, newPage, shot } from './lib/harness.mjs';

let s;
let b;
const utcMin = new Date().getUTCHours() * 60 + new Date().getUTCMinutes();
let off = 12 * 60 - utcMin;
if (off < -720) off += 1440;
if (off > 840) off -= 1440;
const localDay = (plus) => new Date(Date.now() + off * 60000 + plus * 86400000).toISOString().slice(0, 10);
const noon = {
  id: 'noon', name: 'MPP Siang', utc_offset_min: off,
  hours: { open: '06:00', close: '20:00', issue_until: '19:00', weekdays: [1, 2, 3, 4, 5, 6, 7] },
  agencies: [{ id: 'dukcapil', name: 'Disdukcapil' }],
  services: [{ id: 'ktp', agency: 'dukcapil', name: 'KTP-el', prefix: 'A',
    appointments: { slot_min: 15, per_slot: 2, days_ahead: 7, early_min: 30, late_min: 10 } }],
  counters: [{ id: 'l01', label: 'Loket 1', services: ['ktp'] }],
  self_service: true,
};

before(async () => {
  s = await new Server({ args: ['--issue-burst', '100000', '--issue-per-min', '1000000'] }).start();
  const r = await s.api('POST', '/v1/halls', { token: s.adminToken, body: noon });
  assert.equal(r.status, 201, r.text);
  b = await browser({ viewport: { width: 390, height: 844 } });
});
after(async () => {
  assert.deepEqual(b?.errors ?? [], []);
  await b?.close();
  await s?.stop();
  s?.cleanup();
});

test('book a slot, see it on /a/, cancel it', { timeout: 40000 }, async () => {
  const page = await newPage(b);
  const tomorrow = localDay(1);
  await page.goto(`${s.base}/book/noon`);
  await page.click('[data-service="ktp"]');
  await page.click(`[data-date="${tomorrow}"]`);
  await page.waitForSelector('[data-slot="09:00"]');
  assert.match(await page.textContent('[data-slot="09:00"]'), /2 tempat/);
  await shot(page, 'book-slots');
  await page.click('[data-slot="09:00"]');
  await page.fill('#bk-phone', '081234567890');
  const posted = page.waitForResponse((r) => r.url().endsWith('/v1/halls/noon/appointments') && r.request().method() === 'POST');
  await page.click('#bk-confirm');
  const res = await posted;
  const sent = JSON.parse(res.request().postData());
  assert.match(sent.idem, /^[0-9a-f-]{36}$/);
  assert.equal(sent.slot, '09:00');
  await page.waitForSelector('#bk-code');
  const code = await page.textContent('#bk-code');
  assert.match(code, /^[A-Z2-9]{6}$/);
  assert.match(await page.getAttribute('#bk-qr', 'src'), /^\/v1\/qr\?text=http/);
  await shot(page, 'book-done');

  const urls = [];
  page.on('request', (r) => urls.push(r.url()));
  await page.click('#bk-link');
  await page.waitForSelector('#a-code');
  assert.equal(await page.textContent('#a-code'), code);
  assert.match(await page.textContent('#a-state'), /Terjadwal/);
  assert.match(await page.textContent('#a-when'), /09:00/);
  assert.ok(urls.every((u) => !/[0-9a-f]{32}.*[0-9a-f]{32}/.test(u.replace(/#.*/, '')) || u.includes('/v1/qr')));
  await shot(page, 'appt-booked');
  await page.click('.lang-toggle');
  assert.match(await page.textContent('#a-state'), /Booked/);
  await page.click('.lang-toggle');
  await page.click('#a-cancel');
  await page.click('#a-cancel-yes');
  await page.waitForFunction(() => document.body.dataset.state === 'cancelled');
  assert.match(await page.textContent('#a-state'), /Dibatalkan/);
  const sl = await s.api('GET', `/v1/halls/noon/services/ktp/slots?date=${tomorrow}`);
  assert.equal(sl.body.find((x) => x.slot === '09:00').free, 2);
});

test('kiosk "Saya punya janji": too early, then an appointment ticket; counter and admin mark it', { timeout: 40000 }, async () => {
  const slots = (await s.api('GET', `/v1/halls/noon/services/ktp/slots?date=${localDay(0)}`)).body;
  const now = (await s.api('POST', '/v1/halls/noon/appointments', { body: { service: 'ktp', date: localDay(0), slot: slots[0].slot } })).body;
  const later = (await s.api('POST', '/v1/halls/noon/appointments', { body: { service: 'ktp', date: localDay(1), slot: '10:00' } })).body;
  const page = await b.ctx.newPage();
  await page.setViewportSize({ width: 1080, height: 1920 });
  await page.goto(`${s.base}/kiosk/noon`);
  await page.click('#have-appt');
  await page.fill('#appt-code', later.booking);
  await page.click('#appt-checkin');
  await page.waitForSelector('#error');
  assert.match(await page.textContent('#error'), /Belum waktunya lapor hadir/);
  await page.goto(`${s.base}/kiosk/noon`);
  await page.click('#have-appt');
  await page.fill('#appt-code', now.booking.toLowerCase());
  await page.press('#appt-code', 'Enter'); // a scanner types the code and Enter
  await page.waitForSelector('#ticket-code');
  assert.match(await page.textContent('#ticket-code'), /^A\d{3}$/);
  assert.match(await page.textContent('#ticket-appt'), /Janji/);
  await shot(page, 'kiosk-appt-ticket');

  // the counter page marks it in the waiting list
  const ctr = await b.ctx.newPage();
  await ctr.addInitScript((tok) => sessionStorage.setItem('antrean.token', tok), s.adminToken);
  await ctr.goto(`${s.base}/counter/noon/l01`);
  await ctr.waitForSelector('.appt-badge', { timeout: 8000 });
  await shot(ctr, 'counter-appt');

  // the admin page lists today's bookings of the hall
  const adm = await b.ctx.newPage();
  await adm.addInitScript((tok) => { sessionStorage.setItem('antrean.token', tok); localStorage.setItem('antrean.admin.hall', 'noon'); }, s.adminToken);
  await adm.goto(`${s.base}/admin`);
  await adm.waitForSelector(`[data-booking="${now.booking}"]`, { timeout: 8000 });
  assert.match(await adm.textContent(`[data-booking="${now.booking}"]`), /Sudah lapor hadir/);
  await shot(adm, 'admin-bookings');
});
