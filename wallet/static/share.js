/* A share's page (templates/shares/created.html): « Copier » and the phone's share sheet.
   Progressive enhancement: both buttons are hidden until this script shows them; without it the
   link is selectable text and the SMS and e-mail links still work. The texts come from the page. */
(function () {
  "use strict";
  var status = document.getElementById("share-status");

  function say(text) {
    if (!status) { return; }
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text; }, 50);
  }

  Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), function (button) {
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input) { return; }
    function fallback() {
      input.focus();
      input.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (ignored) { ok = false; }
      say(button.getAttribute(ok ? "data-done" : "data-failed"));
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(input.value).then(function () {
          say(button.getAttribute("data-done"));
        }, fallback);
      } else {
        fallback();
      }
    });
  });

  var share = document.querySelector("button[data-share-url]");
  if (share && typeof navigator.share === "function") {
    share.hidden = false;
    share.addEventListener("click", function () {
      navigator.share({
        title: share.getAttribute("data-share-title"),
        text: share.getAttribute("data-share-text"),
        url: share.getAttribute("data-share-url")
      }).catch(function () { /* the person closed the sheet */ });
    });
  }
}());
