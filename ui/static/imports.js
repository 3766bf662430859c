// The import page's progress bar follows the import (this page's JSON, the
// members of GET /imports/{id}) without a reload; when the preview or the
// commit ends the page reloads once, to show the errors and the buttons of
// the new state. Without this file the refresh link does the same.
(function () {
  "use strict";
  var card = document.querySelector("[data-import-progress]");
  if (!card) { return; }
  var bar = document.getElementById("import-bar"), text = document.getElementById("import-text"),
    badge = document.getElementById("import-status"), start = badge.dataset.status;
  var counts = ["total", "valid", "invalid", "duplicates", "skipped", "imported"];
  var poll = function () {
    fetch(card.dataset.importProgress, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (im) {
        bar.max = im.max;
        bar.value = im.bar;
        text.textContent = im.text;
        badge.textContent = im.label;
        badge.dataset.status = im.status;
        counts.forEach(function (c) {
          var dd = document.getElementById("count-" + c);
          if (dd) { dd.textContent = new Intl.NumberFormat(document.documentElement.lang).format(im[c]); }
        });
        if (im.status !== start) { window.location.reload(); return; }
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 10000); });
  };
  setTimeout(poll, 500);
})();
