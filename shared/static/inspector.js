// The operation inspector stays open or closed as the learner left it, per browser.
// htmx's out-of-band swap replaces the panel's children only, so this listener survives it.
(function () {
  var KEY = "dynamodb-lab.inspector.open";
  var panel = document.getElementById("inspector-panel");
  if (!panel) {
    return;
  }
  try {
    panel.open = window.localStorage.getItem(KEY) === "1";
  } catch (error) {
    // Storage can be disabled; the panel then starts closed on every page.
  }
  panel.addEventListener("toggle", function () {
    try {
      window.localStorage.setItem(KEY, panel.open ? "1" : "0");
    } catch (error) {
      // Nothing to remember with.
    }
  });
})();
