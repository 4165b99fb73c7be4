// A public subscriber's stream is gapless (SPEC §5: seq +1 each event), in
// both encodings, across every kind of event — feedback included, whose
// public form says only that a rating came (no score, no comment).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, ws } from './lib/client.mjs';
import { sanitizerReports, startServer } from './lib/server.mjs';

let s;
before(async () => { s = await startServer(); });
after(async () => {
  const ex = await s.stop();
  assert.equal(ex.code, 0);
  assert.deepEqual(sanitizerReports(s.err), []);
  s.cleanup();
});

test('feedback reaches subscribers without the rating; seq has no gaps', async () => {
  const subs = [await ws(s, 'json'), await ws(s, 'msgpack')];
  const start = [];
  for (const sub of subs) start.push((await sub.req('subscribe', { hall: 'mpp-demo' })).result.seq);
  const op = (a) => http(s.base, 'POST', `/v1/halls/mpp-demo/counters/l17/${a}`, { token: s.operatorToken });
  const t = (await http(s.base, 'POST', '/v1/halls/mpp-demo/tickets', { body: { service: 'bpjs-tk' } })).body;
  for (const a of ['open', 'call', 'recall', 'start', 'finish']) assert.equal((await op(a)).status, 200, a);
  const fb = await http(s.base, 'POST', `/v1/tickets/${t.id}/feedback`, {
    secret: t.secret, body: { score: 4, comment: 'pelayanan-sangat-ramah-7731' } });
  assert.ok(fb.status === 200 || fb.status === 201, fb.text);
  assert.equal((await op('close')).status, 200);
  for (let k = 0; k < subs.length; k++) {
    const sub = subs[k];
    await sub.until(() => sub.events.find((e) => e.ev === 'counter.state' && e.state === 'closed'), 5000, 'close event');
    const evs = sub.events.filter((e) => e.hall === 'mpp-demo');
    const fe = evs.find((e) => e.ev === 'ticket.feedback');
    assert.ok(fe, 'feedback event delivered');
    assert.equal(fe.code, t.code);
    assert.equal(fe.score, undefined);
    assert.equal(fe.comment, undefined);
    assert.ok(!JSON.stringify(evs).includes('pelayanan-sangat-ramah-7731'));
    let prev = start[k];
    for (const e of evs) {
      assert.equal(e.seq, prev + 1, `gapless at ${e.ev}`);
      prev = e.seq;
    }
    sub.close();
  }
});
