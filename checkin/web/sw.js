// Service worker of the site-lead page (served as /checkin-sw.js, scope /p/).
// Network first, always: it answers from its cache only when the network
// fails, so a site lead who reloads the page without signal still gets the
// page and its outbox (kept in localStorage) instead of the browser's error.
// The page fills the cache itself after its first load (app.js).

const CACHE = "launchday-checkin-v1";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("launchday-checkin-") && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (e) => {
  const req = e.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== location.origin) return;
  const page = url.pathname.startsWith("/p/");
  if (!page && !url.pathname.startsWith("/static/checkin/")) return;
  const key = url.origin + url.pathname; // ?display=1 is the same page
  e.respondWith(fetch(req).then((res) => {
    if (res.ok) {
      const copy = res.clone();
      e.waitUntil(caches.open(CACHE).then((c) => c.put(key, copy)));
    }
    return res;
  }).catch(() => caches.match(key).then((hit) => hit || Response.error())));
});
