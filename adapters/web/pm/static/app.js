// Progressive enhancement for the intake-bot web page. Every page works without this file.
// 1. The tone check updates as the PM types (the decline form, the letter editor).
// 2. A form field shown only for one choice of another field hides while that choice is not made.
(function () {
  "use strict";

  function toneCheck(form) {
    var url = form.getAttribute("data-tone-url");
    var box = document.querySelector("[data-tone]");
    if (!url || !box) return;
    var list = box.querySelector("[data-tone-list]");
    var note = box.querySelector("[data-tone-note]");
    var timer = null;
    var seq = 0;
    function run() {
      var mine = ++seq;
      var body = new FormData(form);
      var csrf = body.get("csrf") || "";
      fetch(url, { method: "POST", body: body, credentials: "same-origin", headers: { "X-CSRF-Token": csrf } })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          if (mine !== seq) return; // an older answer arriving late
          note.textContent = data.note || data.error || "";
          list.textContent = "";
          (data.marks || []).forEach(function (m) {
            var li = document.createElement("li");
            li.className = m.passed ? "pass" : "fail";
            li.textContent = m.line; // the line says itself whether the rule passed (✓ / ✗)
            list.appendChild(li);
          });
          box.setAttribute("data-state", data.ok ? "ok" : "some-fail");
        })
        .catch(function () { /* the check is a help, not a gate: the server checks again on save */ });
    }
    function later() {
      clearTimeout(timer);
      timer = setTimeout(run, 250);
    }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    run();
  }

  function onlyIf(form) {
    var fields = form.querySelectorAll("[data-only-if]");
    if (!fields.length) return;
    function update() {
      fields.forEach(function (el) {
        var rule = el.getAttribute("data-only-if").split("=");
        var chosen = form.querySelector('[name="' + rule[0] + '"]:checked') || form.querySelector('select[name="' + rule[0] + '"]');
        var value = chosen ? chosen.value : "";
        el.hidden = value !== rule[1];
      });
    }
    form.addEventListener("change", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-tone-url]").forEach(toneCheck);
    document.querySelectorAll("form.form").forEach(onlyIf);
  });
})();
