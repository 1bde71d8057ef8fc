/* The service worker: the signed-in person's own pages readable with no network (wallet/views/app_shell.py).
   Network first, always: online, every page is the server's answer of the moment. What it keeps:
   - the shell (stylesheets, scripts, logo, the offline page), the same for everyone;
   - the pages the SERVER marks `X-Offline: owner=<tag>` (one account's own GET pages), for one
     account at a time: a page of another account empties them first.
   What it forgets: everything it kept of the account when the server says `X-Offline: forget`
   (a page rendered for nobody signed in), when a kept address stops being answered as the
   owner's page (404, sent to the login page), when the person signs out or in (a POST to the
   login or logout address), and the browser empties it all on `Clear-Site-Data` at logout.
   It never keeps a POST's answer, a public page, or anyone else's page. */
"use strict";
const CONFIG = {{ config|tojson }};
const SHELL = "wallet-shell-" + CONFIG.version;
const PAGES = "wallet-pages";
const OWNER = new URL("/__wallet-offline-owner", self.location.origin).href;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => Promise.all(CONFIG.shell.map((url) =>
    fetch(url, {credentials: "omit", cache: "no-cache"}).then((response) => {
      if (response.ok) { return cache.put(url, response); }
      return undefined;
    }).catch(() => undefined)))).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((names) => Promise.all(names
    .filter((name) => name.startsWith("wallet-shell-") && name !== SHELL)
    .map((name) => caches.delete(name)))).then(() => self.clients.claim()));
});

function forget() {
  return caches.delete(PAGES);
}

self.addEventListener("message", (event) => {
  if (event.data === "forget") { event.waitUntil(forget()); }
});

async function ownerOf(cache) {
  const kept = await cache.match(OWNER);
  return kept ? kept.json() : null;
}

async function keep(request, response, owner) {
  let cache = await caches.open(PAGES);
  const known = await ownerOf(cache);
  if (!known || known.tag !== owner) {
    await caches.delete(PAGES);  // another account's pages never stay beside these
    cache = await caches.open(PAGES);
  }
  const lang = response.headers.get("Content-Language") || "fr";
  await cache.put(OWNER, new Response(JSON.stringify({tag: owner, lang: lang}),
                                      {headers: {"Content-Type": "application/json"}}));
  await cache.put(request, response);
}

async function drop(request) {
  const cache = await caches.open(PAGES);
  await cache.delete(request);
}

async function fromNetwork(event) {
  const request = event.request;
  const response = await fetch(request);
  const mark = response.headers.get("X-Offline") || "";
  if (mark.startsWith("owner=") && response.status === 200 && response.type === "basic") {
    event.waitUntil(keep(request, response.clone(), mark.slice(6)));
  } else if (mark === "forget") {
    event.waitUntil(forget());
  } else {
    event.waitUntil(drop(request));  // no longer the owner's page: do not show an old copy
  }
  return response;
}

async function offlineAnswer(request) {
  const kept = await caches.match(request, {cacheName: PAGES, ignoreVary: true})
    || await caches.match(request, {cacheName: SHELL, ignoreVary: true});
  if (kept) { return kept; }
  if (request.mode === "navigate") {
    const owner = await ownerOf(await caches.open(PAGES));
    const lang = owner && owner.lang && CONFIG.offline[owner.lang] ? owner.lang : "fr";
    const page = await caches.match(CONFIG.offline[lang], {cacheName: SHELL});
    if (page) { return page; }
  } else if (request.destination === "image") {
    const placeholder = await caches.match(CONFIG.placeholder, {cacheName: SHELL});
    if (placeholder) { return placeholder; }
  }
  return Response.error();
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.method !== "GET") {
    if (CONFIG.leaving.includes(url.pathname)) { event.waitUntil(forget()); }
    return;  // answers to forms go to the page and nowhere else
  }
  event.respondWith(fromNetwork(event).catch(() => offlineAnswer(request)));
});
