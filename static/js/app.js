/* Crossline: keyboard shortcuts for lists, CSRF for htmx, small helpers. No framework, no build step. */
(function () {
  "use strict";

  // --- Content-Security-Policy: script-src 'self', no eval, no inline handlers ----------------------------
  // htmx runs `[...]` trigger filters with Function(), which the policy forbids; with allowEval off it skips
  // them. The one filter the pages use, "poll only while the tab is visible", is checked below instead.
  // Indicator styles: htmx would inject a <style> element; the app does not use .htmx-indicator.
  // (htmx and this file are both deferred: this runs before htmx reads the page on DOMContentLoaded.)
  if (window.htmx) {
    htmx.config.allowEval = false;
    htmx.config.includeIndicatorStyles = false;
  }
  var VISIBLE_FILTER = /\s*\[document\.visibilityState\s*==+\s*['"]visible['"]\]/g;
  document.addEventListener("htmx:beforeProcessNode", function (evt) {
    var elt = evt.target, trigger = elt.getAttribute && elt.getAttribute("hx-trigger");
    var unfiltered = trigger && trigger.replace(VISIBLE_FILTER, "");
    if (unfiltered && unfiltered !== trigger) {
      elt.setAttribute("hx-trigger", unfiltered);
      elt.setAttribute("data-poll-visible", "");
    }
  });
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var elt = evt.detail.elt;
    if (document.visibilityState !== "visible" && elt && elt.hasAttribute("data-poll-visible")) {
      evt.preventDefault();
    }
  });
  // Instead of inline handlers: a select that submits its form, a button that shows or hides an element.
  document.addEventListener("change", function (evt) {
    if (evt.target.matches("[data-autosubmit]")) { evt.target.form.requestSubmit(); }
  });
  document.addEventListener("click", function (evt) {
    var toggle = evt.target.closest("[data-toggle-hidden]");
    if (!toggle) { return; }
    var target = document.getElementById(toggle.dataset.toggleHidden);
    if (target) { target.hidden = !target.hidden; }
  });

  // Every htmx request carries the CSRF token (the cookie-less way: from the page's meta tag).
  document.addEventListener("htmx:configRequest", function (evt) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { evt.detail.headers["X-CSRFToken"] = meta.content; }
  });
  // Error responses (4xx) still carry a fragment that says what to fix: swap it in.
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var status = evt.detail.xhr.status;
    if (status >= 400 && status < 500) { evt.detail.shouldSwap = true; evt.detail.isError = false; }
  });

  function typing(evt) {
    var t = evt.target;
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }

  // --- list navigation: j/k move, Enter opens, a assigns to me, e escalates, x selects, / searches ----
  var cursor = -1;
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("[data-row]")); }
  function setCursor(i) {
    var list = rows();
    if (!list.length) { return; }
    cursor = Math.max(0, Math.min(i, list.length - 1));
    list.forEach(function (r, n) {
      r.classList.toggle("cursor", n === cursor);
      r.setAttribute("aria-selected", n === cursor ? "true" : "false");
    });
    var link = list[cursor].querySelector("a[data-open]");
    if (link) { link.focus({ preventScroll: true }); }
    list[cursor].scrollIntoView({ block: "nearest" });
    followInPreview(list[cursor]);
  }

  // --- Split view: the preview beside the list follows the cursor (j/k, arrows, a click on a row) -------
  var previewTimer = null, previewShown = null;
  function previewPane() {
    var pane = document.getElementById("preview");
    // hidden when the split view is off, or on a narrow screen where the list stands alone
    return pane && !pane.hidden && pane.offsetParent !== null ? pane : null;
  }
  function followInPreview(row) {
    var pane = previewPane();
    if (!pane || !row || !row.dataset.preview || row.dataset.preview === previewShown) { return; }
    previewShown = row.dataset.preview;
    clearTimeout(previewTimer);  // a held j asks only for the row it stops on
    previewTimer = setTimeout(function () {
      htmx.ajax("GET", row.dataset.preview, {target: "#preview", swap: "innerHTML"});
    }, 90);
  }
  document.addEventListener("click", function (evt) {
    var row = evt.target.closest("[data-row]");
    if (!row || !previewPane() || evt.target.closest("a, button, input, label, select, textarea, summary")) { return; }
    setCursor(rows().indexOf(row));
  });
  // The split view's button: the layout follows the choice the server kept.
  document.addEventListener("htmx:afterSwap", function (evt) {
    var toggle = evt.detail.elt && evt.detail.elt.id === "split-toggle" ? evt.detail.elt : null;
    if (!toggle) { return; }
    var on = toggle.querySelector("[data-split-toggle]").getAttribute("aria-pressed") === "true";
    var panes = document.getElementById("queue-panes"), pane = document.getElementById("preview");
    if (on) { panes.setAttribute("data-split", ""); } else { panes.removeAttribute("data-split"); }
    pane.hidden = !on;
    previewShown = null;
    if (on && current()) { followInPreview(current()); }
  });
  function current() { var list = rows(); return cursor >= 0 ? list[cursor] : null; }
  function clickIn(row, sel) { var b = row && row.querySelector(sel); if (b) { b.click(); return true; } return false; }

  document.addEventListener("keydown", function (evt) {
    var editing = evt.target.closest && evt.target.closest(".inline-edit");
    if (editing && evt.key === "Escape") {  // Esc cancels an inline edit: the value comes back unchanged
      evt.preventDefault();
      // straight through htmx.ajax: the editor may be pressed before htmx has bound its freshly swapped buttons
      var cancel = editing.querySelector("[data-cancel]");
      htmx.ajax("GET", cancel.getAttribute("hx-get"), {target: cancel.getAttribute("hx-target"), swap: "outerHTML"});
      return;
    }
    if (editing && evt.key === "Enter" && (evt.ctrlKey || evt.metaKey) && evt.target.tagName === "TEXTAREA") {
      evt.preventDefault();
      submitInline(editing);
      return;
    }
    var menu = evt.key === "Escape" && evt.target.closest && evt.target.closest("details.menu[open], details.multi[open]");
    if (menu) {  // Esc closes the open menu (column picker, Save view…, moves) and goes back to its button
      evt.preventDefault();
      menu.open = false;
      menu.querySelector("summary").focus();
      return;
    }
    if ((evt.ctrlKey || evt.metaKey) && (evt.key === "k" || evt.key === "K")) { evt.preventDefault(); openPalette(); return; }
    if (evt.ctrlKey || evt.metaKey || evt.altKey) { return; }
    if (evt.key === "Escape" && typing(evt)) { evt.target.blur(); return; }
    if (typing(evt)) { return; }
    var search = document.querySelector("[data-search]");
    var inList = evt.target.closest && evt.target.closest("[data-ticket-list]");
    if (inList && (evt.key === "ArrowDown" || evt.key === "ArrowUp")) {  // arrows move while the list has focus
      evt.preventDefault();
      var at = cursor >= 0 ? cursor : rows().indexOf(evt.target.closest("[data-row]"));
      setCursor(at + (evt.key === "ArrowDown" ? 1 : -1));
      return;
    }
    // Split view: ArrowRight goes from the list into the preview, ArrowLeft back to the chosen row.
    var pane = previewPane();
    if (pane && inList && evt.key === "ArrowRight") {
      var first = pane.querySelector("a[href], button, summary");
      if (first) { evt.preventDefault(); first.focus(); }
      return;
    }
    if (pane && evt.key === "ArrowLeft" && pane.contains(evt.target) && current()) {
      evt.preventDefault();
      current().querySelector("a[data-open]").focus();
      return;
    }
    switch (evt.key) {
      case "/":
        evt.preventDefault();
        if (search) { search.focus(); search.select(); } else { openPalette(); }
        break;
      case "j": setCursor(cursor + 1); break;
      case "k": setCursor(cursor - 1); break;
      case "Enter": {
        // a focused button, link or menu elsewhere (the preview's move, a menu) does its own thing
        if (evt.target.closest("button, a, summary") && !evt.target.closest("[data-row]")) { return; }
        var row = current();
        if (row && row.dataset.href) { evt.preventDefault(); window.location = row.dataset.href; }
        break;
      }
      case "a":
        if (!clickIn(current(), "[data-action=assign-me]")) { clickIn(document, "[data-key=a]"); }
        break;
      case "e":
        if (!clickIn(current(), "[data-action=escalate]")) { clickIn(document, "[data-key=e]"); }
        break;
      case "p":
        clickIn(current(), "[data-action=pick]");
        break;
      case "x": {
        var box = current() && current().querySelector("input[type=checkbox]");
        if (box) { box.checked = !box.checked; }
        break;
      }
      case "c": {
        var comment = document.querySelector("[data-comment]");
        if (comment) { evt.preventDefault(); comment.focus(); }
        break;
      }
      case "?": {
        var help = document.getElementById("keys-help");
        if (help) { help.hidden = !help.hidden; }
        break;
      }
      default: return;
    }
  });

  // Keep the cursor after the list is refreshed by htmx (same row index); the preview follows if that row
  // is now another ticket. A row swapped on its own (after Take) keeps the cursor mark.
  document.addEventListener("htmx:afterSwap", function (evt) {
    if (evt.target && evt.target.querySelector && evt.target.querySelector("[data-row]") && cursor >= 0) {
      var focused = document.activeElement;
      setCursor(cursor);
      if (focused && focused !== document.body && !focused.closest("[data-ticket-list]") && document.contains(focused)) {
        focused.focus({ preventScroll: true });  // a refresh does not pull the focus out of the preview
      }
    }
  });

  // Select-all checkbox of a bulk form.
  document.addEventListener("change", function (evt) {
    if (evt.target.matches("[data-select-all]")) {
      document.querySelectorAll("input[name=keys]").forEach(function (b) { b.checked = evt.target.checked; });
    }
  });

  // A suggestion button fills its input (the requester of a new ticket) and closes the list.
  document.addEventListener("click", function (evt) {
    var pick = evt.target.closest("[data-fill]");
    if (!pick) { return; }
    var input = document.getElementById(pick.dataset.fill);
    input.value = pick.dataset.value;
    pick.closest("ul").innerHTML = "";
    input.focus();
  });

  // Write / Preview tabs of the comment box.
  document.addEventListener("click", function (evt) {
    var tab = evt.target.closest("[data-tab]");
    if (!tab) { return; }
    var box = tab.closest("[data-tabs]");
    box.querySelectorAll("[data-tab]").forEach(function (t) {
      var on = t === tab;
      t.setAttribute("aria-selected", on ? "true" : "false");
      document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
    });
  });
  // A checkbox dropdown's summary names what is chosen ("Any kind" when nothing is).
  document.addEventListener("change", function (evt) {
    var box = evt.target.closest("details.multi");
    if (!box) { return; }
    var summary = box.querySelector("summary");
    summary.querySelectorAll(".chosen").forEach(function (c) { c.remove(); });
    var any = summary.querySelector(".any");
    box.querySelectorAll("input:checked").forEach(function (input) {
      var span = document.createElement("span");
      span.className = "chosen";
      span.textContent = input.parentNode.textContent.trim();
      summary.insertBefore(span, any);
    });
    any.hidden = !!summary.querySelector(".chosen");
  });
  // A click outside closes an open checkbox dropdown.
  document.addEventListener("click", function (evt) {
    document.querySelectorAll("details.multi[open]").forEach(function (d) {
      if (!d.contains(evt.target)) { d.open = false; }
    });
  });
  // --- Toasts: confirmations ([data-toast]) move to the corner stack, then fade; errors stay in place ----
  var TOAST_MS = 6000;
  function toast(el) {
    var stack = document.getElementById("toasts");
    if (!stack) { return; }
    el.removeAttribute("data-toast");
    el.removeAttribute("role");  // the stack is the one live region
    el.className = "toast";
    var close = document.createElement("button");
    close.type = "button";
    close.className = "close";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    el.appendChild(close);
    stack.appendChild(el);
    var leave = function () {
      el.classList.add("leaving");
      setTimeout(function () { el.remove(); }, 400);
    };
    close.addEventListener("click", leave);
    setTimeout(leave, TOAST_MS);
  }
  function toastsIn(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("[data-toast]").forEach(toast);
  }
  document.addEventListener("DOMContentLoaded", function () { toastsIn(document); });
  document.addEventListener("htmx:afterSwap", function (evt) { toastsIn(evt.detail.elt || document); });
  document.addEventListener("htmx:oobAfterSwap", function (evt) { toastsIn(evt.detail.target || document); });

  // --- Theme and density: buttons in the top bar; stored in this browser (static/js/theme.js applies) ---
  var THEMES = ["system", "light", "dark"];
  function labelControls() {
    var root = document.documentElement;
    var theme = root.getAttribute("data-theme") || "system";
    var density = root.getAttribute("data-density") || "comfortable";
    document.querySelectorAll("[data-theme-toggle]").forEach(function (b) {
      b.setAttribute("aria-label", "Theme: " + (theme === "system" ? "follows the system" : theme) + " (change)");
      b.title = b.getAttribute("aria-label");
    });
    document.querySelectorAll("[data-density-toggle]").forEach(function (b) {
      b.setAttribute("aria-label", "Density: " + density + " (change)");
      b.title = b.getAttribute("aria-label");
    });
  }
  function store(key, value) { try { localStorage.setItem(key, value); } catch (e) { /* private mode */ } }
  document.addEventListener("click", function (evt) {
    var root = document.documentElement;
    if (evt.target.closest("[data-theme-toggle]")) {
      var current = root.getAttribute("data-theme") || "system";
      var next = THEMES[(THEMES.indexOf(current) + 1) % THEMES.length];
      if (next === "system") { root.removeAttribute("data-theme"); } else { root.setAttribute("data-theme", next); }
      store("crossline-theme", next);
      labelControls();
    } else if (evt.target.closest("[data-density-toggle]")) {
      var compact = root.getAttribute("data-density") !== "compact";
      if (compact) { root.setAttribute("data-density", "compact"); } else { root.removeAttribute("data-density"); }
      store("crossline-density", compact ? "compact" : "comfortable");
      labelControls();
    }
  });
  document.addEventListener("DOMContentLoaded", labelControls);

  // --- A checkbox dropdown with many options gets a search box that filters them ----------------------
  document.addEventListener("input", function (evt) {
    if (!evt.target.matches("details.multi input[type=search]")) { return; }
    var text = evt.target.value.trim().toLowerCase();
    evt.target.closest("fieldset").querySelectorAll("label").forEach(function (label) {
      label.hidden = text !== "" && label.textContent.toLowerCase().indexOf(text) < 0;
    });
  });
  // --- Inline editing: a click on a value opens its editor in place, focused; a choice saves at once ----
  // Straight through htmx.ajax: a fast hand (or a test) may save before htmx has bound the fresh editor,
  // and a plain submit would leave the page on the editor's own URL.
  function submitInline(form) {
    var values = {};
    new FormData(form).forEach(function (value, name) { values[name] = value; });
    htmx.ajax("POST", form.getAttribute("hx-post"), {target: "#workspace", swap: "outerHTML", values: values});
  }
  document.addEventListener("click", function (evt) {
    var value = evt.target.closest(".editable[data-edit-button]");
    // not a link in the value, not a selection being made, not the editor itself (it lives inside the value)
    if (!value || evt.target.closest("a, .inline-edit, button, input, select, textarea, label") ||
        window.getSelection().toString()) { return; }
    var button = document.getElementById(value.dataset.editButton);
    if (button) { button.click(); }
  });
  document.addEventListener("htmx:afterSwap", function (evt) {
    var form = evt.detail.elt && evt.detail.elt.querySelector && evt.detail.elt.querySelector(".inline-edit");
    var control = form && form.querySelector("input:not([type=hidden]):not([type=checkbox]), select, textarea");
    if (control) { control.focus(); if (control.select && control.tagName === "INPUT") { control.select(); } }
  });
  document.addEventListener("change", function (evt) {
    var form = evt.target.closest(".inline-edit");
    if (form && evt.target.tagName === "SELECT") { submitInline(form); }
  });
  // --- The command palette: Ctrl+K (or / where the page has no search box) anywhere --------------------
  function openPalette() {
    var dialog = document.getElementById("palette");
    if (!dialog || dialog.open) { return; }
    dialog.showModal();
    var input = dialog.querySelector("input[type=search]");
    input.focus();
    input.select();
  }
  document.addEventListener("click", function (evt) {
    if (evt.target.closest("[data-palette]")) { openPalette(); }
  });
  function paletteOptions() {
    return Array.prototype.slice.call(document.querySelectorAll("#palette-results [data-hit]"));
  }
  function choose(index) {
    var options = paletteOptions();
    options.forEach(function (o, n) { o.setAttribute("aria-selected", n === index ? "true" : "false"); });
    if (options[index]) { options[index].scrollIntoView({ block: "nearest" }); }
  }
  document.addEventListener("htmx:afterSwap", function (evt) {
    if (evt.detail.target && evt.detail.target.id === "palette-results") { choose(0); }
  });
  document.addEventListener("keydown", function (evt) {
    var dialog = document.getElementById("palette");
    if (!dialog || !dialog.open) { return; }
    var options = paletteOptions();
    var current = options.findIndex(function (o) { return o.getAttribute("aria-selected") === "true"; });
    if (evt.key === "ArrowDown" || evt.key === "ArrowUp") {
      evt.preventDefault();
      var step = evt.key === "ArrowDown" ? 1 : -1;
      choose(Math.max(0, Math.min(options.length - 1, current + step)));
    } else if (evt.key === "Enter" && options.length && evt.target.id === "palette-q") {
      evt.preventDefault();  // open the chosen hit; with nothing listed yet the form searches (and jumps to a key)
      window.location = options[Math.max(current, 0)].href;
    }
  });
  // --- The column picker: arrow buttons, Alt+Up/Down and drag order the columns; ticks show them -------
  function announceColumn(item) {
    var list = item.parentNode, items = Array.prototype.slice.call(list.children);
    var status = list.closest("form").querySelector("[data-column-status]");
    var name = item.querySelector("label").textContent.trim();
    if (status) { status.textContent = name + ": position " + (items.indexOf(item) + 1) + " of " + items.length; }
  }
  function moveColumn(item, way) {
    var sibling = way === "up" ? item.previousElementSibling : item.nextElementSibling;
    if (!sibling) { return false; }
    item.parentNode.insertBefore(item, way === "up" ? sibling : sibling.nextElementSibling);
    announceColumn(item);
    return true;
  }
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest("[data-column-move]");
    if (!button) { return; }
    evt.preventDefault();  // with JavaScript the order changes here and is kept with Apply
    moveColumn(button.closest("li"), button.dataset.columnMove);
    button.focus();
  });
  document.addEventListener("keydown", function (evt) {
    var item = evt.target.closest && evt.target.closest("ol.column-list > li");
    if (!item || !evt.altKey || (evt.key !== "ArrowUp" && evt.key !== "ArrowDown")) { return; }
    evt.preventDefault();
    moveColumn(item, evt.key === "ArrowUp" ? "up" : "down");
    evt.target.focus();
  });
  var dragged = null;
  document.addEventListener("dragstart", function (evt) {
    var item = evt.target.closest && evt.target.closest("ol.column-list > li");
    if (!item) { return; }
    dragged = item;
    item.classList.add("dragging");
    evt.dataTransfer.effectAllowed = "move";
    evt.dataTransfer.setData("text/plain", item.dataset.column);
  });
  function dropPlace(evt, item) {
    var box = item.getBoundingClientRect();
    return evt.clientY < box.top + box.height / 2 ? "before" : "after";
  }
  function clearDropMarks(list) {
    list.querySelectorAll(".drop-before, .drop-after").forEach(function (li) { li.classList.remove("drop-before", "drop-after"); });
  }
  document.addEventListener("dragover", function (evt) {
    var item = dragged && evt.target.closest && evt.target.closest("ol.column-list > li");
    if (!item || item.parentNode !== dragged.parentNode) { return; }
    evt.preventDefault();
    clearDropMarks(item.parentNode);
    if (item !== dragged) { item.classList.add("drop-" + dropPlace(evt, item)); }
  });
  document.addEventListener("drop", function (evt) {
    var item = dragged && evt.target.closest && evt.target.closest("ol.column-list > li");
    if (!item || item.parentNode !== dragged.parentNode) { return; }
    evt.preventDefault();
    if (item !== dragged) {
      item.parentNode.insertBefore(dragged, dropPlace(evt, item) === "before" ? item : item.nextElementSibling);
    }
    clearDropMarks(item.parentNode);
    announceColumn(dragged);
  });
  document.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("dragging"); clearDropMarks(dragged.parentNode); dragged = null; }
  });

  // A menu closes once what was done from it succeeded (its form starts empty next time).
  document.addEventListener("htmx:afterRequest", function (evt) {
    var elt = evt.detail.elt;
    var menu = elt && elt.closest && elt.closest("details.menu");
    if (menu && evt.detail.xhr && evt.detail.xhr.status < 400) {  // (4xx are swapped in as messages)
      menu.open = false;
      if (elt.tagName === "FORM") { elt.reset(); }
    }
  });
})();
