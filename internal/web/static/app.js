// Progressive enhancements only: every page works without this file.
(function () {
  "use strict";
  var KEY = "hp-dismissed-announcements";
  var dismissed = [];
  try { dismissed = JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { dismissed = []; }

  // Breaking bar: each announcement can be dismissed per visitor; a changed announcement
  // has a new id and shows again.
  document.querySelectorAll("[data-announcement]").forEach(function (item) {
    var id = item.getAttribute("data-announcement");
    if (dismissed.indexOf(id) >= 0) { item.hidden = true; return; }
    var button = item.querySelector(".breaking-dismiss");
    if (!button) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      item.hidden = true;
      dismissed.push(id);
      try { localStorage.setItem(KEY, JSON.stringify(dismissed.slice(-50))); } catch (e) { /* private mode */ }
      var main = document.getElementById("main");
      if (main) { main.setAttribute("tabindex", "-1"); main.focus(); }
    });
  });

  // Password fields: a show/hide toggle (paste always works; nothing is blocked).
  document.querySelectorAll("input[data-reveal]").forEach(function (input) {
    var wrap = document.createElement("div");
    wrap.className = "reveal-wrap";
    input.parentNode.insertBefore(wrap, input);
    wrap.appendChild(input);
    var b = document.createElement("button");
    b.type = "button";
    b.className = "reveal";
    b.textContent = "Show";
    b.setAttribute("aria-controls", input.id);
    b.setAttribute("aria-pressed", "false");
    b.setAttribute("aria-label", "Show password");
    b.addEventListener("click", function () {
      var show = input.type === "password";
      input.type = show ? "text" : "password";
      b.textContent = show ? "Hide" : "Show";
      b.setAttribute("aria-pressed", show ? "true" : "false");
    });
    wrap.appendChild(b);
  });

  // Strength meter: advice from the server's own policy; the form's POST still decides.
  document.querySelectorAll("input[data-strength]").forEach(function (input) {
    var meter = document.createElement("div");
    meter.className = "meter";
    meter.setAttribute("aria-hidden", "true");
    meter.appendChild(document.createElement("span"));
    var hint = document.createElement("p");
    hint.className = "help";
    hint.id = input.id + "-strength";
    hint.setAttribute("aria-live", "polite");
    var field = input.closest(".field") || input.parentNode;
    field.appendChild(meter);
    field.appendChild(hint);
    var timer = null;
    var form = input.form;
    function val(name) { var f = form && form.elements[name]; return f && f.value ? f.value : ""; }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        if (!input.value) { meter.dataset.score = "0"; meter.firstChild.style.width = "0"; hint.textContent = ""; return; }
        fetch("/api/v1/password/strength", {
          method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ password: input.value, email: val("email") || val("username"), name: val("name") })
        }).then(function (r) { return r.json(); }).then(function (d) {
          meter.dataset.score = String(d.score);
          meter.firstChild.style.width = ((d.score + 1) * 20) + "%";
          hint.textContent = d.ok ? (d.score >= 3 ? "Strong password." : "Acceptable. " + (d.hint || "")) : d.hint;
        }).catch(function () { /* the form still works without advice */ });
      }, 300);
    });
  });

  // Print view: a button that opens the browser's print dialog.
  document.querySelectorAll(".print-button").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { window.print(); });
  });
})();
