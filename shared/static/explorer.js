// The explorer's copy buttons: copy the code block the button names. CSP-friendly, no inline JS.
document.addEventListener("click", function (event) {
  var button = event.target.closest("button[data-copy]");
  if (!button) {
    return;
  }
  var source = document.getElementById(button.getAttribute("data-copy"));
  if (!source || !navigator.clipboard) {
    return;
  }
  navigator.clipboard.writeText(source.textContent).then(function () {
    button.textContent = "copied";
  });
});
