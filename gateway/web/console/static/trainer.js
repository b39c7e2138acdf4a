/* Trainer console: entry list, unanswered inbox, rebuild with progress, "try it". */
(function () {
  "use strict";
  var L = window.Lumen, h = L.h, Editor = window.LumenEditor, t = window.LumenI18n.t;
  var listEl = document.getElementById("kb-list"), search = document.getElementById("kb-search");
  var statusFilter = document.getElementById("kb-status"), inboxEl = document.getElementById("view-inbox");
  var state = { entries: [], selected: null, inbox: null };

  /* ------------------------------------------------------------ tabs */
  var tabs = document.querySelectorAll('.trainer .tabs [role="tab"]');
  function show(view) {
    Array.prototype.forEach.call(tabs, function (t) {
      var on = t.getAttribute("data-view") === view;
      t.setAttribute("aria-selected", String(on));
      document.getElementById("view-" + t.getAttribute("data-view")).hidden = !on;
    });
    if (view === "inbox") loadInbox();
    if (view === "try") document.getElementById("try-text").focus();
  }
  Array.prototype.forEach.call(tabs, function (t) { t.addEventListener("click", function () { show(t.getAttribute("data-view")); }); });

  /* ------------------------------------------------------------ entries */
  function renderList() {
    L.clear(listEl);
    document.getElementById("kb-total").textContent = t("trainer.entries", { n: state.entries.length });
    state.entries.forEach(function (e) {
      listEl.appendChild(h("li", {}, h("button", { type: "button", "class": "kb-item", "data-key": e.key,
        "aria-current": state.selected === e.key ? "true" : "false", onclick: function () { openEntry(e.key); } },
        h("span", { "class": "title" }, e.title || e.key),
        h("span", { "class": "key" }, e.key), " ",
        e.status !== "published" ? h("span", { "class": "chip amber" }, e.status) : null,
        h("span", { "class": "faint" }, " v" + e.version + " · " + (e.author || "")))));
    });
  }
  var searchTimer = null;
  function loadEntries() {
    var q = "?q=" + encodeURIComponent(search.value) + "&status=" + encodeURIComponent(statusFilter.value);
    return L.api("GET", "/api/trainer/entries" + q).then(function (data) { state.entries = data.items; renderList(); })
      .catch(function (e) { L.toast(e.message, true); });
  }
  search.addEventListener("input", function () { clearTimeout(searchTimer); searchTimer = setTimeout(loadEntries, 200); });
  statusFilter.addEventListener("change", loadEntries);
  function openEntry(key) {
    state.selected = key; renderList();
    return L.api("GET", "/api/trainer/entries/" + encodeURIComponent(key)).then(function (entry) { Editor.open(entry); })
      .catch(function (e) { L.toast(e.message, true); });
  }
  document.getElementById("new-entry").addEventListener("click", function () { state.selected = null; renderList(); Editor.open(null); });
  Editor.onSaved(function (key, changed) {
    if (changed) markStale();
    loadEntries().then(function () { openEntry(key); });
  });

  /* ------------------------------------------------------------ inbox */
  function entryPicker(group) {
    var select = h("select", { "aria-label": t("trainer.picker") },
      state.entries.map(function (e) { return h("option", { value: e.key, selected: e.key === group.best_entry_id }, e.key); }));
    return select;
  }
  var WHY = { unanswered: "", rejected: "red", asked_for_person: "amber", rephrased: "amber", no_answer: "violet" };
  function reasonChips(g) {
    return (g.reasons || []).map(function (r) { return h("span", { "class": "chip " + (WHY[r] || ""), "data-reason": r }, t("trainer.why." + r)); });
  }
  function renderInbox(data) {
    L.clear(inboxEl);
    var badge = document.getElementById("inbox-count");
    badge.textContent = data.groups.length; badge.hidden = !data.groups.length;
    inboxEl.appendChild(h("p", { "class": "muted" }, t("trainer.inbox_intro", { n: data.total, g: data.groups.length }) +
      t(data.grouping === "similarity" ? "trainer.grouped_meaning" : "trainer.grouped_text")));
    if (!data.groups.length) { inboxEl.appendChild(h("div", { "class": "empty" }, h("strong", {}, t("trainer.inbox_zero")), t("trainer.inbox_zero_hint"))); return; }
    data.groups.forEach(function (g) {
      var picker = entryPicker(g);
      inboxEl.appendChild(h("article", { "class": "card group", "data-ids": g.ids.join(",") },
        h("div", { "class": "count" }, h("b", {}, String(g.count)), h("span", { "class": "faint" }, t("trainer.asked"))),
        h("div", {}, h("div", { "class": "text", lang: g.language }, g.representative), h("div", { "class": "chips" }, reasonChips(g)),
          h("ul", { "class": "variants" }, g.variants.slice(1).map(function (v) { return h("li", { lang: g.language }, "“" + v.text + "”" + (v.count > 1 ? " ×" + v.count : "")); })),
          h("div", { "class": "faint" }, g.languages.map(function (l) { return L.LANG[l]; }).join(" ") + t("trainer.last", { when: L.ago(g.last_asked) }) +
            (g.best_entry_id ? t("trainer.closest", { entry: g.best_entry_id + (g.best_score === null ? "" : " (" + g.best_score + ")") }) : ""))),
        h("div", { "class": "acts" },
          h("div", { "class": "row" }, picker, h("button", { "class": "btn small", type: "button", onclick: function () {
            L.api("POST", "/api/trainer/inbox/paraphrase", { ids: g.ids, key: picker.value, text: g.representative, language: g.language })
              .then(function () { L.toast(t("trainer.added", { entry: picker.value })); markStale(); loadInbox(); })
              .catch(function (e) { L.toast(e.message, true); });
          } }, t("trainer.add_paraphrase"))),
          h("button", { "class": "btn small primary", type: "button", onclick: function () {
            show("entries"); state.selected = null; renderList();
            Editor.open(null, { language: g.language, question: g.representative, from_questions: g.ids });
          } }, t("trainer.create_entry")),
          h("button", { "class": "btn small ghost", type: "button", onclick: function () {
            L.api("POST", "/api/trainer/inbox/dismiss", { ids: g.ids }).then(loadInbox).catch(function (e) { L.toast(e.message, true); });
          } }, t("trainer.dismiss")))));
    });
  }
  function loadInbox() {
    return L.api("GET", "/api/trainer/inbox").then(function (data) { state.inbox = data; renderInbox(data); })
      .catch(function (e) { L.toast(e.message, true); });
  }

  /* ------------------------------------------------------------ rebuild */
  var label = document.getElementById("rebuild-label"), bar = document.getElementById("rebuild-bar");
  var progress = document.getElementById("rebuild-progress"), button = document.getElementById("rebuild");
  function stage(s) { return window.LumenI18n.has("trainer.stage." + s) ? t("trainer.stage." + s) : s; }
  function markStale() { label.textContent = t("trainer.stale"); label.className = "chip amber"; }
  function showStatus(s) {
    var running = s.status === "running";
    progress.hidden = s.status === "idle";
    bar.style.width = (s.progress || 0) + "%";
    progress.setAttribute("aria-valuenow", String(s.progress || 0));
    button.disabled = running;
    if (running) { label.className = "faint"; label.textContent = stage(s.stage) + "… " + (s.progress || 0) + "%"; }
    else if (s.status === "done") { label.className = "chip green"; label.textContent = t("trainer.rebuilt", { n: s.entries }); }
    else if (s.status === "failed") { label.className = "chip red"; label.textContent = t("trainer.rebuild_failed", { error: s.error || "" }); }
    return running;
  }
  function poll() {
    L.api("GET", "/api/trainer/rebuild").then(function (s) { if (showStatus(s)) setTimeout(poll, 700); })
      .catch(function () { setTimeout(poll, 2000); });
  }
  button.addEventListener("click", function () {
    L.api("POST", "/api/trainer/rebuild").then(function (s) { showStatus(s); setTimeout(poll, 500); })
      .catch(function (e) { L.toast(e.message, true); });
  });

  /* ------------------------------------------------------------ try it */
  document.getElementById("try-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = document.getElementById("try-text").value, out = document.getElementById("try-result");
    L.api("POST", "/api/trainer/try", { text: text, language: document.getElementById("try-lang").value || null }).then(function (r) {
      L.clear(out);
      var th = r.thresholds || {};
      out.appendChild(h("p", {}, h("span", { "class": "decision " + r.decision, id: "try-decision" }, r.decision), "  ",
        h("span", { "class": "muted" }, t("trainer.try_meta", { lang: r.language, answer: th.answer_score, clarify: th.min_score, margin: th.margin }) + (r.index ? t("trainer.try_index", { index: r.index }) : ""))));
      r.hits.forEach(function (hit, i) {
        var fill = h("div", {}); fill.style.width = Math.max(0, Math.min(100, hit.score * 100)) + "%";
        out.appendChild(h("div", { "class": "card hit" }, h("div", { "class": "top" }, h("strong", {}, (i + 1) + ". " + hit.entry_id),
          h("div", { "class": "bar", "aria-hidden": "true" }, fill), h("span", {}, hit.score.toFixed(3))),
          h("div", { "class": "muted" }, hit.question), h("p", {}, hit.answer)));
      });
    }).catch(function (err) { L.toast(err.message, true); });
  });

  loadEntries();
  loadInbox();
  poll();
  setInterval(function () { if (!inboxEl.hidden) loadInbox(); }, 15000);
})();
