// book.js — /book/{hall} (SPEC §11): agency → service → day → slot → booked,
// with the booking code and a QR code to /a/{id}#{secret}. One idempotency
// key per booking, reused on a retry, so a slow network never books twice.
(function () {
  'use strict';
  const A = window.Antrean;
  const t = (k, v) => window.I18N.t(k, v);
  const el = A.el;
  const hall = A.seg(1);
  const main = document.getElementById('main');
  let cfg = null;
  let view = { step: 'loading' };
  let idem = null;

  function go(v) { view = v; render(); main.focus({ preventScroll: true }); }
  const bookable = () => (cfg.services || []).filter((s) => s.appointments);

  // The next days_ahead+1 hall-local days as YYYY-MM-DD.
  function days(svc) {
    const out = [];
    const now = Date.now() + (cfg.utc_offset_min || 0) * 60000;
    for (let i = 0; i <= svc.appointments.days_ahead; i++)
      out.push(new Date(now + i * 86400000).toISOString().slice(0, 10));
    return out;
  }

  function back(to) { return el('button', { type: 'button', class: 'btn secondary', id: 'bk-back', onclick: () => go(to), text: t('book.back') }); }

  function errorBox(err) {
    const msg = err.code === 'bad_request' ? err.message : A.errText(err);
    return el('p', { class: 'msg error', id: 'bk-error', role: 'alert', text: msg });
  }

  async function loadSlots(v) {
    const r = await A.api('GET', `/v1/halls/${encodeURIComponent(hall)}/services/${encodeURIComponent(v.service)}/slots?date=${v.date}`);
    if (view !== v) return;
    go({ ...v, slots: r.ok ? r.data : [], error: r.ok ? null : r.error });
  }

  async function book(v) {
    const body = { service: v.service, date: v.date, slot: v.slot, idem };
    const phone = (document.getElementById('bk-phone') || {}).value;
    if (phone) body.phone = phone.replace(/[\s-]/g, '');
    go({ ...v, step: 'booking' });
    let r;
    for (let i = 0; i < 3; i++) { // a retry carries the same key: one booking
      r = await A.api('POST', `/v1/halls/${encodeURIComponent(hall)}/appointments`, { body });
      if (r.ok || (r.status && r.status < 500)) break;
    }
    if (r.ok) { idem = null; go({ step: 'done', appt: r.data }); } else go({ ...v, step: 'confirm', error: r.error });
  }

  function render() {
    main.replaceChildren();
    if (view.step === 'loading') { main.append(el('p', { class: 'muted', text: t('loading') })); return; }
    if (view.step === 'error') { main.append(errorBox(view.error)); return; }
    const card = el('section', { class: 'card' });
    main.append(card);
    if (view.step === 'agency') {
      const ags = [...new Set(bookable().map((s) => s.agency))];
      if (!ags.length) { card.append(el('p', { id: 'bk-none', text: t('book.none') })); return; }
      if (ags.length === 1) { go({ step: 'service', agency: ags[0], only: true }); return; }
      card.append(el('h2', { text: t('book.pickAgency') }),
        el('div', { class: 'choices' }, ags.map((a) => el('button', { type: 'button', class: 'choice', dataset: { agency: a },
          onclick: () => go({ step: 'service', agency: a }), text: (cfg.agencyById[a] || {}).name || a }))));
    } else if (view.step === 'service') {
      card.append(el('h2', { text: t('book.pickService') }),
        el('div', { class: 'choices' }, bookable().filter((s) => s.agency === view.agency).map((s) =>
          el('button', { type: 'button', class: 'choice', dataset: { service: s.id },
            onclick: () => go({ step: 'day', service: s.id, agency: view.agency }), text: s.name }))),
        view.only ? null : back({ step: 'agency' }));
    } else if (view.step === 'day') {
      const svc = cfg.svc[view.service];
      card.append(el('h2', { text: t('book.pickDay') }),
        el('div', { class: 'choices' }, days(svc).map((d) => el('button', { type: 'button', class: 'choice', dataset: { date: d },
          onclick: () => { const v = { step: 'slot', service: view.service, agency: view.agency, date: d, slots: null }; go(v); loadSlots(v); },
          text: A.fmtDateLong(Date.parse(d + 'T12:00:00Z'), 0) }))),
        back({ step: 'service', agency: view.agency }));
    } else if (view.step === 'slot') {
      card.append(el('h2', { text: t('book.pickSlot') }));
      if (view.error) card.append(errorBox(view.error));
      else if (!view.slots) card.append(el('p', { class: 'muted', text: t('loading') }));
      else if (!view.slots.length) card.append(el('p', { id: 'bk-noslots', text: t('book.noSlots') }));
      else card.append(el('div', { class: 'choices slots' }, view.slots.map((x) => el('button', {
        type: 'button', class: 'choice', dataset: { slot: x.slot }, disabled: x.free === 0,
        onclick: () => { idem = A.uuid(); go({ ...view, step: 'confirm', slot: x.slot }); },
      }, el('strong', { text: x.slot }), ' ', el('span', { class: 'muted', text: x.free ? t('book.free', { n: x.free }) : t('book.full') })))));
      card.append(back({ step: 'day', service: view.service, agency: view.agency }));
    } else if (view.step === 'confirm' || view.step === 'booking') {
      const svc = cfg.svc[view.service];
      card.append(el('h2', { text: svc.name }),
        el('p', { id: 'bk-when', text: t('a.when', { date: view.date, slot: view.slot }) }),
        el('label', { for: 'bk-phone', text: t('book.phone') }),
        el('input', { id: 'bk-phone', type: 'tel', inputmode: 'tel', autocomplete: 'tel', maxlength: 20 }),
        view.error ? errorBox(view.error) : null,
        el('button', { type: 'button', class: 'btn primary', id: 'bk-confirm', disabled: view.step === 'booking',
          onclick: () => book(view), text: t('book.confirm') }),
        back({ step: 'slot', service: view.service, agency: view.agency, date: view.date, slots: null }));
      if (view.error && view.error.code === 'slot_full') idem = A.uuid();
    } else if (view.step === 'done') {
      const a = view.appt;
      const link = location.origin + a.url;
      const svc = cfg.svc[a.service] || { name: a.service };
      const qr = el('img', { id: 'bk-qr', class: 'qr', alt: '', width: 180, height: 180,
        src: '/v1/qr?text=' + encodeURIComponent(link) });
      card.append(el('h2', { text: t('book.done') }),
        el('p', { text: t('book.code') }), el('p', { class: 'big-code', id: 'bk-code', text: a.booking }),
        el('p', { text: svc.name }), el('p', { id: 'bk-when', text: t('a.when', { date: a.date, slot: a.slot }) }),
        qr, el('p', { text: t('book.keep', { early: svc.appointments ? svc.appointments.early_min : 30 }) }),
        el('a', { class: 'btn primary', id: 'bk-link', href: a.url, text: t('book.open') }));
    }
    window.I18N.apply(main);
  }

  window.I18N.onChange(render);
  (async () => {
    const r = await A.loadHall(hall);
    if (r.error) { go({ step: 'error', error: r.error }); return; }
    cfg = r.config;
    document.getElementById('hall-name').textContent = cfg.name;
    go({ step: 'agency' });
  })();
})();
