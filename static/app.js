// RT Messenger page script: small enhancements on top of htmx. Every page
// works without it. No inline script anywhere, so a strict CSP holds.
(() => {
  'use strict';

  // Times. A fragment is the same bytes for every member, so it says UTC;
  // show each time in the reader's zone: their profile's (<html data-tz>),
  // else the browser's. In a room's log the day lines carry the date.
  function formats(zone) {
    const z = zone ? { timeZone: zone } : {};
    return {
      clock: new Intl.DateTimeFormat(undefined, { ...z, hour: '2-digit', minute: '2-digit' }),
      dated: new Intl.DateTimeFormat(undefined, { ...z, dateStyle: 'medium', timeStyle: 'short' }),
      full: new Intl.DateTimeFormat(undefined, { ...z, dateStyle: 'full', timeStyle: 'long' }),
      day: new Intl.DateTimeFormat(undefined, { ...z, dateStyle: 'full' }),
      key: new Intl.DateTimeFormat('en', { ...z, year: 'numeric', month: '2-digit', day: '2-digit' }),
    };
  }
  let fmt;
  try { fmt = formats(document.documentElement.dataset.tz); } catch { fmt = formats(); } // a zone this browser lacks
  // dayOf is a date's day in the reader's zone, as the server writes it (2026-03-02).
  function dayOf(d) {
    const p = {};
    for (const x of fmt.key.formatToParts(d)) p[x.type] = x.value;
    return p.year + '-' + p.month + '-' + p.day;
  }
  const inLog = (el) => el.closest('ol.log[id^="log-"]');
  function localizeTimes(root) {
    const today = dayOf(new Date());
    for (const t of root.querySelectorAll('time[datetime]:not([data-local])')) {
      const d = new Date(t.dateTime);
      if (isNaN(d)) continue;
      t.textContent = (inLog(t) || dayOf(d) === today ? fmt.clock : fmt.dated).format(d);
      t.title = fmt.full.format(d);
      t.dataset.local = '';
    }
  }

  // Day lines and groups in a room's log, by the server's rules
  // (views.RoomLog), kept right as messages arrive: the stream inserts
  // each by id, past any line, and a replay replaces one by id. tidy(li)
  // fixes only what lies between li and the message before it, so it is
  // idempotent and the order it runs in does not matter.
  const groupMs = 5 * 60 * 1000;
  const isMsg = (el) => el instanceof HTMLLIElement && el.classList.contains('msg');
  const isText = (el) => isMsg(el) && !el.matches('.system, .announcement');
  const sentAt = (li) => { const t = li.querySelector('time[datetime]'); return t ? new Date(t.dateTime) : null; };
  function tidy(li) {
    const at = sentAt(li);
    if (!at || isNaN(at)) return;
    let prev = li.previousElementSibling;
    const gap = [];
    for (; prev && !isMsg(prev); prev = prev.previousElementSibling) gap.push(prev);
    const prevAt = prev && sentAt(prev);
    const day = dayOf(at);
    const wantDay = !prev || (prevAt && !isNaN(prevAt) && dayOf(prevAt) !== day);
    let line = null;
    for (const el of gap) {
      if (!el.classList.contains('day')) continue;
      if (wantDay && !line) line = el;
      else el.remove();
    }
    if (wantDay && !line) {
      line = document.createElement('li');
      line.className = 'day';
      line.append(document.createElement('span'));
      if (prev) prev.after(line);
      else li.parentNode.prepend(line);
    }
    if (line && line.dataset.local !== day) { // the server's label, or another day's
      line.dataset.day = line.dataset.local = day;
      (line.firstElementChild || line).textContent = fmt.day.format(at);
    }
    li.classList.toggle('cont', !!prevAt && li.previousElementSibling === prev && isText(prev) && isText(li) &&
      prev.dataset.author === li.dataset.author && at - prevAt >= 0 && at - prevAt <= groupMs);
  }
  // Messages added to a log: each, and the message after it, whose gap
  // may have changed.
  function tidyAdded(records) {
    const todo = new Set();
    for (const r of records) {
      for (const n of r.addedNodes) {
        if (!isMsg(n)) continue;
        todo.add(n);
        let next = n.nextElementSibling;
        while (next && !isMsg(next)) next = next.nextElementSibling;
        if (next) todo.add(next);
      }
    }
    for (const li of todo) {
      if (!li.isConnected) continue;
      tidy(li);
      localizeTimes(li);
    }
  }
  function tidyLogs() {
    for (const log of document.querySelectorAll('ol.log[id^="log-"]')) {
      for (const li of log.querySelectorAll(':scope > li.msg')) tidy(li);
      new MutationObserver(tidyAdded).observe(log, { childList: true });
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

  // Message boxes (textarea[data-max]) come with an error line and a count,
  // empty and so not shown until needed (views.ComposerForm). An error
  // this page puts there says what kind it is (data-local); the text stays
  // as typed.
  function formError(form, box, text, kind) {
    const p = form.querySelector('p.error[role="alert"]');
    p.dataset.local = kind;
    p.textContent = text;
    box.setAttribute('aria-invalid', 'true');
  }

  // Long messages. A message box (textarea[data-max]) takes a paste of any
  // length, never cut short: from 500 characters before the limit it
  // shows the count, and a text over the limit is refused here, before it
  // is sent, in the server's words (chat.CleanMessage), and kept. Counted
  // as the server counts: characters (not UTF-16 units) of the trimmed
  // text (trim and Go's TrimSpace differ only on U+FEFF and U+0085), a
  // line break as one (a textarea's value has LF only).
  const lengthOf = (s) => [...s.trim()].length;
  function showLength(box) {
    const max = Number(box.dataset.max);
    const n = lengthOf(box.value);
    const count = document.getElementById(box.id + '-count');
    const refusal = box.form.querySelector('p[data-local="long"]');
    if (refusal && n <= max) {
      box.removeAttribute('aria-invalid');
      refusal.textContent = refusal.dataset.local = '';
    }
    count.textContent = n < max - 500 ? '' : n.toLocaleString('en') + ' / ' + max.toLocaleString('en');
    count.toggleAttribute('data-over', n > max);
  }
  document.addEventListener('input', (e) => {
    if (e.target.dataset && e.target.dataset.max) showLength(e.target);
  });
  // Capturing, so that neither htmx nor the browser sends it.
  document.addEventListener('submit', (e) => {
    const box = e.target.querySelector('textarea[data-max]');
    const n = box && lengthOf(box.value);
    if (!box || n <= box.dataset.max) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    showLength(box);
    formError(e.target, box, 'Message is too long: ' + n + ' characters, the limit is ' + box.dataset.max + '.', 'long');
    box.focus();
  }, true);

  // A post that got no answer (offline, the server down, the link cut), a
  // 5xx (a proxy's 502) or that could not go (rtm:not-sent, stream-ws.js) stays
  // in its form with why. The form keeps its client_id: sent again, the
  // message is stored once even if the first post did arrive.
  function notSent(form, status, unsent) {
    formError(form, form.querySelector('textarea[data-max]'), (unsent ? 'Not sent: not connected.'
      : status ? 'Not sent: server error ' + status + '.' : 'No answer: it may not have been sent.') +
      ' Send it again; it will not post twice.', 'net');
  }
  const sendsText = (el) => el instanceof HTMLFormElement && el.querySelector('textarea[data-max]');
  document.addEventListener('htmx:error', (e) => {
    const ctx = e.detail.ctx;
    if (ctx && !ctx.response && sendsText(e.target)) notSent(e.target); // no answer at all
  });
  document.addEventListener('htmx:before:swap', (e) => {
    const ctx = e.detail.ctx;
    const status = ctx && ctx.response && ctx.response.status; // none: a swap of the page's own
    if (status >= 500 && sendsText(ctx.sourceElement)) {
      e.preventDefault();
      notSent(ctx.sourceElement, status);
    }
  });
  document.addEventListener('rtm:not-sent', (e) => notSent(e.detail.form, e.detail.status, e.detail.unsent));

  // Unread counts. The sidebar comes with each room's counts as of its
  // newest message then (data-last). A later message from someone else
  // counts one, and one more mention if it names this page's user, unless
  // the room is on screen in a visible tab: then it is read, and the mark
  // goes to the server, whose answer reaches every tab over the stream as
  // fresh counts (see settle). The title shows the total.
  const me = document.documentElement.dataset.user || '';
  const baseTitle = document.title;
  const counted = new Map(); // room → messages counted here, [{id, mention}]

  // message reads what a stream fragment says about its message. The
  // attributes are the <li>'s own (user text in it is escaped).
  function message(fragment) {
    const t = /<hx-upsert hx-target="#log-(\d+)"[^>]*>\s*<li id="msg-(\d+)" class="msg([^"]*)"([^>]*)>/.exec(fragment || '');
    if (!t) return null;
    const attr = (name) => (new RegExp(' ' + name + '="([^"]*)"').exec(t[4]) || ['', ''])[1];
    return { room: t[1], id: Number(t[2]), system: / system/.test(t[3]), author: attr('data-author'), mentions: attr('data-mentions').split(' ') };
  }
  const mentionsMe = (mentions) => mentions.includes('room') || (me !== '' && mentions.includes(me));

  function countText(n) { return n >= 100 ? '99+' : String(n); }
  function badge(cls, text, spoken) {
    const b = document.createElement('span');
    const hidden = document.createElement('span');
    b.className = cls;
    hidden.className = 'visually-hidden';
    hidden.textContent = spoken;
    b.append(text, hidden);
    return b;
  }
  // paint redraws a room's counts from its data attributes, as the server
  // renders them.
  function paint(el) {
    const unread = Number(el.dataset.unread) || 0;
    const mentions = Number(el.dataset.mentions) || 0;
    const parts = [];
    if (unread > 0) parts.push(badge('count', countText(unread), ' unread'));
    if (mentions > 0) parts.push(badge('count mention-count', '@' + countText(mentions), ' mentioning you'));
    el.replaceChildren(...parts.flatMap((b, i) => (i ? [' ', b] : [b])));
    const link = el.closest('a');
    if (link) link.classList.toggle('has-unread', unread > 0);
  }
  function add(el, id, mention) {
    el.dataset.last = String(id);
    el.dataset.unread = String((Number(el.dataset.unread) || 0) + 1);
    if (mention) el.dataset.mentions = String((Number(el.dataset.mentions) || 0) + 1);
    paint(el);
  }
  // settle brings counts the server just sent (a read mark from one of
  // this person's tabs, or a fresh sidebar) up to date with the messages
  // this tab counted after them.
  function settle(el) {
    const room = el.id.slice('counts-'.length);
    const last = Number(el.dataset.last) || 0;
    const mine = (counted.get(room) || []).filter((m) => m.id > last);
    counted.set(room, mine);
    for (const m of mine) add(el, m.id, m.mention);
    paint(el);
  }
  function showTotal() {
    let total = 0;
    for (const el of document.querySelectorAll('#sidebar .counts')) total += Number(el.dataset.unread) || 0;
    document.title = total > 0 ? '(' + total + ') ' + baseTitle : baseTitle;
  }

  // The room on screen, when there is one: its log's room id.
  function roomOnScreen() {
    const log = document.querySelector('main ol.log[id^="log-"]');
    return log ? log.id.slice('log-'.length) : '';
  }
  // markRead tells the server this page showed room up to message id,
  // coalescing a burst of messages into one request.
  const reading = new Map(); // room → newest id to mark
  let readTimer = null;
  function markRead(room, id) {
    reading.set(room, Math.max(id, reading.get(room) || 0));
    if (readTimer) return;
    readTimer = setTimeout(() => {
      readTimer = null;
      for (const [r, upTo] of reading) {
        fetch('/rooms/' + r + '/read', {
          method: 'POST', credentials: 'same-origin',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ up_to: String(upTo) }),
        }).catch(() => {}); // the next page load marks it anyway
      }
      reading.clear();
    }, 200);
  }
  // A tab shown again reads the room on screen up to its newest message.
  function readOnScreen() {
    const room = roomOnScreen();
    const el = room && document.getElementById('counts-' + room);
    const newest = room && [...document.querySelectorAll('#log-' + room + ' > li.msg')].pop();
    if (!el || !newest || document.hidden) return;
    if ((Number(el.dataset.unread) || 0) > 0) markRead(room, Number(newest.id.slice('msg-'.length)));
    counted.delete(room);
    el.dataset.unread = el.dataset.mentions = '0';
    paint(el);
    showTotal();
  }

  function arrived(fragment) {
    const read = fragment && /^\s*<hx-partial hx-target="#counts-(\d+)"/.exec(fragment);
    if (read) {
      const el = document.getElementById('counts-' + read[1]);
      if (el) settle(el);
      showTotal();
      return;
    }
    const m = message(fragment);
    if (!m || m.system || m.author === me) return;
    const el = document.getElementById('counts-' + m.room);
    if (!el) {
      refreshSidebar(m.room);
      return;
    }
    if (m.id <= (Number(el.dataset.last) || 0)) return; // counted (or read) already
    if (m.room === roomOnScreen() && !document.hidden) {
      el.dataset.last = String(m.id);
      markRead(m.room, m.id);
      return;
    }
    const mention = mentionsMe(m.mentions);
    if (!counted.has(m.room)) counted.set(m.room, []);
    counted.get(m.room).push({ id: m.id, mention });
    add(el, m.id, mention);
    showTotal();
  }

  // Messages that mention this page's user stand out (the same bytes go
  // to everyone, so the page picks its own out).
  function markMentions(root) {
    for (const li of root.querySelectorAll('li.msg[data-mentions]:not([data-seen])')) {
      li.dataset.seen = '';
      if (li.dataset.author !== me && mentionsMe(li.dataset.mentions.split(' '))) li.classList.add('mentions-me');
    }
  }
  document.addEventListener('htmx:after:swap', () => markMentions(document));

  // @-suggestions. Typing "@al" in a composer asks the server (htmx, the
  // #mention-list element) for members whose name starts with "al"; the
  // arrow keys move through them, Enter or Tab picks one, Escape closes.
  function isComposer(box) {
    return box instanceof HTMLTextAreaElement && box.form && box.form.classList.contains('composer');
  }
  // mentionAt is the @word the caret ends, if any.
  function mentionAt(box) {
    const before = box.value.slice(0, box.selectionStart);
    const m = /(?:^|[^A-Za-z0-9._@-])@([A-Za-z0-9][A-Za-z0-9._-]{0,31})?$/.exec(before);
    return m ? { start: before.length - (m[1] || '').length - 1, q: m[1] || '' } : null;
  }
  // wordOf names an @word (mentionAt's): where it starts and what it holds.
  function wordOf(at) { return at && at.start + ':' + at.q; }
  // dismissed is the @word whose suggestions Escape closed: an answer for
  // it still on its way keeps the list closed, until the word changes.
  let dismissed = null;
  function options(list) { return list ? [...list.querySelectorAll('[role="option"]')] : []; }
  function choose(box, list, i) {
    options(list).forEach((o, j) => o.setAttribute('aria-selected', String(i === j)));
    const chosen = options(list)[i];
    if (chosen) box.setAttribute('aria-activedescendant', chosen.id);
    else box.removeAttribute('aria-activedescendant');
  }
  function closeSuggestions(box, list) {
    list.replaceChildren();
    box.removeAttribute('aria-activedescendant');
  }
  // prune drops the options that no longer fit the @word at the caret
  // and returns the rest: an answer can come after the word changed
  // (typing outran the server), and Enter must not pick a name for a word
  // that is gone.
  function prune(box, list) {
    const at = mentionAt(box);
    const q = at && at.q.toLowerCase();
    for (const o of options(list)) {
      if (!at || !o.dataset.name.toLowerCase().startsWith(q)) o.remove();
    }
    const left = options(list);
    if (!left.length) closeSuggestions(box, list);
    else if (!list.querySelector('[aria-selected="true"]')) choose(box, list, 0);
    return left;
  }
  function pick(box, list, option) {
    const at = mentionAt(box);
    if (!at || !option) return;
    const end = box.selectionStart;
    const text = '@' + option.dataset.name + ' ';
    box.setRangeText(text, at.start, end, 'end');
    closeSuggestions(box, list);
    box.dispatchEvent(new Event('input', { bubbles: true })); // keeps the draft
  }
  document.addEventListener('input', (e) => {
    const box = e.target;
    const list = isComposer(box) && box.form.querySelector('#mention-list');
    if (!list) return;
    const at = mentionAt(box);
    if (!at) {
      dismissed = null;
      closeSuggestions(box, list);
      return;
    }
    if (wordOf(at) === dismissed) return;
    dismissed = null;
    if (options(list).length) prune(box, list);
    box.form.querySelector('#mention-q').value = at.q;
    htmx.trigger(list, 'rtm-mention');
  });
  document.addEventListener('submit', (e) => { // a new message, a new word
    if (e.target.classList.contains('composer')) dismissed = null;
  });
  // Capturing, so that Enter picks a name instead of sending.
  document.addEventListener('keydown', (e) => {
    const box = e.target;
    const list = isComposer(box) && box.form.querySelector('#mention-list');
    if (!list || e.isComposing) return;
    // Escape before the first answer came keeps that answer closed too.
    if (e.key === 'Escape') dismissed = wordOf(mentionAt(box));
    if (!options(list).length) return;
    const opts = prune(box, list);
    if (!opts.length) return;
    let i = opts.findIndex((o) => o.getAttribute('aria-selected') === 'true');
    switch (e.key) {
      case 'ArrowDown': choose(box, list, (i + 1) % opts.length); break;
      case 'ArrowUp': choose(box, list, (i <= 0 ? opts.length : i) - 1); break;
      case 'Enter': case 'Tab': pick(box, list, opts[Math.max(i, 0)]); break;
      case 'Escape': closeSuggestions(box, list); break;
      default: return;
    }
    e.preventDefault();
    e.stopImmediatePropagation();
  }, true);
  document.addEventListener('mousedown', (e) => {
    const option = e.target.closest && e.target.closest('#mention-list [role="option"]');
    if (!option) return;
    e.preventDefault(); // the composer keeps the focus
    const box = option.closest('form').querySelector('textarea[name="body"]');
    pick(box, option.closest('#mention-list'), option);
  });
  // Suggestions that arrive: the first that fits is chosen; ones that
  // arrive after the @word was finished, changed or closed are dropped.
  document.addEventListener('htmx:after:swap', () => {
    const list = document.getElementById('mention-list');
    const box = list && list.closest('form').querySelector('textarea[name="body"]');
    if (!box || !options(list).length) return;
    if (document.activeElement !== box || wordOf(mentionAt(box)) === dismissed) closeSuggestions(box, list);
    else prune(box, list);
  });
  // A conversation someone else just started is not in the sidebar yet:
  // fetch a fresh sidebar (one request at a time), which counts it.
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
        for (const el of fresh.querySelectorAll('.counts')) settle(el);
        showTotal();
      })
      .catch(() => {}) // the next page load shows it anyway
      .finally(() => { refreshing = false; });
  }
  // live.js reports each message fragment it applied, whichever tab of the
  // browser holds the stream.
  document.addEventListener('rtm:event', (e) => arrived(e.detail.data));
  document.addEventListener('visibilitychange', readOnScreen);

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
  // <html data-stream> drives the status dot: live, reconnecting, offline
  // (no network, or the connection failing again and again; live.js),
  // off (closed for good, the notice says why) or signed-out. A reconnect
  // that succeeds within two seconds shows no notice at all.
  let reported = { state: '', text: '' }; // as live.js last said
  let pending;
  function showState() {
    let { state, text } = reported;
    // The browser knows it has no network before the stream finds out
    // (an open stream can look fine for a while).
    if (!navigator.onLine && state !== 'off' && state !== 'signed-out') {
      state = 'offline';
      text = 'You are offline.';
    }
    if (!state) return;
    document.documentElement.dataset.stream = state;
    const dot = document.querySelector('.whoami');
    if (dot) dot.title = state; // not "Live updates" while they are not
    clearTimeout(pending);
    if (state === 'signed-out') return; // its notice is its own (signedOut)
    if (state === 'reconnecting') pending = setTimeout(() => notice(text), 2000);
    else notice(text);
  }
  function streamState(state, text) {
    if (isSignedOut && state !== 'signed-out') return; // over: nothing reconnects
    reported = { state, text: text || '' };
    showState();
  }
  addEventListener('online', showState);
  addEventListener('offline', showState);
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
    streamState('signed-out', '');
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
  // brings them back. Logging out on purpose forgets them. A draft keeps
  // its composer's client id: if it was sent after all (the page left
  // before the answer came), sending it again is answered with the stored
  // message, not posted twice.
  const draftKey = (form) => 'rtm-draft:' + form.getAttribute('action');
  function composers() {
    return document.querySelectorAll('form.composer textarea[name="body"]');
  }
  const clientId = (form) => form.querySelector('input[name="client_id"]')?.value || '';
  function putDraft(box) {
    sessionStorage.setItem(draftKey(box.form), JSON.stringify({ body: box.value, cid: clientId(box.form) }));
  }
  function takeDraft(form) {
    const kept = sessionStorage.getItem(draftKey(form));
    if (kept === null) return null;
    try {
      const d = JSON.parse(kept);
      if (d && typeof d === 'object' && typeof d.body === 'string') return d;
    } catch { /* kept as plain text before */ }
    return { body: kept };
  }
  function saveDrafts() {
    for (const box of composers()) {
      try {
        if (box.value.trim()) putDraft(box);
      } catch { /* storage off or full: the text stays on the page */ }
    }
  }
  function restoreDrafts() {
    for (const box of composers()) {
      try {
        const draft = takeDraft(box.form);
        if (!draft || !draft.body || box.value) continue;
        // Sent, but the page was left before the answer came: the log
        // already holds it as the reader's own newest message.
        if (lastOwnText() === draft.body.trim()) {
          sessionStorage.removeItem(draftKey(box.form));
          continue;
        }
        box.value = draft.body;
        const id = box.form.querySelector('input[name="client_id"]');
        if (id && draft.cid) id.value = draft.cid;
      } catch { /* storage off */ }
    }
  }
  function lastOwnText() {
    const me = document.documentElement.dataset.user;
    const own = document.querySelectorAll('.log li.msg[data-author="' + me + '"] .body');
    return own.length ? own[own.length - 1].textContent.trim() : null;
  }
  document.addEventListener('input', (e) => {
    const box = e.target;
    if (!(box instanceof HTMLTextAreaElement) || !box.form || !box.form.classList.contains('composer')) return;
    try {
      if (box.value) putDraft(box);
      else sessionStorage.removeItem(draftKey(box.form));
    } catch { /* storage off */ }
  });
  // A sent message comes back as an empty composer: its draft is done. A
  // refused one may come back with a new client id (the old one was spent
  // on other text): its draft takes that.
  document.addEventListener('htmx:after:swap', () => {
    for (const box of composers()) {
      try {
        const draft = takeDraft(box.form);
        if (!box.value) sessionStorage.removeItem(draftKey(box.form));
        else if (draft && draft.cid !== clientId(box.form)) putDraft(box);
      } catch { /* storage off */ }
    }
  });

  // Text typed while a message is on its way stays. The answer replaces
  // the whole composer, so what was typed since the send goes into the new
  // one: the rest after what was sent when the answer is an empty composer
  // (sent), or all of it when it holds what was sent (refused).
  const sending = new WeakMap(); // composer form → the text it sent
  document.addEventListener('submit', (e) => {
    const box = e.target.querySelector && e.target.querySelector('textarea[name="body"]');
    if (isComposer(box)) sending.set(box.form, box.value);
  }, true);
  let typedMeanwhile = null; // {ctx, action, sent, typed}: for the composer the answer puts in place
  document.addEventListener('htmx:before:swap', (e) => {
    const ctx = e.detail.ctx;
    let form = ctx && ctx.sourceElement;
    // Over the WebSocket the answer comes from the socket, aimed at the
    // composer by id.
    if (ctx && !sending.has(form) && typeof ctx.target === 'string' && ctx.target.startsWith('#')) form = document.getElementById(ctx.target.slice(1));
    if (!form || !sending.has(form)) return;
    const sent = sending.get(form);
    sending.delete(form);
    const box = form.querySelector('textarea[name="body"]');
    if (e.defaultPrevented || !box || box.value === sent) return; // not replaced, or nothing new
    typedMeanwhile = { ctx, action: form.getAttribute('action'), sent, typed: box.value };
  });
  document.addEventListener('htmx:after:swap', (e) => {
    const kept = typedMeanwhile;
    if (!kept || e.detail.ctx !== kept.ctx) return;
    typedMeanwhile = null;
    const box = [...composers()].find((b) => b.form.getAttribute('action') === kept.action);
    if (!box) return;
    const text = !box.value && kept.typed.startsWith(kept.sent) ? kept.typed.slice(kept.sent.length) : kept.typed;
    if (!text.trim()) return;
    box.value = text;
    box.dispatchEvent(new Event('input', { bubbles: true })); // its count and its draft
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
    tidyLogs();
    localizeTimes(document);
    markMentions(document);
    showTotal();
    restoreDrafts();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', ready);
  else ready();

  // The live-updates switch comes without words or button, so that a page
  // without script shows no switch that does nothing (views.TransportSwitch).
  for (const form of document.querySelectorAll('form.transport[data-other]')) {
    const now = document.createElement('span');
    now.className = 'muted';
    now.textContent = form.dataset.now;
    const b = document.createElement('button');
    b.type = 'submit';
    b.name = 'transport';
    b.value = form.dataset.other;
    b.className = 'link';
    b.textContent = form.dataset.otherLabel;
    form.append(now, b);
  }
})();

// --- Message actions: react, reply, edit, delete. ---
// Fragments are the same for every reader, so they carry no buttons: one
// toolbar moves to the message under the pointer or focus (or whose "⋯"
// was chosen), and offers Edit and Delete on the reader's own messages.
// Without script, "⋯" opens the message's page, which does all of it.
(() => {
  'use strict';
  const me = document.documentElement.dataset.user;
  if (!me || !window.htmx) return;
  const emoji = ['👍', '❤️', '😂', '🎉', '👀', '✅'];
  const post = (url, fields) => fetch(url, {
    method: 'POST', credentials: 'same-origin', headers: { 'HX-Request': 'true' },
    body: new URLSearchParams(fields || {}),
  }).catch(() => null);

  const bar = document.createElement('div');
  bar.className = 'msg-tools';
  bar.setAttribute('role', 'toolbar');
  bar.setAttribute('aria-label', 'Message actions');
  const button = (text, act, title) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = text;
    b.dataset.act = act;
    if (title) b.title = b.ariaLabel = title;
    bar.append(b);
    return b;
  };
  for (const e of emoji) button(e, 'react', 'React with ' + e).dataset.emoji = e;
  button('Reply', 'reply');
  button('Copy link', 'copy', 'Copy a link to this message');
  button('Edit', 'edit').classList.add('own');
  button('Delete', 'delete').classList.add('own');
  const more = document.createElement('a');
  more.textContent = 'More…';
  bar.append(more);

  // A message's own address, from its "⋯" link: /rooms/R/messages/ID.
  const base = (li) => {
    const a = li.querySelector('.meta a.more');
    return a ? a.getAttribute('href').replace(/\/actions$/, '') : '';
  };

  function show(li) {
    if (!li || !li.id || li.contains(bar) || !base(li) || li.querySelector('.edit-form')) return;
    bar.classList.toggle('mine', li.dataset.author === me);
    more.href = base(li) + '/actions';
    li.append(bar);
  }
  const messageOf = (el) => el && el.closest && el.closest('.log li.msg');
  document.addEventListener('mouseover', (e) => show(messageOf(e.target)));
  document.addEventListener('focusin', (e) => { if (!bar.contains(e.target)) show(messageOf(e.target)); });
  document.addEventListener('click', (e) => {
    const dots = e.target.closest && e.target.closest('.log li.msg .meta a.more');
    if (!dots || e.ctrlKey || e.metaKey || e.shiftKey) return;
    e.preventDefault(); // the toolbar instead of the page
    show(messageOf(dots));
    bar.querySelector('button').focus();
  });

  bar.addEventListener('click', (e) => {
    const b = e.target.closest('button');
    const li = bar.parentElement;
    if (!b || !li) return;
    const url = base(li);
    switch (b.dataset.act) {
      case 'react': post(url + '/reactions', { emoji: b.dataset.emoji }); break;
      case 'reply': reply(li); break;
      case 'copy': copyLink(b, new URL(url + '#' + li.id, location.href).href); break;
      case 'edit': edit(li, url); break;
      case 'delete':
        if (confirm('Delete this message?')) htmx.ajax('POST', url + '/delete', { target: '#' + li.id, swap: 'outerHTML' });
        break;
    }
  });

  // Copy link copies a message's permalink and says so: from the toolbar,
  // or from the plain link on the message's own page (the "⋯" page) on a
  // plain click. Where the clipboard cannot be had, the permalink opens.
  function copyLink(b, href) {
    if (!navigator.clipboard) { location.href = href; return; }
    navigator.clipboard.writeText(href).then(() => {
      b.textContent = 'Copied';
      setTimeout(() => { b.textContent = 'Copy link'; }, 2000);
    }, () => { location.href = href; });
  }
  document.addEventListener('click', (e) => {
    const a = e.target instanceof Element ? e.target.closest('a.copy-link') : null;
    if (!a || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    copyLink(a, a.href);
  });

  // Reply: the composer carries the id and shows what it answers.
  function reply(li) {
    const box = document.getElementById('replying');
    const form = box && box.closest('form');
    if (!form) return;
    const id = li.id.replace('msg-', '');
    const body = li.querySelector('.body');
    box.replaceChildren();
    const field = Object.assign(document.createElement('input'), { type: 'hidden', name: 'reply_to', value: id });
    const who = document.createElement('b');
    who.textContent = (li.querySelector('.author') || {}).textContent || '';
    const what = document.createElement('span');
    what.dir = 'auto';
    const text = body ? body.textContent.trim() : '';
    what.textContent = text.length > 120 ? text.slice(0, 119) + '…' : text;
    const cancel = Object.assign(document.createElement('button'), { type: 'button', className: 'link cancel-reply', textContent: 'Cancel' });
    cancel.addEventListener('click', () => { box.replaceChildren(); box.hidden = true; });
    box.append(field, 'Replying to ', who, ' ', what, ' ', cancel);
    box.hidden = false;
    form.querySelector('textarea').focus();
  }

  // Edit in place: the form takes the text's place; Cancel puts it back,
  // saving swaps in the message as it now is (so does its stream event).
  function edit(li, url) {
    const body = li.querySelector('.body');
    if (!body) return;
    const kept = body.cloneNode(true);
    htmx.ajax('GET', url + '/edit', { target: body, swap: 'outerHTML' }).then(() => {
      const form = li.querySelector('.edit-form');
      if (!form) return;
      const box = form.querySelector('textarea');
      box.focus();
      box.setSelectionRange(box.value.length, box.value.length);
      form.querySelector('.cancel-edit').addEventListener('click', (e) => { e.preventDefault(); form.replaceWith(kept); });
    });
  }

  // A reaction chip toggles the same reaction; the reader's own are marked.
  document.addEventListener('click', (e) => {
    const chip = e.target.closest && e.target.closest('.log .rx .r');
    const li = chip && messageOf(chip);
    if (li) post(base(li) + '/reactions', { emoji: chip.dataset.e });
  });
  function markMine(root) {
    for (const r of root.querySelectorAll('.rx .r')) {
      r.classList.toggle('mine', r.dataset.by.includes(' ' + me + ' '));
      r.setAttribute('role', 'button');
      r.tabIndex = 0;
    }
  }
  markMine(document);
  document.addEventListener('htmx:after:swap', () => markMine(document));
  document.addEventListener('rtm:event', () => markMine(document));

  // A reply's quote jumps to its original when the page has it.
  document.addEventListener('click', (e) => {
    const q = e.target.closest && e.target.closest('a.quote');
    const target = q && document.getElementById('msg-' + q.dataset.quote);
    if (!target) return;
    e.preventDefault();
    target.scrollIntoView({ block: 'center' });
    target.classList.remove('flash');
    void target.offsetWidth; // restart the highlight
    target.classList.add('flash');
  });
})();
