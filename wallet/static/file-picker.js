/* File pickers in the page's language (the _macros.html file_picker): writes the names of the chosen
   files under the button. Progressive enhancement: without this script, choosing and sending work;
   the texts come from the page, so this file holds none. */
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll(".file-picker input[type=file]"), function (input) {
    var names = document.getElementById(input.id + "-names");
    if (!names) { return; }
    function show() {
      var files = input.files || [];
      var list = [];
      for (var i = 0; i < files.length; i += 1) { list.push(files[i].name); }
      names.textContent = list.length ? list.join(", ") : names.getAttribute("data-none");
    }
    input.addEventListener("change", show);
    show(); /* a page restored from the back/forward cache keeps its files */
  });
}());
