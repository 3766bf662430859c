// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // Filters apply as soon as a select changes.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
    s.addEventListener("change", function () { if (s.form) s.form.submit(); });
  });
  // A form that is being sent cannot be sent twice; a slow one (the AI
  // analysis) says what it is doing.
  document.querySelectorAll("form[method=post]").forEach(function (f) {
    f.addEventListener("submit", function (ev) {
      if (f.dataset.sent) { ev.preventDefault(); return; }
      f.dataset.sent = "1";
      var busy = f.getAttribute("data-busy");
      var btn = ev.submitter || f.querySelector("button");
      if (busy && btn) {
        btn.textContent = busy;
        btn.setAttribute("aria-busy", "true");
      }
    });
  });
})();
