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

  // Print view: a button that opens the browser's print dialog.
  document.querySelectorAll(".print-button").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { window.print(); });
  });
})();
