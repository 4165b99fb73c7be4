// board.js — the TV board (/board/{hall}, SPEC §7).
//
// State is three bounded things: the last 10 calls (as the server's board
// keeps them), the per-service figures, and the counter labels. Every
// redraw replaces a fixed number of nodes; the only timers are the 1 s clock
// and whatever the feed holds (one socket, one retry, one watchdog); the
// announcement queue holds at most MAX_QUEUE calls. So it can run for days.
(function () {
  'use strict';
  const A = window.Antrean;
  const t = (k, v) => window.I18N.t(k, v);
  const el = A.el;

  const MAX_CALLS = 10; // SPEC §4: now_calling holds the last 10
  const MAX_QUEUE = 4;  // announcements waiting to be spoken
  const PAGE_TICKS = 8; // seconds per page when the services do not fit

  const hall = A.seg(1);
  let cfg = null;
  let calls = []; // newest first: {code, service, counter, label, at}
  let services = []; // [{id, name, waiting, eta_s, oldest_wait_s}]
  const labels = {}; // counter id → label
  let states = null; // counter id → state
  let svcPage = 0;
  let ticks = 0;

  // for tests and diagnostics; bounded like everything else
  const dbg = { spoken: [], events: 0, boards: 0, seqs: [] };
  window.__board = dbg;

  const $ = (id) => document.getElementById(id);

  function labelOf(counter, fallback) {
    return labels[counter] || fallback || counter || '';
  }
  function serviceName(id) {
    const s = services.find((x) => x.id === id) || (cfg && cfg.svc[id]);
    return s ? s.name : id;
  }

  // ---- drawing -------------------------------------------------------------
  function drawNow(flash) {
    const box = $('now-big');
    const c = calls[0];
    if (!c) {
      box.replaceChildren(el('div', { class: 'now-empty', text: t('board.none') }));
      box.removeAttribute('aria-label');
      return;
    }
    box.replaceChildren(
      el('div', { class: 'now-code', id: 'now-code', text: c.code }),
      el('div', { class: 'now-arrow', 'aria-hidden': 'true', text: '▼' }),
      el('div', { class: 'now-counter', id: 'now-counter', text: labelOf(c.counter, c.label) }),
      el('div', { class: 'now-service', text: serviceName(c.service) }));
    box.setAttribute('aria-label', t('board.aria.call', { code: c.code, label: labelOf(c.counter, c.label) }));
    if (flash) {
      box.classList.remove('flash');
      void box.offsetWidth; // restart the animation
      box.classList.add('flash');
    }
  }

  function drawRecent() {
    const rows = calls.slice(1, MAX_CALLS).map((c) =>
      el('li', null,
        el('span', { class: 'code', text: c.code }),
        el('span', { class: 'ctr', text: labelOf(c.counter, c.label) })));
    if (!rows.length) rows.push(el('li', { class: 'empty' }, el('span', { text: '–' })));
    $('recent').replaceChildren(...rows);
  }

  function drawServices() {
    const rows = services.map((s) => {
      const pre = cfg && cfg.svc[s.id] ? cfg.svc[s.id].prefix : '';
      const closed = A.serviceStaffed(cfg, states, s.id) === false;
      const eta = closed ? t('board.closed') : A.fmtWait(s.eta_s, s.waiting);
      return el('li', { class: 'svc-row' + (closed ? ' closed' : ''), dataset: { service: s.id },
        'aria-label': t('board.aria.service', { name: s.name, n: s.waiting, eta }) },
      el('span', { class: 'name' }, pre ? el('span', { class: 'prefix', text: pre }) : null, s.name),
      el('span', { class: 'n', text: String(s.waiting) }),
      el('span', { class: 'eta', text: eta }));
    });
    $('svc').replaceChildren(...rows);
    paginate();
  }

  // A hall with more services than the screen holds shows them page by page.
  function paginate() {
    const box = $('services');
    const list = $('svc');
    const rows = Array.from(list.children);
    for (const r of rows) r.hidden = false;
    if (box.scrollHeight <= box.clientHeight + 1 || rows.length < 2) return;
    const cols = Math.max(1, getComputedStyle(list).gridTemplateColumns.split(' ').length);
    const room = box.getBoundingClientRect().bottom - list.getBoundingClientRect().top - 12;
    const rh = rows[0].getBoundingClientRect().height + 4 || 1;
    const per = Math.max(1, Math.floor(room / rh)) * cols;
    const pages = Math.ceil(rows.length / per);
    svcPage %= pages;
    rows.forEach((r, i) => { r.hidden = Math.floor(i / per) !== svcPage; });
  }

  function drawAll() {
    $('hall-name').textContent = cfg ? cfg.name : hall;
    document.title = t('board.title') + (cfg ? ' — ' + cfg.name : '');
    clock();
    drawNow(false);
    drawRecent();
    drawServices();
  }

  function clock() {
    const off = cfg ? cfg.utc_offset_min : -new Date().getTimezoneOffset();
    $('clock').textContent = A.fmtClock(Date.now(), off, false);
  }

  function tick() {
    clock();
    if (++ticks % PAGE_TICKS === 0) {
      svcPage++;
      paginate();
    }
  }

  // ---- announcements -----------------------------------------------------------
  const queue = [];
  let speaking = false;
  function announce(code, label) {
    const sentence = A.callSentence(code, label);
    dbg.spoken.push(sentence);
    if (dbg.spoken.length > 10) dbg.spoken.shift();
    if (queue.length >= MAX_QUEUE) queue.shift(); // a burst: the oldest is dropped
    queue.push(sentence);
    if (!speaking) pump();
  }
  async function pump() {
    speaking = true;
    while (queue.length) {
      const s = queue.shift();
      await A.chime();
      await A.speak(s);
      await new Promise((r) => setTimeout(r, 500));
    }
    speaking = false;
  }
  function soundButton() {
    const b = $('sound-btn');
    b.hidden = !A.audioBlocked();
  }

  // ---- feed ------------------------------------------------------------------
  function onBoard(board) {
    dbg.boards++;
    for (const c of board.counters || []) labels[c.id] = c.label;
    states = A.counterStates(board);
    calls = (board.now_calling || []).slice(0, MAX_CALLS);
    services = (board.services || []).map((s) => ({ ...s }));
    drawAll();
  }

  function onEvent(ev, info) {
    dbg.events++;
    dbg.seqs.push(ev.seq);
    if (dbg.seqs.length > 500) dbg.seqs.splice(0, dbg.seqs.length - 500);
    switch (ev.ev) {
      case 'ticket.called':
      case 'ticket.recalled': {
        const label = labelOf(ev.counter, ev.label);
        calls.unshift({ code: ev.code, service: ev.service, counter: ev.counter, label, at: ev.at });
        if (calls.length > MAX_CALLS) calls.length = MAX_CALLS;
        drawNow(true);
        drawRecent();
        if (!info.replay) announce(ev.code, label);
        break;
      }
      case 'service.wait': {
        for (const u of ev.services || []) {
          const s = services.find((x) => x.id === u.id);
          if (s) Object.assign(s, u);
        }
        drawServices();
        break;
      }
      case 'counter.state':
        if (states) states[ev.counter] = ev.state;
        drawServices();
        break;
      case 'hall.config':
        reloadConfig(true);
        break;
      case 'day.rollover':
        feed.reset(); // numbering restarts: take a fresh board
        break;
      default:
        break;
    }
  }

  async function reloadConfig(thenResync) {
    const r = await A.loadHall(hall);
    if (r.config) {
      cfg = r.config;
      for (const c of cfg.counters || []) labels[c.id] = c.label;
      drawAll();
    } else if (r.error && r.error.code === 'not_found') {
      $('now-big').replaceChildren(el('div', { class: 'now-empty', text: t('err.hall_not_found') }));
    }
    if (thenResync) feed.reset();
  }

  // which transport the feed uses, small in a corner for a technician
  function onTransport(tr) {
    const tag = $('transport');
    tag.dataset.transport = tr;
    tag.dataset.i18n = 'board.transport.' + tr;
    tag.textContent = t('board.transport.' + tr);
  }

  const feed = new window.Feed(hall, {
    onBoard,
    onEvent,
    onStatus: (s) => A.offlineBanner(s === 'offline'),
    onTransport,
    sse: true,
  });
  dbg.feed = feed;

  window.I18N.onChange(drawAll);
  $('sound-btn').addEventListener('click', async () => {
    await A.unlockAudio();
    soundButton();
    if (window.speechSynthesis) A.speak(' '); // speech also wants a user gesture once
  });
  document.addEventListener('pointerdown', () => { A.unlockAudio().then(soundButton); }, { once: true });
  // a board left open overnight: the page adapts to a resized/rotated screen
  window.addEventListener('resize', paginate);

  drawAll();
  soundButton();
  setInterval(tick, 1000);
  tick();
  reloadConfig(false).then(() => feed.start());
})();
