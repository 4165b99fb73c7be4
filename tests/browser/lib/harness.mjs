// lib/harness.mjs — a real antrean-server and a headless Chromium for each
// browser test.
//
// The server gets a fresh data directory and port 0 (it prints the port it
// got, the operator token, and where the admin token is). Chromium is
// Debian's /usr/bin/chromium (or CHROMIUM=…), driven by playwright-core with
// a fresh profile; nothing is ever downloaded. Every wait is bounded.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repo = resolve(here, '..', '..', '..');
export const SHOTS = process.env.ANTREAN_SHOTS || '/tmp/antrean-shots';
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function serverBinary() {
  if (process.env.ANTREAN_SERVER) return resolve(process.env.ANTREAN_SERVER);
  const candidates = ['build-web', 'build', 'build-asan', 'build-net']
    .map((d) => join(repo, d, 'antrean-server'));
  for (const c of candidates) if (existsSync(c)) return c;
  throw new Error(`antrean-server not found; build it or set ANTREAN_SERVER (tried ${candidates.join(', ')})`);
}

export class Server {
  constructor({ dataDir, port = 0, args = [] } = {}) {
    this.dataDir = dataDir ?? mkdtempSync(join(tmpdir(), 'antrean-web-'));
    this.ownsDir = !dataDir;
    this.wantPort = port;
    this.args = args;
    this.out = '';
    this.err = '';
  }

  async start() {
    this.out = '';
    this.err = '';
    this.exit = null;
    const args = ['--demo', '--data', this.dataDir, '--listen', `127.0.0.1:${this.wantPort}`,
      '--web-dir', join(repo, 'clients', 'web'), ...this.args];
    const env = { ...process.env, ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? 'detect_leaks=1' };
    delete env.ANTREAN_ADMIN_TOKEN; // the generated DATA/admin.token is what a tester would use
    this.proc = spawn(serverBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.exited = new Promise((res) => this.proc.on('exit', (code, signal) => { this.exit = { code, signal }; res(this.exit); }));
    this.proc.stdout.on('data', (d) => { this.out += d; });
    this.proc.stderr.on('data', (d) => { this.err += d; });
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline) {
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(this.out);
      if (m) {
        this.port = Number(m[1]);
        this.wantPort = this.port; // a restart comes back on the same port
        this.base = `http://127.0.0.1:${this.port}`;
        const op = /operator token: ([0-9a-zA-Z]+)/.exec(this.out);
        if (op) this.operatorToken = op[1];
        const f = join(this.dataDir, 'admin.token');
        if (existsSync(f)) this.adminToken = readFileSync(f, 'utf8').trim();
        return this;
      }
      if (this.exit) break;
      await sleep(20);
    }
    this.proc.kill('SIGKILL');
    throw new Error(`server did not start: ${JSON.stringify(this.exit)}\n${this.out}\n${this.err}`);
  }

  kill() {
    if (this.proc && !this.exit) this.proc.kill('SIGKILL');
    return this.exited;
  }

  async stop() {
    if (this.proc && !this.exit) {
      this.proc.kill('SIGTERM');
      const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(t);
    }
    if (/AddressSanitizer|LeakSanitizer|runtime error:/.test(this.err)) {
      throw new Error('sanitizer report in server stderr:\n' + this.err.slice(-4000));
    }
  }

  cleanup() {
    if (this.ownsDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  // JSON API call; returns {status, body}.
  async api(method, path, { body, token, secret } = {}) {
    const headers = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (secret) headers['x-ticket-secret'] = secret;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(this.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5000) });
    const text = await res.text();
    let parsed;
    try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
    return { status: res.status, body: parsed, text };
  }

  counter(counter, action, body, hall = 'mpp-demo') {
    return this.api('POST', `/v1/halls/${hall}/counters/${counter}/${action}`, { token: this.operatorToken, body: body ?? {} });
  }

  issue(service, extra = {}, hall = 'mpp-demo') {
    return this.api('POST', `/v1/halls/${hall}/tickets`, { body: { service, channel: 'web', ...extra } });
  }
}

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// A fresh browser profile; close() removes it.
export async function browser({ viewport = { width: 1280, height: 800 }, locale = 'id-ID' } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'antrean-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    locale,
    timeout: 20000,
  });
  ctx.setDefaultTimeout(8000);
  const errors = [];
  ctx.on('page', (p) => watch(p, errors));
  for (const p of ctx.pages()) watch(p, errors);
  const close = async () => {
    await ctx.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  };
  return { ctx, errors, close };
}

function watch(page, errors) {
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/WebSocket|ERR_CONNECTION_REFUSED|Failed to load resource/.test(m.text())) {
      errors.push(`console: ${m.text()}`);
    }
  });
}

export async function newPage(b) {
  const pages = b.ctx.pages();
  const p = pages.length === 1 && pages[0].url() === 'about:blank' ? pages[0] : await b.ctx.newPage();
  return p;
}

export async function shot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), timeout: 8000 });
}
