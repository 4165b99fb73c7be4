// deploy/lib.mjs — helpers for the tests of deploy/: free ports, a
// self-signed certificate made with openssl, a real nginx running
// deploy/nginx.conf, and an https client that trusts that certificate.
// Every wait is bounded; stop() always ends what start() began.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { join } from 'node:path';
import { repo } from '../lib/server.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function which(prog) {
  for (const d of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    const p = join(d, prog);
    if (spawnSync('test', ['-x', p]).status === 0) return p;
  }
  return null;
}

export function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); });
  });
}

// A self-signed certificate for localhost and 127.0.0.1, made by openssl.
export function makeCert(dir) {
  const key = join(dir, 'privkey.pem');
  const cert = join(dir, 'fullchain.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', key, '-out', cert], { stdio: 'pipe', timeout: 20000 });
  return { key, cert, pem: readFileSync(cert) };
}

// deploy/nginx.conf with only ports, certificate paths and the cache
// directory rewritten; every rewrite must hit, so the test runs the file as shipped.
export function siteConf({ upstreamPort, httpsPort, httpPort, cert, key, cacheDir }) {
  let s = readFileSync(join(repo, 'deploy', 'nginx.conf'), 'utf8');
  const sub = (from, to) => {
    const n = s.split(from).length - 1;
    if (n !== 1) throw new Error(`deploy/nginx.conf: expected one '${from}', found ${n}`);
    s = s.replace(from, to);
  };
  sub('server 127.0.0.1:8080;', `server 127.0.0.1:${upstreamPort};`);
  sub('listen 80;', `listen 127.0.0.1:${httpPort};`);
  sub('listen [::]:80;', '');
  sub('listen 443 ssl http2;', `listen 127.0.0.1:${httpsPort} ssl http2;`);
  sub('listen [::]:443 ssl http2;', '');
  sub('/etc/ssl/antrean/fullchain.pem', cert);
  sub('/etc/ssl/antrean/privkey.pem', key);
  sub('/var/cache/nginx/antrean', cacheDir);
  return s;
}

export class Nginx {
  constructor(dir, site) {
    this.dir = dir;
    this.site = site;
    this.err = '';
  }

  async start(httpsPort, ca) {
    const d = this.dir;
    for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(d, sub), { recursive: true });
    writeFileSync(join(d, 'site.conf'), this.site);
    const user = process.getuid && process.getuid() === 0 ? 'user root;\n' : '';
    writeFileSync(join(d, 'nginx.conf'), `${user}daemon off;
worker_processes 1;
pid ${d}/nginx.pid;
error_log ${d}/error.log warn;
events { worker_connections 4096; }
http {
    access_log ${d}/access.log;
    client_body_temp_path ${d}/body;
    proxy_temp_path ${d}/proxy;
    fastcgi_temp_path ${d}/fastcgi;
    uwsgi_temp_path ${d}/uwsgi;
    scgi_temp_path ${d}/scgi;
    include ${d}/site.conf;
}
`);
    const args = ['-p', d, '-e', join(d, 'error.log'), '-c', join(d, 'nginx.conf')];
    const t = spawnSync(which('nginx'), [...args, '-t'], { encoding: 'utf8', timeout: 20000 });
    if (t.status !== 0) throw new Error(`nginx -t failed:\n${t.stderr}`);
    this.proc = spawn(which('nginx'), args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc.stderr.on('data', (x) => { this.err += x; });
    this.exited = new Promise((res) => this.proc.on('exit', (code, signal) => { this.exit = { code, signal }; res(this.exit); }));
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline && !this.exit) {
      try {
        const r = await request({ port: httpsPort, ca, path: '/v1/health' });
        if (r.status === 200) return this;
      } catch { /* not up yet */ }
      await sleep(50);
    }
    await this.stop();
    throw new Error(`nginx did not come up: ${this.err}\n${readFileSync(join(d, 'error.log'), 'utf8')}`);
  }

  async stop() {
    if (!this.proc || this.exit) return this.exit;
    this.proc.kill('SIGQUIT'); // graceful: finish requests, then exit
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 10000);
    const r = await this.exited;
    clearTimeout(t);
    return r;
  }
}

// One https request trusting `ca`; {status, headers, text, body}. Bounded by timeoutMs.
export function request({ port, ca, path, method = 'GET', body, headers = {}, localAddress, timeoutMs = 10000 }) {
  return new Promise((res, rej) => {
    const h = { ...headers };
    let payload;
    if (body !== undefined) { payload = JSON.stringify(body); h['content-type'] = 'application/json'; h['content-length'] = Buffer.byteLength(payload); }
    const req = https.request({ host: '127.0.0.1', servername: 'localhost', port, path, method, headers: h, ca, localAddress, agent: false, timeout: timeoutMs }, (r) => {
      let text = '';
      r.setEncoding('utf8');
      r.on('data', (d) => { text += d; });
      r.on('end', () => {
        let parsed;
        try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
        res({ status: r.statusCode, headers: r.headers, text, body: parsed });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', rej);
    if (payload) req.write(payload);
    req.end();
  });
}
