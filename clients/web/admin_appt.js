// admin_appt.js — the admin page's "today's appointments" (SPEC §11): the
// day's bookings per service, from GET /v1/halls/{hall}/appointments with
// the staff token; follows the hall admin.js selects and the stats date.
(function () {
  'use strict';
  const A = window.Antrean;
  const t = (k, v) => window.I18N.t(k, v);
  const el = A.el;
  let hall = '';
  let rows = [];

  async function load() {
    const date = (document.getElementById('stats-date') || {}).value;
    if (!hall || !A.getToken()) return;
    const q = date ? '?date=' + encodeURIComponent(date) : '';
    const r = await A.api('GET', '/v1/halls/' + encodeURIComponent(hall) + '/appointments' + q, { token: A.getToken() });
    rows = r.ok ? r.data : [];
    draw();
  }

  function draw() {
    const box = document.getElementById('bookings');
    if (!box) return;
    if (!rows.length) { box.replaceChildren(el('p', { class: 'muted', id: 'bookings-none', text: t('admin.bookingsNone') })); return; }
    const by = {};
    for (const a of rows) (by[a.service] = by[a.service] || []).push(a);
    box.replaceChildren(...Object.keys(by).sort().map((svc) => el('div', { class: 'bookings-service', dataset: { service: svc } },
      el('h3', { text: svc + ' · ' + by[svc].filter((a) => a.state !== 'cancelled').length }),
      el('table', null, el('tbody', null, by[svc].map((a) => el('tr', { dataset: { booking: a.booking } },
        el('td', { text: a.slot }), el('td', { class: 'mono', text: a.booking }),
        el('td', { text: t('a.state.' + a.state) }),
        el('td', { text: a.ticket ? a.ticket.code : '' }),
        el('td', { text: a.name || a.phone || '' }))))))));
  }

  document.addEventListener('antrean:hall', (e) => { hall = e.detail; load(); });
  document.addEventListener('change', (e) => { if (e.target && e.target.id === 'stats-date') load(); });
  document.addEventListener('click', (e) => { if (e.target && e.target.id === 'stats-reload') load(); });
  window.I18N.onChange(draw);
  try { hall = localStorage.getItem('antrean.admin.hall') || ''; } catch (e) { hall = ''; }
  load();
})();
