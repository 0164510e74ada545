/*! Switchboard chat widget loader. One tag on any page:
 *  <script async src="https://chat.example.com/widget/loader.js" data-service="chat-delay"></script>
 * It draws the launcher at once (fixed position: no layout shift) and opens
 * the widget in an iframe from the Switchboard origin on the first click (or
 * when the browser is idle with data-load="idle"). The host page needs no
 * 'wasm-unsafe-eval'. Messages go to, and are accepted from, that origin and
 * that frame only. Options (data-*): server, service, color, position
 * (right|left), label, lang (or locale; "auto" = the browser's), text-<name>
 * (any string of the widget's table, e.g. data-text-greeting; title and
 * greeting also as data-title, data-greeting), fields (name,email,subject),
 * load (click|idle), push-worker (the shop's one-line service worker for Web
 * Push: importScripts of <server>/push-sw.js), label-offline (the launcher's
 * words while the service is closed or no agent is logged in), user-id,
 * user-name, user-email, user-hash (a signed identity: README, "Verified
 * customers"). A page that logs in later calls
 * Switchboard.identify({userId, name, email, signature}). */
(function () {
  'use strict';
  var script = document.currentScript;
  // Loaded twice (two snippets): the first one's `Switchboard` stops the second.
  if (!script || window.Switchboard) return;
  var d = script.dataset;
  var server = new URL(d.server || script.src, location.href).origin;
  var color = /^[#\w(),.% ]{1,40}$/.test(d.color || '') ? d.color : '#0b5fff';
  var side = d.position === 'left' ? 'left' : 'right';
  var lang = d.lang || d.locale || 'en';
  if (lang === 'auto') lang = navigator.language || 'en';
  // data-text-cancel-request → texts.cancelRequest; the frame shows them as text only.
  var texts = { title: d.title, greeting: d.greeting };
  for (var key in d) if (/^text[A-Z]/.test(key)) texts[key.charAt(4).toLowerCase() + key.slice(5)] = d[key];
  var options = {
    origin: location.origin,
    service: d.service || 'chat-delay',
    lang: lang,
    texts: texts,
    color: color,
    fields: (d.fields || 'name,email,subject').split(','),
    // A notification opens this page with #switchboard-chat: the widget opens and resumes.
    page: location.href.split('#')[0] + '#switchboard-chat',
    push: d.pushWorker ? '1' : ''
  };
  // The identity goes in the options; a later one reloads a loaded frame
  // (a chat in progress resumes) and applies to the next chat request.
  function identify(who) {
    options.identity = who && who.userId ? who : undefined;
    if (frame) { frame.remove(); frame = null; ready = false; if (open) setOpen(true); }
  }
  identify({ userId: d.userId, name: d.userName, email: d.userEmail, signature: d.userHash });
  window.Switchboard = { identify: identify };
  var KEY = 'switchboard.widget.open';
  var frame, ready = false, open = false, savedTitle = null;

  function css(el, rules) { for (var k in rules) el.style[k] = rules[k]; }

  var button = document.createElement('button');
  button.type = 'button';
  var label = d.label || 'Chat';
  button.textContent = label;
  button.setAttribute('aria-expanded', 'false');
  button.lang = lang;
  // The host's own words name the button ("Chat" reads the same in en, de, fr, es).
  var name = d.title || d.label || 'Chat';
  button.setAttribute('aria-label', name);
  button.setAttribute('data-switchboard', 'launcher');
  css(button, {
    position: 'fixed', bottom: '20px', zIndex: '2147483000', height: '56px', minWidth: '56px',
    padding: '0 22px', border: '0', borderRadius: '28px', background: color, color: '#fff',
    font: '600 16px/1 system-ui,sans-serif', boxShadow: '0 4px 14px rgba(0,0,0,.25)', cursor: 'pointer'
  });
  button.style[side] = '20px';

  // The server puts the language's texts in the page (the query); the
  // options stay in the fragment, which never reaches the server.
  function frameUrl() {
    return server + '/widget/?lang=' + encodeURIComponent(lang) + '#' + encodeURIComponent(JSON.stringify(options));
  }

  function place() {
    if (!frame) return;
    var small = window.matchMedia('(max-width: 480px)').matches;
    css(frame, small
      ? { top: '0', bottom: '0', left: '0', right: '0', width: '100%', height: '100dvh', borderRadius: '0' }
      : { top: 'auto', bottom: '88px', width: '380px', height: 'min(620px,calc(100dvh - 108px))', borderRadius: '12px' });
    if (!small) { frame.style[side] = '20px'; frame.style[side === 'right' ? 'left' : 'right'] = 'auto'; }
  }

  function ensureFrame() {
    if (frame) return;
    frame = document.createElement('iframe');
    frame.src = frameUrl();
    frame.title = name;
    frame.setAttribute('allow', 'autoplay');
    frame.setAttribute('data-switchboard', 'frame');
    css(frame, {
      position: 'fixed', zIndex: '2147483001', border: '0', background: '#fff', display: 'none',
      boxShadow: '0 8px 30px rgba(0,0,0,.3)'
    });
    place();
    window.addEventListener('resize', place);
    document.body.appendChild(frame);
  }

  function post(message) {
    if (frame && ready) frame.contentWindow.postMessage(message, server);
  }

  function setOpen(wanted) {
    ensureFrame();
    open = wanted;
    frame.style.display = open ? 'block' : 'none';
    button.setAttribute('aria-expanded', String(open));
    button.textContent = open ? '×' : label;
    try { sessionStorage.setItem(KEY, open ? '1' : ''); } catch (e) { /* storage may be blocked */ }
    if (open) { frame.focus(); post('sb:open'); } else { button.focus(); }
  }

  function restoreTitle() {
    if (savedTitle !== null && !document.hidden) { document.title = savedTitle; savedTitle = null; }
  }

  // A short chime: the host page had the customer's click, so it may play.
  function chime() {
    try {
      var audio = new AudioContext(), tone = audio.createOscillator(), gain = audio.createGain(), now = audio.currentTime;
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.2, now);
      gain.gain.exponentialRampToValueAtTime(0.001, now + 0.6);
      tone.connect(gain);
      gain.connect(audio.destination);
      tone.start();
      tone.stop(now + 0.6);
    } catch (e) { /* no sound available */ }
  }

  function alertHost(text) {
    chime();
    if (!open) setOpen(true);
    if (document.hidden && savedTitle === null) {
      savedTitle = document.title;
      document.title = '\u{1F514} ' + text;
    }
  }

  window.addEventListener('message', function (event) {
    if (event.origin !== server || !frame || event.source !== frame.contentWindow) return;
    var message = event.data;
    if (typeof message !== 'string') return;
    if (message === 'sb:ready') { ready = true; if (open) post('sb:open'); }
    else if (message === 'sb:close') setOpen(false);
    else if (message.indexOf('sb:alert:') === 0) alertHost(message.slice(9));
    else if (message === 'sb:push') push();
  });

  // "Notify me": asked during the customer's click (it reaches this page),
  // subscribed by push.js, answered to the frame ('' = no push).
  function push() {
    var asked = window.Notification && Notification.requestPermission();
    var tag = document.createElement('script');
    tag.src = server + '/push.js';
    tag.onload = function () { window.__switchboardPush(asked, d.pushWorker, function (json) { post('sb:push:' + json); }); };
    tag.onerror = function () { post('sb:push:'); };
    document.head.appendChild(tag);
  }
  document.addEventListener('visibilitychange', restoreTitle);
  button.addEventListener('click', function () { setOpen(!open); });

  // Offline (closed, or no agent logged in; the server's answer is cached
  // for seconds): the launcher says so in grey. Any failure leaves it as is.
  function offline(answer) {
    if (!answer || answer.open !== false) return;
    label = d.labelOffline || 'Leave a message';
    button.setAttribute('data-offline', answer.reason);
    button.setAttribute('aria-label', label);
    if (!open) button.textContent = label;
    button.style.background = '#5f6368';
  }

  function start() {
    document.body.appendChild(button);
    fetch(server + '/widget/availability?service=' + encodeURIComponent(options.service))
      .then(function (r) { return r.json(); }).then(offline, function () {});
    var reopen = false;
    try { reopen = sessionStorage.getItem(KEY) === '1'; } catch (e) { /* ignore */ }
    if (location.hash === '#switchboard-chat') reopen = true;
    if (reopen) setOpen(true);
    else if (d.load === 'idle') (window.requestIdleCallback || setTimeout)(ensureFrame);
  }
  if (document.body) start(); else document.addEventListener('DOMContentLoaded', start);
})();
