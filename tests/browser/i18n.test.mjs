// Indonesian by default; the English toggle changes the texts, is kept in
// localStorage across pages and reloads, and ?lang= overrides it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Server, browser, newPage, shot } from './lib/harness.mjs';

let s;
let b;
before(async () => {
  s = await new Server().start();
  b = await browser({ viewport: { width: 1280, height: 800 } });
});
after(async () => {
  await b?.close();
  await s?.stop();
  s?.cleanup();
});

test('English toggle', { timeout: 30000 }, async () => {
  const page = await newPage(b);
  await page.goto(`${s.base}/board/mpp-demo`);
  await page.waitForFunction(() => document.body.dataset.conn === 'online', null, { timeout: 8000 });
  assert.equal(await page.getAttribute('html', 'lang'), 'id');
  assert.equal(await page.textContent('#now-title'), 'Sekarang dipanggil');
  assert.match(await page.textContent('#now-big'), /Belum ada panggilan/);
  await page.click('.lang-toggle');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await page.textContent('#now-title'), 'Now calling');
  assert.match(await page.textContent('#now-big'), /No calls yet/);
  assert.equal((await page.textContent('.lang-toggle')).trim(), 'ID');
  await shot(page, 'board-en');

  // remembered: the kiosk opens in English
  await page.goto(`${s.base}/kiosk/mpp-demo`);
  await page.waitForSelector('[data-agency]');
  assert.equal(await page.textContent('#step-title'), 'Touch the agency you need');
  await page.click('[data-agency="dukcapil"]');
  await page.click('[data-service="ktp"]');
  assert.equal(await page.textContent('#step-title'), 'Are you a priority visitor?');
  assert.match(await page.textContent('[data-priority="pregnant"]'), /Pregnant/);
  await shot(page, 'kiosk-en');
  // the citizen page too, and back to Indonesian in place
  const tk = (await s.issue('kk')).body;
  await page.goto(`${s.base}${tk.url}`);
  await page.waitForSelector('#tk-state');
  assert.match(await page.textContent('#tk-state'), /Waiting/);
  await page.click('.lang-toggle');
  assert.match(await page.textContent('#tk-state'), /Menunggu/);
  await page.reload();
  await page.waitForSelector('#tk-state');
  assert.equal(await page.getAttribute('html', 'lang'), 'id');
  // ?lang=en wins for one page (a TV with no keyboard)
  await page.goto(`${s.base}/board/mpp-demo?lang=en`);
  assert.equal(await page.textContent('#now-title'), 'Now calling');
  assert.deepEqual(b.errors, []);
});
