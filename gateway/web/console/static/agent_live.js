/* The agent's side of a live chat beyond messages (gateway/presence.py): the customer sees the
 * agent typing (whether, never what: throttled "on"/"off" calls), read state both ways ("Seen"
 * under the last agent message the customer has seen; the chat is marked read while the agent
 * holding it looks at it), and the agent's own display name, which customers see. */
(function () {
  "use strict";
  var L = window.Lumen, h = L.h, t = window.LumenI18n.t;
  var transcript = document.getElementById("transcript"), reply = document.getElementById("reply");
  var chat = null, typingOn = false, typingAt = 0, typingTimer = null, readSent = 0;
  var TYPING_EVERY_MS = 2500, IDLE_MS = 4000;

  function base() { return "/api/agent/conversations/" + chat.id; }
  function held() { return chat && chat.held_by_me; }

  /* ---------------------------------------------------------- typing */
  function typing(on) {
    if (!held()) return;
    var now = Date.now();
    if (on && typingOn && now - typingAt < TYPING_EVERY_MS) return;
    if (!on && !typingOn) return;
    typingOn = on; typingAt = now;
    L.api("POST", base() + "/typing", { on: on }).catch(function () { /* best effort */ });
  }
  reply.addEventListener("input", function () {
    clearTimeout(typingTimer);
    typing(reply.value.trim() !== "");
    typingTimer = setTimeout(function () { typing(false); }, IDLE_MS);
  });
  reply.addEventListener("blur", function () { clearTimeout(typingTimer); typing(false); });

  /* ---------------------------------------------------------- read state */
  function latestCustomerId(messages) {
    var id = 0;
    (messages || []).forEach(function (m) { if (m.direction === "customer" && typeof m.id === "number") id = Math.max(id, m.id); });
    return id;
  }
  function markRead(messages) {
    var id = latestCustomerId(messages);
    if (!held() || document.hidden || id <= readSent) return;
    readSent = id;
    L.api("POST", base() + "/read", { message_id: id }).catch(function () { readSent = 0; });
  }
  function showSeen(upTo) {
    Array.prototype.forEach.call(transcript.querySelectorAll(".seen"), function (n) { n.parentNode.removeChild(n); });
    if (!upTo) return;
    var target = null;
    Array.prototype.forEach.call(transcript.querySelectorAll(".msg.agent"), function (n) {
      if (Number(n.getAttribute("data-id")) <= upTo) target = n;
    });
    if (target) target.querySelector(".meta").appendChild(h("span", { "class": "seen" }, " · ✓✓ " + t("live.seen")));
  }
  function loadSeen() {
    var id = chat.id;
    L.api("GET", base() + "/read").then(function (state) {
      if (chat && chat.id === id) showSeen(state.customer_read_id);
    }).catch(function () { /* optional */ });
  }

  document.addEventListener("lumen:chat", function (e) {
    if (!chat || chat.id !== e.detail.id) { readSent = 0; typingOn = false; }
    chat = e.detail;
    markRead(chat.messages); loadSeen();
  });
  document.addEventListener("lumen:messages", function (e) { showImages(e.detail); if (chat) markRead(e.detail); });

  /* ---------------------------------------------------------- photos the customer sent */
  function showImages(messages) {
    (messages || []).forEach(function (m) {
      if (!m.upload) return;
      var bubble = transcript.querySelector(".msg[data-id='" + Number(m.id) + "'] .bubble");
      if (!bubble || bubble.querySelector("img")) return;
      var url = "/api/attachments/" + Number(m.upload.id);
      L.clear(bubble).appendChild(h("a", { href: url, target: "_blank", rel: "noopener", "class": "thumb-link" },
        h("img", { "class": "thumb", src: url, alt: t("live.photo"), loading: "lazy" })));
    });
  }
  document.addEventListener("lumen:frame", function (e) {
    var f = e.detail;
    if (f.type === "read" && f.by === "customer" && chat && f.conversation_id === chat.id) showSeen(f.message_id);
  });
  document.addEventListener("visibilitychange", function () { if (chat) markRead(chat.messages.concat(messagesShown())); });
  function messagesShown() {
    return Array.prototype.map.call(transcript.querySelectorAll(".msg.customer"), function (n) {
      return { direction: "customer", id: Number(n.getAttribute("data-id")) };
    });
  }

  /* ---------------------------------------------------------- display name */
  var who = document.getElementById("me-name");
  if (who) {
    var edit = h("button", { type: "button", "class": "btn small", id: "edit-name", title: t("live.name_edit") }, "✎");
    edit.setAttribute("aria-label", t("live.name_edit"));
    who.parentNode.insertBefore(edit, who.nextSibling);
    edit.addEventListener("click", function () {
      var input = h("input", { type: "text", maxlength: "60", value: who.getAttribute("data-name") || "", "aria-label": t("live.name_label"), id: "name-input" });
      var form = h("form", { "class": "name-form" }, input, h("button", { type: "submit", "class": "btn primary small" }, t("live.name_save")));
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        L.api("POST", "/api/console/display-name", { display_name: input.value }).then(function (data) {
          who.setAttribute("data-name", data.display_name);
          who.firstChild.textContent = data.display_name;
          form.replaceWith(edit); L.toast(t("live.name_saved"));
        }).catch(function (err) { L.toast(err.message, true); });
      });
      edit.replaceWith(form); input.focus(); input.select();
    });
  }
})();
