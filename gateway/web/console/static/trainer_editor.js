/* Trainer console: the entry editor (three languages), version history and diffs. */
(function () {
  "use strict";
  var L = window.Lumen, h = L.h;
  var editor = document.getElementById("editor");
  var LANGS = [["zh-Hant", "繁體中文"], ["zh-Hans", "简体中文"], ["en", "English"]];
  var onSaved = function () {};

  function lines(text) { return text.split("\n").map(function (s) { return s.trim(); }).filter(Boolean); }

  function convertButton(lang, fields) {
    if (lang === "en") return null;
    var from = lang === "zh-Hans" ? "zh-Hant" : "zh-Hans";
    return h("button", { "class": "btn small ghost", type: "button", title: "Fill from the other Chinese script",
      onclick: function () {
        var q = fields[from].questions.value, a = fields[from].answer.value;
        Promise.all([L.api("POST", "/api/trainer/convert", { text: q, language: lang }),
                     L.api("POST", "/api/trainer/convert", { text: a, language: lang })]).then(function (r) {
          fields[lang].questions.value = r[0].text; fields[lang].answer.value = r[1].text;
        }).catch(function (e) { L.toast(e.message, true); });
      } }, "⇄ from " + (from === "zh-Hant" ? "繁" : "简"));
  }

  function diffView(data) {
    var box = h("div", { "class": "card diff", "aria-label": "Changes" },
      h("strong", {}, "Version " + data.from + " → " + data.to), data.author ? h("span", { "class": "faint" }, "  by " + data.author) : null,
      data.note ? h("p", { "class": "muted" }, data.note) : null);
    if (!data.changed) box.appendChild(h("p", { "class": "muted" }, "No changes."));
    LANGS.forEach(function (pair) {
      var d = data.languages[pair[0]];
      var q = d.questions;
      if (!q.added.length && !q.removed.length && !d.answer_changed) return;
      box.appendChild(h("h4", {}, pair[1]));
      if (q.added.length || q.removed.length) {
        box.appendChild(h("ul", {}, q.added.map(function (t) { return h("li", {}, h("ins", {}, "+ " + t)); }),
          q.removed.map(function (t) { return h("li", {}, h("del", {}, "− " + t)); })));
      }
      if (d.answer_changed) {
        box.appendChild(h("div", { "class": "answer" }, d.answer.map(function (op) {
          return op[0] === "+" ? h("ins", {}, op[1]) : op[0] === "-" ? h("del", {}, op[1]) : op[1];
        })));
      }
    });
    return box;
  }

  function versions(entry, diffBox) {
    if (!entry) return null;
    return h("div", { "class": "versions" }, h("h3", {}, "Version history"),
      h("ul", { "class": "mini-list" }, entry.versions.map(function (v) {
        return h("li", {}, h("span", { "class": "chip " + (v.version === entry.version ? "blue" : "") }, "v" + v.version),
          h("span", {}, (v.author || "?") + " · " + L.clock(v.created_at)), h("span", { "class": "muted" }, v.note || ""),
          v.version > 1 ? h("button", { "class": "btn small", type: "button", onclick: function () {
            L.api("GET", "/api/trainer/entries/" + encodeURIComponent(entry.key) + "/diff?a=" + (v.version - 1) + "&b=" + v.version)
              .then(function (d) { L.clear(diffBox).appendChild(diffView(d)); diffBox.scrollIntoView({ block: "nearest" }); })
              .catch(function (e) { L.toast(e.message, true); });
          } }, "Compare with v" + (v.version - 1)) : null);
      })));
  }

  /* entry: detail from the API, or null for a new one; prefill: {language, question, from_questions} */
  function open(entry, prefill) {
    L.clear(editor);
    var fields = {};
    var key = h("input", { type: "text", id: "entry-key", value: entry ? entry.key : "", disabled: !!entry, placeholder: "e.g. gift-wrapping", pattern: "[a-z0-9\\-]+" });  /* compiled with the v flag: a literal - is escaped */
    var category = h("input", { type: "text", id: "entry-category", value: entry ? entry.category || "" : "", placeholder: "e.g. orders" });
    var note = h("input", { type: "text", id: "entry-note", placeholder: "What changed and why" });
    var grid = h("div", { "class": "lang-grid" });
    LANGS.forEach(function (pair) {
      var lang = pair[0];
      var qs = entry ? (entry.questions[lang] || []) : [];
      if (prefill && prefill.language === lang && prefill.question) qs = qs.concat([prefill.question]);
      fields[lang] = {
        questions: h("textarea", { "class": "questions", id: "q-" + lang, lang: lang, "aria-label": pair[1] + " questions, one per line" }),
        answer: h("textarea", { "class": "answer", id: "a-" + lang, lang: lang, "aria-label": pair[1] + " answer" })
      };
      fields[lang].questions.value = qs.join("\n");
      fields[lang].answer.value = entry ? (entry.answers[lang] || "") : "";
      grid.appendChild(h("div", { "class": "card lang-col" }, h("h4", {}, pair[1], h("span", { "class": "chip" }, lang), convertButton(lang, fields)),
        h("label", { "class": "field" }, "Questions (one per line)", fields[lang].questions),
        h("label", { "class": "field" }, "Answer", fields[lang].answer)));
    });
    var status = entry ? h("select", { id: "entry-status", "aria-label": "Status", onchange: function () {
      L.api("POST", "/api/trainer/entries/" + encodeURIComponent(entry.key) + "/status", { status: status.value })
        .then(function () { L.toast("Status: " + status.value + ". Rebuild the index to apply it."); onSaved(entry.key, true); })
        .catch(function (e) { L.toast(e.message, true); });
    } }, ["published", "draft", "archived"].map(function (s) { return h("option", { value: s, selected: entry.status === s }, s); })) : null;
    var save = h("button", { "class": "btn primary", type: "submit", id: "save-entry" }, entry ? "Save new version" : "Create entry");
    var diffBox = h("div", {});
    var form = h("form", { onsubmit: function (e) {
      e.preventDefault();
      var body = { key: key.value.trim(), category: category.value.trim(), note: note.value.trim(), questions: {}, answers: {},
                   base_version: entry ? entry.version : null, from_questions: prefill ? prefill.from_questions || [] : [] };
      LANGS.forEach(function (pair) { body.questions[pair[0]] = lines(fields[pair[0]].questions.value); body.answers[pair[0]] = fields[pair[0]].answer.value.trim(); });
      save.disabled = true;
      var call = entry ? L.api("PUT", "/api/trainer/entries/" + encodeURIComponent(entry.key), body) : L.api("POST", "/api/trainer/entries", body);
      call.then(function (r) {
        L.toast("Saved " + r.key + " v" + r.version + ". Rebuild the index to publish it to the bot.");
        onSaved(r.key, true);
      }).catch(function (err) { L.toast(err.message, true); }).then(function () { save.disabled = false; });
    } },
      h("div", { "class": "head" }, h("h2", {}, entry ? entry.title || entry.key : "New entry"),
        entry ? h("span", { "class": "chip blue" }, "v" + entry.version) : null, status, save),
      h("div", { "class": "meta-row" }, h("label", { "class": "field" }, "Id", key), h("label", { "class": "field" }, "Category", category), h("label", { "class": "field" }, "Change note", note)),
      grid);
    editor.appendChild(form);
    var history = versions(entry, diffBox);
    if (history) editor.appendChild(history);
    editor.appendChild(diffBox);
    (entry ? fields["zh-Hant"].questions : key).focus();
  }

  window.LumenEditor = { open: open, onSaved: function (fn) { onSaved = fn; } };
})();
