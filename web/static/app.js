// CICIE pages: progressive enhancement only. Everything works without this file.
// 1. "Add another" buttons for repeatable rows (agenda sessions, speakers, delegates…):
//    the last row is always blank; the button copies it with the next index.
// 2. An action blocked by the rules on the saved data is enabled again as soon as a field of
//    the form changes: the rules are checked on what is submitted, on the server.
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
      button.textContent = (document.documentElement.lang === "es" ? "Agregar otro: " : "Add another: ") +
        (container.querySelector("legend") || {textContent: ""}).textContent;
      button.addEventListener("click", function () { addRow(container); });
      container.appendChild(button);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    wire(document);
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
