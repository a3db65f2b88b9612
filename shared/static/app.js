// Small, CSP-friendly glue: no inline scripts anywhere in the app.
(function () {
  var inFlight = 0;

  // Every htmx request shows the bar at the top of the page (fixed: it moves nothing) and marks
  // the region it will replace as busy, for screen readers and for the dimmed style.
  document.addEventListener("htmx:beforeRequest", function (event) {
    inFlight += 1;
    document.body.classList.add("is-loading");
    var target = event.detail.target;
    if (target && target.setAttribute) {
      target.setAttribute("aria-busy", "true");
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    inFlight = Math.max(0, inFlight - 1);
    if (inFlight === 0) {
      document.body.classList.remove("is-loading");
    }
    var target = event.detail.target;
    if (target && target.removeAttribute) {
      target.removeAttribute("aria-busy");
    }
  });

  // The message is in the page's language: the server wrote it into the body's data attribute.
  function announce(status) {
    var flash = document.getElementById("flash");
    var template = document.body.getAttribute("data-server-error") || "{status}";
    if (flash) {
      flash.textContent = template.replace("{status}", String(status));
    }
  }

  document.addEventListener("htmx:responseError", function (event) {
    announce(event.detail.xhr.status);
  });
  document.addEventListener("htmx:sendError", function () {
    announce("-");
  });
})();
