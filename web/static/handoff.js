// Portal del Cliente: POST the data-* fields of this script tag to its data-action (same origin), so that the
// server can answer with an HttpOnly cookie and a redirect. Loaded by the sign-in and sign-out steps.
(function () {
  var script = document.currentScript;
  if (!script) { return; }
  var action = script.dataset.action || "";
  if (action.charAt(0) !== "/" || action.charAt(1) === "/") { return; }
  var form = document.createElement("form");
  form.method = "POST";
  form.action = action;
  form.style.display = "none";
  Object.keys(script.dataset).forEach(function (name) {
    if (name === "action") { return; }
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = script.dataset[name];
    form.appendChild(input);
  });
  document.body.appendChild(form);
  form.submit();
})();
