/* The phone booking form, progressively: clients found as their number is typed, and the
   day's free times fetched when the service, the staff member or the day changes. Without
   JavaScript the page's search form and "Show free times" button do the same. */
(function () {
  "use strict";
  var find = document.getElementById("find");
  var book = document.getElementById("book");
  if (!find || !book || !window.fetch) { return; }
  var q = document.getElementById("q");
  var matches = document.getElementById("matches");
  var status = document.getElementById("match-status");
  var slots = document.getElementById("slots");
  var newClient = document.getElementById("new-client");
  var preview = document.getElementById("deposit-preview");
  var card = document.getElementById("client-card");
  var newRequest = document.getElementById("new-request");
  var cardEmpty = card ? card.innerHTML : "";
  var cardAsked = 0;
  var timer = null;
  var asked = 0;
  var slotsAsked = 0;
  var carried = {};

  /* The new client's fields are in the tab order only while "New client" is chosen. */
  function syncNewClient() {
    var chosen = book.querySelector("input[name=customer]:checked");
    newClient.hidden = !chosen || chosen.value !== "new";
    syncCard(chosen && /^\d+$/.test(chosen.value) ? chosen.value : null);
  }

  /* The chosen client's card beside the form (the region announces it politely), and
     the new request's link made hers. */
  var cardShown = null;
  function syncCard(id) {
    if (!card || id === cardShown) { return; }
    cardShown = id;
    if (newRequest) { newRequest.href = newRequest.dataset.url + (id ? "&customer=" + id : ""); }
    var ticket = ++cardAsked;
    if (!id) { card.innerHTML = cardEmpty; return; }
    fetch(card.dataset.url.replace(/\/0\/card\/$/, "/" + id + "/card/"), {credentials: "same-origin"})
      .then(function (answer) { if (!answer.ok) { throw new Error(answer.status); } return answer.text(); })
      .then(function (html) { if (ticket === cardAsked) { card.innerHTML = html; } })
      .catch(function () { /* a reload shows it */ });
  }
  (function () {
    var chosen = book.querySelector("input[name=customer]:checked");
    cardShown = chosen && /^\d+$/.test(chosen.value) ? chosen.value : null;
  })();

  /* Alt+R: a new request from this call, for the chosen client, by phone. */
  document.addEventListener("keydown", function (event) {
    if (newRequest && event.altKey && !event.ctrlKey && !event.metaKey && (event.code === "KeyR" || event.key === "r" || event.key === "R")) {
      event.preventDefault();
      window.location.assign(newRequest.href);
    }
  });

  /* Enter in any field of the booking takes it once a free time is chosen (not in the
     notes, nor on a button, which does its own); before, it shows the day's free times
     again. Without the script, Enter shows the free times again. */
  book.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key !== "Enter" || event.altKey || event.ctrlKey || event.shiftKey) { return; }
    if (target.tagName === "TEXTAREA" || target.tagName === "BUTTON" || target.tagName === "SUMMARY") { return; }
    event.preventDefault();
    if (!book.querySelector("input[name=start]:checked")) { refreshSlots(); return; }
    var take = document.getElementById("take-booking");
    if (book.requestSubmit) { book.requestSubmit(take); } else { take.click(); }
  });

  /* A search that matched no one: what was typed becomes the new client's number (or
     e-mail, or name), as the page does without the script. */
  function carry(text) {
    var field = text.indexOf("@") >= 0 ? "email"
      : (text.replace(/\D/g, "").length >= 6 && text.replace(/\D/g, "").length >= text.replace(/ /g, "").length - 2) ? "phone" : "name";
    ["name", "phone", "email"].forEach(function (name) {
      var input = document.getElementById("id_" + name);
      if (input.value === (carried[name] || "")) {
        input.value = name === field ? text : "";
        carried[name] = input.value;
      }
    });
    document.getElementById("customer-new").checked = true;
  }

  function getJSON(url) {
    return fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (answer) { if (!answer.ok) { throw new Error(answer.status); } return answer.json(); });
  }

  function radio(name, value, text, checked) {
    var li = document.createElement("li");
    var label = document.createElement("label");
    var input = document.createElement("input");
    var span = document.createElement("span");
    input.type = "radio"; input.name = name; input.value = value; input.checked = !!checked;
    span.textContent = text;
    label.appendChild(input); label.appendChild(span);
    li.appendChild(label);
    return li;
  }

  function showMatches(results) {
    var chosen = book.querySelector("input[name=customer]:checked");
    var keep = chosen && chosen.value !== "new" ? chosen.value : null;
    matches.textContent = "";
    results.forEach(function (c, i) {
      var text = (c.name || "—") + (c.phone ? " · " + c.phone : "") + (c.email ? " · " + c.email : "");
      var item = radio("customer", String(c.id), text, keep ? String(c.id) === keep : (results.length === 1 && i === 0));
      item.firstChild.className = "inline";
      matches.appendChild(item);
    });
    status.textContent = results.length === 0 ? matches.dataset.none
      : results.length === 1 ? matches.dataset.one
      : matches.dataset.many.replace("{count}", results.length);
    book.querySelector("input[name=q]").value = q.value;
    if (!results.length) { carry(q.value.trim()); }
    syncNewClient();
    refreshSlots();
  }

  q.addEventListener("input", function () {
    clearTimeout(timer);
    var text = q.value.trim();
    if (text.length < 2) { return; }
    timer = setTimeout(function () {
      var ticket = ++asked;
      getJSON(q.dataset.url + "?q=" + encodeURIComponent(text)).then(function (data) {
        if (ticket === asked) { showMatches(data.results); }
      }).catch(function () { /* the Search button still works */ });
    }, 250);
  });

  function refreshSlots() {
    var params = new URLSearchParams();
    new FormData(book).forEach(function (value, name) {
      if (value && (name === "service" || name === "staff" || name === "day" || /^guest-\d+-(name|service)$/.test(name))) {
        params.append(name, value);
      }
    });
    var client = book.querySelector("input[name=customer]:checked");
    if (client && /^\d+$/.test(client.value)) { params.append("customer", client.value); }
    var chosen = book.querySelector("input[name=start]:checked");
    var ticket = ++slotsAsked;
    getJSON(book.dataset.slotsUrl + "?" + params.toString()).then(function (data) {
      if (ticket !== slotsAsked) { return; }  /* a later question was asked meanwhile */
      showDeposit(data.deposit);
      slots.textContent = "";
      data.slots.forEach(function (slot) {
        slots.appendChild(radio("start", slot.value, slot.label, chosen && chosen.value === slot.value));
      });
      if (!data.slots.length) {
        var li = document.createElement("li");
        li.className = "muted"; li.textContent = slots.dataset.none;
        slots.appendChild(li);
      }
    }).catch(function () { /* "Show free times" still works */ });
  }
  function showDeposit(deposit) {
    preview.textContent = "";
    if (!deposit) { return; }
    var strong = document.createElement("strong");
    strong.id = "deposit-amount";
    strong.textContent = deposit.none ? book.dataset.noDeposit : book.dataset.deposit.replace("{amount}", deposit.amount);
    var why = document.createElement("span");
    why.id = "deposit-why";
    why.textContent = deposit.why;
    preview.appendChild(strong);
    preview.appendChild(document.createTextNode(" · "));
    preview.appendChild(why);
  }

  book.addEventListener("change", function (event) {
    var name = event.target.name || "";
    if (name === "customer") { syncNewClient(); refreshSlots(); return; }
    if (name === "service" || name === "staff" || name === "day" || /^guest-\d+-service$/.test(name)) { refreshSlots(); }
  });
  syncNewClient();
  /* Spare rows (more services, more people) stay folded until asked for. */
  Array.prototype.forEach.call(book.querySelectorAll("[data-add]"), function (button) {
    var rows = button.closest("fieldset, details").querySelectorAll(button.dataset.add === "service" ? "li[data-spare]" : "fieldset[data-spare]");
    if (!rows.length) { return; }
    Array.prototype.forEach.call(rows, function (row) { row.hidden = true; });
    button.parentNode.hidden = false;
    button.addEventListener("click", function () {
      var next = Array.prototype.filter.call(rows, function (row) { return row.hidden; })[0];
      if (!next) { return; }
      next.hidden = false;
      var field = next.querySelector("select, input");
      if (field) { field.focus(); }
      if (!Array.prototype.some.call(rows, function (row) { return row.hidden; })) { button.parentNode.hidden = true; }
    });
  });
})();
