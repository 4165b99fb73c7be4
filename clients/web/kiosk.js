// kiosk.js — the touch kiosk (/kiosk/{hall}, SPEC §7): agency → service →
// priority question → ticket with code, estimate and a QR code to the
// citizen page. One issue request carries one idempotency key, reused on
// every retry, so a timeout never prints two numbers (SPEC §3).
//
// Query options: ?base=https://host (the address phones should open, when
// the kiosk itself reaches the server by another name), ?print=1 (print
// each ticket; pair with Chromium's --kiosk-printing).
(function () {
  'use strict';
  const A = window.Antrean;
  const t = (k, v) => window.I18N.t(k, v);
  const el = A.el;

  const hall = A.seg(1);
  const params = new URLSearchParams(location.search);
  const publicBase = (params.get('base') || location.origin).replace(/\/+$/, '');
  const autoPrint = params.get('print') === '1';
  const TICKET_SECONDS = 20;
  const IDLE_SECONDS = 60;
  const KIOSK_TOKEN = 'antrean.kiosk.token';

  let cfg = null;
  let view = { step: 'loading' };
  let idleTimer = null;
  let countdown = null;
  let waitFigures = {}; // service id → {waiting, eta_s}
  let states = null; // counter id → state, from the same board
  let busy = false;

  const main = document.getElementById('main');
  const PRIORITIES = ['elderly', 'disabled', 'pregnant', 'child'];

  function kioskToken() {
    try { return localStorage.getItem(KIOSK_TOKEN) || ''; } catch (e) { return ''; }
  }

  function go(v) {
    view = v;
    clearInterval(countdown);
    countdown = null;
    render();
    armIdle();
    main.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }
  function restart() { go(startView()); }
  function startView() {
    const ags = agenciesWithServices();
    return ags.length === 1 ? { step: 'service', agency: ags[0].id, only: true } : { step: 'agency' };
  }

  // Back to the start after a while without a touch (someone walked away).
  function armIdle() {
    clearTimeout(idleTimer);
    idleTimer = null;
    if (view.step === 'agency' || view.step === 'ticket' || view.step === 'issuing' || view.step === 'loading') return;
    idleTimer = setTimeout(restart, IDLE_SECONDS * 1000);
  }
  document.addEventListener('pointerdown', armIdle, { passive: true });
  document.addEventListener('keydown', armIdle);

  function agenciesWithServices() {
    if (!cfg) return [];
    return (cfg.agencies || []).filter((a) => cfg.services.some((s) => s.agency === a.id));
  }

  function heading(key, vars) {
    return el('h2', { id: 'step-title', text: t(key, vars) });
  }
  function nav(back) {
    return el('div', { class: 'kiosk-nav' },
      back ? el('button', { type: 'button', class: 'secondary', id: 'back', onclick: back, text: '← ' + t('kiosk.back') }) : el('span'),
      view.step !== 'agency' && !view.only
        ? el('button', { type: 'button', class: 'secondary', onclick: restart, text: t('kiosk.startOver') }) : el('span'));
  }

  // ---- steps -----------------------------------------------------------------
  function render() {
    document.getElementById('hall-name').textContent = cfg ? cfg.name : hall;
    document.title = t('kiosk.title.doc') + (cfg ? ' — ' + cfg.name : '');
    document.body.dataset.step = view.step;
    clearInterval(countdown);
    countdown = null;
    const f = steps[view.step];
    main.replaceChildren(...f());
  }

  const steps = {
    loading: () => [el('div', { class: 'spinner-wrap', text: t('loading') })],

    fatal: () => [el('div', { class: 'msg error', role: 'alert', text: view.text }),
      el('div', { class: 'kiosk-nav' }, el('button', { type: 'button', onclick: () => location.reload(), text: t('retry') }))],

    agency: () => [
      apptButton(),
      heading('kiosk.pickAgency'),
      el('div', { class: 'choices', role: 'group', 'aria-labelledby': 'step-title' }, agenciesWithServices().map((a) => {
        const n = cfg.services.filter((s) => s.agency === a.id).length;
        return el('button', { type: 'button', class: 'choice', dataset: { agency: a.id },
          onclick: () => go({ step: 'service', agency: a.id }) },
        el('span', { class: 'title', text: a.name }),
        el('span', { class: 'meta', text: t('kiosk.nServices', { n }) }));
      })),
    ],

    service: () => {
      refreshWait();
      const ag = cfg.agencyById[view.agency];
      return [
        view.only ? apptButton() : null,
        heading('kiosk.pickService', { agency: ag ? ag.name : '' }),
        el('div', { class: 'choices', role: 'group', 'aria-labelledby': 'step-title' }, cfg.services.filter((s) => s.agency === view.agency).map((s) => {
          const w = waitFigures[s.id];
          return el('button', { type: 'button', class: 'choice', dataset: { service: s.id },
            onclick: () => go({ step: 'priority', agency: view.agency, service: s.id, only: view.only }) },
          el('span', { class: 'title' }, el('span', { class: 'prefix', text: s.prefix }), s.name),
          el('span', { class: 'meta', 'data-wait': s.id, text: w ? waitLine(w) : '' }));
        })),
        nav(view.only ? null : () => go({ step: 'agency' })),
      ];
    },

    priority: () => [
      heading('kiosk.priorityQ'),
      el('p', { class: 'muted', style: 'text-align:center;font-size:1.05em', text: t('kiosk.priorityHint') }),
      el('div', { class: 'choices', role: 'group', 'aria-labelledby': 'step-title' },
        PRIORITIES.map((p) => el('button', { type: 'button', class: 'choice', dataset: { priority: p },
          onclick: () => take(p) },
        el('span', { class: 'title', text: t('prio.' + p) }))),
        el('button', { type: 'button', class: 'choice none', dataset: { priority: 'none' }, onclick: () => take(null) },
          el('span', { class: 'title', text: t('prio.none') }),
          el('span', { class: 'meta', text: t('prio.noneHint') }))),
      nav(() => go({ step: 'service', agency: view.agency, only: view.only })),
    ],

    // "Saya punya janji": type or scan the booking code (a scanner types it and Enter)
    appt: () => {
      const inp = el('input', { type: 'text', id: 'appt-code', autocomplete: 'off', autocapitalize: 'characters',
        maxlength: 16, class: 'big-code', 'aria-labelledby': 'step-title' });
      setTimeout(() => inp.focus(), 0);
      return [
        heading('kiosk.codePrompt'),
        el('form', { class: 'card', onsubmit: (e) => { e.preventDefault(); if (inp.value.trim()) checkin(inp.value.trim()); } },
          inp, el('button', { type: 'submit', id: 'appt-checkin', text: t('kiosk.checkin') })),
        nav(restart),
      ];
    },

    issuing: () => [el('div', { class: 'spinner-wrap', role: 'status' },
      el('div', { text: view.retrying ? t('kiosk.retrying') : t('kiosk.issuing') }))],

    ticket: () => {
      const tk = view.ticket;
      const svc = cfg.svc[tk.service] || { name: tk.service };
      const ag = cfg.agencyById[svc.agency];
      const qr = el('div', { class: 'qr', id: 'qr', 'aria-hidden': 'true' });
      loadQr(qr, publicBase + tk.url);
      const left = el('p', { class: 'countdown', id: 'countdown', 'aria-live': 'off' });
      let n = TICKET_SECONDS;
      const upd = () => { left.textContent = t('kiosk.backIn', { n }); };
      upd();
      countdown = setInterval(() => { n--; if (n <= 0) restart(); else upd(); }, 1000);
      if (autoPrint && !view.printed) {
        view.printed = true;
        setTimeout(() => window.print(), 300);
      }
      return [
        el('div', { class: 'ticket', id: 'ticket', role: 'region', 'aria-label': t('kiosk.yourNumber') },
          el('div', { class: 'hall', text: cfg.name }),
          el('div', { class: 'label', text: t('kiosk.yourNumber') }),
          el('div', { class: 'code', id: 'ticket-code', text: tk.code }),
          el('div', { class: 'svc', text: svc.name }),
          ag ? el('div', { class: 'small', text: ag.name }) : null,
          tk.priority ? el('div', null, el('span', { class: 'badge prio', text: t('prio.badge') })) : null,
          tk.appointment ? el('div', { class: 'small', id: 'ticket-appt' }, el('span', { class: 'appt-badge', text: t('appt.badge') }), ' ', t('kiosk.apptTicket')) : null,
          tk.late ? el('div', { class: 'small', id: 'ticket-late', text: t('kiosk.lateTicket') }) : null,
          A.serviceStaffed(cfg, states, tk.service) === false
            ? el('div', { class: 'est', text: t('kiosk.notOpenYet') })
            : el('div', { class: 'est' },
              el('div', { text: t('kiosk.ahead', { n: tk.position }) }),
              el('div', null, t('kiosk.estimate') + ' ', el('strong', { text: A.fmtWait(tk.eta_s, tk.position) }))),
          qr,
          el('div', { class: 'small', text: t('kiosk.scan') }),
          el('div', { class: 'small muted', text: A.fmtDay(tk.issued_at, cfg.utc_offset_min) + ' ' +
            A.fmtClock(tk.issued_at, cfg.utc_offset_min, false) })),
        left,
        el('div', { class: 'kiosk-nav no-print' },
          el('button', { type: 'button', class: 'secondary', onclick: () => window.print(), text: t('kiosk.print') }),
          el('button', { type: 'button', id: 'done', onclick: restart, text: t('kiosk.done') })),
      ];
    },

    error: () => {
      let n = TICKET_SECONDS;
      const left = el('p', { class: 'countdown' });
      const upd = () => { left.textContent = t('kiosk.backIn', { n }); };
      upd();
      countdown = setInterval(() => { n--; if (n <= 0) restart(); else upd(); }, 1000);
      return [
        el('div', { class: 'msg error', role: 'alert', id: 'error', text: view.text }),
        left,
        el('div', { class: 'kiosk-nav', style: 'justify-content:center' },
          el('button', { type: 'button', onclick: restart, text: t('kiosk.startOver') })),
      ];
    },

    token: () => {
      const inp = el('input', { type: 'password', id: 'kiosk-token', autocomplete: 'off', 'aria-describedby': 'tk-help' });
      return [
        heading('kiosk.needToken'),
        el('p', { id: 'tk-help', class: 'muted', text: t('kiosk.needTokenHelp') }),
        el('form', { class: 'card', onsubmit: (e) => {
          e.preventDefault();
          try { localStorage.setItem(KIOSK_TOKEN, inp.value.trim()); } catch (x) { /* ignore */ }
          restart();
        } },
        el('div', { class: 'field' }, el('label', { for: 'kiosk-token', text: t('token') }), inp),
        el('button', { type: 'submit', text: t('save') })),
      ];
    },
  };

  function waitLine(w) {
    const closed = A.serviceStaffed(cfg, states, w.id) === false;
    return t('kiosk.waitLine', { n: w.waiting, eta: closed ? t('board.closed') : A.fmtWait(w.eta_s, w.waiting) });
  }

  // Waiting figures shown on the service buttons (best effort).
  async function refreshWait() {
    const r = await A.api('GET', '/v1/halls/' + encodeURIComponent(hall) + '/board', { timeoutMs: 4000 });
    if (!r.ok || !r.data) return;
    waitFigures = {};
    for (const s of r.data.services || []) waitFigures[s.id] = s;
    states = A.counterStates(r.data);
    for (const m of main.querySelectorAll('[data-wait]')) {
      const w = waitFigures[m.dataset.wait];
      if (w) m.textContent = waitLine(w);
    }
  }

  async function loadQr(box, text) {
    const r = await fetch('/v1/qr?text=' + encodeURIComponent(text), { cache: 'no-store' })
      .then((res) => (res.ok ? res.text() : null)).catch(() => null);
    if (!box.isConnected) return;
    if (r) {
      const doc = new DOMParser().parseFromString(r, 'image/svg+xml');
      const svg = doc.documentElement;
      if (svg && svg.nodeName === 'svg' && !doc.querySelector('parsererror, script')) {
        box.replaceChildren(document.importNode(svg, true));
        return;
      }
    }
    // no QR available: print the link instead
    box.style.height = 'auto';
    box.replaceChildren(el('div', { class: 'small mono', text: text }));
  }

  function apptButton() {
    if (!cfg || !cfg.services.some((s) => s.appointments)) return null;
    return el('button', { type: 'button', class: 'choice none', id: 'have-appt', onclick: () => go({ step: 'appt' }) },
      el('span', { class: 'title', text: t('kiosk.haveAppt') }),
      el('span', { class: 'meta', text: t('kiosk.haveApptHint') }));
  }

  // Check in with a booking code (SPEC §11): one idem key, reused on a retry.
  async function checkin(code) {
    if (busy) return;
    busy = true;
    const body = { booking: code, channel: 'kiosk', idem: A.uuid() };
    go({ step: 'issuing' });
    let r;
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        r = await A.api('POST', '/v1/halls/' + encodeURIComponent(hall) + '/checkin',
          { body, token: kioskToken() || undefined, timeoutMs: 8000 });
        const c = r.error && r.error.code;
        if (r.ok || !(c === 'timeout' || c === 'network' || c === 'overloaded' || c === 'internal')) break;
        await new Promise((res) => setTimeout(res, 800 * Math.pow(2, attempt)));
      }
    } finally {
      busy = false;
    }
    if (r.ok) { go({ step: 'ticket', ticket: r.data }); return; }
    const c = r.error.code;
    if (c === 'unauthorized') { go({ step: 'token' }); return; }
    // the server's message says which (not found, too early until HH:MM, already checked in)
    const friendly = c === 'too_early' ? t('err.too_early.checkin') : A.errText(r.error);
    go({ step: 'error', text: friendly + (r.error.message ? ' (' + r.error.message + ')' : '') });
  }

  // ---- issuing ---------------------------------------------------------------------
  async function take(priority) {
    if (busy) return;
    busy = true;
    const service = view.service;
    const body = { service, channel: 'kiosk', idem: A.uuid() };
    if (priority) body.priority = priority;
    go({ step: 'issuing', service });
    let r;
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        r = await A.api('POST', '/v1/halls/' + encodeURIComponent(hall) + '/tickets',
          { body, token: kioskToken() || undefined, timeoutMs: 8000 });
        const c = r.error && r.error.code;
        const transient = !r.ok && (c === 'timeout' || c === 'network' || c === 'overloaded' ||
          c === 'unavailable' || c === 'internal');
        if (!transient) break;
        // same key again: the server answers with the same ticket if it got the first one
        view.retrying = true;
        render();
        const wait = Math.min(5000, r.retryAfter ? r.retryAfter * 1000 : 800 * Math.pow(2, attempt));
        await new Promise((res) => setTimeout(res, wait));
      }
    } finally {
      busy = false;
    }
    if (r.ok) {
      go({ step: 'ticket', ticket: r.data });
      return;
    }
    const code = r.error.code;
    if (code === 'unauthorized' || (code === 'forbidden' && !kioskToken())) {
      go({ step: 'token' });
      return;
    }
    go({ step: 'error', text: A.errText(r.error) });
  }

  async function init() {
    render();
    const r = await A.loadHall(hall);
    if (!r.config) {
      go({ step: 'fatal', text: r.error && r.error.code === 'not_found' ? t('err.hall_not_found') : A.errText(r.error) });
      return;
    }
    cfg = r.config;
    restart();
  }

  window.I18N.onChange(render);
  init();
})();
