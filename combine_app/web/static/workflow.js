/* Combine workflow pages: load the drift summary on demand, and run the editor's step
   controls in place. Everything here enhances server-rendered pages that work without it. */
(function () {
  "use strict";

  var tokenMeta = document.querySelector('meta[name="csrf-token"]');
  var csrfToken = tokenMeta ? tokenMeta.content : "";

  /* Drift summary: a <details data-src> fetches its body the first time it is opened. */
  document.querySelectorAll("details[data-src]").forEach(function (details) {
    var body = details.querySelector("[data-body]");
    var fallback = body.innerHTML;
    details.addEventListener("toggle", function () {
      if (!details.open || details.dataset.state) return;
      details.dataset.state = "loading";
      body.setAttribute("aria-busy", "true");
      body.innerHTML = '<p class="muted">Loading the summary…</p>';
      fetch(details.dataset.src, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.text();
        })
        .then(function (html) {
          body.innerHTML = html; // our own server-rendered, escaped template
          details.dataset.state = "loaded";
        })
        .catch(function () {
          body.innerHTML = '<p class="field-error">The summary could not be loaded.</p>' + fallback;
          delete details.dataset.state;
        })
        .finally(function () {
          body.removeAttribute("aria-busy");
        });
    });
  });

  /* Editor: every control but Save posts the form in the background and swaps in the
     re-rendered form body, so moving or removing a step does not reload the page. */
  var form = document.getElementById("workflow-editor");
  if (!form) return;
  var live = document.getElementById("editor-live");
  var busy = false;

  function openStepIds() {
    var ids = [];
    form.querySelectorAll("details.edit-fields[open]").forEach(function (details) {
      var step = details.closest("[data-step-id]");
      if (step && step.dataset.stepId) ids.push(step.dataset.stepId);
    });
    return ids;
  }

  function swap(html, reopen, jsonOpen) {
    form.innerHTML = html;
    form.querySelectorAll("[data-step-id]").forEach(function (step) {
      if (reopen.indexOf(step.dataset.stepId) !== -1) {
        var details = step.querySelector(":scope > details.edit-fields");
        if (details) details.open = true;
      }
    });
    var json = document.getElementById("json-editor");
    if (json && jsonOpen) json.open = true;
    var notice = form.querySelector("[data-notice]");
    var alert = form.querySelector(".alert");
    if (live) live.textContent = notice ? notice.textContent : "";
    var marker = form.querySelector("[data-focus]");
    var target = marker ? document.getElementById(marker.dataset.focus) : null;
    if (alert) target = alert.querySelector("a") || alert;
    if (target) {
      if (!target.hasAttribute("tabindex") && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) {
        target.setAttribute("tabindex", "-1");
      }
      target.focus();
    }
  }

  /* Unsaved changes: edits typed into the fields are listed as they are made (the server lists
     them once a control or Save sends them), and leaving the page with anything unsaved, typed
     or already in the working copy, asks first. */
  var leaving = false; // Save, or a Cancel / Start over the person confirmed

  function shortText(value) {
    var text = value.replace(/\s+/g, " ").trim();
    return text.length > 60 ? text.slice(0, 59) + "…" : text;
  }

  function stepOf(field) {
    var step = field.closest("[data-step-id]");
    return step && step.dataset.stepId ? "step " + step.dataset.stepId : "the step";
  }

  function typedEdits() {
    var sentences = [];
    var startedStep = false;
    form.querySelectorAll("input, textarea").forEach(function (field) {
      var name = field.name || "";
      if (field.type === "hidden" || field.type === "checkbox" || name === "reason") return;
      if (field.value === field.defaultValue) return;
      var parts = name.split(":");
      if (parts[0] === "f" || parts[0] === "j") {
        var was = parts[0] === "f" ? "'" + shortText(field.defaultValue) + "'" : shortText(field.defaultValue);
        var now = parts[0] === "f" ? "'" + shortText(field.value) + "'" : shortText(field.value);
        var words = field.dataset.words || parts.slice(2).join(":"); // the server's words for the field
        sentences.push("You changed " + words + " of " + stepOf(field) + ": " + was + " → " + now);
      } else if (parts[0] === "nf-name" && field.value.trim()) {
        sentences.push("You are adding field " + shortText(field.value) + " to " + stepOf(field));
      } else if (name.indexOf("new-") === 0 && field.value.trim() && !startedStep) {
        startedStep = true;
        sentences.push("You started a new step under “Add a step”: press Add step to add it");
      } else if (name === "definition_json") {
        sentences.push("You edited the definition as JSON: press Apply JSON to apply it");
      }
    });
    return sentences;
  }

  function showTyped() {
    var list = form.querySelector("[data-typed]");
    if (!list) return [];
    var sentences = typedEdits();
    list.textContent = "";
    sentences.forEach(function (sentence) {
      var item = document.createElement("li");
      item.textContent = sentence;
      list.appendChild(item);
    });
    list.hidden = sentences.length === 0;
    var none = form.querySelector("[data-none]");
    if (none) none.hidden = sentences.length > 0;
    return sentences;
  }

  function hasUnsaved() {
    var pending = form.querySelector("[data-unsaved]");
    return (pending && pending.dataset.unsaved === "1") || typedEdits().length > 0;
  }

  form.addEventListener("input", showTyped);
  form.addEventListener("change", showTyped);

  form.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-discard]");
    if (!link || !hasUnsaved()) return;
    if (window.confirm("Leave the editor? Your unsaved changes will be lost.")) {
      leaving = true;
    } else {
      event.preventDefault();
    }
  });

  window.addEventListener("beforeunload", function (event) {
    if (leaving || !hasUnsaved()) return;
    event.preventDefault();
    event.returnValue = ""; // older browsers need it set to show the dialog
  });

  window.addEventListener("pageshow", function () {
    leaving = false; // back from the page left (a cached page): ask again next time
    showTyped();
  });

  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    var op = submitter && submitter.name === "op" ? submitter.value : "apply";
    if (op === "save" || form.dataset.plain === "1") {
      leaving = true; // Save navigates as usual (so does a control sent without the script)
      return;
    }
    event.preventDefault();
    if (busy) return;
    busy = true;
    var data = new FormData(form);
    data.set("op", op);
    var reopen = openStepIds();
    var json = document.getElementById("json-editor");
    var jsonOpen = !!(json && json.open);
    form.setAttribute("aria-busy", "true");
    fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken, "X-Combine-Partial": "1" },
      body: data, // multipart, as the form itself: no percent-encoding of the definition
    })
      .then(function (response) {
        if (response.ok || response.status === 409 || response.status === 422) {
          return response.text().then(function (html) {
            swap(html, reopen, jsonOpen);
            showTyped();
          });
        }
        // Anything else (an expired session, a server error): let the browser show it.
        form.dataset.plain = "1";
        form.requestSubmit(submitter);
      })
      .catch(function () {
        form.dataset.plain = "1";
        form.requestSubmit(submitter);
      })
      .finally(function () {
        busy = false;
        form.removeAttribute("aria-busy");
      });
  });
})();
