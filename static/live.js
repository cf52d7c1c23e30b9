// RT Messenger's live connection: one per browser, not one per tab.
//
// A browser allows six HTTP/1.1 connections per site, so a stream per tab
// would soon hold them all and starve page loads and posts. The tabs of a
// browser elect one (Web Locks) to hold the stream, SSE or WebSocket; it
// hands each event to the others over a BroadcastChannel. When it closes,
// the lock passes to another tab at once, which resumes from the newest
// event id any tab saw. Without those APIs each tab connects by itself.
//
// To the rest of the page it speaks in DOM events on document: rtm:event
// (an applied message fragment), rtm:state (live, reconnecting or offline)
// and the stream's named events (rtm-reset, rtm-closed, rtm-signed-out,
// rtm-notice), and rtm:not-sent when a composer's post could not go.
(() => {
  'use strict';

  const user = document.documentElement.dataset.user;
  const el = document.getElementById('stream') || document.getElementById('socket');
  if (!user || !el || !el.dataset.connect || !window.htmx) return;
  const socket = el.id === 'socket';
  const tab = Math.random().toString(36).slice(2);
  const name = 'rtm-live-' + user;

  // Fragments are all partials (<hx-upsert>, <hx-partial>) aimed at their
  // targets; the sink only takes a main swap, should one ever come.
  const sink = document.createElement('div');
  sink.hidden = true;
  document.body.append(sink);

  const startAfter = Number(new URL(el.dataset.connect, location.href).searchParams.get('after')) || 0;
  // Every event up to this id has reached this tab: a leader's own stream
  // misses none, a follower's copy misses none once a leader has answered
  // its hello (synced). A hand-over resumes from here.
  let have = startAfter;
  let synced = false;
  let leading = false;
  let stopped = false;
  let state = { state: '', text: '' };
  let chan = null;
  let stepDown = null; // releases the lock (leader) or stops waiting for it
  const waiting = new AbortController();

  const emit = (type, detail) => document.dispatchEvent(new CustomEvent(type, { detail }));
  const send = (msg) => { if (chan && !stopped) chan.postMessage(msg); };

  // --- The leader: what its own connection reports. ---

  // Events every tab keeps, in id order, for tabs that join once it leads:
  // they may have rendered their page before some of them arrived. floor:
  // the buffer holds every event after this id, up to have.
  const kept = [];
  let floor = startAfter;
  const keep = 500;

  // keepEvent files ev by id, after those of the same id: ids are not the
  // events' own (a read mark or an edit carries a message's id), so none
  // replaces another, but the very same event (handed on twice, replayed)
  // is kept once. The oldest goes past keep.
  function keepEvent(ev) {
    if (ev.id <= floor) return; // the buffer starts above it
    let i = kept.length;
    while (i > 0 && kept[i - 1].id > ev.id) i--;
    for (let j = i; j > 0 && kept[j - 1].id === ev.id; j--) if (kept[j - 1].data === ev.data) return;
    kept.splice(i, 0, ev);
    if (kept.length > keep) floor = kept.shift().id;
  }

  function received(ev) {
    if (ev.id > have) have = ev.id;
    if (!ev.event) {
      keepEvent(ev);
      emit('rtm:event', ev);
    }
    send({ t: 'ev', ev });
  }

  function setState(s, text) {
    state = { state: s, text: text || '' };
    emit('rtm:state', state);
    send({ t: 'state', ...state });
  }

  // Honest state: "reconnecting" once a connection fails, "offline" once
  // three in a row have (the server down, the link cut): a reconnect that
  // works at once is a blip, three that fail are an outage.
  const lost = 'Connection lost. Reconnecting…';
  let failures = 0;
  function connected() {
    failures = 0;
    setState('live');
  }
  function failed() {
    failures++;
    if (failures >= 3) setState('offline', 'Offline: cannot reach the server. Retrying…');
    else setState('reconnecting', lost);
  }

  function withAfter(url, id) {
    return url.replace(/([?&]after=)\d+/, '$1' + id);
  }

  // htmx scans the page once, in a DOMContentLoaded listener it added
  // before this script ran (or on a timer, if it ran after parsing). A tab
  // that connects before the scan is connected twice: the scan sees no
  // connection until the first one answers, and opens another. So a
  // leader connects after the scan, by itself.
  const scanned = new Promise((resolve) => {
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => setTimeout(resolve));
    else setTimeout(resolve);
  });

  // A new leader tells the others, which ask again for what they lack:
  // a tab whose hello came while no tab led was never answered, and one
  // that has seen less than this tab must not wait for a replay.
  function lead() {
    leading = true;
    synced = true;
    send({ t: 'lead' });
    scanned.then(() => {
      if (stopped) return;
      el.setAttribute(socket ? 'hx-ws:connect' : 'hx-sse:connect', withAfter(el.dataset.connect, have));
      htmx.process(el);
    });
  }

  // --- The others: events and state as the leader hands them on. ---

  async function apply(ev) {
    if (ev.event) {
      htmx.trigger(sink, ev.event, { data: ev.data, id: ev.id });
    } else {
      await htmx.swap({ sourceElement: sink, target: sink, swap: 'innerHTML swapEmpty:false', text: ev.data });
      keepEvent(ev);
      emit('rtm:event', ev);
    }
    if (synced && !leading && ev.id > have) have = ev.id; // a leader's own stream moves it
  }

  // Each hello is numbered, and only the answer to the latest counts: an
  // older answer, still queued, would vouch for events a failed swap lost.
  let asks = 0;
  const hello = () => send({ t: 'hello', from: tab, after: have, ask: ++asks });

  // Swaps apply one at a time, in order. One that fails leaves this tab
  // short of an event: it asks the leader again from the last event it
  // has whole, and reloads if that fails too, rather than stay wrong.
  let queue = Promise.resolve();
  let retrying = false;
  function follow(step) {
    queue = queue.then(step).catch((err) => {
      console.warn('RT Messenger: an event could not be shown', err);
      if (retrying) location.reload();
      retrying = true;
      synced = false;
      hello();
    });
  }

  function heard(msg) {
    if (stopped || (msg.to && msg.to !== tab)) return;
    switch (msg.t) {
      case 'ev':
        if (!leading) follow(() => apply(msg.ev));
        break;
      case 'synced':
        if (!leading) follow(() => {
          if (msg.ask !== asks) return;
          synced = true;
          retrying = false;
          if (msg.upTo > have) have = msg.upTo;
        });
        break;
      case 'state':
        if (!leading) emit('rtm:state', { state: msg.state, text: msg.text });
        break;
      case 'hello':
        if (leading) welcome(msg);
        break;
      case 'lead':
        if (!leading) {
          synced = false;
          hello();
        }
        break;
      case 'gap':
        location.reload(); // too much happened before this tab could hear it
        break;
    }
  }

  // A tab that joins gets the state and the events after the newest one
  // it has whole, then word that from there on it misses nothing.
  function welcome(msg) {
    if (state.state) send({ t: 'state', to: msg.from, ...state });
    if (msg.after < floor) {
      send({ t: 'gap', to: msg.from });
      return;
    }
    for (const ev of kept) if (ev.id > msg.after) send({ t: 'ev', to: msg.from, ev });
    send({ t: 'synced', to: msg.from, ask: msg.ask, upTo: have });
  }

  // The transport's own script (stream-sse.js or stream-ws.js), next in
  // the page's bundle, reports its connection's events through this: a
  // page carries the code of its one transport only.
  el.rtmLive = {
    received, connected, failed, withAfter, emit, sink,
    get have() { return have; },
    get leading() { return leading; },
    get stopped() { return stopped; },
    get failures() { return failures; },
  };

  // Signed out: this tab is done. It stops leading (or waiting to), so a
  // page opened after logging in again can lead.
  document.addEventListener('rtm-signed-out', () => {
    stopped = true;
    el.removeAttribute('hx-sse:connect');
    if (stepDown) stepDown();
    waiting.abort();
    if (chan) chan.close();
  });

  // A page kept in the back/forward cache would hold the lock with no one
  // to hand events to, and no tab could lead: give it up on the way out,
  // and come back as a fresh page.
  addEventListener('pagehide', (e) => {
    if (!e.persisted) return;
    stopped = true;
    if (stepDown) stepDown();
    waiting.abort();
    if (chan) chan.close();
  });
  addEventListener('pageshow', (e) => { if (e.persisted) location.reload(); });

  if (navigator.locks && window.BroadcastChannel) {
    chan = new BroadcastChannel(name);
    chan.onmessage = (e) => heard(e.data);
    hello();
    navigator.locks.request(name, { signal: waiting.signal }, () => new Promise((release) => {
      stepDown = release;
      if (!stopped) lead();
    })).catch(() => {}); // aborted: signed out while waiting
  } else {
    lead();
  }
})();
