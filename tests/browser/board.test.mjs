// The TV board: a call made through the API shows within seconds (and is
// announced in Indonesian), the list of calls stays bounded, the page shows
// a disconnected banner when the server dies and resumes by itself (with
// `since`, no resync) when it comes back on the same data and port.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Server, browser, newPage, shot, sleep } from './lib/harness.mjs';

let s;
let b;
let page;
before(async () => {
  // the bursts below issue more tickets than the per-IP public limit allows
  s = await new Server({ args: ['--issue-burst', '1000', '--issue-per-min', '10000'] }).start();
  b = await browser({ viewport: { width: 1920, height: 1080 } });
  page = await newPage(b);
  // count live timers, to see that none pile up
  await page.addInitScript(() => {
    const live = new Set();
    const st = window.setTimeout;
    const ct = window.clearTimeout;
    const si = window.setInterval;
    const ci = window.clearInterval;
    window.setTimeout = function (f, ms, ...a) {
      const id = st(() => { live.delete(id); if (typeof f === 'function') f(...a); }, ms);
      live.add(id);
      return id;
    };
    window.clearTimeout = (id) => { live.delete(id); ct(id); };
    window.setInterval = function (...x) { const id = si(...x); live.add(id); return id; };
    window.clearInterval = (id) => { live.delete(id); ci(id); };
    window.__timers = () => live.size;
  });
});
after(async () => {
  await b?.close();
  await s?.stop();
  s?.cleanup();
});

test('a call through the API appears on the board and is spoken in Indonesian', { timeout: 30000 }, async () => {
  await page.goto(`${s.base}/board/mpp-demo`);
  await page.waitForFunction(() => document.body.dataset.conn === 'online', null, { timeout: 8000 });
  assert.equal(await page.textContent('#hall-name'), 'Mal Pelayanan Publik Demo');
  assert.match(await page.textContent('#now-big'), /Belum ada panggilan/);

  const tk = (await s.issue('ktp')).body;
  assert.equal(tk.code, 'A001');
  assert.equal((await s.counter('l01', 'open')).status, 200);
  const t0 = Date.now();
  assert.equal((await s.counter('l01', 'call')).status, 200);
  await page.waitForFunction(() => document.querySelector('#now-code')?.textContent === 'A001', null, { timeout: 5000 });
  assert.ok(Date.now() - t0 < 5000);
  assert.equal(await page.textContent('#now-counter'), 'Loket 1');
  const spoken = await page.evaluate(() => window.__board.spoken.at(-1));
  assert.equal(spoken, 'Nomor antrean A nol nol satu, silakan menuju Loket satu');
  // the service figures follow (service.wait, at most once a second)
  await page.waitForFunction(() => document.querySelector('[data-service="ktp"] .n')?.textContent === '0', null, { timeout: 5000 });
  await shot(page, 'board');
});

test('the board stays bounded: calls, DOM nodes, timers', { timeout: 30000 }, async () => {
  await s.counter('l02', 'open');
  const burst = async (n) => {
    for (let i = 0; i < n; i++) {
      await s.issue('ktp');
      await s.counter('l02', 'call');
      await s.counter('l02', 'recall');
      await s.counter('l02', 'start');
      await s.counter('l02', 'finish');
    }
  };
  await burst(12);
  await page.waitForFunction(() => document.querySelector('#now-code')?.textContent === 'A013', null, { timeout: 5000 });
  const nodes = await page.evaluate(() => document.getElementsByTagName('*').length);
  assert.equal(await page.$$eval('#recent li', (l) => l.length), 9);
  await burst(25);
  await page.waitForFunction(() => document.querySelector('#now-code')?.textContent === 'A038', null, { timeout: 5000 });
  assert.equal(await page.$$eval('#recent li', (l) => l.length), 9);
  assert.equal(await page.evaluate(() => document.getElementsByTagName('*').length), nodes);
  assert.ok(await page.evaluate(() => window.__board.spoken.length <= 10));
  const timers = await page.evaluate(() => window.__timers());
  assert.ok(timers <= 6, `live timers: ${timers}`);
});

test('server killed: banner; restarted on the same data and port: resumes without resync', { timeout: 45000 }, async () => {
  const before = await page.evaluate(() => ({ seq: window.__board.feed.seq, resyncs: window.__board.feed.resyncs }));
  assert.ok(before.seq > 0);
  await s.kill();
  await page.waitForSelector('#offline-banner', { state: 'visible', timeout: 8000 });
  assert.match(await page.textContent('#offline-banner'), /Koneksi terputus/);
  await shot(page, 'board-offline');
  await sleep(500);
  await s.start(); // same data dir, same port
  await page.waitForSelector('#offline-banner', { state: 'hidden', timeout: 15000 });
  const st = await page.evaluate(() => ({ resumes: window.__board.feed.resumes, resyncs: window.__board.feed.resyncs }));
  assert.ok(st.resumes >= 1, 'subscribed again with since');
  assert.equal(st.resyncs, before.resyncs, 'no resync: the history covered the gap');
  // and it is live again
  await s.issue('kk');
  await s.counter('l04', 'open');
  await s.counter('l04', 'call');
  await page.waitForFunction(() => document.querySelector('#now-code')?.textContent === 'B001', null, { timeout: 5000 });
  assert.equal(await page.textContent('#now-counter'), 'Loket 4');
  const timers = await page.evaluate(() => window.__timers());
  assert.ok(timers <= 6, `live timers after a reconnect: ${timers}`);
  assert.deepEqual(b.errors, []);
});
