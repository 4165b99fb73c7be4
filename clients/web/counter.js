// counter.js — the operator's page for one counter (/counter/{hall}/{counter},
// SPEC §7): open/close/pause/resume, call next, call a specific waiting
// ticket, recall, start, finish, transfer, no-show, reinstate.
//
// The token is asked once and kept in sessionStorage (this tab only). The
// server decides every rule; this page shows its answer, and keeps itself
// current from the hall's public feed (refreshes are debounced, so a busy
// hall costs at most one list request a second).
(function () {
  'use strict';
  const A = window.Antrean;
  const t = (k, v) => window.I18N.t(k, v);
  const el = A.el;
  const $ = (id) => document.getElementById(id);

  const hall = A.seg(1);
  const counter = A.seg(2);
  const base = '/v1/halls/' + encodeURIComponent(hall);
  const MAX_ROWS = 200;

  let token = A.getToken();
  let cfg = null;
  let state = 'closed';
  let current = null; // {id, code, service, state, recalls, called_at?}
  let waiting = [];
  let noShows = [];
  let feed = null;
  let busy = false;
  let refreshTimer = null;
  let lastRefresh = 0;
  let lastMsg = null; // {kind, key|text, vars}

  function myServices() {
    const c = cfg && cfg.ctr[counter];
    return c ? c.services : [];
  }
  function svcName(id) {
    return (cfg && cfg.svc[id] && cfg.svc[id].name) || id;
  }

  // ---- messages --------------------------------------------------------------------
  function say(kind, text) {
    lastMsg = { kind, text };
    drawMsg();
  }
  function drawMsg() {
    const box = $('msg');
    if (!lastMsg) { box.replaceChildren(); return; }
    box.replaceChildren(el('div', { class: 'msg ' + lastMsg.kind, role: lastMsg.kind === 'error' ? 'alert' : 'status',
      id: 'msg-text', text: lastMsg.text }));
  }

  // ---- server calls ------------------------------------------------------------------
  async function staff(method, path, body) {
    const r = await A.api(method, path, { token, body });
    if (!r.ok && (r.error.code === 'unauthorized')) {
      logout(t('login.bad'));
    }
    return r;
  }

  async function act(action, body) {
    if (busy) return;
    busy = true;
    drawButtons();
    const r = await staff('POST', base + '/counters/' + encodeURIComponent(counter) + '/' + action, body || {});
    busy = false;
    if (r.ok) {
      state = r.data.counter.state;
      const tk = r.data.ticket;
      if (tk && (tk.state === 'called' || tk.state === 'serving')) {
        current = Object.assign({}, current && current.id === tk.id ? current : {}, tk);
        if (action === 'call' || action === 'recall') current.called_at = Date.now();
      } else {
        current = null;
      }
      const done = {
        call: tk ? t('ctr.msg.called', { code: tk.code }) : null,
        recall: tk ? t('ctr.msg.recalled', { code: tk.code, n: tk.recalls }) : null,
        start: tk ? t('ctr.msg.serving', { code: tk.code }) : null,
        finish: tk ? (body && body.transfer_to ? t('ctr.msg.transferred', { code: tk.code, service: svcName(body.transfer_to) })
          : t('ctr.msg.done', { code: tk.code })) : null,
        'no-show': tk ? t('ctr.msg.noShow', { code: tk.code }) : null,
      }[action] || t('ctr.msg.state', { state: t('cstate.' + state) });
      say('ok', done);
      refreshSoon(0);
    } else {
      say('error', A.errText(r.error) + (r.error.code !== 'network' && r.error.code !== 'timeout' && r.error.message &&
        A.errText(r.error) !== r.error.message ? ' (' + r.error.message + ')' : ''));
      refreshSoon(0);
    }
    draw();
  }

  async function callSpecific(tk) {
    await act('call', { ticket: tk.id });
  }
  async function reinstate(tk) {
    const r = await staff('POST', '/v1/tickets/' + encodeURIComponent(tk.id) + '/reinstate');
    say(r.ok ? 'ok' : 'error', r.ok ? t('ctr.msg.reinstated', { code: tk.code }) : A.errText(r.error));
    refreshSoon(0);
  }

  // Current ticket and lists, from the staff ticket list: only the parts an
  // event touched, at most once a second, and everything once a minute.
  const ALL = ['waiting', 'current', 'no_show'];
  const pending = new Set();
  async function refresh() {
    clearTimeout(refreshTimer);
    refreshTimer = null;
    lastRefresh = Date.now();
    const parts = pending.size ? new Set(pending) : new Set(ALL);
    pending.clear();
    const get = (st) => staff('GET', base + '/tickets?state=' + st);
    const mine = new Set(myServices());
    if (parts.has('waiting')) {
      const w = await get('waiting');
      if (!w.ok) {
        if (w.error.code !== 'unauthorized') say('error', A.errText(w.error));
        return;
      }
      waiting = w.data.filter((x) => mine.has(x.service))
        .sort((a, b) => (a.position - b.position) || (a.issued_at - b.issued_at));
    }
    if (parts.has('current')) {
      const [c, sv] = await Promise.all([get('called'), get('serving')]);
      if (c.ok && sv.ok) current = [].concat(c.data, sv.data).find((x) => x.counter === counter) || null;
    }
    if (parts.has('no_show')) {
      const n = await get('no_show');
      if (n.ok) noShows = n.data.filter((x) => mine.has(x.service)).slice(-20).reverse();
    }
    draw();
  }
  function refreshSoon(ms, parts) {
    if (!token) return;
    for (const p of parts || ALL) pending.add(p);
    const at = Math.max(ms, lastRefresh + 1000 - Date.now());
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, Math.max(0, at));
  }

  // ---- drawing -------------------------------------------------------------------------
  function draw() {
    const label = cfg && cfg.ctr[counter] ? cfg.ctr[counter].label : counter;
    $('ctr-label').textContent = label;
    $('hall-name').textContent = cfg ? '· ' + cfg.name : '';
    document.title = label + ' — ' + t('ctr.title');
    const sb = $('ctr-state');
    sb.className = 'badge ' + state;
    sb.textContent = t('cstate.' + state);
    sb.hidden = !token;
    $('logout').hidden = !token;
    $('login').hidden = !!token;
    $('desk').hidden = !token;
    drawMsg();
    if (!token) return;
    $('ctr-services').textContent = t('ctr.serves', { list: myServices().map(svcName).join(', ') });

    const cur = $('current');
    if (current) {
      const since = current.called_at ? A.fmtAgo((Date.now() - current.called_at) / 1000) : '';
      cur.replaceChildren(
        el('div', { class: 'code', id: 'cur-code', text: current.code }),
        el('div', { text: svcName(current.service) }),
        el('div', null,
          el('span', { class: 'badge ' + current.state, id: 'cur-state', text: t('state.' + current.state) }), ' ',
          current.priority ? el('span', { class: 'badge prio', text: t('prio.badge') }) : null, ' ',
          current.appointment ? el('span', { class: 'appt-badge', id: 'cur-appt', text: t('appt.badge') }) : null, ' ',
          current.recalls ? el('span', { class: 'muted', text: t('ctr.recalls', { n: current.recalls }) }) : null,
          since ? el('span', { class: 'muted', text: ' · ' + since }) : null));
    } else {
      cur.replaceChildren(el('div', { class: 'none', id: 'cur-none', text: t('ctr.noCurrent') }));
    }

    // transfer targets: every service of the hall but the current one
    // (rebuilt only when that changes, so an open picker is left alone)
    const sel = $('transfer-to');
    const key = (current ? current.service : '') + '|' + (cfg ? cfg.services.length + cfg.name : '');
    if (sel.dataset.key !== key) {
      sel.dataset.key = key;
      const keep = sel.value;
      sel.replaceChildren(...(cfg ? cfg.services : []).filter((s) => !current || s.id !== current.service)
        .map((s) => el('option', { value: s.id, text: s.prefix + ' · ' + s.name })));
      if (keep) sel.value = keep;
    }

    $('wl-count').textContent = String(waiting.length);
    const rows = waiting.slice(0, MAX_ROWS).map((x) => el('tr', { dataset: { ticket: x.id } },
      el('td', null, el('strong', { text: x.code }), x.priority ? el('span', { class: 'badge prio', style: 'margin-left:.4em', text: t('prio.badge') }) : null,
        x.appointment ? el('span', { class: 'appt-badge', style: 'margin-left:.4em', text: t('appt.badge') }) : null),
      el('td', { text: svcName(x.service) }),
      el('td', { class: 'num', text: A.fmtAgo((Date.now() - x.issued_at) / 1000) }),
      el('td', null, el('button', { type: 'button', class: 'small secondary', 'aria-label': t('ctr.callThis', { code: x.code }),
        disabled: busy || !!current || state !== 'open', onclick: () => callSpecific(x), text: t('ctr.call') }))));
    if (waiting.length > MAX_ROWS) rows.push(el('tr', null, el('td', { colspan: '4', class: 'muted', text: t('ctr.more', { n: waiting.length - MAX_ROWS }) })));
    if (!waiting.length) rows.push(el('tr', null, el('td', { colspan: '4', class: 'muted', text: t('ctr.emptyList') })));
    $('waitlist').replaceChildren(...rows);

    $('noshow-card').hidden = !noShows.length;
    $('noshows').replaceChildren(...noShows.map((x) => el('tr', null,
      el('td', null, el('strong', { text: x.code })),
      el('td', { text: svcName(x.service) }),
      el('td', null, el('button', { type: 'button', class: 'small secondary', onclick: () => reinstate(x), text: t('ctr.reinstate') })))));
    drawButtons();
  }

  function drawButtons() {
    const open = state === 'open';
    const called = current && current.state === 'called';
    const serving = current && current.state === 'serving';
    const set = (id, on) => { $(id).disabled = busy || !on; };
    set('act-call', open && !current);
    set('act-recall', called);
    set('act-start', called);
    set('act-noshow', called);
    set('act-finish', serving);
    set('act-transfer', serving);
    set('act-open', state !== 'open');
    set('act-pause', open && !current);
    set('act-resume', state === 'paused');
    set('act-close', state !== 'closed' && !current);
    $('transfer-box').hidden = !serving;
  }

  // ---- feed ----------------------------------------------------------------------------
  function onBoard(board) {
    const c = (board.counters || []).find((x) => x.id === counter);
    if (c) state = c.state;
    draw();
    refreshSoon(0);
  }
  function onEvent(ev) {
    if (ev.ev === 'counter.state' && ev.counter === counter) {
      state = ev.state;
      draw();
    } else if (ev.ev === 'hall.config') {
      loadConfig();
    }
    if (!ev.ev.startsWith('ticket.')) return;
    const mine = myServices();
    if (ev.counter === counter) refreshSoon(300, ALL);
    else if (mine.includes(ev.service) || mine.includes(ev.from_service)) refreshSoon(300, ['waiting', 'no_show']);
  }

  // ---- login -----------------------------------------------------------------------------
  function logout(why) {
    token = '';
    A.setToken('');
    if (feed) { feed.stop(); feed = null; }
    A.offlineBanner(false);
    lastMsg = why ? { kind: 'error', text: why } : null;
    draw();
    $('token').focus();
  }
  async function login(v) {
    token = v;
    const r = await A.api('GET', base + '/tickets?state=called', { token });
    if (!r.ok) {
      token = '';
      lastMsg = { kind: 'error', text: r.error.code === 'unauthorized' ? t('login.bad') : A.errText(r.error) };
      draw();
      return;
    }
    A.setToken(token);
    lastMsg = null;
    start();
  }
  function start() {
    draw();
    if (!feed) {
      feed = new window.Feed(hall, { onBoard, onEvent, onStatus: (s) => A.offlineBanner(s === 'offline') });
      feed.start();
    }
    refreshSoon(0);
  }

  async function loadConfig() {
    const r = await A.loadHall(hall);
    $('transfer-to').dataset.key = '';
    if (!r.config) {
      say('error', r.error.code === 'not_found' ? t('err.hall_not_found') : A.errText(r.error));
      return false;
    }
    cfg = r.config;
    if (!cfg.ctr[counter]) {
      say('error', t('err.counter_not_found', { counter }));
      return false;
    }
    draw();
    return true;
  }

  // ---- wiring ----------------------------------------------------------------------------
  $('login-form').addEventListener('submit', (e) => { e.preventDefault(); login($('token').value.trim()); });
  $('logout').addEventListener('click', () => logout(null));
  $('act-call').addEventListener('click', () => act('call'));
  $('act-recall').addEventListener('click', () => act('recall'));
  $('act-start').addEventListener('click', () => act('start'));
  $('act-finish').addEventListener('click', () => act('finish'));
  $('act-noshow').addEventListener('click', () => act('no-show'));
  $('act-open').addEventListener('click', () => act('open'));
  $('act-pause').addEventListener('click', () => act('pause'));
  $('act-resume').addEventListener('click', () => act('resume'));
  $('act-close').addEventListener('click', () => act('close'));
  $('act-transfer').addEventListener('click', () => {
    const to = $('transfer-to').value;
    if (to) act('finish', { transfer_to: to, placement: $('placement').value });
  });
  window.I18N.onChange(draw);
  // waited times move on their own; a full refresh now and then as a safety net
  let ticks = 0;
  setInterval(() => {
    if (!token) return;
    if (++ticks % 2 === 0) refreshSoon(0, ALL);
    else draw();
  }, 30000);

  draw();
  loadConfig().then((ok) => {
    if (!ok) return;
    if (token) start();
    else $('token').focus();
  });
})();
