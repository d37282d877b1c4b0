/* The slot picker, over the public availability endpoint. Without this script the page
   works the same through links and a "show" button; with it, weeks, days, the service and
   the staff member change in place. */
(function () {
  "use strict";
  var root = document.querySelector("[data-slot-picker]");
  if (!root || !window.fetch || !window.Intl || !root.dataset.api) { return; }
  document.documentElement.classList.add("js");
  var text = JSON.parse(document.getElementById("picker-text").textContent);
  var lang = document.documentElement.lang || "en";
  var plural = new Intl.PluralRules(lang);
  var data = root.dataset;
  var state = {service: data.service, staff: data.staff, week: data.week, day: data.day,
               selected: data.selected, byDay: {}};
  var statusLine = root.querySelector("[data-picker-status]");
  var body = root.querySelector("[data-picker-body]");

  function addDays(iso, n) {
    var d = new Date(iso + "T12:00:00Z");
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  }
  function monday(iso) {
    var d = new Date(iso + "T12:00:00Z");
    return addDays(iso, -((d.getUTCDay() + 6) % 7));
  }
  function dayLabel(iso, long) {
    var options = long ? {weekday: "long", day: "numeric", month: "long", year: "numeric"}
                       : {weekday: "short", day: "numeric", month: "short"};
    options.timeZone = "UTC";
    return new Intl.DateTimeFormat(lang, options).format(new Date(iso + "T12:00:00Z"));
  }
  function serviceParams(params, forPage) {
    var ids = state.service ? state.service.split(",") : [];
    if (ids.length === 1) { params.set("service", ids[0]); }
    else if (forPage) {
      ids.forEach(function (id) { params.append("services", id); });
      params.set("order", state.service);
    } else if (ids.length) { params.set("services", state.service); }
    if (!forPage && data.guests) { params.set("guests", data.guests); }
    return params;
  }
  function link(day) {
    var params = new URLSearchParams();
    if (state.service && document.querySelector("[data-picker-control=service]")) { serviceParams(params, true); }
    if (state.staff) { params.set("staff", state.staff); }
    params.set("day", day);
    return "?" + params.toString() + "#times";
  }
  function el(tag, attrs, content) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (content !== undefined) { node.textContent = content; }
    return node;
  }

  function render() {
    body.textContent = "";
    if (!state.service) { return; }
    var nav = el("nav", {"class": "weeks", "aria-label": text.weeks});
    var previousWeek = addDays(state.week, -7), nextWeek = addDays(state.week, 7);
    [["previous", state.week > data.firstWeek, previousWeek < data.today ? data.today : previousWeek, "← " + text.previous],
     ["next", nextWeek <= data.lastDay, nextWeek, text.next + " →"]].forEach(function (item) {
      nav.appendChild(item[1] ? el("a", {href: link(item[2]), "data-week-nav": item[0], "data-to": item[2]}, item[3])
                              : el("span", {"class": "muted", "aria-disabled": "true"}, item[3]));
    });
    body.appendChild(nav);
    var days = el("ul", {"class": "days"});
    for (var i = 0; i < 7; i++) {
      var day = addDays(state.week, i), li = el("li");
      if (day < data.today || day > data.lastDay) {
        li.appendChild(el("span", {"class": "day muted"}, dayLabel(day)));
      } else {
        var count = (state.byDay[day] || []).length;
        var a = el("a", {"class": "day", href: link(day), "data-day": day}, dayLabel(day) + " ");
        a.appendChild(el("small", {}, text[plural.select(count) === "one" ? "one" : "other"].replace("%s", count)));
        if (day === state.day) { a.setAttribute("aria-current", "date"); }
        li.appendChild(a);
      }
      days.appendChild(li);
    }
    body.appendChild(days);
    var fieldset = el("fieldset");
    fieldset.appendChild(el("legend", {}, text.legend.replace("%s", dayLabel(state.day, true))));
    var times = el("ul", {"class": "times"});
    var slots = state.byDay[state.day] || [];
    slots.forEach(function (slot, n) {
      var li = el("li"), id = "slot-" + (n + 1);
      var input = el("input", {type: "radio", name: "start", id: id, value: slot.start});
      if (slot.start === state.selected) { input.checked = true; }
      li.appendChild(input);
      li.appendChild(el("label", {"for": id}, slot.start.slice(11, 16)));
      times.appendChild(li);
    });
    if (!slots.length) { times.appendChild(el("li", {"class": "muted"}, text.none)); }
    fieldset.appendChild(times);
    body.appendChild(fieldset);
  }

  function busy(loading) {
    root.dataset.state = loading ? "loading" : "ready";
    root.setAttribute("aria-busy", loading ? "true" : "false");
  }

  function load(pickFirst) {
    var ticket = state.ticket = (state.ticket || 0) + 1;
    if (!state.service) { render(); busy(false); return; }
    busy(true);
    statusLine.textContent = text.loading;
    var params = serviceParams(new URLSearchParams({from: state.week, to: addDays(state.week, 6)}), false);
    if (state.staff) { params.set("staff", state.staff); }
    fetch(data.api + "?" + params.toString(), {headers: {Accept: "application/json"}})
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (answer) {
        if (ticket !== state.ticket) { return; }  // a later choice superseded this one
        state.byDay = {};
        answer.slots.forEach(function (s) { (state.byDay[s.start.slice(0, 10)] = state.byDay[s.start.slice(0, 10)] || []).push(s); });
        if (pickFirst || state.day < state.week || state.day > addDays(state.week, 6)) {
          var first = Object.keys(state.byDay).sort()[0];
          state.day = first || (state.week < data.today ? data.today : state.week);
        }
        render();
        busy(false);
        statusLine.textContent = text.updated;
      })
      .catch(function () {
        if (ticket === state.ticket) { busy(false); statusLine.textContent = text.error; }
      });
  }

  root.addEventListener("click", function (event) {
    var target = event.target.closest("a[data-day], a[data-week-nav]");
    if (!target) { return; }
    event.preventDefault();
    if (target.dataset.day) {
      state.day = target.dataset.day;
      render();
      var focus = root.querySelector('a[data-day="' + state.day + '"]');
      if (focus) { focus.focus(); }
    } else {
      state.week = monday(target.dataset.to || target.getAttribute("href").match(/day=([\d-]+)/)[1]);
      load(true);
    }
  });
  root.addEventListener("change", function (event) {
    if (event.target.name === "start") { state.selected = event.target.value; }
  });

  var form = root.closest("form") || document;
  var order = form.querySelector("[data-visit-order]");
  var most = Number((form.querySelector("[data-max-services]") || {dataset: {}}).dataset.maxServices || 5);
  function summary() { return form.querySelector("[data-visit-summary]"); }
  function dueNow() {
    var due = form.querySelector("[data-due-now]"), visit = summary();
    if (!due) { return; }
    var full = form.querySelector("input[name=payment_option][value=full]:checked");
    var ticked = form.querySelectorAll("[data-picker-control=service]:checked");
    var source = ticked.length === 1 ? ticked[0].dataset : (visit && !visit.hidden ? visit.dataset : null);
    due.hidden = !source;
    if (source) { due.querySelector("[data-due-amount]").textContent = full ? source.price : source.deposit; }
  }
  function picked() { return order && order.value ? order.value.split(",") : []; }
  function offeringOf(ids) {
    var offering = {};
    ids.forEach(function (id) {
      var input = document.getElementById("service-" + id);
      (input ? input.dataset.staff.split(" ") : []).forEach(function (s) { offering[s] = true; });
    });
    return offering;
  }
  /* The visit's total, price, deposit and suggested add-ons, as the page itself draws them;
     resolves to whether this is still the latest choice (a later one takes over). */
  var asked = 0, summing = false;  // the picker waits for the latest total before its times
  function refreshSummary() {
    var visit = summary(), ticket = ++asked;
    if (!visit) { return Promise.resolve(true); }
    var params = new URLSearchParams();
    picked().forEach(function (id) { params.append("services", id); });
    params.set("order", picked().join(","));
    return fetch(window.location.pathname + "?" + params.toString(), {headers: {Accept: "text/html"}})
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-visit-summary]");
        if (ticket !== asked) { return false; }
        if (fresh) {
          visit.innerHTML = fresh.innerHTML;
          ["data-price", "data-deposit"].forEach(function (name) { visit.setAttribute(name, fresh.getAttribute(name)); });
          visit.hidden = fresh.hidden;
        }
        return true;
      })
      .catch(function () { return ticket === asked; });  // the totals stay; booking says what it costs
  }
  function choose(input) {
    var ids = picked().filter(function (id) { return id !== input.value; });
    if (input.checked) {
      if (ids.length >= most) { input.checked = false; statusLine.textContent = text.most; return; }
      ids.push(input.value);
    }
    if (order) { order.value = ids.join(","); }
    state.service = ids.join(",");
    var offering = offeringOf(ids);
    var select = form.querySelector("select[data-picker-control=staff]");
    if (select) {
      Array.prototype.forEach.call(select.options, function (option) {
        var hide = ids.length > 0 && option.value && !offering[option.value];
        option.hidden = hide; option.disabled = hide;
        if (hide && option.selected) { select.value = ""; state.staff = ""; }
      });
    }
    dueNow();
    state.ticket = (state.ticket || 0) + 1;  // free times on their way are for the old choice
    busy(true);
    summing = true;
    refreshSummary().then(function (latest) {
      if (latest) { summing = false; dueNow(); load(false); }
    });
  }
  form.addEventListener("click", function (event) {
    var addon = event.target.closest ? event.target.closest("[data-addon]") : null;
    if (!addon) { return; }
    event.preventDefault();
    var input = document.getElementById("service-" + addon.dataset.addon);
    if (input && !input.checked) { input.checked = true; choose(input); input.focus(); }
  });
  form.addEventListener("change", function (event) {
    var control = event.target.dataset ? event.target.dataset.pickerControl : null;
    if (event.target.name === "payment_option") { dueNow(); }
    if (control === "service") {
      choose(event.target);
    } else if (control === "staff") {
      state.staff = event.target.value;
      if (!summing) { load(false); }  // else the total on its way loads them
    }
  });
  busy(false);
  var initial = document.getElementById("picker-week");
  if (initial) {
    var week = JSON.parse(initial.textContent);
    Object.keys(week).forEach(function (day) { state.byDay[day] = week[day].map(function (start) { return {start: start}; }); });
  }
})();
