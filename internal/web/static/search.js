// Instant search: search boxes marked data-suggest show matching article titles as the
// visitor types, following the WAI-ARIA combobox pattern (list autocomplete, the focus
// stays in the box, aria-activedescendant marks the highlighted option). Without this file
// the boxes are plain search forms.
(function () {
  "use strict";
  var DEBOUNCE_MS = 120;
  var counter = 0;

  function setup(input) {
    var form = input.form;
    if (!form || input.getAttribute("role") === "combobox") { return; }
    var id = input.id || ("q-" + (++counter));
    input.id = id;
    var list = document.createElement("ul");
    list.id = id + "-listbox";
    list.className = "suggest-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Suggested articles");
    list.hidden = true;
    var status = document.createElement("div");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    form.classList.add("has-suggest");
    input.insertAdjacentElement("afterend", list);
    form.appendChild(status);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("autocomplete", "off");

    var items = [], active = -1, timer = 0, pending = null, lastQuery = "";

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(i) {
      var options = list.children;
      if (active >= 0 && options[active]) { options[active].setAttribute("aria-selected", "false"); }
      active = i;
      if (i >= 0 && options[i]) {
        options[i].setAttribute("aria-selected", "true");
        input.setAttribute("aria-activedescendant", options[i].id);
        if (options[i].scrollIntoView) { options[i].scrollIntoView({ block: "nearest" }); }
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function go(i) {
      var s = items[i];
      if (!s) { return; }
      // Through the click counter, like result links on the search page.
      window.location.href = "/search/click?q=" + encodeURIComponent(lastQuery) + "&pos=" + (i + 1) +
        "&slug=" + encodeURIComponent(s.slug) + "&from=suggest&n=" + items.length;
    }

    function render(query, suggestions) {
      items = suggestions || [];
      lastQuery = query;
      while (list.firstChild) { list.removeChild(list.firstChild); }
      active = -1;
      input.removeAttribute("aria-activedescendant");
      if (items.length === 0) {
        close();
        status.textContent = query ? "No suggestions." : "";
        return;
      }
      items.forEach(function (s, i) {
        var li = document.createElement("li");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        var title = document.createElement("span");
        title.className = "suggest-title";
        title.textContent = s.title;
        li.appendChild(title);
        if (s.category) {
          var cat = document.createElement("span");
          cat.className = "suggest-category";
          cat.textContent = s.category;
          li.appendChild(cat);
        }
        // mousedown, not click: the box keeps focus, so blur does not close the list first.
        li.addEventListener("mousedown", function (e) { e.preventDefault(); go(i); });
        li.addEventListener("mousemove", function () { if (active !== i) { highlight(i); } });
        list.appendChild(li);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      status.textContent = items.length + (items.length === 1 ? " suggestion" : " suggestions") +
        ". Use the up and down arrows to choose.";
    }

    function fetchSuggestions() {
      var query = input.value;
      if (query.trim().length < 2) { render("", []); return; }
      if (pending) { pending.abort(); }
      pending = typeof AbortController === "function" ? new AbortController() : null;
      fetch("/api/v1/search/suggest?q=" + encodeURIComponent(query), {
        headers: { "Accept": "application/json" },
        credentials: "same-origin",
        signal: pending ? pending.signal : undefined
      }).then(function (res) {
        return res.ok ? res.json() : { suggestions: [] };
      }).then(function (data) {
        if (input.value === query && document.activeElement === input) { render(query, data.suggestions); }
      }).catch(function () { /* aborted or offline: the form still works */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(fetchSuggestions, DEBOUNCE_MS);
    });
    input.addEventListener("keydown", function (e) {
      var open = !list.hidden;
      switch (e.key) {
        case "ArrowDown":
          e.preventDefault();
          if (!open) { if (items.length) { list.hidden = false; input.setAttribute("aria-expanded", "true"); highlight(0); } else { fetchSuggestions(); } return; }
          highlight(active + 1 < items.length ? active + 1 : 0);
          break;
        case "ArrowUp":
          if (!open) { return; }
          e.preventDefault();
          highlight(active > 0 ? active - 1 : items.length - 1);
          break;
        case "Enter":
          if (open && active >= 0) { e.preventDefault(); go(active); }
          break; // otherwise the form submits: a full search
        case "Escape":
          if (open) { e.preventDefault(); close(); } else if (input.value) { e.preventDefault(); input.value = ""; }
          break;
        case "Tab":
          close();
          break;
      }
    });
    // Some keyboards and assistive tools deliver Enter as a keypress the keydown handler
    // never saw: a highlighted suggestion still wins over submitting the form.
    form.addEventListener("submit", function (e) {
      if (!list.hidden && active >= 0) { e.preventDefault(); go(active); }
    });
    input.addEventListener("blur", function () { setTimeout(close, 100); });
    input.addEventListener("focus", function () { if (items.length && input.value === lastQuery) { list.hidden = false; input.setAttribute("aria-expanded", "true"); } });
  }

  document.querySelectorAll("input[data-suggest]").forEach(setup);
})();
