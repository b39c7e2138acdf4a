/* Agent inbox, follow-ups panel (under the queue): tickets past their promised deadline and the
 * follow-ups needing an agent, overdue, due and sent (GET /api/agent/follow-ups). Reloads on the
 * console socket's follow_ups_changed frame (agent.js) and every minute. All data goes in as
 * text (Lumen.h). */
(function () {
  "use strict";
  var L = window.Lumen, h = L.h;
  var toggle = document.getElementById("followups-toggle"), body = document.getElementById("followups");
  var badge = document.getElementById("count-followups");
  if (!toggle || !body) return;
  var REASONS = { no_consent: "No consent to contact", no_ticket: "No ticket", no_customer: "Anonymous visitor",
                  no_conversation: "No chat to write to", with_agent: "In a chat with an agent",
                  stale: "Due too long ago to send" };
  var SECTIONS = [["overdue_tickets", "Tickets past deadline", "red"], ["needs_agent", "Needs an agent", "amber"],
                  ["overdue", "Overdue", "red"], ["due", "Due", "blue"], ["sent", "Sent, awaiting answer", "green"]];
  var board = null, timer = null;

  function who(item) { return item.customer ? item.customer.name : "Anonymous visitor"; }
  function openChat(id) {
    return id ? h("button", { "class": "btn small", type: "button", onclick: function () { window.LumenAgent.select(id); } }, "Open chat") : null;
  }
  function done(item) {
    function record(outcome, label) {
      return h("button", { "class": "btn small", type: "button", onclick: function () {
        L.api("POST", "/api/agent/follow-ups/" + item.id + "/done", { outcome: outcome })
          .then(function () { L.toast("Follow-up recorded: " + label + "."); load(); })
          .catch(function (e) { L.toast(e.message, true); });
      } }, label);
    }
    return [record("kept", "Kept"), record("not_kept", "Not kept"), record("unreachable", "Unreachable")];
  }
  function followUpItem(kind, item) {
    var t = item.ticket;
    var when = kind === "sent" ? "sent " + L.ago(item.sent_at) + (item.channel ? " · " + item.channel : "")
      : "due " + L.clock(item.due_at) + " (" + L.ago(item.due_at) + ")";
    var chips = [];
    if (item.reason) chips.push(h("span", { "class": "chip amber" }, REASONS[item.reason] || item.reason));
    if (item.attempts) chips.push(h("span", { "class": "chip red", title: item.last_error || "" }, item.attempts + " failed: " + (item.last_error || "").slice(0, 60)));
    if (t && t.overdue) chips.push(h("span", { "class": "chip red" }, "Ticket late"));
    return h("li", { "class": kind === "overdue" ? "late" : null },
      h("div", { "class": "top" }, h("strong", {}, who(item)), h("span", { "class": "faint" }, when)),
      h("div", {}, t ? "#" + t.id + " " + t.subject + " · " + t.status : (item.note || "No ticket")),
      chips.length ? h("div", { "class": "actions" }, chips) : null,
      h("div", { "class": "actions" }, openChat(item.conversation_id), kind === "needs_agent" || kind === "sent" ? done(item) : null));
  }
  function ticketItem(t) {
    return h("li", { "class": "late" },
      h("div", { "class": "top" }, h("strong", {}, "#" + t.id + " " + t.subject), h("span", { "class": "chip red" }, L.duration(t.overdue_s) + " late")),
      h("div", { "class": "faint" }, (t.customer ? t.customer.name + " · " : "") + t.status + " · " + t.severity + " · promised " + L.clock(t.due_at)),
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
      body.appendChild(h("h4", {}, s[1], h("span", { "class": "chip " + s[2] }, rows.length)));
      body.appendChild(h("ul", { "class": "mini-list" }, rows.map(function (row) {
        return s[0] === "overdue_tickets" ? ticketItem(row) : followUpItem(s[0], row);
      })));
    });
    if (!any) body.appendChild(h("p", { "class": "faint" }, "No follow-ups due and no late tickets."));
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
