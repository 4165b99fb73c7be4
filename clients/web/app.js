// app.js — helpers every page shares: DOM building, API calls (SPEC §4),
// hall config lookups, wait formatting, hall-local time, the chime and the
// spoken call. No framework, no build step; exposes window.Antrean.
//
// Nothing here ever puts a ticket secret or a token in a URL: secrets go in
// X-Ticket-Secret, tokens in Authorization.
(function () {
  'use strict';
  const A = {};
  const t = (k, v) => window.I18N.t(k, v);

  // el('div', {class: 'x', onclick: f, text: 'hi'}, child, 'text', …)
  A.el = function (tag, attrs, ...kids) {
    const e = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === 'text') e.textContent = v;
        else if (k === 'class') e.className = v;
        else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
        else if (k === 'dataset') Object.assign(e.dataset, v);
        else e.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (const k of kids.flat()) {
      if (k === null || k === undefined || k === false) continue;
      e.append(k instanceof Node ? k : String(k));
    }
    return e;
  };
  A.$ = (sel, root) => (root || document).querySelector(sel);

  // Path segment i of the page URL (decoded), e.g. /board/{hall} → seg(1).
  A.seg = function (i) {
    const parts = location.pathname.split('/').filter(Boolean);
    return parts[i] !== undefined ? decodeURIComponent(parts[i]) : '';
  };

  // fetch with a deadline. Returns {ok, status, data, error:{code,message}, retryAfter}.
  // error.code is the server's (SPEC §4) or 'timeout' / 'network'.
  A.api = async function (method, path, o = {}) {
    const headers = { Accept: o.raw ? '*/*' : 'application/json' };
    if (o.token) headers.Authorization = 'Bearer ' + o.token;
    if (o.secret) headers['X-Ticket-Secret'] = o.secret;
    let body;
    if (o.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(o.body);
    }
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), o.timeoutMs || 10000);
    try {
      const res = await fetch(path, { method, headers, body, signal: ctl.signal, cache: 'no-store' });
      const retryAfter = Number(res.headers.get('Retry-After')) || 0;
      if (o.raw && res.ok) {
        const blob = await res.blob();
        return { ok: true, status: res.status, blob, res, retryAfter };
      }
      const text = await res.text();
      let data = null;
      try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
      const error = res.ok ? null
        : (data && data.error) || { code: 'http_' + res.status, message: res.statusText || String(res.status) };
      return { ok: res.ok, status: res.status, data, error, retryAfter, text };
    } catch (e) {
      const timeout = e && e.name === 'AbortError';
      return { ok: false, status: 0, data: null, retryAfter: 0,
        error: { code: timeout ? 'timeout' : 'network', message: String(e && e.message || e) } };
    } finally {
      clearTimeout(timer);
    }
  };

  // A friendly, translated text for an API error; falls back to the server's message.
  A.errText = function (err) {
    if (!err) return '';
    const key = 'err.' + err.code;
    const s = t(key);
    if (s !== key) return s;
    return err.message || err.code;
  };

  // Public hall config with lookup maps.
  A.loadHall = async function (hall) {
    const r = await A.api('GET', '/v1/halls/' + encodeURIComponent(hall));
    if (!r.ok) return { error: r.error };
    return { config: A.indexHall(r.data) };
  };
  A.indexHall = function (cfg) {
    cfg.svc = {};
    cfg.agencyById = {};
    cfg.ctr = {};
    for (const s of cfg.services || []) cfg.svc[s.id] = s;
    for (const a of cfg.agencies || []) cfg.agencyById[a.id] = a;
    for (const c of cfg.counters || []) cfg.ctr[c.id] = c;
    return cfg;
  };

  // Is any counter serving this service staffed (open or paused)? null when
  // the counter states are not known yet. With none staffed, the server's
  // position and estimate are 0 ("nobody will be called before you"),
  // which a citizen must not read as "no wait".
  A.serviceStaffed = function (cfg, states, service) {
    if (!cfg || !states) return null;
    return (cfg.counters || []).some((c) => c.services.includes(service) &&
      (states[c.id] === 'open' || states[c.id] === 'paused'));
  };
  A.counterStates = function (board) {
    const m = {};
    for (const c of (board && board.counters) || []) m[c.id] = c.state;
    return m;
  };

  // "± 15 menit" / "about 15 min"; eta 0 with nobody waiting: "no wait".
  A.fmtWait = function (eta, waiting) {
    if (eta === undefined || eta === null) return '–';
    if (eta <= 0 && !waiting) return t('wait.none');
    if (eta < 60) return t('wait.lt1');
    const m = Math.round(eta / 60);
    if (m < 90) return t('wait.min', { n: m });
    return t('wait.hm', { h: Math.floor(m / 60), m: m % 60 });
  };
  // A duration that has passed: "12 menit" / "12 min".
  A.fmtAgo = function (sec) {
    const m = Math.floor(Math.max(0, sec) / 60);
    if (m < 1) return t('ago.lt1');
    if (m < 90) return t('ago.min', { n: m });
    return t('ago.hm', { h: Math.floor(m / 60), m: m % 60 });
  };

  // Hall-local wall clock (utc_offset_min), independent of the device's zone.
  const pad = (n) => String(n).padStart(2, '0');
  A.hallDate = (ms, offMin) => new Date(ms + (offMin || 0) * 60000);
  A.fmtClock = function (ms, offMin, secs) {
    const d = A.hallDate(ms, offMin);
    return pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes()) + (secs ? ':' + pad(d.getUTCSeconds()) : '');
  };
  A.fmtDay = function (ms, offMin) {
    const d = A.hallDate(ms, offMin);
    return d.getUTCFullYear() + '-' + pad(d.getUTCMonth() + 1) + '-' + pad(d.getUTCDate());
  };
  A.fmtDateLong = function (ms, offMin) {
    const d = A.hallDate(ms, offMin);
    try {
      return new Intl.DateTimeFormat(window.I18N.lang() === 'en' ? 'en-GB' : 'id-ID',
        { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(d);
    } catch (e) {
      return A.fmtDay(ms, offMin);
    }
  };

  // ---- sound --------------------------------------------------------------
  // One AudioContext for the page's whole life (browsers cap how many exist).
  let actx = null;
  A.audio = function () {
    if (actx) return actx;
    const C = window.AudioContext || window.webkitAudioContext;
    if (!C) return null;
    try { actx = new C(); } catch (e) { actx = null; }
    return actx;
  };
  A.audioBlocked = function () {
    const c = A.audio();
    return !c || c.state !== 'running';
  };
  A.unlockAudio = function () {
    const c = A.audio();
    if (c && c.state !== 'running') return c.resume().catch(() => {});
    return Promise.resolve();
  };
  // Two-tone "ding-dong" (WebAudio oscillators; no audio files). Resolves when done.
  A.chime = function () {
    const c = A.audio();
    if (!c || c.state !== 'running') return Promise.resolve(false);
    const now = c.currentTime + 0.02;
    const notes = [[659.25, 0], [523.25, 0.42]];
    for (const [f, at] of notes) {
      const o = c.createOscillator();
      const g = c.createGain();
      o.type = 'sine';
      o.frequency.value = f;
      g.gain.setValueAtTime(0.0001, now + at);
      g.gain.exponentialRampToValueAtTime(0.35, now + at + 0.03);
      g.gain.exponentialRampToValueAtTime(0.0001, now + at + 0.9);
      o.connect(g).connect(c.destination);
      o.onended = () => { o.disconnect(); g.disconnect(); };
      o.start(now + at);
      o.stop(now + at + 0.95);
    }
    return new Promise((res) => setTimeout(() => res(true), 1400));
  };

  // ---- spoken numbers (Indonesian) -----------------------------------------
  const DIG = ['nol', 'satu', 'dua', 'tiga', 'empat', 'lima', 'enam', 'tujuh', 'delapan', 'sembilan'];
  // Ticket code: letters as they are, digits one by one: "A001" → "A nol nol satu".
  A.spellCode = function (code) {
    const out = [];
    for (const ch of String(code)) {
      if (ch >= '0' && ch <= '9') out.push(DIG[ch.charCodeAt(0) - 48]);
      else if (/[A-Za-z]/.test(ch)) out.push(ch.toUpperCase());
    }
    return out.join(' ');
  };
  // A number in Indonesian words (0 … 9999): 12 → "dua belas", 21 → "dua puluh satu".
  A.idNumber = function (n) {
    n = Math.floor(n);
    if (!(n >= 0 && n < 10000)) return String(n);
    if (n < 10) return DIG[n];
    if (n === 10) return 'sepuluh';
    if (n === 11) return 'sebelas';
    if (n < 20) return DIG[n - 10] + ' belas';
    if (n < 100) return DIG[Math.floor(n / 10)] + ' puluh' + (n % 10 ? ' ' + DIG[n % 10] : '');
    if (n < 1000) {
      const h = Math.floor(n / 100);
      return (h === 1 ? 'seratus' : DIG[h] + ' ratus') + (n % 100 ? ' ' + A.idNumber(n % 100) : '');
    }
    const th = Math.floor(n / 1000);
    return (th === 1 ? 'seribu' : DIG[th] + ' ribu') + (n % 1000 ? ' ' + A.idNumber(n % 1000) : '');
  };
  // "Loket 12" → "Loket dua belas" so any voice reads it in Indonesian.
  A.speakLabel = (label) => String(label).replace(/\d+/g, (d) => A.idNumber(Number(d)));
  A.callSentence = (code, label) =>
    'Nomor antrean ' + A.spellCode(code) + ', silakan menuju ' + A.speakLabel(label);

  let idVoice;
  A.speak = function (text) {
    const ss = window.speechSynthesis;
    if (!ss || !window.SpeechSynthesisUtterance) return Promise.resolve(false);
    if (idVoice === undefined) {
      const vs = ss.getVoices() || [];
      idVoice = vs.find((v) => /^id([-_]|$)/i.test(v.lang)) || null;
    }
    return new Promise((res) => {
      const u = new SpeechSynthesisUtterance(text);
      u.lang = 'id-ID';
      u.rate = 0.9;
      if (idVoice) u.voice = idVoice;
      let done = false;
      const fin = () => { if (!done) { done = true; clearTimeout(guard); res(true); } };
      // a voice that never reports its end must not stall the queue
      const guard = setTimeout(fin, 12000);
      u.onend = fin;
      u.onerror = fin;
      try { ss.speak(u); } catch (e) { fin(); }
    });
  };
  if (window.speechSynthesis && 'onvoiceschanged' in window.speechSynthesis) {
    window.speechSynthesis.addEventListener('voiceschanged', () => { idVoice = undefined; });
  }

  // UUID v4 for idempotency keys; crypto.randomUUID needs a secure context,
  // getRandomValues does not (a kiosk on a LAN address over plain http).
  A.uuid = function () {
    if (window.crypto && typeof crypto.randomUUID === 'function') {
      try { return crypto.randomUUID(); } catch (e) { /* fall through */ }
    }
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  };

  // Staff token kept for this tab only (sessionStorage).
  const TOKEN_KEY = 'antrean.token';
  A.getToken = () => { try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; } };
  A.setToken = (v) => { try { v ? sessionStorage.setItem(TOKEN_KEY, v) : sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* private mode */ } };

  // A single offline banner, shown while a live feed is down.
  A.offlineBanner = function (show) {
    let b = document.getElementById('offline-banner');
    if (!b) {
      b = A.el('div', { id: 'offline-banner', class: 'offline-banner', role: 'alert', hidden: true });
      b.append(A.el('span', { 'data-i18n': 'offline' }));
      document.body.prepend(b);
      window.I18N.apply(b);
    }
    b.hidden = !show;
    document.body.dataset.conn = show ? 'offline' : 'online';
  };

  window.Antrean = A;
})();
