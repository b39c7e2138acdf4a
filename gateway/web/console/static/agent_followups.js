/* Agent inbox, follow-ups panel (under the queue): tickets past their promised deadline and the
 * follow-ups needing an agent, overdue, due and sent (GET /api/agent/follow-ups). Reloads on the
 * console socket's follow_ups_changed frame (agent.js) and every minute. All data goes in as
 * text (Lumen.h). */
(function () {
  "use strict";
  var L = window.Lumen, h = L.h, tr = window.LumenI18n.t;
  var toggle = document.getElementById("followups-toggle"), body = document.getElementById("followups");
  var badge = document.getElementById("count-followups");
  if (!toggle || !body) return;
  function reason(code) { return window.LumenI18n.has("fu.reason." + code) ? tr("fu.reason." + code) : code; }
  var SECTIONS = [["overdue_tickets", "red"], ["needs_agent", "amber"], ["overdue", "red"], ["due", "blue"], ["sent", "green"]];
  var board = null, timer = null;

  function who(item) { return item.customer ? item.customer.name : tr("fu.anonymous"); }
  function openChat(id) {
    return id ? h("button", { "class": "btn small", type: "button", onclick: function () { window.LumenAgent.select(id); } }, tr("fu.open_chat")) : null;
  }
  function done(item) {
    function record(outcome, label) {
      return h("button", { "class": "btn small", type: "button", onclick: function () {
        L.api("POST", "/api/agent/follow-ups/" + item.id + "/done", { outcome: outcome })
          .then(function () { L.toast(tr("fu.recorded", { outcome: label })); load(); })
          .catch(function (e) { L.toast(e.message, true); });
      } }, label);
    }
    return [record("kept", tr("fu.kept")), record("not_kept", tr("fu.not_kept")), record("unreachable", tr("fu.unreachable"))];
  }
  function followUpItem(kind, item) {
    var t = item.ticket;
    var when = kind === "sent" ? tr("fu.sent", { when: L.ago(item.sent_at) }) + (item.channel ? " · " + item.channel : "")
      : tr("fu.due", { at: L.clock(item.due_at), when: L.ago(item.due_at) });
    var chips = [];
    if (item.reason) chips.push(h("span", { "class": "chip amber" }, reason(item.reason)));
    if (item.attempts) chips.push(h("span", { "class": "chip red", title: item.last_error || "" }, tr("fu.failed", { n: item.attempts, error: (item.last_error || "").slice(0, 60) })));
    if (t && t.overdue) chips.push(h("span", { "class": "chip red" }, tr("fu.ticket_late")));
    return h("li", { "class": kind === "overdue" ? "late" : null },
      h("div", { "class": "top" }, h("strong", {}, who(item)), h("span", { "class": "faint" }, when)),
      h("div", {}, t ? "#" + t.id + " " + t.subject + " · " + t.status : (item.note || tr("fu.no_ticket"))),
      chips.length ? h("div", { "class": "actions" }, chips) : null,
      h("div", { "class": "actions" }, openChat(item.conversation_id), kind === "needs_agent" || kind === "sent" ? done(item) : null));
  }
  function ticketItem(t) {
    return h("li", { "class": "late" },
      h("div", { "class": "top" }, h("strong", {}, "#" + t.id + " " + t.subject), h("span", { "class": "chip red" }, tr("fu.late", { d: L.duration(t.overdue_s) }))),
      h("div", { "class": "faint" }, (t.customer ? t.customer.name + " · " : "") + t.status + " · " + t.severity + " · " + tr("fu.promised", { at: L.clock(t.due_at) })),
      h("div", { "class": "actions" }, openChat(t.conversation_id)));
  }
  function render() {
    L.clear(body);
    if (!board) return;
    var urgent = board.counts.overdue_tickets + board.counts.needs_agent + board.counts.overdue;
    badge.textContent = urgent; badge.hidden = !urgent;
    var any = false;
    SECTIONS.forEach(function (s) {
      var rows = board[s[0]] || [];
      if (!rows.length) return;
      any = true;
      body.appendChild(h("h4", {}, tr("fu.section." + s[0]), h("span", { "class": "chip " + s[1] }, rows.length)));
      body.appendChild(h("ul", { "class": "mini-list" }, rows.map(function (row) {
        return s[0] === "overdue_tickets" ? ticketItem(row) : followUpItem(s[0], row);
      })));
    });
    if (!any) body.appendChild(h("p", { "class": "faint" }, tr("fu.nothing")));
  }
  function load() {
    clearTimeout(timer);
    return L.api("GET", "/api/agent/follow-ups").then(function (data) { board = data; render(); })
      .catch(function (e) { L.toast(e.message, true); })
      .then(function () { timer = setTimeout(load, 60000); });
  }
  var pending = null;
  function soon() { clearTimeout(pending); pending = setTimeout(load, 300); }
  toggle.addEventListener("click", function () {
    var open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open)); body.hidden = !open;
  });
  load();
  window.LumenFollowUps = { reload: soon };
})();
