// The citizen page /t/{id}#{secret}: the secret stays in the fragment (only
// the X-Ticket-Secret header carries it), position and estimate, the
// "called to Loket N" alert, then the SKM rating once done; cancel; the
// side exits explained.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Server, browser, newPage, shot } from './lib/harness.mjs';

let s;
let b;
before(async () => {
  s = await new Server().start();
  b = await browser({ viewport: { width: 390, height: 844 } });
});
after(async () => {
  await b?.close();
  await s?.stop();
  s?.cleanup();
});

test('waiting → called alert → done → rating', { timeout: 30000 }, async () => {
  await s.counter('l21', 'open');
  await s.issue('bank');
  const tk = (await s.issue('bank')).body;
  const page = await newPage(b);
  const urls = [];
  page.on('request', (r) => {
    urls.push(r.url());
    if (r.url().includes('/v1/tickets/')) assert.equal(r.headers()['x-ticket-secret'], tk.secret);
  });
  await page.goto(`${s.base}${tk.url}`);
  await page.waitForSelector('#tk-position');
  assert.equal(await page.textContent('#tk-code'), tk.code);
  const api = (await s.api('GET', `/v1/tickets/${tk.id}`, { secret: tk.secret })).body;
  assert.equal(await page.textContent('#tk-position'), String(api.position));
  assert.equal(api.position, 1);
  assert.match(await page.textContent('#tk-state'), /Menunggu/);
  await shot(page, 't-waiting');

  // called (specific, so it is this one): the alert comes from the live feed
  const t0 = Date.now();
  await s.counter('l21', 'call', { ticket: tk.id });
  await page.waitForSelector('#called-alert', { timeout: 4000 });
  assert.ok(Date.now() - t0 < 4000);
  assert.match(await page.textContent('#called-alert'), /Anda dipanggil ke Loket 21/);
  await shot(page, 't-called');

  await s.counter('l21', 'start');
  await page.waitForFunction(() => document.body.dataset.state === 'serving', null, { timeout: 5000 });
  assert.equal(await page.isHidden('#called-alert'), true);
  await s.counter('l21', 'finish');
  await page.waitForSelector('#rating', { timeout: 5000 });
  await page.click('[data-score="4"]');
  await page.fill('#rating-comment', 'Cepat dan ramah');
  await shot(page, 't-rating');
  await page.click('#rating-send');
  await page.waitForSelector('#t-msg');
  assert.match(await page.textContent('#t-msg'), /Terima kasih/);
  assert.equal(await page.isHidden('#rating').catch(() => true), true);
  // the server took it: a second rating is refused
  const again = await s.api('POST', `/v1/tickets/${tk.id}/feedback`, { secret: tk.secret, body: { score: 1 } });
  assert.equal(again.status, 409);
  const stats = await s.api('GET', '/v1/halls/mpp-demo/stats', { token: s.adminToken });
  assert.equal(stats.body.services.find((x) => x.id === 'bank').skm_count, 1);
  // never in a query string or a path: the secret
  assert.ok(urls.every((u) => !u.includes(tk.secret.slice(0, 16)) || u.endsWith('#' + tk.secret)), urls.join('\n'));
});

test('cancel, and the side exits explained', { timeout: 30000 }, async () => {
  const tk = (await s.issue('npwp')).body;
  const page = await newPage(b);
  await page.goto(`${s.base}${tk.url}`);
  await page.click('#cancel');
  await page.click('#cancel-yes');
  await page.waitForFunction(() => document.body.dataset.state === 'cancelled');
  assert.match(await page.textContent('#tk-explain'), /telah dibatalkan/);
  assert.equal((await s.api('GET', `/v1/tickets/${tk.id}`, { secret: tk.secret })).body.state, 'cancelled');

  // no-show after a recall
  const ns = (await s.issue('oss')).body;
  await page.goto(`${s.base}${ns.url}`);
  await page.waitForSelector('#tk-state');
  await s.counter('l19', 'open');
  await s.counter('l19', 'call', { ticket: ns.id });
  await s.counter('l19', 'recall');
  await s.counter('l19', 'no-show');
  await page.waitForFunction(() => document.body.dataset.state === 'no_show', null, { timeout: 5000 });
  assert.match(await page.textContent('#tk-explain'), /tidak hadir saat dipanggil/);
  await shot(page, 't-no-show');

  // no counter of the service open: no "0 ahead, no wait", but an explanation
  const pbg = (await s.issue('pbg')).body;
  await page.goto(`${s.base}${pbg.url}`);
  await page.waitForSelector('#tk-not-open', { timeout: 5000 });
  assert.match(await page.textContent('#tk-not-open'), /Belum ada loket yang buka/);
  await s.counter('l20', 'open');
  await page.waitForSelector('#tk-position', { timeout: 5000 });

  // a wrong secret and a missing one
  await page.goto(`${s.base}/t/${tk.id}#${'0'.repeat(32)}`);
  await page.waitForSelector('#t-error');
  assert.match(await page.textContent('#t-error'), /tidak valid/);
  await page.goto(`${s.base}/t/${tk.id}`);
  await page.waitForSelector('#t-error');
  assert.match(await page.textContent('#t-error'), /Tautan tidak lengkap/);
  assert.deepEqual(b.errors, []);
});
