// CICIE pages: progressive enhancement only. Everything works without this file.
// 1. "Add another" buttons for repeatable rows (agenda sessions, speakers, delegates…):
//    the last row is always blank; the button copies it with the next index.
// 2. An action blocked by the rules on the saved data is enabled again as soon as a field of
//    the form changes: the rules are checked on what is submitted, on the server.
// 3. Bounded texts (`.char-count[data-count-for]` under them): a live count; a text over the
//    limit is said to be too long and the form will not send it, instead of the browser
//    cutting it silently (the `maxlength` attribute is lifted once the count is shown).
// 4. Copy buttons for the links to share (`[data-copy-target]`); without script the link sits
//    in a read-only field whose whole text a click selects.
// 5. A refused form's summary of problems (`#error-summary`) gets the focus, so it is read,
//    and the history entry of the refused post becomes the form's page (`data-page`).
(function () {
  "use strict";

  function lastRow(container) {
    var rows = Array.prototype.filter.call(container.children, function (el) {
      return el.hasAttribute("data-row");
    });
    return rows[rows.length - 1] || null;
  }

  function renumber(root, prefix, from, to) {
    var oldStem = prefix + "-" + from;
    var newStem = prefix + "-" + to;
    function swap(value) {
      if (!value) { return value; }
      var head = value.indexOf("f-") === 0 ? "f-" : "";
      var rest = value.slice(head.length);
      if (rest === oldStem || rest.indexOf(oldStem + "-") === 0) {
        return head + newStem + rest.slice(oldStem.length);
      }
      return value;
    }
    var nodes = [root].concat(Array.prototype.slice.call(root.querySelectorAll("*")));
    nodes.forEach(function (el) {
      ["name", "id", "for", "aria-describedby", "data-repeat"].forEach(function (attr) {
        if (el.hasAttribute(attr)) { el.setAttribute(attr, swap(el.getAttribute(attr))); }
      });
    });
  }

  function clear(root) {
    root.querySelectorAll("input, textarea, select").forEach(function (el) {
      if (el.type === "checkbox" || el.type === "radio") { el.checked = false; }
      else if (el.tagName === "SELECT") { el.selectedIndex = 0; }
      else { el.value = ""; }
      el.removeAttribute("aria-invalid");
    });
    root.querySelectorAll(".field-error").forEach(function (el) { el.remove(); });
    // nested repeats keep a single blank row
    root.querySelectorAll("[data-repeat]").forEach(function (inner) {
      var rows = Array.prototype.filter.call(inner.children, function (el) {
        return el.hasAttribute("data-row");
      });
      rows.slice(1).forEach(function (el) { el.remove(); });
    });
  }

  function addRow(container) {
    var prefix = container.getAttribute("data-repeat");
    var row = lastRow(container);
    if (!row) { return; }
    var count = Array.prototype.filter.call(container.children, function (el) {
      return el.hasAttribute("data-row");
    }).length;
    var copy = row.cloneNode(true);
    renumber(copy, prefix, count - 1, count);
    clear(copy);
    var legend = copy.querySelector("legend");
    if (legend) { legend.textContent = legend.textContent.replace(/\d+\s*$/, String(count + 1)); }
    row.parentNode.insertBefore(copy, row.nextSibling);
    wire(copy);
    var first = copy.querySelector("input, textarea, select");
    if (first) { first.focus(); }
  }

  function wire(root) {
    root.querySelectorAll("[data-repeat]").forEach(function (container) {
      if (container.querySelector(":scope > .add-row")) { return; }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "add-row";
      button.textContent = (container.getAttribute("data-add") || "+") + ": " +
        (container.querySelector("legend") || {textContent: ""}).textContent;
      button.addEventListener("click", function () { addRow(container); });
      container.appendChild(button);
    });
  }

  function counters(root) {
    root.querySelectorAll(".char-count[data-count-for]").forEach(function (note) {
      var field = document.getElementById(note.getAttribute("data-count-for"));
      var max = parseInt(note.getAttribute("data-max"), 10);
      if (!field || !max) { return; }
      field.removeAttribute("maxlength");
      var update = function () {
        var length = field.value.length;
        var over = length - max;
        if (over > 0) {
          var message = (note.getAttribute("data-over") || "").replace("{count}", String(over));
          note.textContent = message;
          note.classList.add("over");
          field.setAttribute("aria-invalid", "true");
          field.setCustomValidity(message);
        } else {
          note.textContent = (note.getAttribute("data-count") || "{count}")
            .replace("{count}", String(length));
          note.classList.remove("over");
          if (!field.parentNode.querySelector(".field-error")) { field.removeAttribute("aria-invalid"); }
          field.setCustomValidity("");
        }
      };
      field.addEventListener("input", update);
      update();
    });
  }

  function copyButtons(root) {
    root.querySelectorAll("input[data-select-all]").forEach(function (input) {
      input.addEventListener("focus", function () { input.select(); });
      input.addEventListener("click", function () { input.select(); });
    });
    root.querySelectorAll("button[data-copy-target]").forEach(function (button) {
      var input = document.getElementById(button.getAttribute("data-copy-target"));
      if (!input) { return; }
      button.hidden = false;
      var label = button.firstChild ? button.firstChild.textContent : "";
      button.addEventListener("click", function () {
        var done = function () {
          if (button.firstChild) { button.firstChild.textContent = button.getAttribute("data-copied") || label; }
          window.setTimeout(function () {
            if (button.firstChild) { button.firstChild.textContent = label; }
          }, 2000);
        };
        input.focus();
        input.select();
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(input.value).then(done, function () {
            if (document.execCommand && document.execCommand("copy")) { done(); }
          });
        } else if (document.execCommand && document.execCommand("copy")) {
          done();
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    wire(document);
    counters(document);
    copyButtons(document);
    var summary = document.getElementById("error-summary");
    if (summary) {
      summary.focus();
      // the refused post's entry in the history becomes the form's own page: reload and
      // Back then get it, instead of offering to send the form again
      var page = summary.getAttribute("data-page");
      if (page && window.history && window.history.replaceState) {
        window.history.replaceState(null, "", page);
      }
    }
    var form = document.getElementById("request-form");
    if (form) {
      var enable = function () {
        form.querySelectorAll("button[data-blocked]").forEach(function (b) {
          b.disabled = false;
          b.removeAttribute("data-blocked");
        });
      };
      form.addEventListener("input", enable);
      form.addEventListener("change", enable);
    }
  });
})();
