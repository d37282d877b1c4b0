// The desk's scheduler, on top of the server-rendered grid: it refreshes itself when a
// booking of the shown days changes (polling a small version with an ETag, every ~15 s;
// the grid is fetched again only when the version moved, or every five minutes for the
// "now" line), and a booking dragged onto a free time opens the move's confirmation.
(function () {
  "use strict";
  var board = document.getElementById("day-board");
  if (!board) return;
  var live = document.getElementById("day-live");
  var etag = null;
  var rendered = Date.now();
  var seconds = parseInt(board.dataset.poll, 10) || 15;

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("day-board");
    if (!fresh) return;
    var focused = document.activeElement;
    var focusKey = focused && board.contains(focused) ? focused.getAttribute("href") : null;
    var scroll = board.scrollLeft;
    board.innerHTML = fresh.innerHTML;
    board.dataset.version = fresh.dataset.version;
    board.scrollLeft = scroll;
    rendered = Date.now();
    if (focusKey) {
      var again = board.querySelector('[href="' + focusKey.replace(/"/g, '\\"') + '"]');
      if (again) again.focus();
    }
    if (live) live.textContent = board.dataset.updated;
  }

  function reload() {
    return fetch(window.location.href, { credentials: "same-origin" })
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (html) { if (html) swap(html); });
  }

  function poll() {
    if (document.hidden) return;
    var headers = etag ? { "If-None-Match": etag } : {};
    fetch(board.dataset.versionUrl, { credentials: "same-origin", headers: headers, cache: "no-store" })
      .then(function (answer) {
        if (answer.status === 304) return null;
        if (!answer.ok) return null;
        etag = answer.headers.get("ETag");
        return answer.json();
      })
      .then(function (body) {
        if (body && body.version !== board.dataset.version) return reload();
        if (Date.now() - rendered > 5 * 60 * 1000) return reload();
      })
      .catch(function () { /* offline for a moment: the next poll tries again */ });
  }
  window.setInterval(poll, seconds * 1000);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) poll(); });

  // Drag and drop: a movable block onto a free time of a staff member.
  var dragged = null;
  board.addEventListener("dragstart", function (event) {
    var block = event.target.closest && event.target.closest(".day-block[data-move-url]");
    if (!block) return;
    dragged = block;
    block.classList.add("day-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", block.dataset.moveUrl);
  });
  board.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("day-dragging");
    dragged = null;
  });
  function cellOf(event) {
    return event.target.closest ? event.target.closest(".day-cell[data-staff]") : null;
  }
  board.addEventListener("dragover", function (event) {
    var cell = cellOf(event);
    if (!cell || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    cell.classList.add("day-drop");
  });
  board.addEventListener("dragleave", function (event) {
    var cell = cellOf(event);
    if (cell) cell.classList.remove("day-drop");
  });
  board.addEventListener("drop", function (event) {
    var cell = cellOf(event);
    if (!cell || !dragged) return;
    event.preventDefault();
    var url = dragged.dataset.moveUrl + "?" + new URLSearchParams({
      staff: cell.dataset.staff, start: cell.dataset.start
    }).toString();
    window.location.assign(url);
  });
})();
