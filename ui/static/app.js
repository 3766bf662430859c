// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // Filters apply as soon as a select changes.
  document.querySelectorAll("select[data-autosubmit], input[data-autosubmit]").forEach(function (s) {
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
  // Boards: drag a card (mouse, pen or touch) to a column. Only the card's
  // legal moves light up as drop targets; a drop elsewhere snaps back and
  // says why. The move goes through the same form endpoint as the buttons
  // (asking for JSON), and the board reloads to show the new counts.
  var board = document.querySelector("[data-board]");
  if (board) {
    var msg = document.getElementById("board-msg");
    var say = function (text) { if (msg) { msg.textContent = text; } };
    var label = function (stage) {
      var c = board.querySelector('.column[data-stage="' + stage + '"]');
      return c ? c.dataset.label : stage;
    };
    var columns = function () { return board.querySelectorAll(".column[data-stage]"); };
    var move = function (tile, to) {
      var from = tile.dataset.stage;
      if (to === from) { return; }
      var legal = (tile.dataset.next || "").split(" ");
      if (legal.indexOf(to) < 0) {
        say(board.dataset.illegal.replace("{0}", label(from)).replace("{1}", label(to)));
        return;
      }
      // A transfer takes a value and may be blocked, a loss takes a reason:
      // the lead page asks for them.
      var page = tile.querySelector('a[data-move="' + to + '"]');
      if (page) { window.location.href = page.href; return; }
      var body = new URLSearchParams({ csrf: board.dataset.csrf, stage: to });
      fetch(board.dataset.action.replace("{id}", tile.dataset.id), {
        method: "POST", credentials: "same-origin", body: body,
        headers: { "Accept": "application/json" }
      }).then(function (r) {
        return r.json().then(function (j) { return { ok: r.ok && j.ok, message: j.message }; });
      }).then(function (res) {
        if (res.ok) { window.location.reload(); } else { say(res.message); }
      }).catch(function () { say(board.dataset.illegal.replace("{0}", label(from)).replace("{1}", label(to))); });
    };
    var drag = null, suppress = false;
    document.addEventListener("click", function (c) {
      if (suppress) { c.preventDefault(); c.stopPropagation(); }
    }, true);
    var columnAt = function (x, y) {
      var el = document.elementFromPoint(x, y);
      return el ? el.closest(".column[data-stage]") : null;
    };
    board.addEventListener("pointerdown", function (ev) {
      var tile = ev.target.closest(".tile[data-id]");
      if (!tile || ev.button !== 0 || ev.target.closest("button, form")) { return; }
      drag = { tile: tile, x: ev.clientX, y: ev.clientY, moving: false };
    });
    document.addEventListener("pointermove", function (ev) {
      if (!drag) { return; }
      var dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
      if (!drag.moving) {
        if (Math.abs(dx) + Math.abs(dy) < 8) { return; }
        drag.moving = true;
        drag.tile.classList.add("dragging");
        var legal = (drag.tile.dataset.next || "").split(" ");
        columns().forEach(function (c) {
          if (legal.indexOf(c.dataset.stage) >= 0) { c.classList.add("drop-ok"); }
        });
      }
      ev.preventDefault();
      drag.tile.style.transform = "translate(" + dx + "px," + dy + "px)";
      columns().forEach(function (c) { c.classList.remove("drop-over"); });
      var over = columnAt(ev.clientX, ev.clientY);
      if (over && over.classList.contains("drop-ok")) { over.classList.add("drop-over"); }
    });
    document.addEventListener("pointerup", function (ev) {
      if (!drag) { return; }
      var d = drag;
      drag = null;
      if (!d.moving) { return; }
      d.tile.classList.remove("dragging");
      d.tile.style.transform = ""; // snap back; a legal move reloads the board
      columns().forEach(function (c) { c.classList.remove("drop-ok", "drop-over"); });
      // The click that ends a drag is not a click on the card's link.
      suppress = true;
      setTimeout(function () { suppress = false; }, 0);
      var col = columnAt(ev.clientX, ev.clientY);
      if (col) { move(d.tile, col.dataset.stage); }
    });
  }
  // Batch re-analyses: each unfinished batch's bar follows its progress
  // (the page's JSON, the members of GET /ai/batches/{id}) until it is done.
  document.querySelectorAll("[data-batch-progress]").forEach(function (li) {
    var bar = li.querySelector("progress"), text = li.querySelector(".batch-text"),
      badge = li.querySelector(".batch-status");
    var poll = function () {
      fetch(li.dataset.batchProgress, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (b) {
          bar.max = Math.max(b.total, 1);
          bar.value = b.done + b.failed;
          text.textContent = b.text;
          badge.textContent = b.label;
          badge.dataset.status = b.status;
          if (b.status === "done" || b.status === "failed") {
            li.removeAttribute("data-batch-progress");
            return;
          }
          setTimeout(poll, 3000);
        })
        .catch(function () { setTimeout(poll, 15000); });
    };
    setTimeout(poll, 1000);
  });
  // The lead list's "select all on this page" ticks every row, and unticking
  // a row unticks it. Without this file the server reads "all" on its own.
  var all = document.getElementById("bulk-all");
  if (all) {
    var picks = document.querySelectorAll('input[name="ids"][form="bulk-form"]');
    all.addEventListener("change", function () {
      picks.forEach(function (p) { p.checked = all.checked; });
    });
    picks.forEach(function (p) {
      p.addEventListener("change", function () {
        all.checked = Array.prototype.every.call(picks, function (q) { return q.checked; });
      });
    });
  }
})();
