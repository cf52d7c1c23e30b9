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

  // keepEvent files ev by id; one already kept is replaced (a replay may
  // bring a newer state of it), and the oldest goes past keep.
  function keepEvent(ev) {
    let i = kept.length;
    while (i > 0 && kept[i - 1].id > ev.id) i--;
    if (i > 0 && kept[i - 1].id === ev.id) kept[i - 1] = ev;
    else kept.splice(i, 0, ev);
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
  let firstRetry = null; // the timer retrying a first connection that failed
  function connected() {
    failures = 0;
    setState('live');
  }
  function failed() {
    failures++;
    if (failures >= 3) setState('offline', 'Offline: cannot reach the server. Retrying…');
    else setState('reconnecting', lost);
  }

  if (socket) {
    el.addEventListener('htmx:ws:after:message:incoming', async (e) => {
      let frame;
      try { frame = await e.detail.message.json(); } catch { return; }
      if (frame.primer) return; // text later messages refer back to, no event
      if (frame.target) return; // this tab's composer, answering its own post
      if (frame.event) {
        htmx.trigger(sink, frame.event, { data: frame.data, id: frame.id });
        if (frame.event !== 'rtm-notice') received({ id: frame.id || have, event: frame.event, data: frame.data });
        return;
      }
      received({ id: frame.id, event: '', data: frame.content });
    });
    el.addEventListener('htmx:ws:before:connection', (e) => {
      const conn = e.detail && e.detail.connection;
      if (conn) conn.url = withAfter(conn.url, have);
    });
    el.addEventListener('htmx:ws:after:connection', connected);
    el.addEventListener('htmx:ws:close', (e) => { // also after an error
      if (e.detail.code === 4001) htmx.trigger(sink, 'rtm-signed-out', {});
      else if (e.detail.code !== 1008) failed(); // 1008: refused, rtm-closed said why
    });
  } else {
    el.addEventListener('htmx:sse:after:message', (e) => {
      const m = e.detail.message;
      received({ id: Number(m.id) || have, event: m.event || '', data: m.data });
    });
    el.addEventListener('htmx:sse:after:connection', (e) => {
      const conn = e.detail && e.detail.connection;
      if (!conn || conn.status < 400) connected(); // a refusal (401) is no live stream
    });
    el.addEventListener('htmx:sse:error', (e) => {
      if (e.detail && e.detail.status === 401) htmx.trigger(sink, 'rtm-signed-out', {});
      else failed();
    });
    // hx-sse retries a stream that was open, not a first request that
    // failed (the link dropped right after the page came): retry that
    // here, with the same backoff, or the page would never be live.
    el.addEventListener('htmx:error', () => retryFirst(0));
    // So is one refused for a while (429 past the connection rate, 408,
    // a proxy's 5xx during a deploy): after Retry-After, if given. Other
    // refusals would only be refused again (401: rtm-signed-out says so).
    el.addEventListener('htmx:response:error', (e) => {
      const res = e.detail && e.detail.ctx && e.detail.ctx.response;
      if (!res || !(res.status === 408 || res.status === 429 || res.status >= 500)) return;
      retryFirst(1000 * (Number(res.raw && res.raw.headers.get('Retry-After')) || 0));
    });
  }
  function retryFirst(atLeast) {
    if (stopped || !leading || (el._htmx && el._htmx.sse)) return;
    failed();
    clearTimeout(firstRetry);
    firstRetry = setTimeout(connectAgain, Math.max(atLeast, Math.min(500 * 2 ** (failures - 1), 10000)));
  }
  function connectAgain() {
    firstRetry = null;
    const url = el.getAttribute('hx-sse:connect');
    if (!stopped && leading && url && !(el._htmx && el._htmx.sse)) htmx.ajax('GET', withAfter(url, have), { source: el });
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
    if (synced && ev.id > have) have = ev.id;
  }

  const hello = () => send({ t: 'hello', from: tab, after: have });

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
    send({ t: 'synced', to: msg.from, upTo: have });
  }

  // A follower on a WebSocket page has no socket to post over: its
  // composer posts as a plain htmx request would, and shows the answer.
  // The leader posts over its socket, which must be open: hx-ws would
  // queue the post in the page, where nothing says it waits and a page
  // left loses it. Either way a post that cannot go stays in its form
  // with why (app.js, rtm:not-sent), to be sent again by hand.
  document.addEventListener('submit', async (e) => {
    const form = e.target;
    if (!socket || e.defaultPrevented || !form.classList || !form.classList.contains('composer')) return;
    if (leading) {
      const conn = el._htmx && el._htmx.ws && el._htmx.ws.connection;
      if (conn && conn.socket && conn.socket.readyState === WebSocket.OPEN) return;
      e.preventDefault();
      e.stopImmediatePropagation();
      return emit('rtm:not-sent', { form, unsent: true });
    }
    e.preventDefault();
    e.stopImmediatePropagation();
    const res = await fetch(form.action, {
      method: 'POST',
      body: new URLSearchParams(new FormData(form)),
      headers: { 'HX-Request': 'true' },
      credentials: 'same-origin',
    }).catch(() => null);
    if (!res) return emit('rtm:not-sent', { form });
    if (res.status === 401) return htmx.trigger(sink, 'rtm-signed-out', {});
    if (res.status >= 500) return emit('rtm:not-sent', { form, status: res.status });
    await htmx.swap({ sourceElement: form, target: form, swap: 'outerHTML', text: await res.text() });
  }, true);

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
