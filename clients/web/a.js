// a.js — /a/{id}#{secret} (SPEC §11): the citizen's booking: code, service,
// day and time, a QR code of the booking code for the kiosk's scanner,
// cancel while booked, and after check-in the queue number with its link.
// The secret stays in the fragment and goes out only in X-Ticket-Secret.
(function () {
  'use strict';
  const A = window.Antrean;
  const t = (k, v) => window.I18N.t(k, v);
  const el = A.el;
  const id = A.seg(1);
  const secret = location.hash.slice(1);
  const main = document.getElementById('main');
  let appt = null;
  let error = null;
  let asking = false;

  async function load() {
    if (!/^[0-9a-f]{32}$/.test(id) || !/^[0-9a-f]{32}$/.test(secret)) { error = { code: 'bad_link' }; render(); return; }
    const r = await A.api('GET', '/v1/appointments/' + id, { secret });
    appt = r.ok ? r.data : null;
    error = r.ok ? null : r.error;
    render();
  }

  async function cancel() {
    const r = await A.api('DELETE', '/v1/appointments/' + id, { secret });
    asking = false;
    if (!r.ok) error = r.error;
    await load();
  }

  function render() {
    main.replaceChildren();
    if (error) {
      main.append(el('p', { class: 'msg error', id: 'a-error', role: 'alert',
        text: error.code === 'bad_link' || error.code === 'forbidden' ? t('a.badLink') : A.errText(error) }));
      if (!appt) return;
    }
    if (!appt) { main.append(el('p', { class: 'muted', text: t('loading') })); return; }
    document.body.dataset.state = appt.state;
    const card = el('section', { class: 'card' },
      el('p', { text: t('book.code') }),
      el('p', { class: 'big-code', id: 'a-code', text: appt.booking }),
      el('p', { id: 'a-service', text: appt.service }),
      el('p', { id: 'a-when', text: t('a.when', { date: appt.date, slot: appt.slot }) }),
      el('p', { id: 'a-state', class: 'state', text: t('a.state.' + appt.state) }));
    if (appt.state === 'booked') {
      card.append(el('img', { id: 'a-qr', class: 'qr', alt: '', width: 180, height: 180,
        src: '/v1/qr?text=' + encodeURIComponent(appt.booking) }));
      if (!asking) card.append(el('button', { type: 'button', class: 'btn secondary', id: 'a-cancel', onclick: () => { asking = true; render(); }, text: t('a.cancel') }));
      else card.append(el('p', { text: t('a.cancelQ') }),
        el('button', { type: 'button', class: 'btn danger', id: 'a-cancel-yes', onclick: cancel, text: t('a.cancelYes') }),
        el('button', { type: 'button', class: 'btn secondary', onclick: () => { asking = false; render(); }, text: t('t.cancelNo') }));
    }
    if (appt.ticket) {
      card.append(el('p', { id: 'a-ticket', text: t('a.ticket', { code: appt.ticket.code }) }));
      if (appt.ticket_url) card.append(el('a', { class: 'btn primary', id: 'a-ticket-link', href: appt.ticket_url, text: t('a.ticketOpen') }));
    }
    main.append(card);
    window.I18N.apply(main);
  }

  window.I18N.onChange(render);
  load();
})();
