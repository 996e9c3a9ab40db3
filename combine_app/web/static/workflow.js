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

  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    var op = submitter && submitter.name === "op" ? submitter.value : "apply";
    if (op === "save" || form.dataset.plain === "1") return; // Save navigates as usual
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
