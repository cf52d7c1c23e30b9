// RT Messenger's live connection over Server-Sent Events (hx-sse): what
// the tab holding the stream hears from it, handed to live.js.
(() => {
  'use strict';

  const el = document.getElementById('stream');
  const live = el && el.rtmLive;
  if (!live) return;

  el.addEventListener('htmx:sse:after:message', (e) => {
    const m = e.detail.message;
    live.received({ id: Number(m.id) || live.have, event: m.event || '', data: m.data });
  });
  el.addEventListener('htmx:sse:after:connection', (e) => {
    const conn = e.detail && e.detail.connection;
    if (!conn || conn.status < 400) live.connected(); // a refusal (401) is no live stream
    if (conn) listenFor(conn);
  });
  el.addEventListener('htmx:sse:error', (e) => {
    if (e.detail && e.detail.status === 401) htmx.trigger(live.sink, 'rtm-signed-out', {});
    else live.failed();
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

  const open = () => el._htmx && el._htmx.sse; // hx-sse's connection, while it has one
  let firstRetry = null; // the timer retrying a first connection that failed
  function retryFirst(atLeast) {
    if (live.stopped || !live.leading || open()) return;
    live.failed();
    clearTimeout(firstRetry);
    firstRetry = setTimeout(connectAgain, Math.max(atLeast, Math.min(500 * 2 ** (live.failures - 1), 10000)));
  }
  function connectAgain() {
    firstRetry = null;
    const url = el.getAttribute('hx-sse:connect');
    if (!live.stopped && live.leading && url && !open()) htmx.ajax('GET', live.withAfter(url, live.have), { source: el });
  }

  // A stream can die without a word: the laptop slept, a NAT forgot the
  // connection, the server's machine vanished. The server sends every
  // stream something each data-heartbeat ms (a comment, if nothing else),
  // so one silent for two and a half of those is cut here, and hx-sse
  // reconnects and resumes as after any drop. hx-sse reads and drops
  // comments without a word, so the bytes are counted at its reader,
  // which it takes from the response right after this event.
  // The time between a read's answer and the next read (the page busy
  // with a swap) is no silence. The wall clock, since a monotonic one
  // stands still while the machine sleeps: the case this is for.
  const beat = Number(el.dataset.heartbeat) || 15000;
  let heard = 0; // when the open stream last brought anything; 0: none open
  function listenFor(conn) {
    heard = Date.now();
    queueMicrotask(() => {
      const reader = conn.reader;
      if (!reader) return;
      const read = reader.read.bind(reader);
      const note = () => { if (conn.reader === reader) heard = Date.now(); };
      reader.read = () => {
        note();
        return read().then((chunk) => {
          note();
          return chunk;
        });
      };
    });
  }
  setInterval(() => {
    const conn = open();
    if (!live.leading || !heard || !conn || !conn.reader || Date.now() - heard < 2.5 * beat) return;
    heard = 0;
    conn.reader.cancel();
  }, Math.min(beat, 5000));
})();
