// The operator page: token once (sessionStorage), open, call next, start,
// finish with transfer, errors shown clearly; the board follows.
import assert from 'node:assert/strict';
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

test('counter page: login, open, call next; the board updates', { timeout: 30000 }, async () => {
  const board = await newPage(b);
  await board.goto(`${s.base}/board/mpp-demo`);
  await board.waitForFunction(() => document.body.dataset.conn === 'online', null, { timeout: 8000 });

  const a = (await s.issue('ktp')).body;
  const c = await b.ctx.newPage();
  await c.goto(`${s.base}/counter/mpp-demo/l03`);
  await c.waitForSelector('#token');
  await c.fill('#token', 'wrong-token');
  await c.click('#login-form button[type=submit]');
  await c.waitForSelector('#msg-text');
  assert.match(await c.textContent('#msg-text'), /Token tidak dikenal/);
  await c.fill('#token', s.operatorToken);
  await c.click('#login-form button[type=submit]');
  await c.waitForSelector('#desk', { state: 'visible' });
  assert.equal(await c.textContent('#ctr-label'), 'Loket 3');
  await c.waitForSelector('#waitlist tr[data-ticket]');
  assert.match(await c.textContent('#waitlist'), /A001/);

  await c.click('#act-open');
  await c.waitForSelector('#ctr-state.open');
  await c.click('#act-call');
  await c.waitForSelector('#cur-code');
  assert.equal(await c.textContent('#cur-code'), a.code);
  await board.waitForFunction(() => document.querySelector('#now-code')?.textContent === 'A001', null, { timeout: 5000 });
  assert.equal(await board.textContent('#now-counter'), 'Loket 3');

  // the token is kept for this tab: a reload does not ask again
  await c.reload();
  await c.waitForSelector('#cur-code');
  assert.equal(await c.isHidden('#login'), true);
  await c.click('#act-start');
  await c.waitForSelector('#cur-state.serving');
  await shot(c, 'counter');

  // finish with a transfer to Kartu Keluarga, at the front
  await c.selectOption('#transfer-to', 'kk');
  await c.selectOption('#placement', 'first');
  await c.click('#act-transfer');
  await c.waitForSelector('#cur-none');
  assert.match(await c.textContent('#msg-text'), /A001 dialihkan ke Kartu Keluarga/);
  const w = await s.api('GET', '/v1/halls/mpp-demo/tickets?state=waiting', { token: s.operatorToken });
  assert.deepEqual(w.body.map((t) => [t.code, t.service]), [['A001', 'kk']]);

  // l03 serves ktp and kk: call specific from the list
  await c.waitForSelector(`#waitlist tr[data-ticket="${a.id}"] button:not([disabled])`);
  await c.click(`#waitlist tr[data-ticket="${a.id}"] button`);
  await c.waitForSelector('#cur-code');
  assert.equal(await c.textContent('#cur-code'), 'A001');
  // no-show before a recall is refused with a clear message
  await c.click('#act-noshow');
  await c.waitForSelector('.msg.error');
  assert.match(await c.textContent('#msg-text'), /Panggil ulang dulu/);
  await c.click('#act-recall');
  await c.waitForFunction(() => /dipanggil ulang/.test(document.querySelector('#msg-text')?.textContent || ''));
  await c.click('#act-noshow');
  await c.waitForSelector('#cur-none');
  await c.waitForSelector('#noshows tr');
  // and with nobody waiting, "call next" explains it
  await c.click('#act-call');
  await c.waitForSelector('.msg.error');
  assert.match(await c.textContent('#msg-text'), /Tidak ada antrean yang menunggu/);
  await c.click('#act-close');
  await c.waitForSelector('#ctr-state.closed');
  assert.deepEqual(b.errors, []);
});
