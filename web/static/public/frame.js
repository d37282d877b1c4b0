// Shown in the widget's frame on a salon's site (web/public/embed.py): the page tells the
// site how tall it is, whenever that changes, so that the frame fits it; and the pages
// that may not be framed (the salon's page, managing a booking, paying by a link) open in a
// new tab; the language switch, which needs a cookie, is not offered. Nothing happens
// outside a frame.
(function () {
  "use strict";
  if (window.parent === window) { return; }
  var ancestors = window.location.ancestorOrigins;
  var parentOrigin = ancestors && ancestors.length ? ancestors[0] : "*";
  var root = document.documentElement;
  var last = 0;
  function tell() {
    var height = Math.ceil(root.getBoundingClientRect().height);
    if (height !== last) {
      last = height;
      window.parent.postMessage({ type: "acompte:height", height: height }, parentOrigin);
    }
  }
  // The pages the frame may show: booking, proving who one is, a booking and paying it.
  var framed = /^\/[^/]+\/(book\/|verify\/|booking\/[^/]+\/(pay\/)?)$/;
  function links() {
    var anchors = document.querySelectorAll("a[href]");
    for (var i = 0; i < anchors.length; i++) {
      var link = anchors[i];
      if (link.origin === window.location.origin && !framed.test(link.pathname) && !link.hasAttribute("download")) {
        link.target = "_blank";
        link.rel = "noopener";
      }
    }
  }
  // The language switch keeps its choice in a cookie, which a frame of another site does
  // not get: the frame speaks the visitor's browser's language, and offers no switch.
  function noSwitch() {
    var navs = document.querySelectorAll("nav.lang");
    for (var i = 0; i < navs.length; i++) { navs[i].hidden = true; }
  }
  function start() {
    noSwitch();
    links();
    tell();
    if (window.ResizeObserver) { new ResizeObserver(tell).observe(root); }
    window.addEventListener("load", tell);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
