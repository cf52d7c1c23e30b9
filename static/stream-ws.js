// RT Messenger's live connection over a WebSocket (hx-ws): what the tab
// holding the socket hears from it, handed to live.js, and how every tab's
// composer posts.
(() => {
  'use strict';

  const el = document.getElementById('socket');
  const live = el && el.rtmLive;
  if (!live) return;

  el.addEventListener('htmx:ws:after:message:incoming', async (e) => {
    let frame;
    try { frame = await e.detail.message.json(); } catch { return; }
    if (frame.primer) return; // text later messages refer back to, no event
    if (frame.target) return; // this tab's composer, answering its own post
    if (frame.event) {
      htmx.trigger(live.sink, frame.event, { data: frame.data, id: frame.id });
      if (frame.event !== 'rtm-notice') live.received({ id: frame.id || live.have, event: frame.event, data: frame.data });
      return;
    }
    live.received({ id: frame.id, event: '', data: frame.content });
  });
  el.addEventListener('htmx:ws:before:connection', (e) => {
    const conn = e.detail && e.detail.connection;
    if (conn) conn.url = live.withAfter(conn.url, live.have);
  });
  el.addEventListener('htmx:ws:after:connection', live.connected);
  el.addEventListener('htmx:ws:close', (e) => { // also after an error
    if (e.detail.code === 4001) htmx.trigger(live.sink, 'rtm-signed-out', {});
    else if (e.detail.code !== 1008) live.failed(); // 1008: refused, rtm-closed said why
  });

  // A follower on a WebSocket page has no socket to post over: its
  // composer posts as a plain htmx request would, and shows the answer.
  // The leader posts over its socket, which must be open: hx-ws would
  // queue the post in the page, where nothing says it waits and a page
  // left loses it. Either way a post that cannot go stays in its form
  // with why (app.js, rtm:not-sent), to be sent again by hand.
  document.addEventListener('submit', async (e) => {
    const form = e.target;
    if (e.defaultPrevented || !form.classList || !form.classList.contains('composer')) return;
    if (live.leading) {
      const conn = el._htmx && el._htmx.ws && el._htmx.ws.connection;
      if (conn && conn.socket && conn.socket.readyState === WebSocket.OPEN) return;
      e.preventDefault();
      e.stopImmediatePropagation();
      return live.emit('rtm:not-sent', { form, unsent: true });
    }
    e.preventDefault();
    e.stopImmediatePropagation();
    const res = await fetch(form.action, {
      method: 'POST',
      body: new URLSearchParams(new FormData(form)),
      headers: { 'HX-Request': 'true' },
      credentials: 'same-origin',
    }).catch(() => null);
    if (!res) return live.emit('rtm:not-sent', { form });
    if (res.status === 401) return htmx.trigger(live.sink, 'rtm-signed-out', {});
    if (res.status >= 500) return live.emit('rtm:not-sent', { form, status: res.status });
    await htmx.swap({ sourceElement: form, target: form, swap: 'outerHTML', text: await res.text() });
  }, true);
})();
