// 100,000 connect-and-close in a row (issue 13), from 64 clients at a time:
// every connection is accepted and released, the board and an issue answer
// between batches, RSS stays bounded, nothing acked is lost. Half the closes
// are resets (no TIME_WAIT left on the client side), half are FINs.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import { HallProbe, abuseServer, teardown, metric, rssKiB, until } from './lib.mjs';

const TOTAL = 100000;
const AT_ONCE = 64;

after(teardown);

test('100,000 connect-and-close in a row', async () => {
  const s = await abuseServer();
  const probe = new HallProbe(s);
  await probe.check('start');
  const base = rssKiB(s.proc.pid);
  const before = await metric(s, 'antrean_connections_total');
  let started = 0;
  let done = 0;
  let failed = 0;
  const one = (i) => new Promise((res) => {
    const k = net.connect(s.port, '127.0.0.1');
    k.on('error', () => { failed++; res(); });
    k.once('connect', () => {
      if (i % 2) k.resetAndDestroy(); else k.end();
      k.once('close', res);
    });
  });
  const t0 = Date.now();
  // batches of 10,000 with the hall checked in between
  for (let batch = 0; batch < TOTAL / 10000; batch++) {
    const goal = (batch + 1) * 10000;
    await Promise.all(Array.from({ length: AT_ONCE }, async () => {
      while (started < goal) {
        const i = started++;
        await one(i);
        done++;
      }
    }));
    await probe.check(`after ${goal} connections`);
  }
  const secs = (Date.now() - t0) / 1000;
  assert.equal(done, TOTAL);
  assert.equal(failed, 0, 'every connect was accepted');
  await until(async () => (await metric(s, 'antrean_connections')) < 5, 10000, 'connections released');
  // the probe's own connections count too
  assert.ok(await metric(s, 'antrean_connections_total') - before >= TOTAL);
  const grew = probe.peakKiB - base;
  console.log(`connect flood: ${TOTAL} in ${secs.toFixed(1)} s, rss base ${base} KiB, peak ${probe.peakKiB} KiB`);
  assert.ok(grew < 48 * 1024, `RSS grew ${grew} KiB`);
  assert.ok(await probe.verifyNothingLost() >= 10);
});
