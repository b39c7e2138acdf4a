/* Shared helpers of the consoles. All user text goes through textContent (see h()). */
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  /* h("div", {class: "x", onclick: fn}, "text", child, [more]) -- strings become text nodes. */
  function h(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key.slice(0, 2) === "on" && typeof value === "function") node.addEventListener(key.slice(2), value);
      else if (key === "class") node.className = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    });
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }
  function append(node, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(node, c); }); return; }
    node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

  function api(method, url, body) {
    var options = { method: method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (method !== "GET") options.headers["X-CSRF-Token"] = csrf;
    if (body !== undefined) { options.headers["Content-Type"] = "application/json"; options.body = JSON.stringify(body); }
    return fetch(url, options).then(function (r) {
      if (r.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); throw new Error("signed out"); }
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) {
          var d = data.detail || data;
          var err = new Error((d && (d.message || d.error)) || ("HTTP " + r.status));
          err.status = r.status; err.data = d; throw err;
        }
        return data;
      });
    });
  }

  var toastTimer = null;
  function toast(text, isError) {
    var node = document.getElementById("toast");
    if (!node) return;
    node.textContent = text; node.className = "toast" + (isError ? " error" : ""); node.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { node.hidden = true; }, 3500);
  }

  function ago(iso) {
    if (!iso) return "";
    var s = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
    var t = window.LumenI18n.t;
    if (s < 60) return t("time.just_now");
    if (s < 3600) return t("time.min_ago", { n: Math.floor(s / 60) });
    if (s < 86400) return t("time.h_ago", { n: Math.floor(s / 3600) });
    return t("time.d_ago", { n: Math.floor(s / 86400) });
  }
  function clock(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    return d.toLocaleString(window.LumenI18n.locale, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  }
  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    if (seconds < 60) return Math.round(seconds) + " s";
    if (seconds < 3600) return (seconds / 60).toFixed(1) + " min";
    if (seconds < 86400) return (seconds / 3600).toFixed(1) + " h";
    return (seconds / 86400).toFixed(1) + " d";
  }
  var PALETTE = ["#2563eb", "#7c3aed", "#be185d", "#c2410c", "#0f766e", "#4f46e5", "#0e7490", "#4d7c0f"];  // white text >= 4.5:1
  function colorFor(seed) {
    var n = 0; String(seed).split("").forEach(function (c) { n = (n * 31 + c.charCodeAt(0)) >>> 0; });
    return PALETTE[n % PALETTE.length];
  }
  function initials(name) {
    var parts = String(name || "?").replace(/[^\p{L}\p{N}\s]/gu, "").trim().split(/\s+/);
    var first = Array.from(parts[0] || "?")[0] || "?";
    return (parts.length > 1 && /^[A-Za-z]/.test(first) ? first + Array.from(parts[1])[0] : first).toUpperCase();
  }
  var LANG = { "zh-Hant": "繁", "zh-Hans": "简", "en": "EN" };
  // CompensationOffer.type (crm/orm/base.py OFFER_TYPES) as agents read it; unknown types as stored.
  var OFFER_TYPES = { coupon: "Coupon", voucher: "Voucher", refund: "Refund", free_shipping: "Free shipping",
                      gift: "Gift", points: "Points", shipping_refund: "Shipping fee refund",
                      expedited_replacement: "Expedited replacement", partial_refund: "Partial refund" };
  function offerType(type) { return OFFER_TYPES[type] || String(type); }

  window.Lumen = { h: h, append: function (node, child) { append(node, child); return node; }, clear: clear, api: api, toast: toast, ago: ago, clock: clock, duration: duration,
                   colorFor: colorFor, initials: initials, LANG: LANG, csrf: csrf, offerType: offerType };
})();
