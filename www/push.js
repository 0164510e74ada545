/*! Switchboard: subscribes the shop's visitor to Web Push, on the shop's own
 * origin (a cross-origin frame may not ask for notifications). Loaded by
 * loader.js when the customer clicks "Notify me" in the widget; the server
 * writes its VAPID public key in. `asked` is the permission request the
 * loader made during the click (undefined without the Notification API); `done` gets the subscription as JSON, or ''
 * when push is not available or not allowed. */
window.__switchboardPush = function (asked, worker, done) {
  var key = '__VAPID_PUBLIC_KEY__';
  function bytes(text) {
    var raw = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((text.length + 3) % 4));
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  if (!key || !worker || !('serviceWorker' in navigator) || !window.PushManager) return done('');
  // No Notification API: `asked` is undefined, and so never 'granted'.
  Promise.resolve(asked).then(function (permission) {
    if (permission !== 'granted') throw new Error('notifications not allowed');
    return navigator.serviceWorker.register(worker);
  }).then(function () {
    return navigator.serviceWorker.ready;
  }).then(function (registration) {
    return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: bytes(key) });
  }).then(function (subscription) {
    done(JSON.stringify(subscription));
  }, function () { done(''); });
};
