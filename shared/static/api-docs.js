// Starts Swagger UI on /docs. A file, not an inline script, so the page keeps the app's CSP.
(function () {
  "use strict";
  var SAFE_METHODS = ["GET", "HEAD", "OPTIONS"];

  // The API refuses a state-changing call without the CSRF token of the caller's session,
  // so "Try it out" fetches it first, as any API client does.
  function withCsrfToken(request) {
    var method = (request.method || "GET").toUpperCase();  // the spec fetch names none
    if (SAFE_METHODS.indexOf(method) !== -1) {
      return request;
    }
    return fetch("/api/v1/auth/session", { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (session) {
        request.headers["X-CSRF-Token"] = session.csrf_token;
        return request;
      });
  }

  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    requestInterceptor: withCsrfToken,
  });
})();
