/* Agent inbox, right-hand panel: customer 360 (profile, orders, tickets, compensation, CSAT,
 * consent) and the actions on them (approve/reject offers, resolve tickets, follow-ups). */
(function () {
  "use strict";
  var L = window.Lumen, h = L.h, t = window.LumenI18n.t;
  var side = document.getElementById("side");
  var STATUS = { open: "amber", in_progress: "blue", waiting_customer: "violet", resolved: "green", closed: "" };

  function section(title, body, extra) {
    return h("section", {}, h("h3", {}, title, extra || null), body);
  }
  function money(amount, currency) { return currency === "PTS" ? amount + " pts" : currency + " " + amount; }
  function stars(n) { return "★★★★★".slice(0, n) + "☆☆☆☆☆".slice(0, 5 - n); }

  function profile(c) {
    var p = c.profile;
    var avatar = h("div", { "class": "avatar" }, L.initials(p.name));
    avatar.style.background = L.colorFor(p.name);
    var consent = p.consent || {};
    return section(t("side.customer"), [
      h("div", { "class": "profile" }, avatar, h("div", {}, h("strong", {}, p.name), h("div", { "class": "faint" }, p.external_ref || "")),
        h("span", { "class": "chip violet" }, p.tier)),
      h("dl", { "class": "kv" },
        h("dt", {}, t("side.email")), h("dd", {}, p.email || "–"),
        h("dt", {}, t("side.phone")), h("dd", {}, p.phone || "–"),
        h("dt", {}, t("side.language")), h("dd", {}, p.preferred_language),
        h("dt", {}, t("side.lifetime")), h("dd", {}, p.lifetime_value || "0"),
        h("dt", {}, t("side.consent")), h("dd", {},
          h("span", { "class": "chip " + (consent.personalisation && consent.personalisation.granted ? "green" : "") }, t("side.personalisation") + " " + (consent.personalisation && consent.personalisation.granted ? "✓" : "✗")), " ",
          h("span", { "class": "chip " + (consent.marketing && consent.marketing.granted ? "green" : "") }, t("side.marketing") + " " + (consent.marketing && consent.marketing.granted ? "✓" : "✗"))),
        p.notes ? [h("dt", {}, t("side.notes")), h("dd", {}, p.notes)] : null)]);
  }
  function orders(c) {
    if (!c.orders.length) return section(t("side.orders"), h("p", { "class": "faint" }, t("side.no_orders")));
    return section(t("side.orders"), h("ul", { "class": "mini-list" }, c.orders.slice(0, 5).map(function (o) {
      return h("li", {}, h("div", { "class": "top" }, h("strong", {}, o.order_number), h("span", { "class": "chip" }, o.status)),
        h("div", { "class": "faint" }, money(o.total, o.currency) + " · " + L.clock(o.placed_at) + " · " + o.items.map(function (i) { return i.name; }).join(", ")));
    })), h("span", { "class": "faint" }, t("side.total", { n: c.orders.length })));
  }
  function tickets(c, chat, me, refresh) {
    var list = c ? c.tickets : chat.tickets;
    if (!list.length) return section(t("side.tickets"), h("p", { "class": "faint" }, t("side.no_tickets")));
    return section(t("side.tickets"), h("ul", { "class": "mini-list" }, list.slice(0, 6).map(function (tk) {
      var open = ["open", "in_progress", "waiting_customer"].indexOf(tk.status) >= 0;
      var input = h("input", { type: "text", placeholder: t("side.resolution"), "aria-label": t("side.resolution_for", { id: tk.id }) });
      return h("li", {}, h("div", { "class": "top" }, h("strong", {}, "#" + tk.id + " " + tk.subject), h("span", { "class": "chip " + (STATUS[tk.status] || "") }, tk.status)),
        h("div", { "class": "faint" }, tk.category + " · " + tk.severity + " · " + L.clock(tk.created_at)),
        open ? h("div", { "class": "actions" }, input, h("button", { "class": "btn small good", type: "button", onclick: function () {
          L.api("POST", "/api/agent/tickets/" + tk.id + "/resolve", { resolution: input.value || t("side.resolved_in_chat") })
            .then(function () { L.toast(t("side.ticket_resolved")); refresh(); }).catch(function (e) { L.toast(e.message, true); });
        } }, t("side.resolve"))) : (tk.resolution ? h("div", { "class": "faint" }, "✓ " + tk.resolution) : null));
    })));
  }
  function offers(c, chat, refresh) {
    var pending = chat.offers || [];
    var history = c ? c.compensation.filter(function (o) { return ["offered", "chosen"].indexOf(o.status) < 0; }) : [];
    var items = pending.map(function (o) {
      return h("li", { "class": "offer pending" }, h("div", { "class": "top" }, h("strong", {}, L.offerType(o.type) + " · " + money(o.amount, o.currency)), h("span", { "class": "chip amber" }, t("side.awaiting"))),
        h("div", { "class": "faint" }, o.within_limit ? t("side.within") + (o.limit ? " (" + money(o.limit, o.currency) + ")" : "") : t("side.above") + (o.limit ? " (" + money(o.limit, o.currency) + ")" : "") + t("side.ask_manager")),
        h("div", { "class": "actions" },
          h("button", { "class": "btn small good", type: "button", disabled: !o.within_limit, onclick: function () { decide(o.id, "approve", refresh); } }, t("side.approve")),
          h("button", { "class": "btn small danger", type: "button", onclick: function () { decide(o.id, "reject", refresh); } }, t("side.reject"))));
    }).concat(history.slice(0, 5).map(function (o) {
      return h("li", {}, h("div", { "class": "top" }, h("span", {}, L.offerType(o.type) + " · " + money(o.amount, o.currency)), h("span", { "class": "chip " + (o.status === "rejected" ? "red" : "green") }, o.status)),
        h("div", { "class": "faint" }, L.clock(o.offered_at)));
    }));
    return section(t("side.compensation"), items.length ? h("ul", { "class": "mini-list" }, items) : h("p", { "class": "faint" }, t("side.none")),
      pending.length ? h("span", { "class": "chip amber" }, pending.length) : null);
  }
  function decide(id, decision, refresh) {
    L.api("POST", "/api/agent/offers/" + id + "/decision", { decision: decision })
      .then(function () { L.toast(t(decision === "approve" ? "side.approved" : "side.rejected")); refresh(); })
      .catch(function (e) { L.toast(e.message, true); });
  }
  function csat(c) {
    if (!c.csat.count) return section(t("side.csat"), h("p", { "class": "faint" }, t("side.no_ratings")));
    return section(t("side.csat"), [h("div", {}, h("span", { "class": "stars" }, stars(Math.round(c.csat.average))), " ", h("strong", {}, String(c.csat.average)), h("span", { "class": "faint" }, t("side.from", { n: c.csat.count }))),
      h("ul", { "class": "mini-list" }, c.csat.recent.slice(0, 3).map(function (f) {
        return h("li", {}, h("span", { "class": "stars" }, stars(f.csat)), f.comment ? h("div", {}, f.comment) : null);
      }))]);
  }
  function followUps(chat, refresh) {
    var due = h("input", { type: "datetime-local", "aria-label": t("side.follow_up_date") });
    var note = h("input", { type: "text", placeholder: t("side.what_to_check"), "aria-label": t("side.follow_up_note") });
    var tomorrow = new Date(Date.now() + 864e5);
    due.value = tomorrow.toISOString().slice(0, 16);
    return section(t("side.follow_ups"), [
      chat.follow_ups.length ? h("ul", { "class": "mini-list" }, chat.follow_ups.map(function (f) {
        var what = f.note || (f.promised_resolution ? "promise: " + f.promised_resolution + " | complaint: " + (f.complaint_category || "other") : null);
        return h("li", {}, h("strong", {}, L.clock(f.due_at)), what ? h("div", {}, what) : null, h("div", { "class": "faint" }, t("side.by", { who: f.created_by || "?" })));
      })) : null,
      h("div", { "class": "actions" }, due, note, h("button", { "class": "btn small", type: "button", onclick: function () {
        L.api("POST", "/api/agent/conversations/" + chat.id + "/follow-ups", { due_at: new Date(due.value).toISOString(), note: note.value })
          .then(function () { L.toast(t("side.scheduled")); refresh(); }).catch(function (e) { L.toast(e.message, true); });
      } }, t("side.schedule")))]);
  }

  function render(chat, me, refresh) {
    L.clear(side);
    var c = chat.customer_360;
    if (c) side.appendChild(profile(c));
    else side.appendChild(section(t("side.customer"), h("p", { "class": "muted" }, t("side.anonymous"))));
    if (c) side.appendChild(orders(c));
    side.appendChild(tickets(c, chat, me, refresh));
    side.appendChild(offers(c, chat, refresh));
    if (c) side.appendChild(csat(c));
    side.appendChild(followUps(chat, refresh));
  }
  window.LumenSide = { render: render };
})();
