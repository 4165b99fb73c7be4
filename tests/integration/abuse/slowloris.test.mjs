// Slowloris (issue 13): 1,000 connections each sending one header byte every
// 5 s. The head deadline (10 s, SPEC §9) closes every one of them; the board
// and an issue answer throughout; RSS stays bounded; nothing acked is lost.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { HallProbe, abuseServer, teardown, metric, openMany, rssKiB, sleep, until } from './lib.mjs';

after(teardown);

test('1,000 slowloris connections do not stop the hall', async () => {
  const s = await abuseServer();
  const probe = new HallProbe(s);
  await probe.check('start');
  const base = rssKiB(s.proc.pid);
  const head = 'GET /v1/halls/mpp-demo/board HTTP/1.1\r\nHost: x\r\nX-Pad: ';
  let closedByServer = 0;
  const socks = await openMany(s.port, 1000, { onSocket: (k) => k.once('close', () => { closedByServer++; }) });
  assert.ok(await metric(s, 'antrean_connections') >= 1000);
  // one byte per connection every 5 s, until the server has closed them all (at most 25 s)
  for (let round = 0; round < 5 && closedByServer < socks.length; round++) {
    for (const k of socks) if (!k.destroyed) k.write(head[round]);
    // the hall meanwhile: 10 checks spread over the 5 s
    for (let i = 0; i < 10 && closedByServer < socks.length; i++) {
      await probe.check(`slowloris round ${round}`);
      await sleep(500);
    }
  }
  await until(() => closedByServer === socks.length, 15000, 'the server closes every slowloris connection');
  await probe.check('after');
  assert.ok(await metric(s, 'antrean_connections') < 10);
  const grew = probe.peakKiB - base;
  console.log(`slowloris: rss base ${base} KiB, peak ${probe.peakKiB} KiB, ${probe.checks} checks`);
  assert.ok(grew < 64 * 1024, `RSS grew ${grew} KiB`);
  for (const k of socks) k.destroy();
  assert.ok(await probe.verifyNothingLost() >= 10);
});
