// RT Messenger embed: puts one live chat room into any page.
//
//   <script src="https://chat.example/static/embed.js" data-room="7" data-site="3"
//           data-token="<signed by your server>" async></script>
//
// Optional: data-accent, data-bg (#rgb or #rrggbb), data-font (small, medium,
// large), data-density (compact, cozy, roomy), data-scheme (auto, light,
// dark), data-height (px, default 480), data-target (a CSS selector; the
// room goes there instead of right after this script).
//
// It adds one sandboxed <iframe> and one global, RTMessenger: open(),
// close() and setTheme({accent, bg, font, density, scheme}). The frame
// reports its height over postMessage; both sides check the other's origin.
// Hand-written, no dependencies; keep it under 3 KB gzipped (a test checks).
(() => {
  'use strict';

  const name = 'RT Messenger embed: ';
  let script = document.currentScript;
  if (!script || !script.dataset.room) {
    const all = document.querySelectorAll('script[src*="/static/embed.js"][data-room]');
    script = all[all.length - 1];
  }
  const d = script ? script.dataset : {};
  if (!d.room || !d.site) {
    console.error(name + 'the script element needs data-room and data-site.');
    return;
  }

  const origin = new URL(script.src).origin; // the chat server
  let src = origin + '/embed/rooms/' + encodeURIComponent(d.room) + '?site=' + encodeURIComponent(d.site);
  for (const k of ['token', 'accent', 'bg', 'font', 'density', 'scheme']) {
    if (d[k]) src += '&' + k + '=' + encodeURIComponent(d[k]);
  }
  const clamp = (px) => Math.min(4000, Math.max(120, Math.round(px))) + 'px';

  let frame = null;
  let waiting = false; // for the page to parse data-target (or <body>)
  let shown = true;
  let theme = null; // what setTheme asked for, sent again whenever the frame loads

  function sendTheme() {
    // A frame still on about:blank has another origin: the browser drops
    // the message, and the frame's load event sends it again.
    if (frame && frame.contentWindow && theme) {
      frame.contentWindow.postMessage({ type: 'rtm-embed-theme', theme }, origin);
    }
  }

  function create() {
    frame = document.createElement('iframe');
    frame.src = src;
    frame.title = 'Chat';
    frame.setAttribute('sandbox', 'allow-scripts allow-forms allow-same-origin allow-popups');
    const s = frame.style; // CSSOM, so a host with a strict style-src is fine
    s.display = shown ? 'block' : 'none';
    s.width = '100%';
    s.border = '0';
    s.height = clamp(parseInt(d.height, 10) || 480);
    frame.addEventListener('load', sendTheme);
    place();
  }

  function place() {
    let target = null;
    try {
      target = d.target ? document.querySelector(d.target) : null;
    } catch {
      // an invalid selector: reported below
    }
    // An async script may run before the rest of the page is parsed.
    if (!target && document.readyState === 'loading' && (d.target || !document.body)) {
      waiting = true;
      document.addEventListener('DOMContentLoaded', place, { once: true });
      return;
    }
    waiting = false;
    if (target) {
      target.append(frame);
      return;
    }
    if (d.target) console.error(name + 'no element matches data-target ' + d.target + '; the chat goes after the script.');
    if (script.isConnected && script.closest('body')) script.after(frame);
    else document.body.append(frame);
  }

  window.addEventListener('message', (e) => {
    const m = e.data;
    if (!frame || e.origin !== origin || e.source !== frame.contentWindow || !m || m.type !== 'rtm-embed-size') return;
    // A hidden frame measures nothing useful; it reports again once shown.
    if (shown && m.height > 0) frame.style.height = clamp(m.height);
  });

  window.RTMessenger = Object.freeze({
    open() {
      shown = true;
      if (!frame || (!frame.isConnected && !waiting)) create();
      else frame.style.display = 'block';
    },
    close() {
      shown = false;
      if (frame) frame.style.display = 'none';
    },
    setTheme(t) {
      theme = theme || {};
      for (const k of ['accent', 'bg', 'font', 'density', 'scheme']) {
        if (t && t[k] != null) theme[k] = String(t[k]); // the frame checks each value
      }
      sendTheme();
    },
  });

  create();
})();
