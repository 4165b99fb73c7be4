// lib/server.mjs — start and stop a real antrean-server on 127.0.0.1 for a test.
//
// Each server gets a fresh temporary data directory and a free port (the
// server is started with --listen 127.0.0.1:0 and prints the port it got).
// Every wait here is bounded in time; stop() always ends the process.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const repo = resolve(here, '..', '..', '..');

export function serverBinary() {
  if (process.env.ANTREAN_SERVER) return process.env.ANTREAN_SERVER;
  const candidates = ['build/antrean-server', 'build-net/antrean-server', 'build/net/antrean-server',
    'build-asan/antrean-server'].map((p) => join(repo, p));
  for (const c of candidates) if (existsSync(c)) return c;
  throw new Error(`antrean-server not found; build it or set ANTREAN_SERVER (tried ${candidates.join(', ')})`);
}

export function tempDir(prefix = 'antrean-it-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Server {
  constructor(opts = {}) {
    this.opts = opts;
    this.dataDir = opts.dataDir ?? tempDir();
    this.ownsDir = !opts.dataDir;
    this.adminToken = opts.adminToken ?? randomBytes(20).toString('hex');
    this.out = '';
    this.err = '';
    this.exit = null;
  }

  async start() {
    const args = ['--listen', '127.0.0.1:0', '--data', this.dataDir];
    if (this.opts.demo !== false) args.push('--demo');
    args.push(...(this.opts.args ?? []));
    const env = { ...process.env, ...(this.opts.env ?? {}) };
    if (this.opts.adminToken !== null) env.ANTREAN_ADMIN_TOKEN = this.adminToken;
    else delete env.ANTREAN_ADMIN_TOKEN;
    env.ASAN_OPTIONS = env.ASAN_OPTIONS ?? 'detect_leaks=1:abort_on_error=0';
    this.proc = spawn(serverBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.exited = new Promise((res) => {
      this.proc.on('exit', (code, signal) => { this.exit = { code, signal }; res(this.exit); });
    });
    this.proc.stdout.on('data', (d) => { this.out += d; });
    this.proc.stderr.on('data', (d) => { this.err += d; });
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline) {
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(this.out);
      if (m) {
        this.port = Number(m[1]);
        this.base = `http://127.0.0.1:${this.port}`;
        const t = /operator token: ([0-9a-f]+)/.exec(this.out);
        this.operatorToken = t ? t[1] : null;
        return this;
      }
      if (this.exit) break;
      await sleep(20);
    }
    this.proc.kill('SIGKILL');
    throw new Error(`server did not start: exit=${JSON.stringify(this.exit)}\nstdout:\n${this.out}\nstderr:\n${this.err}`);
  }

  // Graceful stop (SIGTERM); returns the exit status. Kills after timeoutMs.
  async stop(timeoutMs = 10000) {
    if (!this.proc || this.exit) return this.exit;
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    const r = await this.exited;
    clearTimeout(t);
    return r;
  }

  async kill9() {
    if (!this.proc || this.exit) return this.exit;
    this.proc.kill('SIGKILL');
    return this.exited;
  }

  cleanup() {
    if (this.ownsDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export async function startServer(opts) {
  return new Server(opts).start();
}

// Sanitizer and crash reports in a server's stderr (empty when clean).
export function sanitizerReports(err) {
  return err.split('\n').filter((l) => /AddressSanitizer|LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer/.test(l));
}

// A hall config for tests; `over` replaces top-level fields.
export function hallConfig(id, over = {}) {
  return {
    id,
    name: `Hall ${id}`,
    utc_offset_min: 0,
    hours: { open: '00:00', close: '24:00', issue_until: '24:00', weekdays: [1, 2, 3, 4, 5, 6, 7] },
    agencies: [{ id: 'dukcapil', name: 'Disdukcapil' }, { id: 'imigrasi', name: 'Imigrasi' }],
    services: [
      { id: 'ktp', agency: 'dukcapil', name: 'KTP-el', prefix: 'A', est_service_s: 300, sla_wait_s: 1800, daily_quota: 0 },
      { id: 'kk', agency: 'dukcapil', name: 'Kartu Keluarga', prefix: 'B', est_service_s: 240, sla_wait_s: 1800, daily_quota: 0 },
      { id: 'paspor', agency: 'imigrasi', name: 'Paspor', prefix: 'P', est_service_s: 600, sla_wait_s: 3600, daily_quota: 2 },
    ],
    counters: [
      { id: 'l01', label: 'Loket 1', services: ['ktp', 'kk'], policy: 'longest_wait' },
      { id: 'l02', label: 'Loket 2', services: ['kk'], policy: 'in_order' },
      { id: 'l03', label: 'Loket 3', services: ['paspor'], policy: 'longest_wait' },
    ],
    priority: { max_consecutive: 2 },
    no_show: { min_recalls: 1, reinstate_within_s: 1800 },
    self_service: true,
    ...over,
  };
}
