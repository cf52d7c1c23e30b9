// RT Messenger page script: small enhancements on top of htmx. Every page
// works without it. No inline script anywhere, so a strict CSP holds.
(() => {
  'use strict';

  const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
  const dated = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

  // The server sends UTC so every member gets the same bytes; show local time.
  function localizeTimes(root) {
    const today = new Date().toDateString();
    for (const t of root.querySelectorAll('time[datetime]:not([data-local])')) {
      const d = new Date(t.dateTime);
      if (isNaN(d)) continue;
      t.textContent = d.toDateString() === today ? clock.format(d) : dated.format(d);
      t.title = d.toLocaleString();
      t.dataset.local = '';
    }
  }

  // Enter sends, Shift+Enter adds a line (not while an IME is composing).
  document.addEventListener('keydown', (e) => {
    const box = e.target;
    if (e.key !== 'Enter' || e.shiftKey || e.isComposing) return;
    if (!(box instanceof HTMLTextAreaElement) || !box.form || !box.form.classList.contains('composer')) return;
    e.preventDefault();
    if (box.value.trim() !== '') box.form.requestSubmit();
  });

  document.addEventListener('htmx:after:swap', () => localizeTimes(document));

  // A message for a room that is not on screen marks it in the sidebar; one
  // that arrives while the tab is hidden counts in the title.
  const baseTitle = document.title;
  let unseen = 0;
  function arrived(fragment) {
    const m = fragment && /hx-target="#log-(\d+)"/.exec(fragment);
    if (!m || fragment.includes('class="msg system"')) return;
    if (!document.getElementById('log-' + m[1])) {
      const link = document.querySelector('.sidebar a[data-room="' + m[1] + '"]');
      if (link) link.classList.add('has-unread');
      else refreshSidebar(m[1]);
    }
    if (document.hidden) document.title = '(' + (++unseen) + ') ' + baseTitle;
  }
  // A conversation someone else just started is not in the sidebar yet:
  // fetch a fresh sidebar (one request at a time) and mark it.
  let refreshing = false;
  function refreshSidebar(room) {
    if (refreshing || !document.getElementById('sidebar')) return;
    refreshing = true;
    const q = new URLSearchParams({ path: location.pathname });
    const current = document.querySelector('#sidebar a[aria-current="page"]');
    if (current) q.set('current', current.dataset.room);
    fetch('/sidebar?' + q, { headers: { 'HX-Request': 'true' }, credentials: 'same-origin' })
      .then((r) => (r.ok ? r.text() : Promise.reject(new Error('sidebar ' + r.status))))
      .then((html) => {
        const t = document.createElement('template');
        t.innerHTML = html; // server-rendered and escaped, like every fragment
        const fresh = t.content.querySelector('#sidebar');
        const now = document.getElementById('sidebar');
        if (!fresh || !now) return;
        now.replaceWith(fresh);
        const link = fresh.querySelector('a[data-room="' + room + '"]');
        if (link) link.classList.add('has-unread');
      })
      .catch(() => {}) // the next page load shows it anyway
      .finally(() => { refreshing = false; });
  }
  // live.js reports each message fragment it applied, whichever tab of the
  // browser holds the stream.
  document.addEventListener('rtm:event', (e) => arrived(e.detail.data));
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && unseen) {
      unseen = 0;
      document.title = baseTitle;
    }
  });

  // The server asks for a reload when too much was missed to replay.
  document.addEventListener('rtm-reset', () => location.reload());

  // Added to a room or a conversation: the join line is the first the
  // stream brings of it, and the sidebar does not list it yet.
  document.addEventListener('rtm:event', (e) => {
    const f = e.detail.data;
    const m = f && /hx-target="#log-(\d+)"/.exec(f);
    if (m && f.includes('class="msg system"') && !document.querySelector('#sidebar a[data-room="' + m[1] + '"]')) refreshSidebar(m[1]);
  });

  // Removed from a room: the stream brings this once, to the removed
  // person's pages only. A page showing the room trades its composer (a
  // post would only be refused) for the notice; every page drops the room
  // from the sidebar and says so.
  document.addEventListener('rtm-removed', (e) => {
    let d;
    try { d = JSON.parse(e.detail && e.detail.data); } catch { return; }
    if (!d || !d.room || !d.text) return;
    for (const form of document.querySelectorAll('form.composer')) {
      const room = form.querySelector('input[name="room"]');
      if (!room || room.value !== String(d.room)) continue;
      const note = document.createElement('p');
      note.className = 'removed-note notice-inline';
      note.setAttribute('role', 'alert');
      note.textContent = d.text;
      form.replaceWith(note);
    }
    for (const f of document.querySelectorAll('form[action="/rooms/' + d.room + '/leave"]')) f.remove();
    const link = document.querySelector('#sidebar a[data-room="' + d.room + '"]');
    if (link && link.parentElement) link.parentElement.remove();
    notice(d.text);
  });

  // A notice line under the top bar tells what the live connection is doing.
  function notice(text) {
    const el = document.getElementById('notice');
    if (!el) return;
    el.textContent = text || '';
    el.hidden = !text;
  }
  // <html data-stream="live|reconnecting|off"> drives the status dot. A
  // reconnect that succeeds within two seconds shows no notice at all.
  let pending;
  function streamState(state, text) {
    document.documentElement.dataset.stream = state;
    clearTimeout(pending);
    if (state === 'reconnecting') pending = setTimeout(() => notice(text), 2000);
    else notice(text);
  }
  document.addEventListener('rtm-closed', (e) => streamState('off', e.detail && e.detail.data));
  document.addEventListener('rtm:state', (e) => streamState(e.detail.state, e.detail.text));
  document.addEventListener('rtm-notice', (e) => notice(e.detail && e.detail.data));

  // The sign-in is over (logged out in another tab, expired, deactivated):
  // stop the live connection, which would only be refused again, keep
  // whatever was typed, and offer to log in and come back here.
  let isSignedOut = false;
  function signedOut() {
    if (isSignedOut) return;
    isSignedOut = true;
    const stream = document.getElementById('stream');
    if (stream) stream.remove(); // ends hx-sse's reconnect loop
    saveDrafts();
    streamState('off', '');
    const el = document.getElementById('notice');
    if (!el) return;
    const login = document.createElement('a');
    login.href = '/login?' + new URLSearchParams({ next: location.pathname + location.search });
    login.textContent = 'Log in';
    el.replaceChildren('You have been signed out. ', login, ' to continue; anything you typed is kept.');
    el.hidden = false;
  }
  document.addEventListener('rtm-signed-out', signedOut);
  // Once signed out, Send would only be refused: keep the text and point
  // at the log-in link instead (capturing, so htmx never sees the submit).
  document.addEventListener('submit', (e) => {
    if (!isSignedOut || !e.target.classList || !e.target.classList.contains('composer')) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    saveDrafts();
    const link = document.querySelector('#notice a');
    if (link) link.focus();
  }, true);
  document.addEventListener('htmx:response:error', (e) => {
    const res = e.detail && e.detail.ctx && e.detail.ctx.response;
    if (res && res.status === 401) signedOut();
  });

  // Drafts live in this tab's sessionStorage, per composer, from each
  // keystroke until the message is sent: a log-in round trip or a reload
  // brings them back. Logging out on purpose forgets them.
  const draftKey = (form) => 'rtm-draft:' + form.getAttribute('action');
  function composers() {
    return document.querySelectorAll('form.composer textarea[name="body"]');
  }
  function saveDrafts() {
    for (const box of composers()) {
      try {
        if (box.value.trim()) sessionStorage.setItem(draftKey(box.form), box.value);
      } catch { /* storage off or full: the text stays on the page */ }
    }
  }
  function restoreDrafts() {
    for (const box of composers()) {
      try {
        const draft = sessionStorage.getItem(draftKey(box.form));
        if (draft && !box.value) box.value = draft;
      } catch { /* storage off */ }
    }
  }
  document.addEventListener('input', (e) => {
    const box = e.target;
    if (!(box instanceof HTMLTextAreaElement) || !box.form || !box.form.classList.contains('composer')) return;
    try {
      if (box.value) sessionStorage.setItem(draftKey(box.form), box.value);
      else sessionStorage.removeItem(draftKey(box.form));
    } catch { /* storage off */ }
  });
  // A sent message comes back as an empty composer: its draft is done.
  document.addEventListener('htmx:after:swap', () => {
    for (const box of composers()) {
      if (!box.value) try { sessionStorage.removeItem(draftKey(box.form)); } catch { /* storage off */ }
    }
  });
  document.addEventListener('submit', (e) => {
    if (e.target.getAttribute && e.target.getAttribute('action') === '/logout') {
      try {
        for (const k of Object.keys(sessionStorage)) if (k.startsWith('rtm-draft:')) sessionStorage.removeItem(k);
      } catch { /* storage off */ }
    }
  });

  // Leaving the page ends its stream now. Browsers allow six connections per
  // site; a left page whose stream lingers would soon stall new pages.
  window.addEventListener('pagehide', () => {
    const stream = document.getElementById('stream');
    const conn = stream && stream._htmx && stream._htmx.sse; // hx-sse's connection
    if (stream) stream.remove();
    if (conn) {
      if (conn.reader) conn.reader.cancel();
      if (conn.abortController) conn.abortController.abort();
    }
  });
  window.addEventListener('pageshow', (e) => { if (e.persisted) location.reload(); });

  function ready() {
    localizeTimes(document);
    restoreDrafts();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', ready);
  else ready();
})();
