/* Agent inbox: live queue, claim, transcript, suggested answers, reply, hand back.
 * The customer-360 panel and the ticket/offer/follow-up actions are in agent_side.js. */
(function () {
  "use strict";
  var L = window.Lumen, h = L.h, t = window.LumenI18n.t, known = window.LumenI18n.has;
  var root = document.getElementById("inbox");
  var me = { id: Number(root.getAttribute("data-user-id")), role: root.getAttribute("data-role") };
  var state = { items: [], filter: "waiting", selected: null, chat: null, seen: {} };
  var queueEl = document.getElementById("queue"), transcript = document.getElementById("transcript");
  var reply = document.getElementById("reply"), composer = document.getElementById("composer");
  var REASONS = { long_wait: "amber", frustrated: "red", tier_gold: "violet", tier_platinum: "violet", approval_needed: "blue" };
  function who(direction) { return known("who." + direction) ? t("who." + direction) : direction; }

  function customerName(item) {
    return item.customer ? item.customer.name : t("agent.visitor", { id: item.id });
  }
  function statusChip(item) {
    if (item.status === "waiting_agent") return h("span", { "class": "chip amber" }, t("agent.waiting_min", { n: Math.round(item.priority ? item.priority.waited_min : 0) }));
    if (item.status === "agent") return h("span", { "class": "chip green" }, item.assigned_agent_id === me.id ? t("agent.you") : (item.assigned_agent || t("agent.agent")));
    return h("span", { "class": "chip" }, item.status === "bot" ? t("agent.with_bot") : known("desk.status." + item.status) ? t("desk.status." + item.status) : item.status);
  }

  /* ------------------------------------------------------------ queue */
  function visible(item) {
    if (state.label && (item.labels || []).indexOf(state.label) < 0) return false;
    if (state.filter === "waiting") return item.status === "waiting_agent";
    if (state.filter === "mine") return item.status === "agent" && item.assigned_agent_id === me.id;
    if (state.filter === "bot") return item.status === "bot";
    return item.status !== "bot";
  }
  function renderQueue() {
    L.clear(queueEl);
    var waiting = state.items.filter(function (i) { return i.status === "waiting_agent"; }).length;
    var badge = document.getElementById("count-waiting");
    badge.textContent = waiting; badge.hidden = !waiting;
    var items = state.items.filter(visible);
    if (!items.length) {
      queueEl.appendChild(h("li", { "class": "empty" }, h("strong", {}, t(state.filter === "mine" ? "agent.empty.mine" : state.filter === "bot" ? "agent.empty.bot" : "agent.empty.all")),
        t(state.filter === "bot" ? "agent.empty.bot_hint" : "agent.empty.hint")));
      return;
    }
    items.forEach(function (item) {
      var p = item.priority || { frustration: 0, reasons: [] };
      var level = p.score >= 45 ? "p3" : p.score >= 20 ? "p2" : "";
      var chips = [h("span", { "class": "chip" }, L.LANG[item.language] || "–")];
      (p.reasons || []).forEach(function (r) { if (r in REASONS) chips.push(h("span", { "class": "chip " + REASONS[r] }, t("reason." + r))); });
      if (window.LumenRouting) chips = chips.concat(window.LumenRouting.chips(item));  /* response targets */
      var last = item.last_message;
      var avatar = h("span", { "class": "avatar" }, L.initials(customerName(item)));
      avatar.style.background = L.colorFor(customerName(item));
      queueEl.appendChild(h("li", {}, h("button", {
        "class": "queue-item", type: "button", "data-id": item.id,
        "aria-current": state.selected === item.id ? "true" : "false",
        onclick: function () { select(item.id); }
      },
        h("span", { "class": "prio " + level, title: t("agent.priority", { n: p.score || 0 }) }),
        avatar,
        h("span", { "class": "body" },
          h("span", { "class": "row" }, h("span", { "class": "name" }, customerName(item)), statusChip(item)),
          h("span", { "class": "preview" }, last ? (last.direction === "customer" ? "" : who(last.direction) + ": ") + last.text : t("agent.no_messages")),
          h("span", { "class": "chips" }, chips)))));
    });
  }
  var queueTimer = null;
  function loadQueue() {
    clearTimeout(queueTimer);
    return L.api("GET", "/api/agent/queue").then(function (data) {
      state.items = data.items; renderQueue();
      document.dispatchEvent(new CustomEvent("lumen:queue", { detail: { items: data.items, me: me } }));
    }).catch(function (e) { L.toast(e.message, true); }).then(function () {
      queueTimer = setTimeout(loadQueue, 15000);
    });
  }
  var pendingQueue = null;
  function queueSoon() { clearTimeout(pendingQueue); pendingQueue = setTimeout(loadQueue, 250); }
  Array.prototype.forEach.call(document.querySelectorAll(".queue .tabs button"), function (tab) {
    tab.addEventListener("click", function () {
      Array.prototype.forEach.call(document.querySelectorAll(".queue .tabs button"), function (t) { t.setAttribute("aria-selected", String(t === tab)); });
      state.filter = tab.getAttribute("data-filter"); renderQueue();
    });
  });

  /* ------------------------------------------------------------ one chat */
  function reasonText(reason) {
    return known("handoff.reason." + reason) ? t("handoff.reason." + reason) : String(reason || "").replace(/_/g, " ");
  }
  function messageNode(m) {
    if (m.handoff) {  /* the bot's handoff record: a marker in the transcript, not a bubble */
      return h("div", { "class": "divider handoff-mark", "data-id": m.id }, t("handoff.divider") + " · " + reasonText(m.handoff.reason) + " · " + L.clock(m.created_at));
    }
    var node = h("div", { "class": "msg " + m.direction, "data-id": m.id },
      h("div", { "class": "bubble" }, m.text || ""),
      m.buttons && m.buttons.length ? h("div", { "class": "buttons" }, m.buttons.map(function (b) { return h("span", { "class": "chip" }, b.title); })) : null,
      h("div", { "class": "meta" }, (m.direction === "agent" && m.agent_name ? m.agent_name : who(m.direction)) + " · " + L.clock(m.created_at)));
    return node;
  }
  function addMessages(messages) {
    var atBottom = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 60;
    messages.forEach(function (m) {
      if (state.seen[m.id]) return;
      state.seen[m.id] = true;
      transcript.appendChild(messageNode(m));
    });
    if (atBottom || messages.length) transcript.scrollTop = transcript.scrollHeight;
    emit("messages", messages);
  }
  /* Extensions (agent_live.js: typing, read state) listen to "lumen:chat", "lumen:messages", "lumen:frame". */
  function emit(name, detail) { document.dispatchEvent(new CustomEvent("lumen:" + name, { detail: detail })); }
  function latestHandoff(chat) {
    for (var i = chat.messages.length - 1; i >= 0; i--) if (chat.messages[i].handoff) return chat.messages[i].handoff;
    return null;
  }
  function label(prefix, code) {
    return code && known(prefix + code) ? t(prefix + code) : null;
  }
  /* What the agent needs from the bot's part, in plain words: one line, details on demand. */
  function renderSummary(chat) {
    var box = L.clear(document.getElementById("summary"));
    var handoff = latestHandoff(chat), ticket = chat.tickets && chat.tickets[0];
    var reason = (handoff && handoff.reason) || chat.handoff_reason;
    if (!ticket && !reason) return;
    var s = (handoff && handoff.summary) || {}, c = s.complaint || {};
    var category = label("category.", c.complaint_category || (ticket && ticket.category));
    var severity = c.severity || (ticket && ticket.severity);
    var line = [reason ? reasonText(reason) : null, category,
                label("severity.", severity) ? t("summary.severity", { level: t("severity." + severity) }) : null].filter(Boolean);
    var facts = [];
    function fact(key, value) { if (value !== null && value !== undefined && value !== "") facts.push(h("li", {}, h("b", {}, t(key) + ": "), String(value))); }
    fact("summary.happened", c.complaint_description && c.complaint_description !== c.complaint_text ? c.complaint_description : null);
    fact("summary.first", c.complaint_text);
    fact("summary.order", c.order_number && c.order_number !== "none" ? c.order_number : null);
    fact("summary.wants", label("resolution.", c.desired_outcome));
    fact("summary.agreed", label("resolution.", c.resolution));
    if (ticket) facts.push(h("li", {}, t("summary.ticket", { id: ticket.id }) + (ticket.status ? " · " + ticket.status : "")));
    if (Number(c.frustration) >= 0.5) facts.push(h("li", {}, t("summary.frustrated")));
    if (Number(s.failed_answers) > 0) facts.push(h("li", {}, t("summary.failed", { n: s.failed_answers })));
    if (s.expected_wait_minutes) facts.push(h("li", {}, t("summary.wait", { n: s.expected_wait_minutes })));
    box.appendChild(h("details", { "class": "card summary" + (severity === "high" || severity === "critical" ? " urgent" : "") },
      h("summary", {}, h("strong", {}, t("handoff.title")), " ", line.join(" · ")),
      facts.length ? h("ul", { "class": "facts" }, facts) : null));
  }
  function renderChat(chat) {
    state.chat = chat;
    document.getElementById("no-chat").hidden = true;
    document.getElementById("chat").hidden = false;
    var name = customerName(chat);
    var avatar = document.getElementById("chat-avatar");
    avatar.textContent = L.initials(name); avatar.style.background = L.colorFor(name);
    document.getElementById("chat-title").textContent = name;
    document.getElementById("chat-sub").textContent = t("agent.chat_sub", { id: chat.id, lang: L.LANG[chat.language] || "", at: L.clock(chat.started_at) });
    L.clear(document.getElementById("chat-status")).appendChild(statusChip(chat));
    document.getElementById("claim").hidden = chat.status !== "waiting_agent";
    document.getElementById("hand-back").hidden = !chat.held_by_me;
    reply.disabled = !chat.held_by_me;
    document.getElementById("send").disabled = !chat.held_by_me;
    document.getElementById("composer-hint").textContent = t(chat.held_by_me ? "agent.hint.held"
      : chat.status === "waiting_agent" ? "agent.hint.claim" : chat.status === "agent" ? "agent.hint.other"
      : chat.status === "closed" ? "desk.hint.closed" : "agent.hint.bot");
    renderSummary(chat);
    L.clear(transcript); state.seen = {};
    addMessages(chat.messages);
    window.LumenSide.render(chat, me, refreshChat);
    if (window.LumenDesk) window.LumenDesk.render(chat, me);
    loadSuggestions();
    emit("chat", chat);
  }
  function select(id) {
    state.selected = id; renderQueue();
    return refreshChat();
  }
  function refreshChat() {
    if (state.selected === null) return Promise.resolve();
    var id = state.selected;
    return L.api("GET", "/api/agent/conversations/" + id).then(function (chat) {
      if (state.selected === id) renderChat(chat);
    }).catch(function (e) { L.toast(e.message, true); });
  }

  /* ------------------------------------------------------------ suggestions */
  function loadSuggestions() {
    var box = L.clear(document.getElementById("suggestions"));
    if (!state.chat) return;
    var id = state.chat.id;
    L.api("GET", "/api/agent/conversations/" + id + "/suggestions").then(function (data) {
      if (!state.chat || state.chat.id !== id) return;
      L.clear(box);
      if (!data.hits || !data.hits.length) return;
      box.appendChild(h("span", { "class": "faint" }, t("agent.suggested")));
      data.hits.forEach(function (hit) {
        box.appendChild(h("button", { type: "button", "class": "suggestion", title: hit.answer,
          onclick: function () { reply.value = hit.answer; reply.focus(); }
        }, h("span", { "class": "q" }, hit.question), h("span", { "class": "score" }, Math.round(hit.score * 100) + "%")));
      });
    }).catch(function () { /* suggestions are optional */ });
  }

  /* ------------------------------------------------------------ actions */
  document.getElementById("claim").addEventListener("click", function () {
    var id = state.chat.id;
    L.api("POST", "/api/agent/conversations/" + id + "/claim").then(function () {
      L.toast(t("agent.claimed"));
      state.filter = "mine";
      Array.prototype.forEach.call(document.querySelectorAll(".queue .tabs button"), function (t) { t.setAttribute("aria-selected", String(t.getAttribute("data-filter") === "mine")); });
      return Promise.all([loadQueue(), refreshChat()]);
    }).then(function () { reply.focus(); }).catch(function (e) { L.toast(e.message, true); loadQueue(); refreshChat(); });
  });
  document.getElementById("hand-back").addEventListener("click", function () {
    L.api("POST", "/api/agent/conversations/" + state.chat.id + "/hand-back").then(function () {
      L.toast(t("agent.handed_back")); loadQueue(); refreshChat();
    }).catch(function (e) { L.toast(e.message, true); });
  });
  composer.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = reply.value.trim();
    if (!text || !state.chat) return;
    var clientId = "agent-" + Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
    document.getElementById("send").disabled = true;
    L.api("POST", "/api/agent/conversations/" + state.chat.id + "/reply", { text: text, client_id: clientId }).then(function (data) {
      reply.value = ""; addMessages([data.message]);
    }).catch(function (err) { L.toast(err.message, true); }).then(function () {
      document.getElementById("send").disabled = !(state.chat && state.chat.held_by_me); reply.focus();
    });
  });
  reply.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); composer.requestSubmit(); }
  });

  /* ------------------------------------------------------------ live updates */
  var retry = 0;
  function connect() {
    var ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/ws/console");
    var live = document.getElementById("live-state");
    ws.onopen = function () { retry = 0; live.textContent = t("agent.live"); live.className = "chip green"; loadQueue(); refreshChat(); };
    ws.onmessage = function (event) {
      var frame; try { frame = JSON.parse(event.data); } catch (err) { return; }
      emit("frame", frame);
      if (frame.type === "messages") {
        if (state.chat && frame.conversation_id === state.chat.id) {
          addMessages(frame.messages);
          if (frame.messages.some(function (m) { return m.direction === "customer"; })) loadSuggestions();
        }
        if (state.items.some(function (i) { return i.id === frame.conversation_id; })) queueSoon();
      } else if (frame.type === "desk_changed") {
        if (window.LumenDesk) window.LumenDesk.changed(frame.conversation_id);
      } else if (frame.type === "follow_ups_changed") {
        if (window.LumenFollowUps) window.LumenFollowUps.reload();
      } else if (frame.type === "queue_changed" || frame.type === "csat") {
        queueSoon();
        if (state.chat && frame.conversation_id === state.chat.id) refreshChat();
      }
    };
    ws.onclose = function (event) {
      if (event.code === 4401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); return; }
      live.textContent = t("agent.reconnecting"); live.className = "chip amber";
      retry += 1; setTimeout(connect, Math.min(10000, 500 * Math.pow(2, retry)));
    };
  }
  loadQueue();
  connect();
  window.LumenAgent = { select: select, refresh: refreshChat, reloadQueue: loadQueue,
                        setLabel: function (label) { state.label = label || null; renderQueue(); } };
})();
