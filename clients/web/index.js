// index.js — the landing page: each hall with links to its board, kiosk and
// counters (the demo hall when the server runs with --demo).
(function () {
  'use strict';
  const A = window.Antrean;
  const t = (k, v) => window.I18N.t(k, v);
  const el = A.el;
  let halls = null;
  const configs = {};

  function draw() {
    const box = document.getElementById('halls');
    if (!halls) return;
    if (!halls.length) { box.replaceChildren(el('p', { class: 'muted', text: t('index.none') })); return; }
    box.replaceChildren(...halls.map((h) => {
      const enc = encodeURIComponent(h.id);
      const cfg = configs[h.id];
      const sel = el('select', { id: 'ctr-' + h.id, 'aria-label': t('index.pickCounter') },
        (cfg ? cfg.counters : []).map((c) => el('option', { value: c.id, text: c.label })));
      return el('section', { class: 'card', dataset: { hall: h.id } },
        el('h2', { text: h.name }),
        el('div', { class: 'links' },
          el('a', { class: 'btn', href: '/board/' + enc, text: t('nav.board') }),
          el('a', { class: 'btn', href: '/kiosk/' + enc, text: t('nav.kiosk') })),
        el('form', { class: 'row', style: 'margin-top:.8rem', onsubmit: (e) => {
          e.preventDefault();
          location.href = '/counter/' + enc + '/' + encodeURIComponent(sel.value);
        } },
        el('label', { for: 'ctr-' + h.id, text: t('nav.counter') }), sel,
        el('button', { type: 'submit', class: 'secondary', text: t('index.openCounter') })));
    }));
  }

  async function init() {
    const r = await A.api('GET', '/v1/halls');
    halls = r.ok ? r.data : [];
    if (!r.ok) document.getElementById('halls').replaceChildren(el('p', { class: 'msg error', text: A.errText(r.error) }));
    draw();
    await Promise.all(halls.slice(0, 20).map(async (h) => {
      const c = await A.loadHall(h.id);
      if (c.config) configs[h.id] = c.config;
    }));
    draw();
  }
  window.I18N.onChange(draw);
  init();
})();
