/* Agent inbox, canned replies: a picker in the composer puts the chosen reply into the reply box
 * in the conversation's language, with {customer_name}, {order_number} and {agent_name} filled in
 * by the server. Managers and admins also get a small editor under the queue. */
(function () {
  "use strict";
  var L = window.Lumen, h = L.h, t = window.LumenI18n.t;
  var reply = document.getElementById("reply"), composer = document.getElementById("composer");
  var adminBox = document.getElementById("canned-admin"), adminToggle = document.getElementById("canned-admin-toggle");
  var adminBody = document.getElementById("canned-admin-body");
  var LANGS = ["zh-Hant", "zh-Hans", "en"];
  var items = [], variables = [];
  var picker = h("select", { id: "canned", "aria-label": t("canned.pick") });
  composer.insertBefore(h("div", { "class": "canned-row" }, picker), composer.querySelector(".composer-row"));

  /* the picker follows the reply box: usable only while the agent holds the chat */
  function follow() { picker.disabled = reply.disabled; }
  new MutationObserver(follow).observe(reply, { attributes: true, attributeFilter: ["disabled"] });
  follow();

  function insert(text) {
    var start = reply.selectionStart, end = reply.selectionEnd, value = reply.value;
    reply.value = value ? value.slice(0, start) + text + value.slice(end) : text;
    reply.focus();
    reply.selectionStart = reply.selectionEnd = (value ? start : 0) + text.length;
  }
  picker.addEventListener("change", function () {
    var id = picker.value, chat = window.LumenDesk && window.LumenDesk.current();
    picker.value = "";
    if (!id || !chat || reply.disabled) return;
    L.api("GET", "/api/agent/conversations/" + chat.id + "/canned/" + id)
      .then(function (data) { insert(data.text); }).catch(function (e) { L.toast(e.message, true); });
  });
  function fillPicker() {
    L.clear(picker);
    picker.appendChild(h("option", { value: "" }, items.length ? t("canned.pick") : t("canned.none")));
    items.forEach(function (c) { picker.appendChild(h("option", { value: c.id }, "/" + c.shortcut + " · " + c.title)); });
  }

  /* ------------------------------------------------------------ managers' editor */
  function field(label, node) { return h("label", { "class": "field" }, label, node); }
  function editor(item) {
    var shortcut = h("input", { type: "text", name: "shortcut", maxlength: "32", value: item ? item.shortcut : "" });
    var title = h("input", { type: "text", name: "title", maxlength: "100", value: item ? item.title : "" });
    var bodies = {};
    LANGS.forEach(function (lang) {
      bodies[lang] = h("textarea", { name: lang, maxlength: "2000", rows: "2" });
      bodies[lang].value = item ? item.bodies[lang] : "";
    });
    var save = h("button", { "class": "btn small primary", type: "submit" }, t(item ? "canned.save" : "canned.add"));
    return h("form", { "class": "canned-form", onsubmit: function (e) {
      e.preventDefault();
      var body = { shortcut: shortcut.value, title: title.value };
      LANGS.forEach(function (lang) { body[lang] = bodies[lang].value; });
      L.api(item ? "PUT" : "POST", "/api/agent/canned" + (item ? "/" + item.id : ""), body)
        .then(function () { L.toast(t("canned.saved")); load(); }).catch(function (e) { L.toast(e.message, true); });
    } }, field(t("canned.shortcut"), shortcut), field(t("canned.title"), title),
      LANGS.map(function (lang) { return field(L.LANG[lang] + " · " + t("canned.text"), bodies[lang]); }),
      h("p", { "class": "faint" }, t("canned.variables", { list: variables.map(function (v) { return "{" + v + "}"; }).join(" ") })),
      h("div", { "class": "actions" }, save));
  }
  function renderAdmin() {
    L.clear(adminBody);
    adminBody.appendChild(h("ul", { "class": "mini-list" }, items.map(function (c) {
      var details = h("details", {}, h("summary", {}, h("strong", {}, "/" + c.shortcut), " " + c.title), editor(c));
      return h("li", {}, details, h("div", { "class": "actions" }, h("button", { "class": "btn small danger", type: "button", onclick: function () {
        L.api("DELETE", "/api/agent/canned/" + c.id).then(function () { L.toast(t("canned.deleted")); load(); })
          .catch(function (e) { L.toast(e.message, true); });
      } }, t("canned.delete"))));
    })));
    adminBody.appendChild(h("h4", {}, t("canned.new")));
    adminBody.appendChild(editor(null));
  }
  if (adminToggle) adminToggle.addEventListener("click", function () {
    var open = adminToggle.getAttribute("aria-expanded") !== "true";
    adminToggle.setAttribute("aria-expanded", String(open)); adminBody.hidden = !open;
  });
  function load() {
    return L.api("GET", "/api/agent/canned").then(function (data) {
      items = data.items; variables = data.variables;
      fillPicker();
      if (adminBox && data.can_manage) { adminBox.hidden = false; renderAdmin(); }
    }).catch(function () { /* canned replies are optional */ });
  }
  load();
  window.LumenCanned = { reload: load };
})();
