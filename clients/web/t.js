// t.js — the citizen's page for one ticket (/t/{id}#{secret}, SPEC §7).
//
// The secret lives in the URL fragment, which browsers never send: it goes
// to the server only in the X-Ticket-Secret header (GET, DELETE, feedback).
// The ticket is polled every few seconds and, in between, the hall's public
// feed tells us the moment our code is called (public events carry codes,
// never ids or secrets). One poll timer, one feed: nothing accumulates.
(function () {
  'use strict';
  const A = window.Antrean;
  const t = (k, v) => window.I18N.t(k, v);
  const el = A.el;

  const id = A.seg(1);
  let secret = '';
  try { secret = decodeURIComponent(location.hash.replace(/^#/, '')); } catch (e) { secret = ''; }

  let tk = null; // last GET /v1/tickets/{id}
  let cfg = null;
  let hallId = null;
  let feed = null;
  let pollTimer = null;
  let lastPoll = 0;
  let failures = 0;
  let fatal = '';
  let confirming = false;
  let score = 0;
  let feedbackMsg = null; // {kind, text}
  let lastAlertSeq = -1;
  let states = null; // counter id → state (from the feed's board)
  const ratedKey = 'antrean.rated.' + id;
  let rated = false;
  try { rated = localStorage.getItem(ratedKey) === '1'; } catch (e) { rated = false; }

  const card = document.getElementById('ticket-card');
  const extra = document.getElementById('extra');
  const alertSlot = document.getElementById('alert-slot');

  const TERMINAL = { done: 1, cancelled: 1, expired: 1 };

  function labelOf(counter, fallback) {
    return (cfg && cfg.ctr[counter] && cfg.ctr[counter].label) || fallback || counter || '';
  }
  function serviceName(sid) {
    return (cfg && cfg.svc[sid] && cfg.svc[sid].name) || sid;
  }

  // ---- polling -----------------------------------------------------------------
  function schedule(ms) {
    clearTimeout(pollTimer);
    pollTimer = setTimeout(poll, Math.max(0, ms));
  }
  // Soon, but not more than one request every 2 s whatever the feed says.
  function pollSoon() {
    if (tk && TERMINAL[tk.state]) return;
    schedule(Math.max(250, lastPoll + 2000 - Date.now()));
  }
  function nextDelay() {
    if (!tk) return 10000;
    if (document.visibilityState === 'hidden') return 20000;
    if (tk.state === 'waiting') return 7000;
    if (tk.state === 'called' || tk.state === 'serving') return 5000;
    return 30000; // no_show: may be reinstated by staff
  }

  async function poll() {
    clearTimeout(pollTimer);
    pollTimer = null;
    lastPoll = Date.now();
    const r = await A.api('GET', '/v1/tickets/' + encodeURIComponent(id), { secret, timeoutMs: 8000 });
    if (r.ok) {
      failures = 0;
      const prev = tk;
      tk = r.data;
      if (tk.state === 'called' && (!prev || prev.state !== 'called')) notify();
      if (!hallId) await findHall();
      render();
      if (!TERMINAL[tk.state]) schedule(nextDelay());
      else if (feed) { feed.stop(); feed = null; A.offlineBanner(false); }
      return;
    }
    const c = r.error.code;
    if (c === 'not_found' || c === 'forbidden' || c === 'bad_request') {
      fatal = c === 'forbidden' ? 't.badSecret' : 't.notFound';
      if (feed) { feed.stop(); feed = null; }
      render();
      return;
    }
    failures++;
    render();
    schedule(Math.min(30000, 5000 * failures));
  }

  // The ticket does not name its hall: a single-hall server is the usual
  // case; otherwise the hall whose service and prefix match the ticket.
  async function findHall() {
    let cand = tk.hall || null;
    if (!cand) {
      const r = await A.api('GET', '/v1/halls', { timeoutMs: 6000 });
      if (!r.ok || !Array.isArray(r.data)) return;
      if (r.data.length === 1) cand = r.data[0].id;
      else {
        const prefix = String(tk.code).replace(/\d+$/, '');
        for (const h of r.data.slice(0, 20)) {
          const c = await A.loadHall(h.id);
          if (c.config && c.config.svc[tk.service] && c.config.svc[tk.service].prefix === prefix) {
            cand = h.id;
            cfg = c.config;
            break;
          }
        }
      }
    }
    if (!cand) return;
    hallId = cand;
    if (!cfg) {
      const c = await A.loadHall(hallId);
      if (c.config) cfg = c.config;
    }
    if (!TERMINAL[tk.state]) {
      feed = new window.Feed(hallId, {
        onEvent,
        onBoard: (board) => { states = A.counterStates(board); render(); pollSoon(); },
        onStatus: (s) => A.offlineBanner(s === 'offline'),
      });
      feed.start();
    }
  }

  function onEvent(ev, info) {
    if (!tk) return;
    if (ev.code === tk.code && ev.ev.startsWith('ticket.')) {
      if ((ev.ev === 'ticket.called' || ev.ev === 'ticket.recalled') && !info.replay) {
        tk.state = 'called';
        tk.counter = ev.counter;
        tk.label = labelOf(ev.counter, tk.label);
        if (ev.seq !== lastAlertSeq) {
          lastAlertSeq = ev.seq;
          notify();
        }
        render();
      }
      pollSoon();
    } else if (ev.ev === 'service.wait' && tk.state === 'waiting' &&
               (ev.services || []).some((s) => s.id === tk.service)) {
      pollSoon();
    } else if (ev.ev === 'counter.state') {
      if (states) states[ev.counter] = ev.state;
      if (tk.state === 'waiting') pollSoon();
    } else if (ev.ev === 'day.rollover' || ev.ev === 'hall.config') {
      pollSoon();
    }
  }

  // Called: vibrate and chime where the device allows it.
  function notify() {
    try { if (navigator.vibrate) navigator.vibrate([400, 200, 400, 200, 400]); } catch (e) { /* not allowed */ }
    A.chime();
  }

  // ---- actions -------------------------------------------------------------------------
  async function cancel() {
    const b = document.getElementById('cancel-yes');
    if (b) b.disabled = true;
    const r = await A.api('DELETE', '/v1/tickets/' + encodeURIComponent(id), { secret });
    confirming = false;
    if (r.ok) {
      tk.state = 'cancelled';
      feedbackMsg = null;
    } else {
      feedbackMsg = { kind: 'error', text: A.errText(r.error) };
    }
    render();
    poll();
  }

  async function sendRating(comment) {
    if (!score) return;
    const body = { score };
    if (comment) body.comment = comment;
    const r = await A.api('POST', '/v1/tickets/' + encodeURIComponent(id) + '/feedback', { secret, body });
    if (r.ok || (r.error && r.error.code === 'invalid_state' && tk.state === 'done')) {
      rated = true;
      try { localStorage.setItem(ratedKey, '1'); } catch (e) { /* ignore */ }
      feedbackMsg = { kind: 'ok', text: r.ok ? t('t.thanksRating') : t('t.alreadyRated') };
    } else {
      feedbackMsg = { kind: 'error', text: A.errText(r.error) };
    }
    render();
  }

  // ---- drawing ------------------------------------------------------------------------
  function render() {
    const hallName = cfg ? cfg.name : '';
    document.getElementById('hall-name').textContent = hallName || t('t.title');
    if (fatal) {
      alertSlot.replaceChildren();
      card.replaceChildren(el('div', { class: 'msg error', role: 'alert', id: 't-error', text: t(fatal) }));
      extra.replaceChildren();
      document.title = t('t.title');
      return;
    }
    if (!tk) {
      card.replaceChildren(el('p', { class: 'muted', text: failures ? t('t.offline') : t('loading') }));
      return;
    }
    const label = labelOf(tk.counter, tk.label);
    document.body.dataset.state = tk.state;
    document.title = (tk.state === 'called' ? '(!) ' + t('t.calledTo', { label }) : tk.code) + ' — ' + t('t.title');

    // the call itself, loud and on top
    if (tk.state === 'called') {
      alertSlot.replaceChildren(el('div', { class: 'called-alert', role: 'alert', id: 'called-alert' },
        el('div', { text: t('t.calledTo', { label }) }),
        el('div', { style: 'font-size:1rem;font-weight:600;margin-top:.3rem', text: t('t.goNow') })));
    } else {
      alertSlot.replaceChildren();
    }

    const kids = [
      el('div', { class: 'tk-code', id: 'tk-code', text: tk.code }),
      el('div', { class: 'tk-service', text: serviceName(tk.service) }),
      el('div', { class: 'tk-state' }, el('span', { class: 'badge ' + tk.state, id: 'tk-state', text: t('state.' + tk.state) })),
    ];
    if (tk.state === 'waiting' && A.serviceStaffed(cfg, states, tk.service) === false) {
      kids.push(el('div', { class: 'msg warn', id: 'tk-not-open', text: t('t.notOpenYet') }));
      kids.push(el('p', { class: 'muted', style: 'text-align:center', text: t('t.keepOpen') }));
    } else if (tk.state === 'waiting') {
      const at = Date.now() + (tk.eta_s || 0) * 1000;
      kids.push(el('div', { class: 'tk-figures' },
        el('div', { class: 'fig' },
          el('div', { class: 'v', id: 'tk-position', text: String(tk.position) }),
          el('div', { class: 'k', text: t('t.ahead') })),
        el('div', { class: 'fig' },
          el('div', { class: 'v', id: 'tk-eta', text: A.fmtWait(tk.eta_s, tk.position) }),
          el('div', { class: 'k', text: tk.eta_s > 0 && cfg
            ? t('t.aroundTime', { time: A.fmtClock(at, cfg.utc_offset_min, false) }) : t('t.estimate') }))));
      kids.push(el('p', { class: 'muted', style: 'text-align:center', text: t('t.keepOpen') }));
    } else {
      const why = {
        called: t('t.explain.called', { label }),
        serving: t('t.explain.serving', { label }),
        done: t('t.explain.done'),
        no_show: t('t.explain.no_show'),
        cancelled: t('t.explain.cancelled'),
        expired: t('t.explain.expired'),
      }[tk.state];
      if (why) kids.push(el('p', { class: 'explain', id: 'tk-explain', style: 'text-align:center;font-size:1.1rem', text: why }));
    }
    if (failures) kids.push(el('div', { class: 'msg warn', text: t('t.offline') }));
    card.replaceChildren(...kids);

    // below the card: cancel, sound, rating
    const more = [];
    if (feedbackMsg) more.push(el('div', { class: 'msg ' + feedbackMsg.kind, role: 'status', id: 't-msg', text: feedbackMsg.text }));
    if (tk.state === 'waiting') {
      if (A.audioBlocked() && (window.AudioContext || window.webkitAudioContext)) {
        more.push(el('p', { style: 'text-align:center' }, el('button', { type: 'button', class: 'secondary', id: 'sound-on',
          onclick: async () => { await A.unlockAudio(); render(); }, text: t('t.soundOn') })));
      }
      if (!confirming) {
        more.push(el('p', { style: 'text-align:center' }, el('button', { type: 'button', class: 'secondary', id: 'cancel',
          onclick: () => { confirming = true; render(); document.getElementById('cancel-no').focus(); }, text: t('t.cancel') })));
      } else {
        more.push(el('div', { class: 'card', role: 'group', 'aria-labelledby': 'cq' },
          el('p', { id: 'cq', style: 'font-weight:700', text: t('t.cancelQ', { code: tk.code }) }),
          el('div', { class: 'row' },
            el('button', { type: 'button', class: 'danger', id: 'cancel-yes', onclick: cancel, text: t('t.cancelYes') }),
            el('button', { type: 'button', class: 'secondary', id: 'cancel-no',
              onclick: () => { confirming = false; render(); }, text: t('t.cancelNo') }))));
      }
    }
    if (tk.state === 'done' && !rated) more.push(ratingForm());
    extra.replaceChildren(...more);
    document.getElementById('updated').textContent = lastPoll ? t('t.updated', { time: A.fmtClock(lastPoll, cfg ? cfg.utc_offset_min : -new Date().getTimezoneOffset(), true) }) : '';
  }

  // A simple face per score, drawn (no emoji font needed): the mouth bends up with the score.
  function face(n) {
    const NS = 'http://www.w3.org/2000/svg';
    const mk = (tag, attrs) => { const e = document.createElementNS(NS, tag); for (const k in attrs) e.setAttribute(k, attrs[k]); return e; };
    const curve = [-7, -3, 4, 8][n - 1];
    const s = mk('svg', { viewBox: '0 0 40 40', width: '40', height: '40', 'aria-hidden': 'true', class: 'face' });
    s.append(mk('circle', { cx: 20, cy: 20, r: 18, fill: ['#f4c7c3', '#fbe3b4', '#d8edc0', '#b9e4c9'][n - 1], stroke: '#15202b', 'stroke-width': 2 }));
    s.append(mk('circle', { cx: 14, cy: 16, r: 2.2, fill: '#15202b' }));
    s.append(mk('circle', { cx: 26, cy: 16, r: 2.2, fill: '#15202b' }));
    s.append(mk('path', { d: `M12 ${27 - curve / 2} Q20 ${27 + curve} 28 ${27 - curve / 2}`, fill: 'none', stroke: '#15202b', 'stroke-width': 2.5, 'stroke-linecap': 'round' }));
    return s;
  }

  function ratingForm() {
    const comment = el('textarea', { id: 'rating-comment', rows: '2', maxlength: '500', style: 'width:100%' });
    return el('section', { class: 'card', id: 'rating', 'aria-labelledby': 'rating-title' },
      el('h2', { id: 'rating-title', text: t('t.rateTitle') }),
      el('p', { class: 'muted', text: t('t.rateHelp') }),
      el('div', { class: 'rating', role: 'group', 'aria-labelledby': 'rating-title' },
        [1, 2, 3, 4].map((n) => el('button', { type: 'button', 'aria-pressed': String(score === n), 'aria-label': n + ' — ' + t('skm.' + n), dataset: { score: String(n) },
          onclick: () => { score = n; const c = comment.value; render(); const nc = document.getElementById('rating-comment'); if (nc) nc.value = c;
            const pb = document.querySelector('[data-score="' + n + '"]'); if (pb) pb.focus(); } },
        face(n),
        el('span', { class: 'w', text: t('skm.' + n) })))),
      el('div', { class: 'field' }, el('label', { for: 'rating-comment', text: t('t.comment') }), comment),
      el('button', { type: 'button', id: 'rating-send', disabled: !score, onclick: () => sendRating(comment.value.trim()), text: t('t.send') }));
  }

  window.I18N.onChange(render);
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') pollSoon(); });

  if (!id || !secret) {
    fatal = 't.noSecret';
    render();
    return;
  }
  poll();
})();
