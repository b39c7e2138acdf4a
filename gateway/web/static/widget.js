/* Lumen support chat widget. Embed with one tag: <script src="https://HOST/widget.js" defer></script>
 * Talks to the gateway over a WebSocket (/ws), falls back to HTTP, keeps the conversation token
 * in localStorage (history lives on the server), queues unsent messages and re-sends them by id
 * after a reconnect; the server acknowledges by id, so nothing is lost or duplicated.
 * No build step; all server text is inserted with textContent. */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = (script && script.src) ? new URL(script.src).origin : location.origin;
  var STORE = "lumen-chat-token", LANG_STORE = "lumen-chat-lang", RATED = "lumen-chat-rated:", READ = "lumen-chat-read:";
  /* The widget's labels per language: generated from common/texts.yml (section widget) by
   * `python -m common.texts render`; edit them there. */
  var T = {
    "zh-Hant": {
      title: "流明客服",
      open: "線上客服",
      send: "送出",
      placeholder: "請輸入您的問題…",
      typing: "正在輸入",
      offline: "連線中斷，重新連線中…",
      close: "關閉對話視窗",
      bot: "智慧客服",
      agent: "客服專員",
      waiting: "正在為您轉接專人，請稍候…",
      hello: "您好！我是流明電子的智慧客服，有什麼可以幫您？",
      quick: ["訂單查詢", "退貨政策", "保固維修", "我要找真人客服"],
      quickAsk: ["我的訂單到哪了？", "退貨政策是什麼？", "商品保固多久？", "我要找真人客服"],
      rate: "為這次服務評分",
      rateAsk: "請為這次的服務評分",
      comment: "想補充什麼嗎？（選填）",
      submit: "送出評分",
      thanks: "感謝您的評分！",
      stars: ["非常不滿意", "不滿意", "普通", "滿意", "非常滿意"],
      msg: "訊息",
      lang: "語言",
      unread: "則新訊息",
      agentNamed: "{name}（客服專員）",
      agentTyping: "客服專員正在輸入…",
      read: "已讀",
      sentAt: "傳送時間",
      attach: "傳送照片",
      photo: "照片",
      tooLarge: "照片不可超過 5 MB。",
      badType: "請傳送 PNG、JPEG 或 WebP 格式的照片。",
      uploadFailed: "照片傳送失敗，請稍後再試。"
    },
    "zh-Hans": {
      title: "流明客服",
      open: "在线客服",
      send: "发送",
      placeholder: "请输入您的问题…",
      typing: "正在输入",
      offline: "连接中断，正在重连…",
      close: "关闭聊天窗口",
      bot: "智能客服",
      agent: "客服专员",
      waiting: "正在为您转接人工客服，请稍候…",
      hello: "您好！我是流明电子的智能客服，有什么可以帮您？",
      quick: ["订单查询", "退货政策", "保修维修", "转人工客服"],
      quickAsk: ["我的订单到哪了？", "退货政策是什么？", "商品保修多久？", "转人工客服"],
      rate: "为本次服务评分",
      rateAsk: "请为本次服务评分",
      comment: "还有什么想说的吗？（选填）",
      submit: "提交评分",
      thanks: "感谢您的评分！",
      stars: ["非常不满意", "不满意", "一般", "满意", "非常满意"],
      msg: "消息",
      lang: "语言",
      unread: "条新消息",
      agentNamed: "{name}（客服专员）",
      agentTyping: "客服专员正在输入…",
      read: "已读",
      sentAt: "发送时间",
      attach: "发送照片",
      photo: "照片",
      tooLarge: "照片不能超过 5 MB。",
      badType: "请发送 PNG、JPEG 或 WebP 格式的照片。",
      uploadFailed: "照片发送失败，请稍后再试。"
    },
    "en": {
      title: "Lumen support",
      open: "Chat with us",
      send: "Send",
      placeholder: "Type your question…",
      typing: "typing",
      offline: "Connection lost, reconnecting…",
      close: "Close chat",
      bot: "Assistant",
      agent: "Support agent",
      waiting: "Connecting you to a person, please wait…",
      hello: "Hi! I'm Lumen's virtual assistant. How can I help?",
      quick: ["Track my order", "Return policy", "Warranty & repair", "Talk to a person"],
      quickAsk: ["Where is my order?", "What is your return policy?", "How long is the warranty?", "Talk to a person"],
      rate: "Rate this chat",
      rateAsk: "How did we do?",
      comment: "Anything to add? (optional)",
      submit: "Send rating",
      thanks: "Thanks for your feedback!",
      stars: ["Very poor", "Poor", "OK", "Good", "Excellent"],
      msg: "Message",
      lang: "Language",
      unread: "new messages",
      agentNamed: "{name} (agent)",
      agentTyping: "The agent is typing…",
      read: "Read",
      sentAt: "Sent",
      attach: "Send a photo",
      photo: "Photo",
      tooLarge: "Photos can be at most 5 MB.",
      badType: "Please send a PNG, JPEG or WebP photo.",
      uploadFailed: "The photo could not be sent; please try again later."
    }
  };
  function guess() {
    var nav = (navigator.language || "en").toLowerCase();
    return nav.indexOf("zh") !== 0 ? "en" : (/(cn|sg|hans)/.test(nav) ? "zh-Hans" : "zh-Hant");
  }
  var lang = localStorage.getItem(LANG_STORE) || guess();
  var token = localStorage.getItem(STORE);
  var identity = (script && script.getAttribute("data-identity")) || window.LumenChatIdentity || "";
  var ws = null, connected = false, retry = 0, pending = [], seen = {}, chatStatus = "bot", hadAgent = false, unread = 0, count = 0;
  var groups = [], lastSeenId = 0, lastAgentId = 0, readSent = 0, typingTimer = null;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function icon() {  /* a chat bubble, drawn as SVG so it needs no emoji font */
    var ns = "http://www.w3.org/2000/svg", svg = document.createElementNS(ns, "svg"), path = document.createElementNS(ns, "path");
    svg.setAttribute("viewBox", "0 0 24 24"); svg.setAttribute("class", "lw-launcher-icon"); svg.setAttribute("aria-hidden", "true");
    path.setAttribute("d", "M4 4h16a1 1 0 0 1 1 1v11a1 1 0 0 1-1 1H9l-5 4v-4H4a1 1 0 0 1-1-1V5a1 1 0 0 1 1-1z");
    path.setAttribute("fill", "currentColor"); svg.appendChild(path);
    return svg;
  }
  function cameraIcon() {
    var ns = "http://www.w3.org/2000/svg", svg = document.createElementNS(ns, "svg"), path = document.createElementNS(ns, "path");
    svg.setAttribute("viewBox", "0 0 24 24"); svg.setAttribute("aria-hidden", "true");
    path.setAttribute("d", "M9 4h6l1.5 2H20a1 1 0 0 1 1 1v11a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1h3.5L9 4zm3 4.5a4 4 0 1 0 0 8 4 4 0 0 0 0-8zm0 2a2 2 0 1 1 0 4 2 2 0 0 1 0-4z");
    path.setAttribute("fill", "currentColor"); svg.appendChild(path);
    return svg;
  }
  document.head.appendChild(el("link", { rel: "stylesheet", href: base + "/static/widget.css" }));
  var launcher = el("button", { "class": "lw-launcher", type: "button", "aria-expanded": "false", "aria-controls": "lw-panel" });
  var launchText = el("span", {}), badge = el("span", { "class": "lw-badge", hidden: "" });
  launcher.appendChild(icon());
  launcher.appendChild(launchText); launcher.appendChild(badge);
  var panel = el("section", { "class": "lw-panel", id: "lw-panel", role: "dialog", "aria-labelledby": "lw-title", hidden: "" });
  var head = el("header", { "class": "lw-head" });
  var avatar = el("div", { "class": "lw-avatar", "aria-hidden": "true" }, "L");
  var titles = el("div", { "class": "lw-titles" }), title = el("h2", { id: "lw-title" }), who = el("p", { "class": "lw-who" });
  titles.appendChild(title); titles.appendChild(who);
  head.appendChild(avatar); head.appendChild(titles);
  var switcher = el("div", { "class": "lw-lang", role: "group" }), switches = {};
  [["zh-Hant", "繁"], ["zh-Hans", "简"], ["en", "EN"]].forEach(function (pair) {
    var b = el("button", { type: "button", "aria-pressed": "false", "data-lang": pair[0], lang: pair[0] }, pair[1]);
    b.addEventListener("click", function () { localStorage.setItem(LANG_STORE, pair[0]); setLang(pair[0]); });
    switches[pair[0]] = b; switcher.appendChild(b);
  });
  head.appendChild(switcher);
  var rateBtn = el("button", { type: "button", "class": "lw-icon", "data-action": "rate" }, "☆");
  var closeBtn = el("button", { type: "button", "class": "lw-icon", "data-action": "close" }, "×");
  head.appendChild(rateBtn); head.appendChild(closeBtn);
  var log = el("div", { "class": "lw-log", role: "log", "aria-live": "polite", "aria-relevant": "additions", tabindex: "0" });
  var typing = el("div", { "class": "lw-typing", hidden: "" });
  var typingText = el("span", { "class": "lw-sr" });
  typing.appendChild(el("span", { "class": "lw-dot", "aria-hidden": "true" })); typing.appendChild(el("span", { "class": "lw-dot", "aria-hidden": "true" }));
  typing.appendChild(el("span", { "class": "lw-dot", "aria-hidden": "true" })); typing.appendChild(typingText);
  var quick = el("div", { "class": "lw-quick", role: "group" });
  var status = el("div", { "class": "lw-status", role: "status", "aria-live": "polite" });
  var form = el("form", { "class": "lw-form" });
  var input = el("textarea", { rows: "1", maxlength: "2000", id: "lw-input" });
  var sendBtn = el("button", { type: "submit", "class": "lw-send" });
  var attachBtn = el("button", { type: "button", "class": "lw-attach", "data-action": "attach" });
  var picker = el("input", { type: "file", accept: "image/png,image/jpeg,image/webp", hidden: "", "class": "lw-file" });
  attachBtn.appendChild(cameraIcon());
  form.appendChild(attachBtn); form.appendChild(picker); form.appendChild(input); form.appendChild(sendBtn);
  [head, log, quick, status, form].forEach(function (n) { panel.appendChild(n); });
  log.appendChild(typing);
  document.body.appendChild(launcher); document.body.appendChild(panel);

  function setLang(code) {
    lang = code; var t = T[code];
    panel.setAttribute("lang", code);
    title.textContent = t.title; launchText.textContent = t.open; sendBtn.textContent = t.send;
    input.setAttribute("placeholder", t.placeholder); input.setAttribute("aria-label", t.msg);
    typingText.textContent = t.typing; closeBtn.setAttribute("aria-label", t.close);
    attachBtn.setAttribute("aria-label", t.attach); attachBtn.title = t.attach; rateBtn.setAttribute("aria-label", t.rate);
    rateBtn.title = t.rate; switcher.setAttribute("aria-label", t.lang); log.setAttribute("aria-label", t.title);
    Object.keys(switches).forEach(function (k) { switches[k].setAttribute("aria-pressed", String(k === code)); });
    var hello = log.querySelector(".lw-hello");
    if (hello) { hello.firstChild.textContent = t.bot; hello.lastChild.textContent = t.hello; }
    Array.prototype.forEach.call(log.querySelectorAll(".lw-agent .lw-sender, .lw-bot .lw-sender"), function (n) {
      n.textContent = senderName(n.getAttribute("data-name"), n.parentNode.classList.contains("lw-agent") ? "agent" : "bot");
    });
    Array.prototype.forEach.call(log.querySelectorAll("time.lw-time"), function (n) { fillTime(n); });
    Array.prototype.forEach.call(log.querySelectorAll(".lw-read"), function (n) { n.textContent = t.read; });
    setWho(); renderQuick();
  }
  function setWho() {
    var t = T[lang];
    who.textContent = chatStatus === "agent" ? t.agent : chatStatus === "waiting_agent" ? t.waiting : t.bot;
    avatar.className = "lw-avatar" + (chatStatus === "agent" ? " lw-human" : "");
  }
  function renderQuick() {
    while (quick.firstChild) quick.removeChild(quick.firstChild);
    quick.setAttribute("aria-label", T[lang].quick.join(" / "));
    quick.hidden = count > 0;
    T[lang].quick.forEach(function (label, i) {
      var b = el("button", { type: "button" }, label);
      /* the label is short; what the customer asks is the whole question (the KB answers it) */
      b.addEventListener("click", function () { send(T[lang].quickAsk[i]); });
      quick.appendChild(b);
    });
  }

  function linkify(node, text) {
    var re = /(https?:\/\/[^\s<>"'，。）)]+)/g, last = 0, m;
    while ((m = re.exec(text)) !== null) {
      var url = m[1].replace(/[.,;:!?]+$/, "");  /* a sentence's full stop is not part of the link */
      node.appendChild(document.createTextNode(text.slice(last, m.index)));
      node.appendChild(el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, url));
      last = m.index + url.length;
    }
    node.appendChild(document.createTextNode(text.slice(last)));
  }
  /* Dates the server marks in a message (``times``: [{text, at}]) in the reader's own time zone. */
  function locale() { return lang === "en" ? "en" : lang === "zh-Hans" ? "zh-CN" : "zh-TW"; }
  function localTime(at) {
    return new Intl.DateTimeFormat(locale(),
      { month: "short", day: "numeric", weekday: "short", hour: "2-digit", minute: "2-digit", timeZoneName: "short" }).format(new Date(at));
  }
  /* A message's time in the reader's time zone and language: the time of day for today's
   * messages, with the date for older ones; the full date and time on hover. */
  function fillTime(node) {
    var d = new Date(node.getAttribute("datetime"));
    if (isNaN(d)) return;
    var today = d.toDateString() === new Date().toDateString();
    node.textContent = new Intl.DateTimeFormat(locale(), today ? { hour: "2-digit", minute: "2-digit" }
      : { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }).format(d);
    node.title = T[lang].sentAt + " " + localTime(d.toISOString());
  }
  function stamp(iso) {
    var node = el("time", { "class": "lw-time", datetime: iso });
    fillTime(node); return node;
  }
  function senderName(name, dir) {
    if (dir !== "agent") return T[lang].bot;
    return name ? T[lang].agentNamed.split("{name}").join(name) : T[lang].agent;
  }
  function withTimes(text, times) {
    (times || []).forEach(function (t) {
      if (t && t.text && t.at && !isNaN(new Date(t.at))) text = text.split(t.text).join(localTime(t.at));
    });
    return text;
  }
  /* Button groups: once the customer answers, every earlier group is closed; the button whose
   * payload or title is the answer is marked as chosen (also when rebuilt from the history). */
  function closeGroups(answer) {
    groups.forEach(function (g) {
      g.buttons.forEach(function (b) {
        b.el.disabled = true;
        if (answer !== null && (b.payload === answer || b.title === answer) && !g.node.querySelector(".lw-chosen")) {
          b.el.classList.add("lw-chosen"); b.el.setAttribute("aria-pressed", "true");
        }
      });
      g.node.classList.add("lw-done");
    });
    groups = [];
  }
  function titleOf(text) {
    for (var i = groups.length - 1; i >= 0; i--) {
      for (var j = 0; j < groups[i].buttons.length; j++) if (groups[i].buttons[j].payload === text) return groups[i].buttons[j].title;
    }
    return text;
  }
  function markRead() {
    if (token && lastSeenId) localStorage.setItem(READ + token, String(lastSeenId));
    tellRead();
  }
  /* Read state: the agent learns that the customer saw the agent's messages (when the panel is
   * open in a visible tab); the customer sees "Read" under the last message the agent saw. */
  function tellRead() {
    if (!connected || panel.hidden || document.hidden || lastAgentId <= readSent) return;
    readSent = lastAgentId;
    ws.send(JSON.stringify({ type: "read", id: lastAgentId }));
  }
  function readByAgent(mark) {
    var row = mark && mark.client_id && seen[mark.client_id];
    if (!row || !row.classList.contains("lw-customer")) return;
    Array.prototype.forEach.call(log.querySelectorAll(".lw-read"), function (n) { n.parentNode.removeChild(n); });
    row.querySelector(".lw-meta").appendChild(el("span", { "class": "lw-read" }, T[lang].read));
  }
  function showTyping(on, byAgent) {
    clearTimeout(typingTimer);
    typing.hidden = !on;
    typing.setAttribute("data-who", byAgent ? "agent" : "bot");
    typingText.textContent = byAgent ? T[lang].agentTyping : T[lang].typing;
    if (on && byAgent) typingTimer = setTimeout(function () { typing.hidden = true; }, 8000);  /* a lost "off" */
    scroll();
  }
  function scroll() { log.scrollTop = log.scrollHeight; }
  function put(node) { log.insertBefore(node, typing); scroll(); }
  function addMessage(m, isPending) {
    var key = m.client_id || m.id;
    if (key && seen[key]) { seen[key].classList.remove("lw-pending"); return; }
    var dir = m.direction || "bot", text = m.text || "";
    if (dir === "customer") { text = titleOf(text); closeGroups(m.text || ""); }
    var row = el("div", { "class": "lw-row lw-" + dir + (isPending ? " lw-pending" : "") });
    if (dir === "agent" || dir === "bot") row.appendChild(el("span", { "class": "lw-sender", "data-name": m.agent_name || "" }, senderName(m.agent_name, dir)));
    var bubble = el("div", { "class": "lw-msg" });
    if (m.upload) bubble.appendChild(thumbnail(m.upload));
    else linkify(bubble, dir === "customer" ? text : withTimes(text, m.times || (m.custom && m.custom.times)));
    row.appendChild(bubble);
    var meta = el("div", { "class": "lw-meta" });
    meta.appendChild(stamp(m.created_at || new Date().toISOString()));
    row.appendChild(meta);
    if (key) seen[key] = row;
    if (m.text) { put(row); count += 1; quick.hidden = true; }
    if (m.buttons && m.buttons.length) {
      var group = el("div", { "class": "lw-buttons", role: "group" }), entry = { node: group, buttons: [] };
      m.buttons.forEach(function (b) {
        var btn = el("button", { type: "button", "aria-pressed": "false" }, b.title);
        btn.addEventListener("click", function () { send(b.payload, b.title); });
        entry.buttons.push({ el: btn, payload: b.payload, title: b.title });
        group.appendChild(btn);
      });
      groups.push(entry);
      put(group);
    }
    var id = typeof m.id === "number" ? m.id : 0;
    lastSeenId = Math.max(lastSeenId, id);
    if (dir === "agent") lastAgentId = Math.max(lastAgentId, id);
    if (!panel.hidden) markRead();
    else if (dir !== "customer" && !isPending && (!id || id > readMarker())) {
      unread += 1; badge.textContent = String(unread); badge.hidden = false; badge.setAttribute("aria-label", unread + " " + T[lang].unread);
    }
  }
  /* ---------------------------------------------------------------- photos */
  /* The image is fetched with the conversation token in a header (never in a URL) and shown from a blob. */
  function thumbnail(upload) {
    var img = el("img", { "class": "lw-img", alt: T[lang].photo, width: String(Math.min(220, upload.width)),
      height: String(Math.round(Math.min(220, upload.width) * upload.height / Math.max(1, upload.width))) });
    fetch(base + "/api/attachments/" + encodeURIComponent(upload.id), { headers: { "X-Conversation-Token": token } })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.blob(); })
      .then(function (blob) { img.src = URL.createObjectURL(blob); })
      .catch(function () { img.alt = T[lang].photo + " ✕"; });
    return img;
  }
  function uploadError(code) {
    if (code === "unsupported_type" || code === "malformed_image") return T[lang].badType;
    return /too_large|too_many_pixels/.test(code || "") ? T[lang].tooLarge : T[lang].uploadFailed;
  }
  function sendPhoto(file) {
    if (!file) return;
    if (!token) { notice(T[lang].uploadFailed); return; }
    if (file.size > 5 * 1024 * 1024) { notice(T[lang].tooLarge); return; }
    attachBtn.disabled = true;
    fetch(base + "/api/conversations/" + encodeURIComponent(token) + "/attachments?id=" + newId(), {
      method: "POST", headers: { "Content-Type": "application/octet-stream" }, body: file
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) { notice(uploadError(data.error)); return; }
        addMessage(data.message);
      });
    }).catch(function () { notice(T[lang].uploadFailed); }).then(function () { attachBtn.disabled = false; picker.value = ""; });
  }
  function readMarker() { return Number(token && localStorage.getItem(READ + token)) || 0; }
  function greet() {
    var row = el("div", { "class": "lw-row lw-bot lw-hello" });
    row.appendChild(el("span", { "class": "lw-sender" }, T[lang].bot));
    row.appendChild(el("div", { "class": "lw-msg" }, T[lang].hello));
    put(row);
  }
  function notice(text) { put(el("div", { "class": "lw-notice", role: "note" }, text)); }

  /* ---------------------------------------------------------------- CSAT */
  function rated() { return token && localStorage.getItem(RATED + token); }
  function askRating() {
    if (!token || rated() || log.querySelector(".lw-csat")) return;
    var t = T[lang], score = 0;
    var card = el("form", { "class": "lw-csat", "aria-label": t.rateAsk });
    card.appendChild(el("p", { "class": "lw-csat-title" }, t.rateAsk));
    var group = el("div", { "class": "lw-stars", role: "radiogroup", "aria-label": t.rateAsk });
    var stars = [1, 2, 3, 4, 5].map(function (n) {
      var s = el("button", { type: "button", role: "radio", "aria-checked": "false", "aria-label": n + " – " + t.stars[n - 1], tabindex: n === 1 ? "0" : "-1", "data-score": String(n) }, "★");
      s.addEventListener("click", function () { pick(n); });
      s.addEventListener("keydown", function (e) {
        var d = e.key === "ArrowRight" || e.key === "ArrowUp" ? 1 : e.key === "ArrowLeft" || e.key === "ArrowDown" ? -1 : 0;
        if (d) { e.preventDefault(); pick(Math.min(5, Math.max(1, (score || 1) + (score ? d : 0)))); stars[score - 1].focus(); }
      });
      group.appendChild(s); return s;
    });
    function pick(n) {
      score = n;
      stars.forEach(function (s, i) { s.setAttribute("aria-checked", String(i + 1 === n)); s.tabIndex = i + 1 === n ? 0 : -1; s.classList.toggle("lw-on", i < n); });
      submit.disabled = false;
    }
    var comment = el("textarea", { rows: "2", maxlength: "1000", placeholder: t.comment, "aria-label": t.comment });
    var submit = el("button", { type: "submit", "class": "lw-send", disabled: "" }, t.submit);
    card.appendChild(group); card.appendChild(comment); card.appendChild(submit);
    card.addEventListener("submit", function (e) {
      e.preventDefault(); if (!score) return; submit.disabled = true;
      fetch(base + "/api/conversations/" + encodeURIComponent(token) + "/csat", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ score: score, comment: comment.value })
      }).then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        localStorage.setItem(RATED + token, String(score));
        card.replaceWith(el("div", { "class": "lw-notice lw-thanks", role: "status" }, t.thanks + " " + "★★★★★".slice(0, score)));
      }).catch(function () { submit.disabled = false; });
    });
    put(card); stars[0].focus();
  }

  /* ---------------------------------------------------------------- protocol */
  function newId() { return "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10); }
  function send(text, shown) {
    text = (text || "").trim();
    if (!text) return;
    var msg = { type: "message", id: newId(), text: text };
    if (shown) msg.title = shown;  /* a button: the server stores and shows its title */
    closeGroups(text);
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
  /* The interface speaks the conversation's language (the gateway's view of what the customer
   * writes); the switcher changes it until the customer writes in another language. */
  function followLang(code) {
    if (code === lang) return;
    localStorage.setItem(LANG_STORE, code); setLang(code);
  }
  function setStatus(next, text) {
    var before = chatStatus;
    chatStatus = next; setWho();
    if (next === "agent") hadAgent = true;
    if (text) notice(text);
    if (before === "agent" && next === "bot" && hadAgent) askRating();
  }
  function handle(f) {
    if (f.type === "session") {
      token = f.token; localStorage.setItem(STORE, token);
      if (f.language && T[f.language]) followLang(f.language);
      chatStatus = f.status || "bot"; hadAgent = hadAgent || chatStatus === "agent"; setWho();
    } else if (f.type === "history") {
      /* each customer message closes the button groups before it (closeGroups) */
      f.messages.forEach(function (m) { addMessage(m); if (m.direction === "agent") hadAgent = true; });
      if (!f.messages.length && !log.querySelector(".lw-hello")) greet();
      readByAgent(f.read_by_agent); tellRead();
      flush();
    } else if (f.type === "ack") {
      pending = pending.filter(function (m) { return m.id !== f.id; });
      if (seen[f.id]) seen[f.id].classList.remove("lw-pending");
    } else if (f.type === "typing") {
      showTyping(f.on, f.who === "agent");
    } else if (f.type === "read") {
      if (f.by === "agent") readByAgent(f);
    } else if (f.type === "reply") {
      if (f.language && T[f.language]) followLang(f.language);
      typing.hidden = true;
      pending = pending.filter(function (m) { return m.id !== f.in_reply_to; });
      if (f.notice) notice(f.notice);
      f.messages.forEach(function (m) { addMessage(m); });
      if (f.status && f.status !== chatStatus) setStatus(f.status, f.status === "waiting_agent" ? T[lang].waiting : null);
    } else if (f.type === "push") {
      showTyping(false, false);
      f.messages.forEach(function (m) { addMessage(m); });
      tellRead();
    } else if (f.type === "status") {
      setStatus(f.status, f.notice ? (f.notice[lang] || f.notice.en) : null);
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
    ws = new WebSocket(base.replace(/^http/, "ws") + "/ws" + (query.length ? "?" + query.join("&") : ""));
    ws.onopen = function () { connected = true; retry = 0; readSent = 0; status.textContent = ""; panel.classList.remove("lw-offline"); };
    ws.onmessage = function (e) { try { handle(JSON.parse(e.data)); } catch (err) { /* ignore a bad frame */ } };
    ws.onclose = function () {
      connected = false; retry += 1; status.textContent = T[lang].offline; panel.classList.add("lw-offline");
      flush();
      setTimeout(connect, Math.min(10000, 500 * Math.pow(2, retry)));
    };
  }
  function toggle(open) {
    panel.hidden = !open; launcher.setAttribute("aria-expanded", String(open));
    launcher.classList.toggle("lw-open", open);
    if (open) { unread = 0; badge.hidden = true; markRead(); input.focus(); if (!ws) connect(); scroll(); } else { launcher.focus(); }
  }
  launcher.addEventListener("click", function () { toggle(panel.hidden); });
  document.addEventListener("visibilitychange", tellRead);
  closeBtn.addEventListener("click", function () { toggle(false); });
  rateBtn.addEventListener("click", askRating);
  attachBtn.addEventListener("click", function () { picker.click(); });
  picker.addEventListener("change", function () { sendPhoto(picker.files && picker.files[0]); });
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") toggle(false); });
  form.addEventListener("submit", function (e) { e.preventDefault(); send(input.value); input.value = ""; input.focus(); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });
  setLang(lang);
  if (token) connect();  /* a returning visitor: load the history and receive pushes at once */
  window.LumenChat = { open: function () { toggle(true); }, send: send, setLanguage: setLang, rate: askRating, sendPhoto: sendPhoto };
})();
