/* Agent inbox, the desk: search over open and closed chats (customer, e-mail, customer ref, order
 * number, message text, label), the label filter of the queue, and beside the open chat its
 * labels, private notes (staff only: never sent to the customer) and the customer's earlier
 * conversations. All data goes in as text (Lumen.h). */
(function () {
  "use strict";
  var L = window.Lumen, h = L.h, t = window.LumenI18n.t, known = window.LumenI18n.has;
  var side = document.getElementById("side");
  var form = document.getElementById("desk-search"), q = document.getElementById("search-q");
  var labelFilter = document.getElementById("label-filter"), results = document.getElementById("search-results");
  var queueEl = document.getElementById("queue"), tabs = document.querySelector(".queue .tabs");
  var current = null, panel = null, knownLabels = [];

  function status(code) { return known("desk.status." + code) ? t("desk.status." + code) : code; }
  function labelChips(labels) { return labels.map(function (l) { return h("span", { "class": "chip label" }, l); }); }

  /* ------------------------------------------------------------ search and the label filter */
  function hit(item, onOpen) {
    var name = item.customer ? item.customer.name : t("agent.visitor", { id: item.id });
    var ref = item.customer ? [item.customer.external_ref, item.customer.email].filter(Boolean).join(" · ") : "";
    return h("li", {}, h("button", { "class": "queue-item search-hit", type: "button", "data-id": item.id, onclick: onOpen },
      h("span", { "class": "body" },
        h("span", { "class": "row" }, h("span", { "class": "name" }, name), h("span", { "class": "chip" }, status(item.status))),
        h("span", { "class": "preview" }, item.snippet || ref || t("desk.chat_no", { id: item.id })),
        h("span", { "class": "chips" }, h("span", { "class": "chip" }, "#" + item.id + " · " + L.clock(item.started_at)), labelChips(item.labels)))));
  }
  function showResults(items) {
    L.clear(results);
    results.hidden = false; queueEl.hidden = true; tabs.hidden = true;
    results.appendChild(h("div", { "class": "results-head" }, h("strong", {}, t("desk.found", { n: items.length })),
      h("button", { "class": "btn small", type: "button", id: "search-clear", onclick: clearSearch }, t("desk.clear"))));
    if (!items.length) { results.appendChild(h("p", { "class": "faint" }, t("desk.no_results"))); return; }
    results.appendChild(h("ul", { "class": "queue-list" }, items.map(function (item) {
      return hit(item, function () { window.LumenAgent.select(item.id); });
    })));
  }
  function clearSearch() {
    q.value = ""; results.hidden = true; queueEl.hidden = false; tabs.hidden = false; L.clear(results);
  }
  function runSearch() {
    var text = q.value.trim(), label = labelFilter.value;
    if (!text) { if (!results.hidden) clearSearch(); return; }
    L.api("GET", "/api/agent/search?q=" + encodeURIComponent(text) + "&label=" + encodeURIComponent(label))
      .then(function (data) { showResults(data.items); }).catch(function (e) { L.toast(e.message, true); });
  }
  form.addEventListener("submit", function (e) { e.preventDefault(); runSearch(); });
  q.addEventListener("search", function () { if (!q.value) clearSearch(); });
  labelFilter.addEventListener("change", function () {
    window.LumenAgent.setLabel(labelFilter.value);
    if (q.value.trim()) runSearch();
  });
  function loadLabels() {
    return L.api("GET", "/api/agent/labels").then(function (data) {
      var chosen = labelFilter.value;
      knownLabels = data.labels.map(function (l) { return l.label; });
      while (labelFilter.options.length > 1) labelFilter.remove(1);
      data.labels.forEach(function (l) { labelFilter.appendChild(h("option", { value: l.label }, l.label + " (" + l.count + ")")); });
      labelFilter.value = knownLabels.indexOf(chosen) >= 0 ? chosen : "";
      if (labelFilter.value !== chosen) window.LumenAgent.setLabel("");
    }).catch(function () { /* the filter is optional */ });
  }

  /* ------------------------------------------------------------ beside the open chat */
  function section(title, body) { return h("section", {}, h("h3", {}, title), body); }
  function labelsSection(id, labels) {
    var input = h("input", { type: "text", id: "label-input", maxlength: "32", list: "label-options", placeholder: t("desk.label_placeholder"), "aria-label": t("desk.add_label") });
    var options = h("datalist", { id: "label-options" }, knownLabels.map(function (l) { return h("option", { value: l }); }));
    function add() {
      var value = input.value.trim();
      if (!value) return;
      L.api("POST", "/api/agent/conversations/" + id + "/labels", { label: value })
        .then(function () { L.toast(t("desk.label_added")); load(id); loadLabels(); window.LumenAgent.reloadQueue(); })
        .catch(function (e) { L.toast(e.message, true); });
    }
    input.addEventListener("keydown", function (e) { if (e.key === "Enter" && !e.isComposing) { e.preventDefault(); add(); } });
    return section(t("desk.labels"), [
      h("div", { "class": "chips desk-labels" }, labels.length ? labels.map(function (l) {
        return h("span", { "class": "chip label" }, l, h("button", { type: "button", "class": "chip-x", "aria-label": t("desk.remove_label", { label: l }), onclick: function () {
          L.api("DELETE", "/api/agent/conversations/" + id + "/labels/" + encodeURIComponent(l))
            .then(function () { load(id); loadLabels(); window.LumenAgent.reloadQueue(); }).catch(function (e) { L.toast(e.message, true); });
        } }, "×"));
      }) : h("span", { "class": "faint" }, t("desk.no_labels"))),
      h("div", { "class": "actions" }, input, options, h("button", { "class": "btn small", type: "button", id: "label-add", onclick: add }, t("desk.add_label")))]);
  }
  function notesSection(id, notes) {
    var box = h("textarea", { id: "note-input", maxlength: "2000", rows: "2", placeholder: t("desk.note_placeholder"), "aria-label": t("desk.add_note") });
    return section(t("desk.notes"), [
      h("p", { "class": "faint" }, t("desk.notes_private")),
      notes.length ? h("ul", { "class": "mini-list notes" }, notes.map(function (n) {
        return h("li", { "class": "note", "data-id": n.id }, h("div", { "class": "note-body" }, n.body), h("div", { "class": "faint" }, n.author + " · " + L.clock(n.created_at)));
      })) : null,
      h("div", { "class": "actions" }, box, h("button", { "class": "btn small", type: "button", id: "note-add", onclick: function () {
        if (!box.value.trim()) return;
        L.api("POST", "/api/agent/conversations/" + id + "/notes", { body: box.value })
          .then(function () { L.toast(t("desk.note_added")); load(id); }).catch(function (e) { L.toast(e.message, true); });
      } }, t("desk.add_note")))]);
  }
  function historySection(history) {
    return section(t("desk.history"), history.length ? h("ul", { "class": "queue-list history" }, history.map(function (item) {
      return hit(item, function () { window.LumenAgent.select(item.id); });
    })) : h("p", { "class": "faint" }, t("desk.no_history")));
  }
  function fill(data) {
    if (!panel || !panel.isConnected || !current || current.id !== data.conversation_id) return;
    L.clear(panel);
    panel.appendChild(labelsSection(data.conversation_id, data.labels));
    panel.appendChild(notesSection(data.conversation_id, data.notes));
    if (current.customer_id) panel.appendChild(historySection(data.history));
  }
  function load(id) {
    return L.api("GET", "/api/agent/conversations/" + id + "/desk").then(fill).catch(function (e) { L.toast(e.message, true); });
  }
  function render(chat) {
    current = chat;
    panel = h("div", { "class": "desk", id: "desk" });
    side.insertBefore(panel, side.firstChild);
    load(chat.id);
  }
  function changed(id) {
    loadLabels();
    if (current && current.id === id && panel && panel.isConnected) load(id);
  }
  loadLabels();
  window.LumenDesk = { render: render, changed: changed, current: function () { return current; } };
})();
