// Slow readers (issue 13): WebSocket subscribers that never read. Each one's
// unsent output grows until the 1 MiB limit (SPEC §5) closes it with 1008;
// meanwhile a live subscriber gets every event, the board and an issue keep
// answering, RSS stays bounded, nothing acked is lost.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ws } from '../lib/client.mjs';
import { frame, RawWs } from '../lib/rawws.mjs';
import { H, HallProbe, abuseServer, teardown, metric, rssKiB, sleep } from './lib.mjs';

const READERS = 20;

after(teardown);

test('subscribers that never read are closed at 1 MiB, the hall goes on', async () => {
  const s = await abuseServer();
  const probe = new HallProbe(s);
  const live = await ws(s, 'json');
  await live.req('subscribe', { hall: H });
  await probe.check('start');
  const base = rssKiB(s.proc.pid);

  const slow = [];
  for (let i = 0; i < READERS; i++) {
    const r = await new RawWs(s.port).open();
    r.pause(); // never reads until the server gives up on it
    slow.push(r);
  }
  // each asks for the board again and again: every reply is queued unread
  const sub = frame(1, JSON.stringify({ op: 'subscribe', hall: H }));
  for (let round = 0; round < 60 && slow.some((r) => !r.closed); round++) {
    for (const r of slow) if (!r.closed) for (let k = 0; k < 50; k++) r.send(sub);
    await probe.check(`slow readers round ${round}`);
    if (await metric(s, 'antrean_slow_subscribers_dropped_total') >= READERS) break;
    await sleep(50);
  }
  assert.equal(await metric(s, 'antrean_slow_subscribers_dropped_total'), READERS);
  // now they read: what they find at the end is the 1008 close
  for (const r of slow) r.resume();
  for (const r of slow) {
    await r.until(() => r.closeCode() !== null || r.closed, 10000);
    assert.equal(r.closeCode(), 1008);
    r.destroy();
  }
  await probe.check('after');
  // the live subscriber saw every issue, in order, without gaps
  await live.until(() => live.events.filter((e) => e.ev === 'ticket.issued').length >= probe.acked.length, 10000, 'live events');
  const codes = live.events.filter((e) => e.ev === 'ticket.issued').map((e) => e.code);
  assert.deepEqual(codes.slice(-probe.acked.length), probe.acked.map((t) => t.code));
  const seqs = live.events.map((e) => e.seq);
  for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1] + 1, 'gapless feed');
  live.close();
  const grew = probe.peakKiB - base;
  console.log(`slow readers: rss base ${base} KiB, peak ${probe.peakKiB} KiB, ${probe.checks} checks`);
  // 20 readers × 1 MiB of unsent output at most, plus room
  assert.ok(grew < 96 * 1024, `RSS grew ${grew} KiB`);
  assert.ok(await probe.verifyNothingLost() >= 2);
});
