// RT Messenger's signals: who is typing, who is here, and notifications of
// mentions and direct messages. Every page works without it.
//
// Typing and presence arrive as named stream events (rtm-typing,
// rtm-presence) that live.js turns into DOM events in every tab of the
// browser. Each is rendered once for all of a room's members, so this
// script does what differs per viewer: it leaves its own user out of "is
// typing" and finds the dots to update by user id.
(() => {
  'use strict';

  const me = document.documentElement.dataset.user;
  if (!me) return;

  const parse = (html) => {
    const t = document.createElement('template');
    t.innerHTML = html || ''; // server-rendered and escaped, like every fragment
    return t.content.firstElementChild;
  };
  const post = (url) => fetch(url, { method: 'POST', credentials: 'same-origin', headers: { 'HX-Request': 'true' } }).catch(() => null);
  // Save-Data, or a light mode the server marks on the page: no typing
  // signals either way (the server sends such pages no typing or presence).
  const light = () => Boolean((navigator.connection && navigator.connection.saveData) || 'light' in document.documentElement.dataset);

  // --- Activity: "away" after a few minutes without it in any tab. ---
  // Loading a page and sending count on the server by themselves; input
  // here is reported at most once a minute, and at once when the server
  // has said this user is away.
  const reportEvery = 60000;
  let reported = Date.now(); // this page's load
  let myState = 'online';
  function activity() {
    if (document.hidden) return;
    const now = Date.now();
    if (myState !== 'away' && now - reported < reportEvery) return;
    reported = now;
    myState = 'online'; // until the server says otherwise
    post('/activity');
  }
  for (const type of ['keydown', 'pointerdown', 'pointermove', 'wheel', 'touchstart']) {
    document.addEventListener(type, activity, { passive: true, capture: true });
  }
  document.addEventListener('visibilitychange', activity);

  // --- Presence: every dot of a person shows their state. ---
  const labels = { online: 'Online', away: 'Away', offline: 'Offline' };
  function setPresence(user, state) {
    if (!labels[state]) return;
    if (user === me) myState = document.documentElement.dataset.presence = state;
    for (const dot of document.querySelectorAll('[data-presence-of="' + CSS.escape(user) + '"]')) {
      dot.dataset.presence = state;
      dot.title = labels[state];
      if (dot.firstElementChild) dot.firstElementChild.textContent = ' (' + labels[state] + ') '; // spaced as the server renders it
    }
  }
  document.addEventListener('rtm-presence', (e) => {
    const list = parse(e.detail && e.detail.data);
    if (!list) return;
    for (const li of list.children) {
      for (const user of (li.dataset.users || '').split(' ')) if (user) setPresence(user, li.dataset.presence);
    }
  });

  // --- Typing: sent at most every 3 s per room while typing. ---
  const typingEvery = 3000;
  const lastTyping = new Map(); // room → when this tab last said so
  const composerRoom = (el) => {
    const form = el && el.form;
    if (!form || !form.classList.contains('composer')) return '';
    const room = form.querySelector('input[name="room"]');
    return room ? room.value : '';
  };
  document.addEventListener('input', (e) => {
    const room = composerRoom(e.target);
    if (!room || !e.target.value.trim() || light()) return;
    const now = Date.now();
    if (now - (lastTyping.get(room) || 0) < typingEvery) return;
    lastTyping.set(room, now);
    post('/rooms/' + encodeURIComponent(room) + '/typing');
  });
  // Sending ends the typing (the server clears it); the next message's
  // typing is news at once.
  document.addEventListener('submit', (e) => {
    const box = e.target.querySelector && e.target.querySelector('textarea');
    const room = composerRoom(box);
    if (room) lastTyping.delete(room);
  }, true);

  // "alice is typing…": names in the order they started, without me.
  function typingText(names, count) {
    if (count <= 0) return '';
    if (count > 3 || names.length < count) return 'Several people are typing…';
    if (count === 1) return names[0] + ' is typing…';
    return names.slice(0, -1).join(', ') + ' and ' + names[names.length - 1] + ' are typing…';
  }
  document.addEventListener('rtm-typing', (e) => {
    const list = parse(e.detail && e.detail.data);
    const line = list && document.getElementById('typing-' + list.dataset.room);
    if (!line) return;
    const names = [];
    let mine = 0;
    for (const li of list.children) {
      if (li.dataset.user === me) mine = 1;
      else names.push(li.textContent);
    }
    line.textContent = typingText(names, Number(list.dataset.count) - mine);
  });
  // Events missed while reconnecting could leave someone typing forever.
  document.addEventListener('rtm:state', (e) => {
    if (e.detail.state !== 'live') for (const line of document.querySelectorAll('.typing')) line.textContent = '';
  });

  // --- Notifications: mentions and direct messages while the tab is hidden. ---
  // Off until turned on in this browser. One per message: only the tab
  // holding the browser's stream notifies, and the tag makes a repeat
  // (a second stream in a browser that cannot share one) replace the first.
  const notifyKey = 'rtm-notify';
  const canNotify = 'Notification' in window;
  const notifyOn = () => {
    try { return localStorage.getItem(notifyKey) === 'on'; } catch { return false; }
  };
  function showToggle(note) {
    const box = document.getElementById('notify');
    if (!box) return;
    if (!document.getElementById('notify-toggle')) { // the page leaves it to us: see views.NotifyToggle
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'link';
      b.id = 'notify-toggle';
      const s = document.createElement('span');
      s.className = 'muted';
      s.id = 'notify-state';
      s.setAttribute('role', 'status');
      box.append(b, s);
    }
    const button = document.getElementById('notify-toggle');
    const state = document.getElementById('notify-state');
    box.hidden = false;
    const on = notifyOn() && Notification.permission === 'granted';
    button.setAttribute('aria-pressed', String(on));
    button.textContent = on ? 'Turn notifications off' : 'Notify me of mentions and direct messages';
    state.textContent = note || (on ? 'Notifications are on in this browser.' : '');
  }
  function setNotify(on) {
    try { localStorage.setItem(notifyKey, on ? 'on' : 'off'); } catch { /* storage off: stays off */ }
  }
  async function toggle() {
    if (notifyOn()) {
      setNotify(false);
      return showToggle();
    }
    let permission = Notification.permission;
    if (permission !== 'granted') {
      // Old Safari takes a callback instead of returning a promise.
      permission = await new Promise((done) => {
        const p = Notification.requestPermission(done);
        if (p && p.then) p.then(done, () => done('denied'));
      });
    }
    if (permission !== 'granted') {
      return showToggle('The browser blocks notifications here: allow them in its site settings, then try again.');
    }
    setNotify(true);
    wakeAudio();
    showToggle();
  }
  if (canNotify) {
    document.addEventListener('click', (e) => {
      if (e.target.closest && e.target.closest('#notify-toggle')) toggle();
    });
  }

  // A short chime, made with the Web Audio API: no sound file to load.
  // Browsers let audio start only after a gesture in the page.
  let audio = null;
  function wakeAudio() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === 'suspended') audio.resume();
    } catch { audio = null; }
  }
  function chime() {
    if (!audio || audio.state !== 'running') return;
    const t = audio.currentTime;
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.setValueAtTime(880, t);
    osc.frequency.setValueAtTime(660, t + 0.09);
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.15, t + 0.01);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.25);
    osc.connect(gain).connect(audio.destination);
    osc.start(t);
    osc.stop(t + 0.3);
  }
  for (const type of ['pointerdown', 'keydown']) {
    document.addEventListener(type, () => { if (notifyOn()) wakeAudio(); }, { passive: true, capture: true });
  }

  const leading = () => {
    const el = document.getElementById('stream') || document.getElementById('socket');
    return Boolean(el && (el.hasAttribute('hx-sse:connect') || el.hasAttribute('hx-ws:connect')));
  };
  const notified = new Set();
  function worthNotifying(li, room) {
    const author = li.querySelector('.author');
    const whoami = document.querySelector('.whoami a');
    if (li.dataset.author === me || (author && whoami && author.textContent === whoami.textContent)) return '';
    const mentions = (li.dataset.mentions || '').split(/\s+/);
    const link = document.querySelector('#sidebar a[data-room="' + CSS.escape(room) + '"]');
    // The room's name: the link's own text and <bdi>, not its dots or counts.
    const where = link ? [...link.childNodes].map((n) => (n.nodeType === Node.TEXT_NODE || n.localName === 'bdi' ? n.textContent : ''))
      .join('').replace(/\s+/g, ' ').trim() : 'a room';
    const who = author ? author.textContent : 'Someone';
    if (mentions.includes(me) || mentions.includes('room')) return who + ' mentioned you in ' + where;
    if (link && link.querySelector('[data-presence-of]')) return who; // a direct conversation
    return '';
  }
  document.addEventListener('rtm:event', (e) => {
    if (!canNotify || !document.hidden || !notifyOn() || Notification.permission !== 'granted' || !leading()) return;
    const fragment = parse('<div>' + (e.detail.data || '') + '</div>');
    const target = fragment && fragment.querySelector('[hx-target^="#log-"]');
    const li = target && target.querySelector('li.msg:not(.system)');
    if (!li || notified.has(li.id)) return;
    const room = target.getAttribute('hx-target').slice('#log-'.length);
    const title = worthNotifying(li, room);
    if (!title) return;
    notified.add(li.id);
    const body = li.querySelector('.body');
    const text = body ? body.textContent : '';
    const n = new Notification(title, { body: text.length > 140 ? text.slice(0, 139) + '…' : text, tag: 'rtm-' + li.id });
    n.onclick = () => {
      window.focus();
      location.href = '/rooms/' + encodeURIComponent(room);
    };
    chime();
  });

  function ready() {
    if (canNotify) showToggle();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', ready);
  else ready();
})();
