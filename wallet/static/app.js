/* The installed app, for a signed-in person (wallet/views/app_shell.py). Progressive enhancement:
   without JavaScript, or in a browser with no service workers, every page works as before.
   - registers the service worker named by this script's data-sw attribute;
   - says so when the phone has no network (the page may be an old copy);
   - on the offline page, lists the pages this phone keeps (read from the worker's cache);
   - asks the worker to forget its pages when the person signs out.
   Holds no text of its own: the words come from the page. */
(function () {
  "use strict";
  var script = document.currentScript;
  var note = document.getElementById("offline-note");
  function network() { if (note) { note.hidden = navigator.onLine; } }
  window.addEventListener("online", network);
  window.addEventListener("offline", network);
  network();

  if (!("serviceWorker" in navigator)) { return; }
  var worker = script && script.getAttribute("data-sw");
  if (worker) { navigator.serviceWorker.register(worker, {scope: "/"}).catch(function () {}); }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-leaving]"), function (form) {
    form.addEventListener("submit", function () {
      var controller = navigator.serviceWorker.controller;
      if (controller) { controller.postMessage("forget"); }
    });
  });

  var list = document.getElementById("offline-pages");
  if (!list || !window.caches) { return; }
  caches.open("wallet-pages").then(function (cache) {
    return cache.keys().then(function (requests) {
      return Promise.all(requests.map(function (request) {
        return cache.match(request, {ignoreVary: true}).then(function (response) {
          var type = response && response.headers.get("Content-Type") || "";
          if (type.indexOf("text/html") !== 0) { return null; }
          return response.text().then(function (html) {
            var found = /<title>([^<]*)<\/title>/.exec(html);
            var title = document.createElement("textarea");
            title.innerHTML = found ? found[1] : request.url;  // decodes &amp; and friends, runs nothing
            return {url: request.url, title: title.value.split(" · ")[0]};
          });
        });
      }));
    });
  }).then(function (pages) {
    pages = pages.filter(Boolean).sort(function (a, b) { return a.title.localeCompare(b.title); });
    pages.forEach(function (page) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = page.url;
      link.textContent = page.title;
      item.appendChild(link);
      list.appendChild(item);
    });
    var box = document.getElementById("offline-kept");
    if (box && pages.length) { box.hidden = false; }
  }).catch(function () {});
}());
