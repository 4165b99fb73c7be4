// /admin: token login, halls, live load, the day's chart, the CSV download
// (fetched with the token, saved from a blob), tokens created once / deleted.
// And the landing page's links.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { Server, browser, newPage, shot } from './lib/harness.mjs';

let s;
let b;
before(async () => {
  s = await new Server().start();
  b = await browser({ viewport: { width: 1366, height: 900 } });
});
after(async () => {
  await b?.close();
  await s?.stop();
  s?.cleanup();
});

test('admin: halls, live load, chart, CSV, tokens', { timeout: 30000 }, async () => {
  for (const svc of ['ktp', 'ktp', 'kk', 'paspor']) await s.issue(svc);
  const page = await newPage(b);
  await page.goto(`${s.base}/admin`);
  await page.fill('#token', s.adminToken);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#halls tr[data-hall="mpp-demo"]');
  assert.match(await page.textContent('#halls'), /Mal Pelayanan Publik Demo/);
  assert.equal(await page.getAttribute('#halls a[href^="/board/"]', 'href'), '/board/mpp-demo');

  // live load (public feed): waiting counts, then a new ticket moves them
  await page.waitForFunction(() => document.querySelector('#load tr[data-service="ktp"] td.num')?.textContent === '2', null, { timeout: 5000 });
  await s.issue('ktp');
  await page.waitForFunction(() => document.querySelector('#load tr[data-service="ktp"] td.num')?.textContent === '3', null, { timeout: 5000 });

  // the chart of the day
  await page.waitForSelector('#day-chart rect');
  await page.click('#stats-reload');
  await page.waitForFunction(() => /total 5/.test(document.querySelector('#chart-title')?.textContent || ''), null, { timeout: 5000 });
  assert.ok((await page.$$('#day-chart rect')).length >= 3 * 13);
  await page.screenshot({ path: '/tmp/antrean-shots/admin.png', fullPage: true });

  // CSV: a real download named by the server
  const dl = page.waitForEvent('download', { timeout: 5000 });
  await page.click('#csv');
  const d = await dl;
  assert.match(d.suggestedFilename(), /^stats-mpp-demo-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = readFileSync(await d.path(), 'utf8');
  assert.match(csv, /^kind,id,issued/);
  assert.match(csv, /service,ktp,3,/);

  // tokens: created, shown once, listed without the secret, deleted
  await page.selectOption('#tk-role', 'kiosk');
  await page.fill('#tk-halls', 'mpp-demo');
  await page.fill('#tk-label', 'kios lobi');
  await page.click('#tk-create');
  await page.waitForSelector('#new-token');
  const secret = (await page.textContent('#new-token')).trim();
  assert.match(secret, /^\S{20,}$/);
  const row = page.locator('#tokens tr', { hasText: 'kios lobi' });
  await row.waitFor();
  assert.ok(!(await page.textContent('#tokens')).includes(secret));
  const id = await row.getAttribute('data-token');
  const ok = await s.api('GET', '/v1/halls/mpp-demo/tickets?state=waiting', { token: secret });
  assert.equal(ok.status, 403); // a kiosk token may issue, not list
  await row.locator('button').click();
  await row.locator('button.danger').click(); // confirm
  await page.waitForSelector(`#tokens tr[data-token="${id}"]`, { state: 'detached' });
  const listed = await s.api('GET', '/v1/tokens', { token: s.adminToken });
  assert.ok(!listed.body.some((t) => t.id === id));
  assert.deepEqual(b.errors, []);
});

test('landing page links the demo hall', { timeout: 20000 }, async () => {
  const page = await newPage(b);
  await page.goto(`${s.base}/`);
  await page.waitForSelector('[data-hall="mpp-demo"] select option', { state: 'attached' });
  assert.equal(await page.getAttribute('[data-hall="mpp-demo"] a[href="/board/mpp-demo"]', 'href'), '/board/mpp-demo');
  assert.equal(await page.getAttribute('[data-hall="mpp-demo"] a[href="/kiosk/mpp-demo"]', 'href'), '/kiosk/mpp-demo');
  await shot(page, 'index');
  await page.selectOption('[data-hall="mpp-demo"] select', 'l05');
  await page.click('[data-hall="mpp-demo"] button[type=submit]');
  await page.waitForURL('**/counter/mpp-demo/l05');
  await page.waitForSelector('#token');
  await shot(page, 'counter-login');
});
