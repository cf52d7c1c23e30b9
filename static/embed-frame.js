// RT Messenger widget page script (inside the iframe). No htmx here, to keep
// the first load small: it applies the stream's fragments itself, posts the
// composer with fetch, tells the host its height and takes its theme. The
// page works without it as plain forms. No inline script or style: CSP holds.
(() => {
  'use strict';

  const root = document.documentElement;
  const host = root.dataset.host;
  const $ = (id) => document.getElementById(id);
  const log = () => document.querySelector('ol.log[id^="log-"]');
  const LOST = 'Connection lost. Reconnecting…';
  const STOPPED = 'Live updates stopped. Reload the page to reconnect.';
  const OUT = 'You have been signed out. Reload the page to sign in again.';
  const NOT_SENT = 'Could not send';

  // notice(text) shows a line; notice('', start) hides it if it starts so.
  function notice(text, only) {
    const el = $('notice');
    if (el && (only == null || el.textContent.startsWith(only))) {
      el.textContent = text;
      el.hidden = !text;
    }
  }

  // The server sends UTC so every reader gets the same bytes; show local time.
  const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
  const dated = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  function localize() {
    for (const t of document.querySelectorAll('time[datetime]:not([data-local])')) {
      const d = new Date(t.dateTime);
      if (isNaN(d)) continue;
      t.textContent = (d.toDateString() === new Date().toDateString() ? clock : dated).format(d);
      t.title = d.toLocaleString();
      t.dataset.local = '';
    }
  }

  // The log follows new messages while the reader is at (or near) its end.
  let pinned = true;
  document.addEventListener('scroll', (e) => {
    const l = e.target;
    if (l === log()) pinned = l.scrollHeight - l.scrollTop - l.clientHeight < 48;
  }, true);
  function follow() {
    const l = log();
    if (l && pinned) l.scrollTop = l.scrollHeight;
  }

  // Fragments are htmx partials: <hx-upsert> replaces children by id or
  // inserts them in numeric order (new ones go last: look from the end);
  // <hx-partial> swaps its target.
  const key = (el) => parseInt(el.id.replace(/\D+/g, ''), 10);
  function apply(html) {
    const t = document.createElement('template');
    t.innerHTML = html; // server-rendered and escaped
    for (const part of t.content.querySelectorAll('hx-upsert[hx-target], hx-partial[hx-target]')) {
      let target;
      try {
        target = document.querySelector(part.getAttribute('hx-target'));
      } catch {} // not a selector
      if (!target) continue;
      const swap = part.getAttribute('hx-swap');
      if (part.localName === 'hx-partial') {
        if (swap === 'textContent') target.textContent = part.textContent;
        else if (swap === 'outerHTML') target.replaceWith(...part.childNodes);
        else target.replaceChildren(...part.childNodes);
        continue;
      }
      for (const el of [...part.children]) {
        const old = el.id && $(el.id);
        if (old && target.contains(old)) {
          old.replaceWith(el);
          continue;
        }
        let c = target.lastElementChild, before = null;
        for (const k = key(el); c && !(key(c) <= k); c = c.previousElementSibling) if (key(c) > k) before = c;
        target.insertBefore(el, before);
      }
    }
    localize();
    follow();
  }

  // The stream. html[data-stream] is live, reconnecting or off.
  const stream = $('stream');
  let es, lastId = 0, stopped = false, tries = 0, timer, pending;
  function state(s) {
    if (root.dataset.stream === s) return;
    root.dataset.stream = s;
    clearTimeout(pending);
    if (s === 'live') notice('', LOST);
    if (s === 'reconnecting') pending = setTimeout(notice, 2000, LOST); // a quick reconnect shows nothing
  }
  function stop(text) {
    stopped = true;
    clearTimeout(timer);
    if (es) es.close();
    state('off');
    notice(text);
  }
  function url() {
    const u = new URL(stream.dataset.connect, location.href);
    if (lastId) u.searchParams.set('after', lastId);
    return u;
  }
  function connect() {
    if (stopped) return;
    es = new EventSource(url());
    es.onopen = () => {
      tries = 0;
      state('live');
    };
    es.onmessage = (e) => {
      if (+e.lastEventId > lastId) lastId = +e.lastEventId;
      apply(e.data);
    };
    es.onerror = () => {
      if (stopped) return;
      state('reconnecting');
      // CONNECTING: the browser retries by itself, with Last-Event-ID.
      // CLOSED: the answer was no stream (a 401, or a proxy's 502).
      if (es.readyState === EventSource.CLOSED) timer = setTimeout(probe, Math.min(30000, 1000 * 2 ** tries++));
    };
    es.addEventListener('rtm-reset', () => location.reload());
    es.addEventListener('rtm-signed-out', () => stop(OUT));
    es.addEventListener('rtm-closed', (e) => stop(e.data || STOPPED));
    es.addEventListener('rtm-notice', (e) => notice(e.data || ''));
  }
  // EventSource hides why it closed: ask once. A 4xx means the session is
  // gone; anything else, connect again after the last event seen.
  function probe() {
    const ac = new AbortController();
    fetch(url(), { signal: ac.signal, cache: 'no-store' }).then((res) => {
      ac.abort();
      const s = res.status;
      if (s > 399 && s < 500 && s !== 408 && s !== 429) stop(STOPPED);
      else connect();
    }, connect);
  }
  if (stream && stream.dataset.connect) {
    lastId = +url().searchParams.get('after') || 0;
    connect();
    addEventListener('pagehide', () => es.close()); // free the connection
    addEventListener('pageshow', (e) => e.persisted && location.reload());
  }

  // The composer: Enter sends, Shift+Enter adds a line.
  document.addEventListener('keydown', (e) => {
    const box = e.target;
    if (e.key !== 'Enter' || e.shiftKey || e.isComposing || e.keyCode === 229 || !box.form || box.form.id !== 'composer' || box.localName !== 'textarea') return;
    e.preventDefault();
    if (box.value.trim()) box.form.requestSubmit();
  });
  let sending = false;
  document.addEventListener('submit', async (e) => {
    const form = e.target;
    if (form.id !== 'composer') return;
    e.preventDefault();
    if (sending) return;
    sending = true;
    const box = form.querySelector('textarea');
    const sent = box && box.value;
    const focused = form.contains(document.activeElement);
    let res, html;
    try {
      res = await fetch(form.action, {
        method: 'POST',
        body: new URLSearchParams(new FormData(form)),
        headers: { 'HX-Request': 'true' },
      });
      html = await res.text();
    } catch {
      res = null;
    }
    sending = false;
    if (!res) return notice(NOT_SENT + ': no connection. Try again.');
    if (res.status === 401) return stop(OUT);
    notice('', NOT_SENT);
    if (res.ok) {
      apply(html);
    } else {
      // 422, 413, 429: the form again, with the text and what was wrong.
      const t = document.createElement('template');
      t.innerHTML = html;
      const fresh = t.content.getElementById('composer');
      if (!fresh) return notice(NOT_SENT + ' (error ' + res.status + '). Try again.');
      form.replaceWith(fresh);
    }
    const now = $('composer');
    const nb = now && now !== form && now.querySelector('textarea');
    if (!nb) return;
    // Text typed while the message was on its way stays.
    if (res.ok && box && box.value !== sent) nb.value = box.value.startsWith(sent) ? box.value.slice(sent.length) : box.value;
    if (focused) nb.focus();
  });

  // The host: tell it our height (at most once a frame), take its theme.
  // Both sides check the other's origin.
  const toHost = host && window.parent !== window;
  let raf = 0;
  const post = () => {
    raf = 0;
    if (innerWidth) parent.postMessage({ type: 'rtm-embed-size', height: root.scrollHeight }, host); // not while hidden
  };
  const ro = new ResizeObserver(() => {
    follow();
    if (toHost && !raf) raf = requestAnimationFrame(post);
  });
  ro.observe(document.body);
  if (log()) ro.observe(log());
  const hex = /^#[0-9a-f]{3}([0-9a-f]{3})?$/i;
  const valid = { accent: hex, bg: hex, font: /^(small|medium|large)$/, density: /^(compact|cozy|roomy)$/, scheme: /^(auto|light|dark)$/ };
  if (toHost) {
    addEventListener('load', post);
    addEventListener('message', (e) => {
      const th = e.data && e.data.type === 'rtm-embed-theme' && e.data.theme;
      if (e.source !== parent || e.origin !== host || !th) return;
      for (const k in valid) {
        if (typeof th[k] !== 'string' || !valid[k].test(th[k])) continue; // ignore anything else
        if (valid[k] === hex) root.style.setProperty('--' + k, th[k]);
        else root.dataset[k] = th[k];
      }
    });
  }

  localize();
  follow();
})();
