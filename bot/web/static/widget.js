/* Lumen support chat widget. Embed with one tag: <script src="https://HOST/widget.js" defer></script>
 * Talks to the gateway over a WebSocket (/ws), falls back to HTTP, keeps the conversation token
 * in localStorage (history lives on the server), queues unsent messages and re-sends them by id
 * after a reconnect; the server acknowledges by id, so nothing is lost or duplicated. */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = (script && script.src) ? new URL(script.src).origin : location.origin;
  var STORE = "lumen-chat-token";
  var LABELS = {
    "zh-Hant": { title: "線上客服", open: "線上客服", send: "送出", placeholder: "請輸入您的問題…", typing: "客服正在輸入…", offline: "連線中斷，重新連線中…", close: "關閉" },
    "zh-Hans": { title: "在线客服", open: "在线客服", send: "发送", placeholder: "请输入您的问题…", typing: "客服正在输入…", offline: "连接中断，正在重连…", close: "关闭" },
    "en": { title: "Support chat", open: "Chat with us", send: "Send", placeholder: "Type your question…", typing: "Assistant is typing…", offline: "Connection lost, reconnecting…", close: "Close" }
  };
  var lang = (navigator.language || "en").toLowerCase().indexOf("zh") === 0
    ? (/(cn|sg|hans)/.test(navigator.language.toLowerCase()) ? "zh-Hans" : "zh-Hant") : "en";
  var token = localStorage.getItem(STORE);
  var identity = (script && script.getAttribute("data-identity")) || window.LumenChatIdentity || "";
  var ws = null, connected = false, retry = 0, pending = [], seen = {};

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  var css = el("link", { rel: "stylesheet", href: base + "/static/widget.css" });
  document.head.appendChild(css);
  var launcher = el("button", { "class": "lw-launcher", type: "button", "aria-expanded": "false", "aria-controls": "lw-panel" });
  var panel = el("section", { "class": "lw-panel", id: "lw-panel", role: "dialog", "aria-label": "Support chat", hidden: "" });
  var head = el("div", { "class": "lw-head" });
  var title = el("h2", {});
  head.appendChild(title);
  var switches = {};
  [["zh-Hant", "繁"], ["zh-Hans", "简"], ["en", "EN"]].forEach(function (pair) {
    var b = el("button", { type: "button", "aria-pressed": "false", "data-lang": pair[0], lang: pair[0] }, pair[1]);
    b.addEventListener("click", function () { setLang(pair[0]); });
    switches[pair[0]] = b; head.appendChild(b);
  });
  var closeBtn = el("button", { type: "button" }, "×");
  head.appendChild(closeBtn);
  var log = el("div", { "class": "lw-log", role: "log", "aria-live": "polite", "aria-relevant": "additions" });
  var typing = el("div", { "class": "lw-typing", hidden: "" });
  var status = el("div", { "class": "lw-status", role: "status" });
  var form = el("form", { "class": "lw-form" });
  var input = el("textarea", { rows: "1", maxlength: "2000", "aria-label": "Message" });
  var sendBtn = el("button", { type: "submit" });
  form.appendChild(input); form.appendChild(sendBtn);
  panel.appendChild(head); panel.appendChild(log); panel.appendChild(status); panel.appendChild(form);
  document.body.appendChild(launcher); document.body.appendChild(panel);

  function setLang(code) {
    lang = code;
    var t = LABELS[code];
    title.textContent = t.title; launcher.textContent = t.open; sendBtn.textContent = t.send;
    input.setAttribute("placeholder", t.placeholder); typing.textContent = t.typing;
    closeBtn.setAttribute("aria-label", t.close);
    Object.keys(switches).forEach(function (k) { switches[k].setAttribute("aria-pressed", String(k === code)); });
  }
  setLang(lang);

  function linkify(node, text) {
    var re = /(https?:\/\/[^\s<>"'，。）)]+)/g, last = 0, m;
    while ((m = re.exec(text)) !== null) {
      node.appendChild(document.createTextNode(text.slice(last, m.index)));
      var a = el("a", { href: m[1], target: "_blank", rel: "noopener noreferrer" }, m[1]);
      node.appendChild(a); last = m.index + m[1].length;
    }
    node.appendChild(document.createTextNode(text.slice(last)));
  }
  function scroll() { log.scrollTop = log.scrollHeight; }
  function addMessage(m, isPending) {
    var key = m.client_id || m.id;
    if (key && seen[key]) { seen[key].classList.remove("lw-pending"); return; }
    var bubble = el("div", { "class": "lw-msg lw-" + (m.direction || "bot") + (isPending ? " lw-pending" : "") });
    linkify(bubble, m.text || "");
    if (key) seen[key] = bubble;
    if (m.text) log.insertBefore(bubble, typing);
    if (m.buttons && m.buttons.length) {
      var row = el("div", { "class": "lw-buttons", role: "group" });
      m.buttons.forEach(function (b) {
        var btn = el("button", { type: "button" }, b.title);
        btn.addEventListener("click", function () { send(b.payload, b.title); });
        row.appendChild(btn);
      });
      log.insertBefore(row, typing);
    }
    scroll();
  }
  function notice(text) { log.insertBefore(el("div", { "class": "lw-notice" }, text), typing); scroll(); }
  log.appendChild(typing);

  function newId() { return "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10); }
  function send(text, shown) {
    text = (text || "").trim();
    if (!text) return;
    var msg = { type: "message", id: newId(), text: text };
    addMessage({ client_id: msg.id, direction: "customer", text: shown || text }, true);
    pending.push(msg); flush();
  }
  function flush() {
    if (connected) pending.forEach(function (m) { ws.send(JSON.stringify(m)); });
    else if (pending.length && retry > 2) httpFallback();
  }
  function httpFallback() {
    if (!token || !pending.length) return;
    var m = pending[0];
    fetch(base + "/api/conversations/" + encodeURIComponent(token) + "/messages", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(m)
    }).then(function (r) { return r.json(); }).then(function (frame) {
      handle({ type: "ack", id: m.id }); handle(frame); flush();
    }).catch(function () {});
  }
  function handle(f) {
    if (f.type === "session") {
      token = f.token; localStorage.setItem(STORE, token);
      if (f.language && LABELS[f.language]) setLang(f.language);
    } else if (f.type === "history") {
      f.messages.forEach(function (m) { addMessage(m); });
      flush();
    } else if (f.type === "ack") {
      pending = pending.filter(function (m) { return m.id !== f.id; });
      if (seen[f.id]) seen[f.id].classList.remove("lw-pending");
    } else if (f.type === "typing") {
      typing.hidden = !f.on; scroll();
    } else if (f.type === "reply") {
      typing.hidden = true;
      pending = pending.filter(function (m) { return m.id !== f.in_reply_to; });
      if (f.notice) notice(f.notice);
      f.messages.forEach(function (m) { addMessage(m); });
    } else if (f.type === "push") {
      typing.hidden = true;
      f.messages.forEach(function (m) { addMessage(m); });
    } else if (f.type === "status") {
      if (f.notice) notice(f.notice[lang] || f.notice.en);
    } else if (f.type === "error") {
      typing.hidden = true;
      if (f.id) pending = pending.filter(function (m) { return m.id !== f.id; });
      notice(f.message);
    }
  }
  function connect() {
    var query = [];
    if (token) query.push("token=" + encodeURIComponent(token));
    if (identity) query.push("identity=" + encodeURIComponent(identity));
    var url = base.replace(/^http/, "ws") + "/ws" + (query.length ? "?" + query.join("&") : "");
    ws = new WebSocket(url);
    ws.onopen = function () { connected = true; retry = 0; status.textContent = ""; };
    ws.onmessage = function (e) { try { handle(JSON.parse(e.data)); } catch (err) { /* ignore bad frame */ } };
    ws.onclose = function () {
      connected = false; retry += 1; status.textContent = LABELS[lang].offline;
      flush();
      setTimeout(connect, Math.min(10000, 500 * Math.pow(2, retry)));
    };
  }
  function toggle(open) {
    panel.hidden = !open; launcher.setAttribute("aria-expanded", String(open));
    if (open) { input.focus(); if (!ws) connect(); } else { launcher.focus(); }
  }
  launcher.addEventListener("click", function () { toggle(panel.hidden); });
  closeBtn.addEventListener("click", function () { toggle(false); });
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") toggle(false); });
  form.addEventListener("submit", function (e) { e.preventDefault(); send(input.value); input.value = ""; input.focus(); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });
  window.LumenChat = { open: function () { toggle(true); }, send: send, setLanguage: setLang };
})();
