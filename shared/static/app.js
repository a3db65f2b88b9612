// Small, CSP-friendly glue: no inline scripts anywhere in the app.
document.addEventListener("htmx:responseError", function (event) {
  var target = document.getElementById("flash");
  if (target) {
    target.textContent = "The server answered " + event.detail.xhr.status + ".";
  }
});
