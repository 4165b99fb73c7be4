// The kiosk: agency → service → priority → a printed-style ticket with a QR
// code (an <svg> from /v1/qr) to /t/{id}#{secret}, whose page shows the
// position. A request that times out after the server issued the ticket is
// retried with the same idem key: one ticket, not two. Hall errors are
// shown in friendly Indonesian.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Server, browser, newPage, shot } from './lib/harness.mjs';

let s;
let b;
before(async () => {
  s = await new Server().start();
  b = await browser({ viewport: { width: 1080, height: 1920 } });
});
after(async () => {
  await b?.close();
  await s?.stop();
  s?.cleanup();
});

async function waiting(service) {
  const r = await s.api('GET', '/v1/halls/mpp-demo/tickets?state=waiting', { token: s.operatorToken });
  return r.body.filter((t) => t.service === service);
}

test('kiosk flow issues a ticket with a QR code, and its /t/ page shows the position', { timeout: 30000 }, async () => {
  await s.counter('l06', 'open'); // a passport counter is open…
  await s.issue('paspor'); // …and someone is ahead
  const page = await newPage(b);
  await page.goto(`${s.base}/kiosk/mpp-demo`);
  await page.click('[data-agency="imigrasi"]');
  await page.waitForSelector('[data-service="paspor"]');
  await page.waitForFunction(() => /menunggu/.test(document.querySelector('[data-wait="paspor"]')?.textContent || ''), null, { timeout: 5000 });
  await shot(page, 'kiosk-services');
  await page.click('[data-service="paspor"]');
  await page.waitForSelector('[data-priority="elderly"]');
  await shot(page, 'kiosk-priority');
  const issued = page.waitForResponse((r) => r.url().endsWith('/v1/halls/mpp-demo/tickets') && r.request().method() === 'POST');
  await page.click('[data-priority="elderly"]');
  const res = await issued;
  const tk = await res.json();
  const sent = JSON.parse(res.request().postData());
  assert.equal(sent.channel, 'kiosk');
  assert.equal(sent.priority, 'elderly');
  assert.match(sent.idem, /^[0-9a-f-]{36}$/);
  await page.waitForSelector('#qr svg path', { timeout: 5000 });
  assert.equal(await page.textContent('#ticket-code'), 'D002');
  assert.equal(tk.code, 'D002');
  assert.match(await page.textContent('#ticket'), /Paspor/);
  assert.match(await page.textContent('#ticket'), /Prioritas/);
  await shot(page, 'kiosk-ticket');

  // the citizen's page for it (what the QR code opens)
  const t = await b.ctx.newPage();
  await t.setViewportSize({ width: 390, height: 844 });
  await t.goto(`${s.base}${tk.url}`);
  await t.waitForSelector('#tk-position');
  assert.equal(await t.textContent('#tk-code'), 'D002');
  assert.equal(await t.textContent('#tk-position'), String(tk.position));
  assert.equal(tk.position, 0); // elderly: goes before the normal ticket already waiting
  await t.close();
  // the QR request carried the secret in its query: no log line may show it
  assert.ok(!s.err.includes(tk.secret) && !s.out.includes(tk.secret), 'ticket secret in the server log');

  // back to the start by itself after ~20 s: the "Done" button does the same now
  await page.click('#done');
  await page.waitForSelector('[data-agency]');
});

test('a timed-out issue is retried with the same idem key and prints one number', { timeout: 30000 }, async () => {
  const page = await newPage(b);
  const keys = [];
  let first = true;
  await page.route('**/v1/halls/mpp-demo/tickets', async (route) => {
    keys.push(JSON.parse(route.request().postData()).idem);
    if (first) {
      first = false;
      await route.fetch(); // the server issues it…
      await route.abort('timedout'); // …but the kiosk never hears back
      return;
    }
    await route.continue();
  });
  const before = (await waiting('skck')).length;
  await page.goto(`${s.base}/kiosk/mpp-demo`);
  await page.click('[data-agency="polri"]');
  await page.click('[data-service="skck"]');
  await page.click('[data-priority="none"]');
  await page.waitForSelector('#ticket-code', { timeout: 10000 });
  assert.equal(keys.length, 2);
  assert.equal(keys[0], keys[1]);
  assert.equal((await waiting('skck')).length, before + 1);
  await page.unroute('**/v1/halls/mpp-demo/tickets');
});

test('hall_closed and quota_exhausted are explained in friendly Indonesian', { timeout: 30000 }, async () => {
  const page = await newPage(b);
  for (const [code, re] of [['hall_closed', /pengambilan nomor antrean sedang ditutup/], ['quota_exhausted', /kuota nomor antrean untuk layanan ini hari ini sudah habis/]]) {
    await page.route('**/v1/halls/mpp-demo/tickets', (route) => route.fulfill({
      status: 409, contentType: 'application/json',
      body: JSON.stringify({ error: { code, message: 'server text' } }),
    }));
    await page.goto(`${s.base}/kiosk/mpp-demo`);
    await page.click('[data-agency="samsat"]');
    await page.click('[data-service="pkb"]');
    await page.click('[data-priority="none"]');
    await page.waitForSelector('#error');
    assert.match(await page.textContent('#error'), re);
    if (code === 'quota_exhausted') await shot(page, 'kiosk-error');
    await page.unroute('**/v1/halls/mpp-demo/tickets');
  }
  assert.deepEqual(b.errors, []);
});

test('GET /v1/qr validates its text', { timeout: 10000 }, async () => {
  const ok = await fetch(`${s.base}/v1/qr?text=${encodeURIComponent('/t/abc#def')}`);
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('content-type'), 'image/svg+xml');
  assert.match(await ok.text(), /^<svg [^>]*viewBox="0 0 \d+ \d+"/);
  for (const q of ['', '?text=', '?text=ftp%3A%2F%2Fx', `?text=/t/${'a'.repeat(510)}`, '?text=/t/%0a', '?text=/t/%zz']) {
    const r = await s.api('GET', `/v1/qr${q}`);
    assert.equal(r.status, 400, q);
    assert.equal(r.body.error.code, 'bad_request');
  }
  assert.equal((await s.api('POST', '/v1/qr?text=/t/x')).status, 405);
});
