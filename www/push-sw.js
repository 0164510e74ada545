/*! Switchboard's push handler for a shop's service worker. The shop serves,
 * on its own origin, a one-line worker and names it in the snippet
 * (data-push-worker="/switchboard-sw.js"):
 *   importScripts('https://chat.example.com/push-sw.js');
 * It shows "An agent is available" and, on a click, focuses the chat's page
 * or opens it (the widget there resumes the request). Only pages of the
 * shop's own origin are opened. */
self.addEventListener('push', function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { /* not ours */ }
  event.waitUntil(self.registration.showNotification(data.title || 'An agent is available', {
    body: data.body || '', tag: 'switchboard', requireInteraction: true, data: { url: data.url }
  }));
});
self.addEventListener('notificationclick', function (event) {
  event.notification.close();
  var url = event.notification.data && event.notification.data.url;
  try { if (!url || new URL(url).origin !== self.location.origin) return; } catch (e) { return; }
  event.waitUntil(self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then(function (open) {
    for (var i = 0; i < open.length; i++) if (open[i].url === url && open[i].focus) return open[i].focus();
    return self.clients.openWindow(url);
  }));
});
