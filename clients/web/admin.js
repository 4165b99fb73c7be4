// admin.js — /admin (SPEC §7): halls, tokens (a new token is shown once),
// the live per-service load of one hall (its public feed), the day's chart
// (inline SVG from /stats) and the CSV of the day (fetched with the token,
// then saved from a blob, so the token never goes into a link).
(function () {
  'use strict';
  const A = window.Antrean;
  const t = (k, v) => window.I18N.t(k, v);
  const el = A.el;
  const $ = (id) => document.getElementById(id);
  const SVGNS = 'http://www.w3.org/2000/svg';

  let token = A.getToken();
  let halls = [];
  let hall = '';
  let cfg = null;
  let feed = null;
  let load = []; // board services
  let counters = []; // board counters
  let stats = null;
  let lastMsg = null;
  let armed = null; // token id whose delete waits for a confirming click
  let armTimer = null;

  function say(kind, text) {
    lastMsg = text ? { kind, text } : null;
    $('msg').replaceChildren(...(lastMsg ? [el('div', { class: 'msg ' + kind, role: kind === 'error' ? 'alert' : 'status', id: 'msg-text', text })] : []));
  }

  async function staff(method, path, body) {
    const r = await A.api(method, path, { token, body });
    if (!r.ok && r.error.code === 'unauthorized') logout(t('login.bad'));
    return r;
  }

  // ---- halls -----------------------------------------------------------------------
  async function loadHalls() {
    const r = await A.api('GET', '/v1/halls');
    if (!r.ok) { say('error', A.errText(r.error)); return; }
    halls = r.data || [];
    const sel = $('hall-select');
    sel.replaceChildren(...halls.map((h) => el('option', { value: h.id, text: h.name })));
    let want = '';
    try { want = localStorage.getItem('antrean.admin.hall') || ''; } catch (e) { want = ''; }
    if (!halls.some((h) => h.id === want)) want = halls.length ? halls[0].id : '';
    sel.value = want;
    drawHalls();
    if (want) await selectHall(want);
  }

  function drawHalls() {
    $('halls').replaceChildren(...halls.map((h) => {
      const enc = encodeURIComponent(h.id);
      return el('tr', { dataset: { hall: h.id } },
        el('td', { class: 'mono', text: h.id }),
        el('td', null, h.id === hall ? el('strong', { text: h.name }) : h.name),
        el('td', null,
          el('a', { href: '/board/' + enc, text: t('nav.board') }), ' · ',
          el('a', { href: '/kiosk/' + enc, text: t('nav.kiosk') }), ' · ',
          h.id === hall && cfg && cfg.counters.length
            ? el('a', { href: '/counter/' + enc + '/' + encodeURIComponent(cfg.counters[0].id), text: t('nav.counter') }) : null,
          h.id !== hall ? el('button', { type: 'button', class: 'small secondary', onclick: () => { $('hall-select').value = h.id; selectHall(h.id); }, text: t('admin.select') }) : null));
    }));
  }

  async function selectHall(id) {
    hall = id;
    try { localStorage.setItem('antrean.admin.hall', id); } catch (e) { /* ignore */ }
    document.dispatchEvent(new CustomEvent('antrean:hall', { detail: id })); // admin_appt.js
    const r = await A.loadHall(id);
    cfg = r.config || null;
    if (feed) feed.stop();
    load = [];
    counters = [];
    feed = new window.Feed(id, {
      onBoard: (b) => { load = (b.services || []).map((s) => ({ ...s })); counters = (b.counters || []).map((c) => ({ ...c })); drawLoad(); },
      onEvent,
      onStatus: (s) => A.offlineBanner(s === 'offline'),
    });
    feed.start();
    $('stats-date').value = A.fmtDay(Date.now(), cfg ? cfg.utc_offset_min : 0);
    drawHalls();
    drawLoad();
    loadStats();
  }

  function onEvent(ev) {
    if (ev.ev === 'service.wait') {
      for (const u of ev.services || []) {
        const s = load.find((x) => x.id === u.id);
        if (s) Object.assign(s, u);
      }
      drawLoad();
    } else if (ev.ev === 'counter.state') {
      const c = counters.find((x) => x.id === ev.counter);
      if (c) { c.state = ev.state; drawLoad(); }
    } else if (ev.ev === 'hall.config') {
      selectHall(hall);
    }
  }

  function drawLoad() {
    const max = Math.max(1, ...load.map((s) => s.waiting));
    $('load').replaceChildren(...load.map((s) => {
      const pre = cfg && cfg.svc[s.id] ? cfg.svc[s.id].prefix : '';
      const late = cfg && cfg.svc[s.id] && s.oldest_wait_s > cfg.svc[s.id].sla_wait_s;
      return el('tr', { dataset: { service: s.id } },
        el('td', null, pre ? el('span', { class: 'badge', text: pre }) : null, ' ', s.name),
        el('td', { class: 'num', text: String(s.waiting) }),
        el('td', null, el('div', { class: 'load-bar', 'aria-hidden': 'true' },
          el('span', { style: 'width:' + Math.round(100 * s.waiting / max) + '%' }))),
        el('td', { class: 'num', text: A.fmtWait(s.eta_s, s.waiting) }),
        el('td', { class: 'num' + (late ? ' late' : ''), style: late ? 'color:var(--bad);font-weight:700' : null,
          text: s.waiting ? A.fmtAgo(s.oldest_wait_s) : '–' }));
    }));
    const open = counters.filter((c) => c.state === 'open').length;
    const paused = counters.filter((c) => c.state === 'paused').length;
    $('load-counters').textContent = counters.length ? t('admin.countersOpen', { open, paused, total: counters.length }) : '';
  }

  // ---- stats ----------------------------------------------------------------------------
  function statsPath(csv) {
    const d = $('stats-date').value;
    const q = [];
    if (d) q.push('date=' + encodeURIComponent(d));
    if (csv) q.push('format=csv');
    return '/v1/halls/' + encodeURIComponent(hall) + '/stats' + (q.length ? '?' + q.join('&') : '');
  }

  async function loadStats() {
    if (!hall) return;
    const r = await staff('GET', statsPath(false));
    if (!r.ok) {
      stats = null;
      $('chart').replaceChildren(el('p', { class: 'msg error', text: A.errText(r.error) }));
      $('stats').replaceChildren();
      return;
    }
    stats = r.data;
    drawStats();
  }

  function drawStats() {
    if (!stats) return;
    const svcs = stats.services || [];
    $('chart').replaceChildren(chart(svcs));
    const pct = (x) => (x === null || x === undefined ? '–' : Math.round(x * 100) + '%');
    const secs = (x) => (x ? A.fmtAgo(x) : '–');
    $('stats').replaceChildren(...svcs.map((s) => el('tr', null,
      el('td', { text: (cfg && cfg.svc[s.id] ? cfg.svc[s.id].name : s.id) }),
      el('td', { class: 'num', text: String(s.issued) }),
      el('td', { class: 'num', text: String(s.served) }),
      el('td', { class: 'num', text: String(s.no_show) }),
      el('td', { class: 'num', text: secs(s.wait_p50_s) }),
      el('td', { class: 'num', text: secs(s.wait_p90_s) }),
      el('td', { class: 'num', text: s.issued ? pct(s.within_sla) : '–' }),
      el('td', { class: 'num', text: s.skm_count ? (Math.round(s.skm_index * 10) / 10) + ' (' + s.skm_count + ')' : '–' }))));
  }

  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // Grouped bars per service: issued, served, no-show.
  function chart(svcs) {
    const W = 900, H = 260, L = 40, B = 36, T = 12;
    const n = Math.max(1, svcs.length);
    const gw = (W - L - 8) / n;
    const bw = Math.max(3, Math.min(18, (gw - 6) / 3));
    const max = Math.max(1, ...svcs.map((s) => Math.max(s.issued, s.served, s.no_show)));
    const step = Math.pow(10, Math.floor(Math.log10(max)));
    const top = Math.ceil(max / step) * step;
    const y = (v) => T + (H - T - B) * (1 - v / top);
    const total = svcs.reduce((a, s) => a + s.issued, 0);
    const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': 'chart-title', id: 'day-chart' });
    root.append(svg('title', { id: 'chart-title' }, t('admin.chartTitle', { n: total, date: stats.date || '' })));
    for (let i = 0; i <= 4; i++) {
      const v = (top * i) / 4;
      root.append(svg('line', { x1: L, x2: W - 4, y1: y(v), y2: y(v), stroke: '#d5dce5', 'stroke-width': 1 }));
      root.append(svg('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#4a5a6a' }, String(Math.round(v))));
    }
    const colors = ['#0b4f9c', '#16884a', '#c0392b'];
    svcs.forEach((s, i) => {
      const x0 = L + 4 + i * gw + (gw - 3 * bw) / 2;
      [s.issued, s.served, s.no_show].forEach((v, k) => {
        const r = svg('rect', { x: x0 + k * bw, y: y(v), width: bw - 1, height: Math.max(0, H - B - y(v)), fill: colors[k] });
        r.append(svg('title', {}, `${s.id}: ${[t('admin.issued'), t('admin.served'), t('admin.noShow')][k]} ${v}`));
        root.append(r);
      });
      const pre = cfg && cfg.svc[s.id] ? cfg.svc[s.id].prefix : s.id.slice(0, 4);
      root.append(svg('text', { x: L + 4 + i * gw + gw / 2, y: H - B + 16, 'text-anchor': 'middle', 'font-size': 12, 'font-weight': 700, fill: '#15202b' }, pre));
    });
    root.append(svg('line', { x1: L, x2: W - 4, y1: H - B, y2: H - B, stroke: '#4a5a6a', 'stroke-width': 1.5 }));
    return root;
  }

  async function downloadCsv() {
    const r = await A.api('GET', statsPath(true), { token, raw: true });
    if (!r.ok) { say('error', A.errText(r.error)); return; }
    const cd = r.res.headers.get('Content-Disposition') || '';
    const m = /filename="?([^";]+)"?/.exec(cd);
    const name = m ? m[1] : 'stats-' + hall + '.csv';
    const url = URL.createObjectURL(r.blob);
    const a = el('a', { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  // ---- tokens -------------------------------------------------------------------------
  async function loadTokens() {
    const r = await staff('GET', '/v1/tokens');
    if (!r.ok) {
      $('tokens').replaceChildren(el('tr', null, el('td', { colspan: '5', class: 'muted', text: A.errText(r.error) })));
      return;
    }
    $('tokens').replaceChildren(...r.data.map((k) => el('tr', { dataset: { token: k.id } },
      el('td', { class: 'mono', text: k.id }),
      el('td', null, el('span', { class: 'badge', text: k.role })),
      el('td', { text: Array.isArray(k.halls) ? k.halls.join(', ') : String(k.halls) }),
      el('td', { text: k.label || '' }),
      el('td', null, el('button', { type: 'button', class: 'small ' + (armed === k.id ? 'danger' : 'secondary'),
        onclick: () => del(k.id), text: armed === k.id ? t('admin.confirmDelete') : t('admin.delete') })))));
  }
  async function del(id) {
    if (armed !== id) {
      armed = id;
      clearTimeout(armTimer);
      armTimer = setTimeout(() => { armed = null; loadTokens(); }, 5000);
      loadTokens();
      return;
    }
    armed = null;
    clearTimeout(armTimer);
    const r = await staff('DELETE', '/v1/tokens/' + encodeURIComponent(id));
    say(r.ok ? 'ok' : 'error', r.ok ? t('admin.deleted', { id }) : A.errText(r.error));
    loadTokens();
  }
  async function createToken(e) {
    e.preventDefault();
    const raw = $('tk-halls').value.trim();
    const hallsVal = raw === '*' ? '*' : raw.split(',').map((s) => s.trim()).filter(Boolean);
    const body = { role: $('tk-role').value, halls: hallsVal, label: $('tk-label').value.trim() || $('tk-role').value };
    const r = await staff('POST', '/v1/tokens', body);
    if (!r.ok) { say('error', A.errText(r.error) + (r.error.message ? ' (' + r.error.message + ')' : '')); return; }
    say(null, null);
    const val = el('code', { id: 'new-token', class: 'mono', text: r.data.token });
    $('token-once').replaceChildren(el('div', { class: 'token-once', role: 'status' },
      el('p', { style: 'margin:0 0 .4rem;font-weight:700', text: t('admin.tokenOnce', { id: r.data.id }) }),
      val, ' ',
      el('button', { type: 'button', class: 'small secondary', onclick: () => copy(r.data.token), text: t('admin.copy') })));
    $('tk-label').value = '';
    loadTokens();
  }
  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(() => say('ok', t('admin.copied')), () => {});
    } else {
      const r = document.createRange();
      r.selectNodeContents($('new-token'));
      const s = getSelection();
      s.removeAllRanges();
      s.addRange(r);
    }
  }

  // ---- login ------------------------------------------------------------------------------
  function logout(why) {
    token = '';
    A.setToken('');
    if (feed) { feed.stop(); feed = null; }
    A.offlineBanner(false);
    show();
    say('error', why || null);
  }
  function show() {
    $('login').hidden = !!token;
    $('dash').hidden = !token;
    $('logout').hidden = !token;
    $('hall-select').hidden = !token;
    if (!token) $('token').focus();
  }
  async function login(v) {
    const r = await A.api('GET', '/v1/tokens', { token: v });
    // a manager may not list tokens, but may still use the rest
    if (!r.ok && r.error.code === 'unauthorized') { say('error', t('login.bad')); return; }
    token = v;
    A.setToken(v);
    say(null, null);
    start();
  }
  function start() {
    show();
    if (!$('tk-halls').value) $('tk-halls').value = '*';
    loadHalls();
    loadTokens();
  }

  $('login-form').addEventListener('submit', (e) => { e.preventDefault(); login($('token').value.trim()); });
  $('logout').addEventListener('click', () => logout(null));
  $('hall-select').addEventListener('change', (e) => selectHall(e.target.value));
  $('stats-date').addEventListener('change', loadStats);
  $('stats-reload').addEventListener('click', loadStats);
  $('csv').addEventListener('click', downloadCsv);
  $('token-form').addEventListener('submit', createToken);
  window.I18N.onChange(() => { drawHalls(); drawLoad(); drawStats(); loadTokens(); });

  show();
  if (token) start();
})();
