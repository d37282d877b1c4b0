/* Acompte: the salon's online booking, shown where this script's tag is. */
(function () {
  "use strict";
  var origin = "{{ origin|escapejs }}";
  var script = document.currentScript;
  if (!script || !script.parentNode) { return; }
  var frame = document.createElement("iframe");
  frame.src = "{{ src|escapejs }}";
  frame.title = "{{ title|escapejs }}";
  frame.setAttribute("allow", "payment");
  frame.setAttribute("data-acompte-widget", "");
  frame.style.cssText = "display:block;width:100%;max-width:100%;height:720px;border:0;";
  script.parentNode.insertBefore(frame, script.nextSibling);
  // The booking page says how tall it is; only it is listened to.
  window.addEventListener("message", function (event) {
    if (event.origin !== origin || event.source !== frame.contentWindow) { return; }
    var data = event.data;
    if (!data || data.type !== "acompte:height") { return; }
    var height = Math.ceil(Number(data.height));
    if (height > 0 && height < 100000) { frame.style.height = height + "px"; }
  });
})();
