// WebSocket ping floods (issue 13): clients sending pings as fast as they
// can, one never reading its pongs, one reading them. A pong is queued only
// while little output is queued, so memory stays bounded; a live subscriber
// keeps getting every event; the board and an issue keep answering; nothing
// acked is lost.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ws } from '../lib/client.mjs';
import { frame, RawWs } from '../lib/rawws.mjs';
import { H, HallProbe, abuseServer, teardown, metric, rssKiB, sleep } from './lib.mjs';

after(teardown);

test('ping floods do not grow memory or stop the hall', async () => {
  const s = await abuseServer();
  const probe = new HallProbe(s);
  const live = await ws(s, 'json');
  await live.req('subscribe', { hall: H });
  await probe.check('start');
  const base = rssKiB(s.proc.pid);

  const deaf = await new RawWs(s.port).open();
  deaf.pause(); // never reads a pong
  const reader = await new RawWs(s.port).open();
  const ping = frame(9, Buffer.alloc(125, 0x61)); // the largest control frame
  const burst = Buffer.concat(Array.from({ length: 500 }, () => ping));
  let sent = 0;
  // 40 rounds × 500 pings per client (~5 MiB each), the hall checked every round
  for (let round = 0; round < 40; round++) {
    for (const c of [deaf, reader]) {
      if (c.closed) continue;
      // respect the kernel's back-pressure on our side too: the flood is bounded by us
      if (!c.sock.write(burst)) await Promise.race([new Promise((r) => c.sock.once('drain', r)), sleep(200)]);
      sent += 500;
    }
    await probe.check(`ping flood round ${round}`);
  }
  assert.ok(sent >= 20000);
  await sleep(300);
  const pongs = reader.frames.filter((f) => f.opcode === 10).length;
  assert.ok(pongs > 0, 'a reading client gets pongs');
  assert.ok(await metric(s, 'antrean_websockets') >= 3);
  await probe.check('after');
  await live.until(() => live.events.filter((e) => e.ev === 'ticket.issued').length >= probe.acked.length, 10000, 'live events');
  const seqs = live.events.map((e) => e.seq);
  for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1] + 1, 'gapless feed');
  const grew = probe.peakKiB - base;
  console.log(`ping flood: ${sent} pings, ${pongs} pongs read, rss base ${base} KiB, peak ${probe.peakKiB} KiB`);
  assert.ok(grew < 48 * 1024, `RSS grew ${grew} KiB`);
  deaf.destroy();
  reader.destroy();
  live.close();
  assert.ok(await probe.verifyNothingLost() >= 40);
});
