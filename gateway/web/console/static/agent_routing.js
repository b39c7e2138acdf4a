/* Routing in the agent inbox: availability, transfer / back to the queue, response-target chips
 * in the queue, and alerts (tab title "(n) …" and a short beep, mutable and remembered) when a
 * chat is assigned to you or a customer writes in one of your chats.
 * agent.js calls LumenRouting.chips(item) and dispatches lumen:queue, lumen:chat, lumen:frame. */
(function () {
  "use strict";
  var L = window.Lumen, h = L.h, t = window.LumenI18n.t;
  var root = document.getElementById("inbox");
  var me = { id: Number(root.getAttribute("data-user-id")), role: root.getAttribute("data-role") };
  var baseTitle = document.title;
  var muteKey = "lumen_agent_mute_" + me.id;
  var state = { mine: null, unseen: {}, open: null, team: null, available: false };
  var api = { alerts: 0, beeps: 0 };

  /* ------------------------------------------------------------ queue chips */
  function clockChip(kind, clock) {
    if (!clock || (clock.state !== "warning" && clock.state !== "breached")) return null;
    var left = Math.max(0, Math.ceil(clock.target_min - clock.elapsed_min));
    return h("span", { "class": "chip sla " + (clock.state === "breached" ? "red" : "amber"), "data-sla": kind + ":" + clock.state,
      title: L.clock ? L.clock(clock.due_at) : clock.due_at }, t("routing.sla." + kind + "." + clock.state, { n: left }));
  }
  api.chips = function (item) {
    if (!item.sla) return [];
    var first = item.sla.first_response;
    var shown = first && first.state !== "met" && first.state !== "missed" ? clockChip("first_response", first) : null;
    return [shown || clockChip("resolution", item.sla.resolution)].filter(Boolean);
  };

  /* ------------------------------------------------------------ alerts */
  function muted() { try { return localStorage.getItem(muteKey) === "1"; } catch (e) { return false; } }
  var audio = null;
  function beep() {
    if (muted()) return;
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    try {
      audio = audio || new Ctx();
      if (audio.state === "suspended") audio.resume();
      var osc = audio.createOscillator(), gain = audio.createGain(), now = audio.currentTime;
      osc.type = "sine"; osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, now);
      gain.gain.exponentialRampToValueAtTime(0.2, now + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + 0.25);
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(now); osc.stop(now + 0.3);
      api.beeps += 1;
    } catch (e) { /* no sound device: the title still shows it */ }
  }
  function seeing(id) { return state.open === id && !document.hidden; }
  function renderTitle() {
    var n = Object.keys(state.unseen).length;
    document.title = (n ? "(" + n + ") " : "") + baseTitle;
  }
  function alertFor(id) {
    api.alerts += 1;
    if (!seeing(id)) state.unseen[id] = true;
    renderTitle(); beep();
  }
  function seen(id) { if (id !== null && state.unseen[id]) { delete state.unseen[id]; renderTitle(); } }
  document.addEventListener("visibilitychange", function () { if (!document.hidden) seen(state.open); });

  document.addEventListener("lumen:queue", function (e) {
    var mine = {};
    e.detail.items.forEach(function (i) { if (i.status === "agent" && i.assigned_agent_id === me.id) mine[i.id] = true; });
    if (state.mine !== null) Object.keys(mine).forEach(function (id) { if (!state.mine[id]) alertFor(Number(id)); });
    Object.keys(state.unseen).forEach(function (id) { if (!mine[id]) delete state.unseen[id]; });
    state.mine = mine; renderTitle();
  });
  document.addEventListener("lumen:frame", function (e) {
    var frame = e.detail;
    if (frame.type !== "messages" || !state.mine || !state.mine[frame.conversation_id]) return;
    if ((frame.messages || []).some(function (m) { return m.direction === "customer"; })) alertFor(frame.conversation_id);
  });

  /* ------------------------------------------------------------ top bar: availability, sound */
  var bar = document.querySelector(".topbar");
  var availability = h("button", { type: "button", "class": "btn", id: "availability", "aria-pressed": "false", title: t("routing.availability_hint") });
  var sound = h("button", { type: "button", "class": "btn", id: "sound", "aria-pressed": "true" });
  function renderBar() {
    availability.textContent = t(state.available ? "routing.available" : "routing.away");
    availability.className = "btn " + (state.available ? "primary" : "");
    availability.setAttribute("aria-pressed", String(state.available));
    sound.textContent = t(muted() ? "routing.sound_off" : "routing.sound_on");
    sound.setAttribute("aria-pressed", String(!muted()));
  }
  availability.addEventListener("click", function () {
    L.api("POST", "/api/agent/routing/availability", { available: !state.available }).then(function (r) {
      state.available = r.available; renderBar(); loadTeam();
    }).catch(function (err) { L.toast(err.message, true); });
  });
  sound.addEventListener("click", function () {
    try { localStorage.setItem(muteKey, muted() ? "0" : "1"); } catch (e) { /* private mode */ }
    renderBar();
    if (!muted()) beep();  /* a click is the gesture that lets the page play sound */
  });
  bar.insertBefore(sound, bar.querySelector(".who"));
  bar.insertBefore(availability, sound);
  renderBar();

  function loadTeam() {
    return L.api("GET", "/api/agent/routing/team").then(function (team) {
      state.team = team;
      var self = team.agents.filter(function (a) { return a.id === me.id; })[0];
      state.available = !!(self && self.available); renderBar();
    }).catch(function () { /* the inbox works without routing */ });
  }

  /* ------------------------------------------------------------ transfer */
  var transfer = h("select", { id: "transfer", "class": "transfer", "aria-label": t("routing.transfer_label"), hidden: true });
  var head = document.querySelector(".conv-head");
  head.insertBefore(transfer, document.getElementById("hand-back"));
  function renderTransfer(chat) {
    var holder = chat.status === "agent" ? chat.assigned_agent_id : null;
    var may = (chat.status === "agent" || chat.status === "waiting_agent") && (holder === me.id || me.role !== "agent");
    transfer.hidden = !may || !state.team;
    if (transfer.hidden) return;
    L.clear(transfer);
    transfer.appendChild(h("option", { value: "" }, t("routing.transfer")));
    if (holder !== null) transfer.appendChild(h("option", { value: "queue" }, t("routing.to_queue")));
    state.team.agents.forEach(function (a) {
      if (a.id === holder) return;
      transfer.appendChild(h("option", { value: String(a.id) }, t("routing.load", { name: a.display_name || a.username, load: a.load, capacity: a.capacity })));
    });
  }
  transfer.addEventListener("change", function () {
    var value = transfer.value, id = state.open;
    if (!value || id === null) return;
    L.api("POST", "/api/agent/conversations/" + id + "/assign", { agent_id: value === "queue" ? null : Number(value) }).then(function () {
      L.toast(t("routing.transferred")); loadTeam();
      if (window.LumenAgent) window.LumenAgent.refresh();
    }).catch(function (err) { L.toast(err.message, true); transfer.value = ""; });
  });
  document.addEventListener("lumen:chat", function (e) {
    state.open = e.detail.id; seen(state.open);
    renderTransfer(e.detail);
  });

  loadTeam();
  window.LumenRouting = api;
})();
