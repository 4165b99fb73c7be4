// feed.js — a hall's public live feed (SPEC §5) that survives anything the
// network does, for pages that stay open for days.
//
//   const f = new Feed('mpp-demo', {
//     onBoard(board, info) {…}   // full state: first subscribe, or info.resync
//     onEvent(ev, info) {…}      // every later event, in seq order, once;
//                                // info.replay: missed while away (resume)
//     onStatus(s) {…}            // 'connecting' | 'online' | 'offline'
//     onTransport(t) {…}         // 'websocket' | 'sse'
//     sse: true,                 // fall back to Server-Sent Events (§13)
//   });
//   f.start(); … f.stop();
//
// It keeps the last seq it saw and resubscribes with `since` after a drop,
// so a board misses nothing; when the server cannot resume (history gone,
// or a restarted server with another history) the reply carries a board and
// resync:true, and the page redraws from it. Reconnects back off
// exponentially with jitter, capped. It owns exactly one socket and at most
// one retry timer and one watchdog interval at any time: nothing piles up.
//
// With `sse: true`, a WebSocket that fails twice in a row before it could
// subscribe (a proxy that breaks the upgrade, typically) makes the feed
// switch to an EventSource on /v1/halls/{hall}/events, resuming from the
// same seq; it stays on SSE until the page reloads. EventSource reconnects by
// itself with Last-Event-ID. An SSE resume has no reply that names the seq
// it started from, so an event is treated as a replay (shown, not
// announced) when it is older than REPLAY_AGE_MS.
(function () {
  'use strict';

  // the public event types the pages follow over SSE (EventSource
  // dispatches by name; a type not listed is simply not seen)
  const SSE_TYPES = ['ticket.issued', 'ticket.called', 'ticket.recalled', 'ticket.serving',
    'ticket.done', 'ticket.no_show', 'ticket.reinstated', 'ticket.transferred',
    'ticket.cancelled', 'ticket.feedback', 'counter.state', 'service.wait', 'hall.config',
    'day.rollover'];
  const REPLAY_AGE_MS = 15000;

  class Feed {
    constructor(hall, opts) {
      this.hall = hall;
      this.o = opts || {};
      this.minMs = this.o.minBackoffMs || 500;
      this.maxMs = this.o.maxBackoffMs || 10000;
      this.pingMs = this.o.pingMs || 25000;
      this.silentMs = this.o.silentMs || 65000; // server pings every 30 s
      this.seq = null;
      this.ws = null;
      this.subscribed = false;
      this.retry = null;
      this.watch = null;
      this.attempt = 0;
      this.rid = 0;
      this.subRid = 0;
      this.lastIn = 0;
      this.lastPing = 0;
      this.liveFrom = 0;
      this.status = '';
      this.stopped = true;
      this.resumes = 0; // subscribes answered without a board (gapless resume)
      this.resyncs = 0;
      this.transport = 'websocket';
      this.wsFails = 0; // WebSockets in a row that closed before subscribing
      this.es = null;
      this._kick = () => { if (!this.stopped && !this.ws && !this.es) this._connect(); };
      this._vis = () => { if (document.visibilityState === 'visible') this._kick(); };
    }

    start() {
      if (!this.stopped) return this;
      this.stopped = false;
      window.addEventListener('online', this._kick);
      document.addEventListener('visibilitychange', this._vis);
      this.watch = setInterval(() => this._watchdog(), 5000);
      this._connect();
      return this;
    }

    stop() {
      this.stopped = true;
      window.removeEventListener('online', this._kick);
      document.removeEventListener('visibilitychange', this._vis);
      clearInterval(this.watch);
      this.watch = null;
      clearTimeout(this.retry);
      this.retry = null;
      this._drop(false);
    }

    // Redraw from scratch on the next connect (e.g. after a day rollover).
    reset() {
      this.seq = null;
      this._drop(false);
      if (!this.stopped) this._connect(); // at once, and without the offline banner
    }

    _status(s) {
      if (this.status === s) return;
      this.status = s;
      if (this.o.onStatus) this.o.onStatus(s);
    }

    _transport(t) {
      if (this.transport === t) return;
      this.transport = t;
      if (this.o.onTransport) this.o.onTransport(t);
    }

    _connect() {
      clearTimeout(this.retry);
      this.retry = null;
      if (this.stopped || this.ws || this.es) return;
      if (this.status !== 'offline') this._status('connecting');
      if (this.transport === 'sse') {
        this._connectSse();
        return;
      }
      const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/v1/ws';
      let ws;
      try {
        ws = new WebSocket(url, 'antrean.v1.json');
      } catch (e) {
        this._schedule();
        return;
      }
      this.ws = ws;
      this.subscribed = false;
      this.lastIn = Date.now();
      ws.onopen = () => {
        if (ws !== this.ws) return;
        this.subRid = ++this.rid;
        const m = { op: 'subscribe', rid: this.subRid, hall: this.hall };
        if (this.seq !== null) m.since = this.seq;
        ws.send(JSON.stringify(m));
      };
      ws.onmessage = (e) => this._message(ws, e.data);
      ws.onclose = () => this._closed(ws);
      ws.onerror = () => { /* a close follows */ };
    }

    _message(ws, data) {
      if (ws !== this.ws) return;
      this.lastIn = Date.now();
      if (typeof data !== 'string') return;
      let m;
      try { m = JSON.parse(data); } catch (e) { return; }
      if (!m || typeof m !== 'object') return;
      if (m.ev) {
        if (!this.subscribed || m.hall !== this.hall) return;
        if (this.seq !== null && m.seq <= this.seq) return; // already seen
        if (this.seq !== null && m.seq !== this.seq + 1) {
          // a gap should never happen; resubscribing with since fills it
          this._drop(true);
          return;
        }
        this.seq = m.seq;
        // events up to the seq the subscribe reply named are a replay of
        // what happened while this page was away: shown, not announced
        if (this.o.onEvent) this.o.onEvent(m, { replay: m.seq <= this.liveFrom });
        return;
      }
      if (m.rid !== this.subRid) return; // ping replies and the like
      if (!m.ok) {
        if (this.o.onError) this.o.onError(m.error || {});
        this.attempt = Math.max(this.attempt, 4); // e.g. unknown hall: retry slowly
        this._drop(true);
        return;
      }
      const r = m.result || {};
      this.subscribed = true;
      this.liveFrom = typeof r.seq === 'number' ? r.seq : 0;
      this.attempt = 0;
      if (r.board) {
        if (r.resync) this.resyncs++;
        this.seq = typeof r.seq === 'number' ? r.seq : r.board.seq;
        if (this.o.onBoard) this.o.onBoard(r.board, { resync: !!r.resync });
      } else {
        this.resumes++;
      }
      this._status('online');
    }

    _closed(ws) {
      if (ws !== this.ws) return;
      this._wsFailed();
      this.ws = null;
      this.subscribed = false;
      if (this.stopped) return;
      this._status('offline');
      this._schedule();
    }

    // Close the current socket (if any); reconnect when `again`.
    _drop(again) {
      const ws = this.ws;
      if (ws && again) this._wsFailed();
      this.ws = null;
      this.subscribed = false;
      if (ws) {
        ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
        try { ws.close(); } catch (e) { /* already closed */ }
      }
      const es = this.es;
      this.es = null;
      if (es) {
        es.onopen = es.onerror = null;
        try { es.close(); } catch (e) { /* already closed */ }
      }
      if (again && !this.stopped) {
        this._status('offline');
        this._schedule();
      }
    }

    // A WebSocket ended: one that never subscribed counts toward the fallback.
    _wsFailed() {
      if (this.subscribed) {
        this.wsFails = 0;
        return;
      }
      this.wsFails++;
      if (this.o.sse && this.wsFails >= 2 && typeof EventSource === 'function') {
        this._transport('sse');
        this.attempt = 0;
      }
    }

    _connectSse() {
      let url = '/v1/halls/' + encodeURIComponent(this.hall) + '/events';
      if (this.seq !== null) url += '?since=' + this.seq;
      let es;
      try {
        es = new EventSource(url);
      } catch (e) {
        this._schedule();
        return;
      }
      this.es = es;
      this.subscribed = false;
      this.lastIn = Date.now();
      es.onopen = () => {
        if (es !== this.es) return;
        // a board follows at once unless this resumes within the history
        if (this.seq !== null) this.resumes++;
        this.subscribed = true;
        this.attempt = 0;
        this._status('online');
      };
      es.onerror = () => {
        if (es !== this.es) return;
        this._status('offline');
        if (es.readyState === 2) { // closed for good (an HTTP error): retry ourselves
          this.es = null;
          this._schedule();
        } // else the browser reconnects with Last-Event-ID by itself
      };
      es.addEventListener('board', (e) => {
        if (es !== this.es) return;
        let b;
        try { b = JSON.parse(e.data); } catch (x) { return; }
        this.lastIn = Date.now();
        if (b.resync) this.resyncs++;
        this.seq = typeof b.seq === 'number' ? b.seq : Number(e.lastEventId);
        if (this.o.onBoard) this.o.onBoard(b, { resync: !!b.resync });
      });
      for (const type of SSE_TYPES) {
        es.addEventListener(type, (e) => {
          if (es !== this.es) return;
          let m;
          try { m = JSON.parse(e.data); } catch (x) { return; }
          this.lastIn = Date.now();
          if (!m || m.hall !== this.hall) return;
          if (this.seq !== null && m.seq <= this.seq) return; // already seen
          // a jump is a type this page does not follow: the stream itself is gapless
          this.seq = m.seq;
          const replay = typeof m.at === 'number' && Date.now() - m.at > REPLAY_AGE_MS;
          if (this.o.onEvent) this.o.onEvent(m, { replay });
        });
      }
    }

    _schedule() {
      if (this.stopped || this.retry) return;
      const base = Math.min(this.maxMs, this.minMs * Math.pow(2, this.attempt));
      this.attempt = Math.min(this.attempt + 1, 20);
      const delay = Math.round(base * (0.6 + Math.random() * 0.4));
      this.retry = setTimeout(() => { this.retry = null; this._connect(); }, delay);
    }

    // Dead connections that never report a close: ping, and give up on silence.
    _watchdog() {
      const ws = this.ws;
      if (!ws) return;
      const now = Date.now();
      if (ws.readyState === 0 && now - this.lastIn > 15000) {
        this._drop(true); // a handshake that never completes
        return;
      }
      if (ws.readyState !== 1) return;
      if (now - this.lastIn > this.silentMs) {
        this._drop(true);
        return;
      }
      if (now - this.lastPing > this.pingMs) {
        this.lastPing = now;
        try { ws.send(JSON.stringify({ op: 'ping', rid: ++this.rid })); } catch (e) { /* closing */ }
      }
    }
  }

  window.Feed = Feed;
})();
