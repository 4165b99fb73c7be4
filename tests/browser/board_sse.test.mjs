// The board's Server-Sent Events fallback (SPEC §13) in Chromium's own
// EventSource: with WebSocket working the corner says WebSocket; when every
// WebSocket fails (a proxy that breaks the upgrade, simulated by a
// WebSocket that always fails) the board switches to SSE after two failures,
// says so in the corner, shows and speaks calls, and resumes after a dropped
// stream — dropped by the page and by a server killed and restarted on the
// same data and port — with no gap and no duplicate.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Server, browser, newPage, shot, sleep } from './lib/harness.mjs';

let s;
let b;
before(async () => {
  s = await new Server({ args: ['--issue-burst', '1000', '--issue-per-min', '10000'] }).start();
  b = await browser({ viewport: { width: 1920, height: 1080 } });
});
after(async () => {
  await b?.close();
  await s?.stop();
  s?.cleanup();
});

async function seq() {
  return (await s.api('GET', '/v1/halls/mpp-demo/board')).body.seq;
}

function assertGapless(seqs, what) {
  for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1] + 1, `${what}: ${seqs.slice(Math.max(0, i - 3), i + 3)}`);
}

test('with WebSocket working the corner says WebSocket', { timeout: 30000 }, async () => {
  const page = await newPage(b);
  await page.goto(`${s.base}/board/mpp-demo`);
  await page.waitForFunction(() => document.body.dataset.conn === 'online', null, { timeout: 8000 });
  assert.equal(await page.getAttribute('#transport', 'data-transport'), 'websocket');
  assert.equal(await page.textContent('#transport'), 'Koneksi: WebSocket');
  await page.close();
});

test('WebSocket fails twice: the board runs on EventSource and resumes gaplessly', { timeout: 90000 }, async () => {
  const page = await newPage(b);
  // every WebSocket fails before it opens, as behind a proxy that drops the upgrade
  await page.addInitScript(() => {
    window.__wsTries = 0;
    window.WebSocket = class {
      constructor() {
        window.__wsTries++;
        this.readyState = 0;
        setTimeout(() => {
          this.readyState = 3;
          if (this.onerror) this.onerror({});
          if (this.onclose) this.onclose({ code: 1006 });
        }, 20);
      }
      send() { throw new Error('not open'); }
      close() { this.readyState = 3; }
    };
  });
  await page.goto(`${s.base}/board/mpp-demo`);
  await page.waitForFunction(() => document.getElementById('transport')?.dataset.transport === 'sse', null, { timeout: 15000 });
  await page.waitForFunction(() => document.body.dataset.conn === 'online', null, { timeout: 8000 });
  assert.equal(await page.evaluate(() => window.__wsTries), 2, 'switched after exactly two failures');
  assert.equal(await page.textContent('#transport'), 'Koneksi: SSE (cadangan)');

  // live calls arrive over SSE and are spoken
  await s.issue('ktp');
  await s.counter('l01', 'open');
  await s.counter('l01', 'call');
  const code = (await s.api('GET', '/v1/halls/mpp-demo/board')).body.now_calling[0].code;
  await page.waitForFunction((c) => document.querySelector('#now-code')?.textContent === c, code, { timeout: 5000 });
  assert.match(await page.evaluate(() => window.__board.spoken.at(-1)), /^Nomor antrean /);
  await shot(page, 'board-sse');

  // 1. the page drops its stream; events happen while it is away
  await page.evaluate(() => window.__board.feed._drop(true));
  for (let i = 0; i < 3; i++) await s.issue('kk');
  await s.counter('l01', 'recall');
  let cur = await seq();
  await page.waitForFunction((q) => window.__board.feed.seq >= q, cur, { timeout: 10000 });

  // 2. the server dies and comes back: Chromium's EventSource reconnects by
  //    itself with Last-Event-ID
  const resyncs = await page.evaluate(() => window.__board.feed.resyncs);
  await s.kill();
  await page.waitForSelector('#offline-banner', { state: 'visible', timeout: 8000 });
  await sleep(300);
  await s.start();
  await page.waitForSelector('#offline-banner', { state: 'hidden', timeout: 15000 });
  await s.issue('akta');
  await s.counter('l01', 'start');
  cur = await seq();
  await page.waitForFunction((q) => window.__board.feed.seq >= q, cur, { timeout: 10000 });
  assert.equal(await page.evaluate(() => window.__board.feed.resyncs), resyncs, 'resumed within the history');
  assert.equal(await page.getAttribute('#transport', 'data-transport'), 'sse');

  const seqs = await page.evaluate(() => window.__board.seqs);
  assert.ok(seqs.length >= 8, `events seen: ${seqs}`);
  assertGapless(seqs, 'board events');
  assert.ok(seqs.at(-1) >= cur, 'reached the present');
  assert.equal(new Set(seqs).size, seqs.length, 'no duplicate');
  assert.deepEqual(b.errors, []);
  await page.close();
});
