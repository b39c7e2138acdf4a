/* The consoles' texts: the catalogue of the user's language (gateway/web/console/i18n/<lang>.json,
 * embedded by the server in #i18n-catalogue). LumenI18n.t("key", {name: value}) returns the text
 * with {name} filled in; an unknown key is returned as is (has() tells). The rail's language picker
 * stores the choice for this user and reloads. */
(function () {
  "use strict";
  var node = document.getElementById("i18n-catalogue"), C = {};
  try { C = JSON.parse(node ? node.textContent : "{}"); } catch (e) { C = {}; }
  var lang = document.documentElement.lang || "en";
  var locale = lang === "zh-Hant" ? "zh-TW" : lang === "zh-Hans" ? "zh-CN" : "en";
  function has(key) { return Object.prototype.hasOwnProperty.call(C, key); }
  function t(key, values) {
    var text = has(key) ? C[key] : key;
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(String(values[k])); });
    return text;
  }
  var picker = document.getElementById("ui-lang");
  if (picker) picker.addEventListener("change", function () {
    var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
    fetch("/api/console/language", { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify({ language: picker.value })
    }).then(function (r) { if (r.ok) location.reload(); });
  });
  window.LumenI18n = { t: t, has: has, lang: lang, locale: locale };
})();
