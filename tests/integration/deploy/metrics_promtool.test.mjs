// /metrics passes `promtool check metrics` (Debian prometheus package) after
// traffic that fills every family (issues, errors, 429, WebSocket, 503);
// deploy/prometheus.yml passes `promtool check config`; every query of
// deploy/grafana-dashboard.json parses (`promtool check rules` on a rule
// file made of them) and names only metrics the server exports.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { http, ws } from '../lib/client.mjs';
import { repo, sanitizerReports, startServer, tempDir } from '../lib/server.mjs';
import { sleep, which } from './lib.mjs';

const promtool = which('promtool');
let s, dir, text;

describe('promtool', { skip: promtool ? false : 'promtool not installed' }, () => {
  before(async () => {
    dir = tempDir('antrean-promtool-');
    s = await startServer({ args: ['--issue-burst', '2', '--issue-per-min', '1', '--max-conns', '8'] });
    for (let i = 0; i < 3; i++) await http(s.base, 'POST', '/v1/halls/mpp-demo/tickets', { body: { service: 'ktp' } });
    await http(s.base, 'GET', '/v1/halls/mpp-demo/board');
    await http(s.base, 'GET', '/v1/halls/nope/board');
    await http(s.base, 'POST', '/v1/halls/mpp-demo/counters/l01/open', { token: s.operatorToken });
    const c = await ws(s, 'json');
    await c.req('subscribe', { hall: 'mpp-demo' });
    const socks = [];
    for (let i = 0; i < 10; i++) { const k = net.connect(s.port, '127.0.0.1'); k.on('error', () => {}); socks.push(k); }
    await sleep(300);
    for (const k of socks) k.destroy();
    await sleep(200);
    text = (await http(s.base, 'GET', '/metrics')).text;
    c.close();
  });

  after(async () => {
    if (s) {
      assert.equal((await s.stop()).code, 0, s.err.slice(-2000));
      assert.deepEqual(sanitizerReports(s.err), []);
      s.cleanup();
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('promtool check metrics: no problems', () => {
    assert.match(text, /antrean_connections_rejected_total [1-9]/);
    assert.match(text, /antrean_rate_limited_total [1-9]/);
    const r = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20000 });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.equal(`${r.stdout}${r.stderr}`.trim(), '');
  });

  test('deploy/prometheus.yml: promtool check config', () => {
    const r = spawnSync(promtool, ['check', 'config', join(repo, 'deploy', 'prometheus.yml')], { encoding: 'utf8', timeout: 20000 });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  });

  test('deploy/grafana-dashboard.json: every query parses and names exported metrics', () => {
    const dash = JSON.parse(readFileSync(join(repo, 'deploy', 'grafana-dashboard.json'), 'utf8'));
    const exprs = dash.panels.flatMap((p) => p.targets.map((t) => t.expr));
    assert.ok(exprs.length >= 8);
    const rules = ['groups:', '  - name: antrean_dashboard', '    rules:',
      ...exprs.flatMap((e, i) => [`      - record: antrean:dashboard_${i}`, `        expr: ${JSON.stringify(e)}`])].join('\n');
    const f = join(dir, 'dashboard-rules.yml');
    writeFileSync(f, `${rules}\n`);
    const r = spawnSync(promtool, ['check', 'rules', f], { encoding: 'utf8', timeout: 20000 });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    const exported = new Set([...text.matchAll(/^# TYPE (\S+) (\S+)/gm)].flatMap(([, n, t]) =>
      t === 'histogram' ? [`${n}_bucket`, `${n}_sum`, `${n}_count`] : [n]));
    for (const e of exprs) {
      for (const [name] of e.matchAll(/antrean_[a-z_]+/g)) assert.ok(exported.has(name), `${name} (in ${e}) is not exported`);
    }
  });
});
