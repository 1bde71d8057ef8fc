/* The import form: check the size and number of chosen images before sending them.
   Progressive enhancement: without this script the form still works and the server refuses what
   is too large (its own cap). The limits and the messages come from the page (data-* attributes,
   translated text), so this file holds no text and no limit of its own. */
(function () {
  "use strict";
  var input = document.querySelector("input[type=file][data-max-bytes]");
  if (!input || !input.form) { return; }
  var maxBytes = parseInt(input.getAttribute("data-max-bytes"), 10);
  var maxFiles = parseInt(input.getAttribute("data-max-files"), 10);
  var box = document.getElementById(input.getAttribute("data-error"));
  if (!box || !maxBytes) { return; }
  var tooBig = box.querySelector("[data-too-big]");
  var tooMany = box.querySelector("[data-too-many]");
  var names = box.querySelector("[data-names]");

  function check() {
    var files = input.files || [];
    var big = [];
    for (var i = 0; i < files.length; i += 1) {
      if (files[i].size > maxBytes) { big.push(files[i].name); }
    }
    var many = maxFiles > 0 && files.length > maxFiles;
    names.textContent = "";
    big.forEach(function (name) {
      var item = document.createElement("li");
      item.textContent = name;
      names.appendChild(item);
    });
    tooBig.hidden = big.length === 0;
    names.hidden = big.length === 0;
    tooMany.hidden = !many;
    box.hidden = big.length === 0 && !many;
    if (box.hidden) { input.removeAttribute("aria-invalid"); } else { input.setAttribute("aria-invalid", "true"); }
    return box.hidden;
  }

  input.addEventListener("change", check);
  input.form.addEventListener("submit", function (event) {
    if (!check()) {
      event.preventDefault();
      input.focus();
    }
  });
}());
