/* Analytics dashboard: Chart.js (served locally) fed by /api/analytics, refreshed every 10 s.
 * Every card has a CSV link; a click on a number opens the conversations behind it (drill-down). */
(function () {
  "use strict";
  var L = window.Lumen, h = L.h, t = window.LumenI18n.t;
  var REFRESH_MS = 10000;
  var BLUE = "#2563eb", VIOLET = "#7c3aed", GREEN = "#12a150", AMBER = "#f59e0b", RED = "#e5484d", GREY = "#cbd5e1";
  var MULTI = ["#2563eb", "#7c3aed", "#db2777", "#ea580c", "#0d9488", "#65a30d", "#0891b2", "#64748b"];
  var fromEl = document.getElementById("from"), toEl = document.getElementById("to"), langEl = document.getElementById("language");
  var charts = {};
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#6b7385";
  Chart.defaults.plugins.legend.labels.boxWidth = 12;
  Chart.defaults.maintainAspectRatio = false;

  function iso(d) { return d.toISOString().slice(0, 10); }
  function setRange(days) {
    var end = new Date(); var start = new Date(end.getTime() - (days - 1) * 864e5);
    fromEl.value = iso(start); toEl.value = iso(end);
  }
  function code(prefix, value) { return window.LumenI18n.has(prefix + value) ? t(prefix + value) : String(value).replace(/_/g, " "); }
  function lines(label) {  /* a long axis label on two lines (Chart.js takes an array) */
    var cut = label.length > 18 ? label.indexOf(" ", Math.floor(label.length / 2) - 4) : -1;
    return cut > 0 ? [label.slice(0, cut), label.slice(cut + 1)] : label;
  }
  var LOCALE = window.LumenI18n.locale;
  function pct(v) { return v === null || v === undefined ? "–" : (v * 100).toLocaleString(LOCALE, { maximumFractionDigits: 1 }) + "%"; }
  function num(v, digits) { return v === null || v === undefined ? "–" : Number(v).toLocaleString(LOCALE, { maximumFractionDigits: digits || 0 }); }
  function moneyList(amounts) {  /* one localised amount per currency (never added up) */
    return Object.keys(amounts || {}).map(function (cur) {
      try { return Number(amounts[cur]).toLocaleString(LOCALE, { style: "currency", currency: cur }); }
      catch (e) { return cur + " " + amounts[cur]; }
    });
  }
  function money(amounts) { var list = moneyList(amounts); return list.length ? list.join(" · ") : "–"; }
  function moneyLines(amounts) { var list = moneyList(amounts); return list.length ? list.map(function (m) { return h("div", {}, m); }) : "–"; }
  function tier(name) { return code("analytics.tier.", name); }
  function filterQuery() { return "from=" + fromEl.value + "&to=" + toEl.value + "&language=" + encodeURIComponent(langEl.value); }
  /* A number that opens the conversations behind it. */
  function drillable(text, kind, key, label) {
    return h("button", { type: "button", "class": "drillable", "data-drill": kind + (key !== undefined && key !== "" ? ":" + key : ""),
                         onclick: function () { openDrill(kind, key === undefined ? "" : String(key), label); } }, text);
  }
  function short(day) { return day.slice(5); }

  function chart(id, config) {
    var empty = !config.data.datasets.some(function (ds) { return ds.data.some(function (v) { return v; }); });
    document.getElementById(id).closest(".chart-card").classList.toggle("empty-chart", empty);
    if (charts[id]) {
      charts[id].options = config.options;  /* captions such as the handoff rate follow the filters */
      charts[id].data.labels = config.data.labels;
      config.data.datasets.forEach(function (ds, i) {
        if (charts[id].data.datasets[i]) charts[id].data.datasets[i].data = ds.data; else charts[id].data.datasets.push(ds);
      });
      charts[id].update("none");
      return;
    }
    charts[id] = new Chart(document.getElementById(id), config);
  }

  function kpi(label, value, sub, kind) {
    return h("div", { "class": "card kpi" }, h("div", { "class": "label" }, label),
      h("div", { "class": "value" }, kind ? drillable(value, kind, "", label) : value), h("div", { "class": "sub" }, sub || ""));
  }
  function renderKpis(d) {
    var total = d.conversations_per_day.reduce(function (s, x) { return s + x.count; }, 0);
    var times = d.response_times;
    L.clear(document.getElementById("kpis")).append(
      kpi(t("analytics.kpi.conversations"), num(total), new Date(d.filters.from + "T00:00:00").toLocaleDateString(LOCALE) + " → " + new Date(d.filters.to + "T00:00:00").toLocaleDateString(LOCALE), "all"),
      kpi(t("analytics.kpi.containment"), pct(d.containment.rate), t("analytics.kpi.contained", { n: d.containment.contained }), "contained"),
      kpi(t("analytics.kpi.handoff"), pct(d.handoffs.rate), t("analytics.kpi.handed_off", { n: d.handoffs.handed_off }), "handed_off"),
      kpi(t("analytics.kpi.csat"), d.csat.average === null ? "–" : num(d.csat.average, 2) + " / 5", t("analytics.kpi.ratings", { n: d.csat.count })),
      kpi(t("analytics.kpi.repeat"), pct(d.repeat_contact.rate), t("analytics.kpi.of", { a: d.repeat_contact.repeated, b: d.repeat_contact.conversations }), "repeat"),
      kpi(t("analytics.kpi.fcr"), pct(d.first_contact_resolution.rate), t("analytics.kpi.of", { a: d.first_contact_resolution.resolved, b: d.first_contact_resolution.conversations }), "fcr"),
      kpi(t("analytics.kpi.first_response"), L.duration(times.first_response_s), t("analytics.kpi.agent_first", { d: L.duration(times.agent_first_response_s) })),
      kpi(t("analytics.kpi.resolution"), L.duration(times.resolution_s), t("analytics.kpi.tickets", { n: times.samples.resolution })));
  }

  function render(d) {
    renderKpis(d);
    var days = d.conversations_per_day.map(function (x) { return short(x.day); });
    chart("c-volume", { type: "bar", data: { labels: days, datasets: [{ label: t("analytics.series.conversations"), data: d.conversations_per_day.map(function (x) { return x.count; }), backgroundColor: BLUE, borderRadius: 4 }] },
      options: { onClick: onBar(function (i) { var day = d.conversations_per_day[i].day; openDrill("day", day, t("analytics.drill.kind.day", { key: day })); }),
                 plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } }, x: { grid: { display: false } } } } });
    chart("c-containment", { type: "doughnut", data: { labels: [t("analytics.series.contained"), t("analytics.series.handed")],
      datasets: [{ data: [d.containment.contained, d.containment.conversations - d.containment.contained], backgroundColor: [GREEN, AMBER] }] },
      options: { cutout: "65%", plugins: { legend: { position: "bottom" } } } });
    chart("c-handoff", { type: "bar", data: { labels: d.handoffs.reasons.map(function (r) { return lines(code("handoff.reason.", r.reason)); }),
      datasets: [{ label: t("analytics.series.handoffs"), data: d.handoffs.reasons.map(function (r) { return r.count; }), backgroundColor: VIOLET, borderRadius: 4 }] },
      options: { indexAxis: "y", onClick: onBar(function (i) { var r = d.handoffs.reasons[i]; openDrill("reason", r.reason, t("analytics.drill.kind.reason", { key: code("handoff.reason.", r.reason) })); }),
                 plugins: { legend: { display: false }, subtitle: { display: true, text: t("analytics.handoff_rate", { rate: pct(d.handoffs.rate) }) } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } } });
    chart("c-csat", { type: "line", data: { labels: d.csat.days.map(function (x) { return short(x.day); }),
      datasets: [{ label: t("analytics.series.avg_csat"), data: d.csat.days.map(function (x) { return x.average; }), borderColor: AMBER, backgroundColor: "rgba(245,158,11,.15)", fill: true, spanGaps: true, tension: .3 },
                 { label: t("analytics.series.ratings"), data: d.csat.days.map(function (x) { return x.count; }), type: "bar", backgroundColor: GREY, yAxisID: "n" }] },
      options: { scales: { y: { min: 1, max: 5 }, n: { position: "right", beginAtZero: true, grid: { display: false }, ticks: { precision: 0 } } } } });
    chart("c-complaints", { type: "doughnut", data: { labels: d.complaint_categories.map(function (c) { return code("category.", c.category); }),
      datasets: [{ data: d.complaint_categories.map(function (c) { return c.count; }), backgroundColor: MULTI }] },
      options: { plugins: { legend: { position: "right" } } } });
    chart("c-repeat", { type: "bar", data: { labels: [t("analytics.series.repeat"), t("analytics.series.fcr"), t("analytics.series.containment")],
      datasets: [{ label: t("analytics.series.rate"), data: [d.repeat_contact.rate, d.first_contact_resolution.rate, d.containment.rate].map(function (v) { return v === null ? 0 : Math.round(v * 1000) / 10; }),
                   backgroundColor: [RED, GREEN, BLUE], borderRadius: 4 }] },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, max: 100, ticks: { callback: function (v) { return v + "%"; } } } } } });
    var rt = d.response_times;
    var times = [rt.first_response_s, rt.queue_wait_s, rt.agent_first_response_s, rt.resolution_s];
    chart("c-times", { type: "bar", data: { labels: [t("analytics.series.first_response"), t("analytics.series.queue_wait"), t("analytics.series.agent_first"), t("analytics.series.resolution")],
      datasets: [{ label: t("analytics.series.median_min"), data: times.map(function (s) { return s === null || s === undefined ? 0 : Math.round(s / 6) / 10; }),
                   backgroundColor: [BLUE, RED, VIOLET, GREEN], borderRadius: 4 }] },
      options: { plugins: { legend: { display: false }, tooltip: { callbacks: { label: function (c) { return L.duration(times[c.dataIndex]); } } } },
                 scales: { y: { beginAtZero: true, title: { display: true, text: t("analytics.minutes") } } } } });
    chart("c-comp", { type: "bar", data: { labels: d.compensation.map(function (c) { return L.offerType(c.type); }),
      datasets: [{ label: t("analytics.series.granted"), data: d.compensation.map(function (c) { return c.count; }), backgroundColor: MULTI, borderRadius: 4 }] },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } } });
    L.append(L.clear(document.getElementById("comp-table")), [h("tr", {}, h("th", {}, t("analytics.col.type")), h("th", { "class": "num" }, t("analytics.col.count")), h("th", { "class": "num" }, t("analytics.col.cost"))),
      d.compensation.map(function (c) {
        return h("tr", {}, h("td", {}, L.offerType(c.type)), h("td", { "class": "num" }, String(c.count)),
          h("td", { "class": "num" }, Object.keys(c.amounts).map(function (cur) { return cur + " " + c.amounts[cur]; }).join(" · ")));
      })]);
    var rows = d.top_unanswered.map(function (q) {
      return h("tr", {}, h("td", {}, q.text), h("td", { "class": "num" }, String(q.count)), h("td", { "class": "num" }, q.open ? h("span", { "class": "chip amber" }, t("analytics.open", { n: q.open })) : h("span", { "class": "chip green" }, t("analytics.reviewed"))));
    });
    L.append(L.clear(document.getElementById("unanswered")), [h("tr", {}, h("th", {}, t("analytics.col.question")), h("th", { "class": "num" }, t("analytics.col.asked")), h("th", { "class": "num" }, "")),
      rows.length ? rows : h("tr", {}, h("td", { colspan: "3", "class": "muted" }, t("analytics.no_unanswered")))]);
    renderManagers(d);
    document.getElementById("updated").textContent = t("analytics.updated", { time: new Date(d.generated_at).toLocaleTimeString(window.LumenI18n.locale) });
  }

  /* Chart.js click handler: the clicked bar's index. */
  function onBar(fn) {
    return function (evt, elements) { if (elements && elements.length) fn(elements[0].index, elements[0].datasetIndex); };
  }

  function renderManagers(d) {
    var ly = d.loyalty;
    function item(label, value, sub) { return h("div", {}, h("div", { "class": "label" }, label), h("div", { "class": "value" }, value), sub ? h("div", { "class": "muted" }, sub) : null); }
    L.clear(document.getElementById("loyalty")).append(
      item(t("analytics.loyalty.retention"), pct(ly.retention)),
      item(t("analytics.loyalty.churn"), pct(ly.churn)),
      item(t("analytics.loyalty.frequency"), num(ly.purchase_frequency, 2), t("analytics.loyalty.frequency_sub")),
      item(t("analytics.loyalty.aov"), moneyLines(ly.average_order_value)),
      item(t("analytics.loyalty.clv"), moneyLines(ly.lifetime_value)));
    chart("c-loyalty", { type: "bar", data: { labels: [t("analytics.loyalty.retention"), t("analytics.loyalty.churn")],
      datasets: [{ label: t("analytics.series.rate"), data: [ly.retention, ly.churn].map(function (v) { return v === null ? 0 : Math.round(v * 1000) / 10; }), backgroundColor: [GREEN, RED], borderRadius: 4 }] },
      options: { indexAxis: "y", plugins: { legend: { display: false }, subtitle: { display: true, text: t("analytics.loyalty.previous") } },
                 scales: { x: { beginAtZero: true, max: 100, ticks: { callback: function (v) { return v + "%"; } } } } } });

    chart("c-tiers", { type: "bar", data: { labels: ly.tiers.map(function (r) { return tier(r.tier); }),
      datasets: [{ label: t("analytics.series.customers"), data: ly.tiers.map(function (r) { return r.customers; }), backgroundColor: [VIOLET, AMBER, GREY, BLUE], borderRadius: 4 }] },
      options: { indexAxis: "y", onClick: onBar(function (i) { var r = ly.tiers[i]; openDrill("tier", r.tier, t("analytics.drill.kind.tier", { key: tier(r.tier) })); }),
                 plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } } });
    L.append(L.clear(document.getElementById("tier-table")), [
      h("tr", {}, h("th", {}, t("analytics.col.tier")), h("th", { "class": "num" }, t("analytics.series.customers")), h("th", { "class": "num" }, t("analytics.loyalty.clv"))),
      ly.tiers.map(function (r) {
        return h("tr", {}, h("td", {}, tier(r.tier)), h("td", { "class": "num" }, num(r.customers)), h("td", { "class": "num" }, money(r.lifetime_value)));
      })]);

    var at = d.attainment;
    var series = [["first_response_met", "fr_met", GREEN], ["first_response_missed", "fr_missed", RED], ["resolution_met", "res_met", "#0d9488"], ["resolution_missed", "res_missed", AMBER]];
    chart("c-attainment", { type: "bar", data: { labels: at.map(function (r) { return tier(r.tier); }),
      datasets: series.map(function (s) { return { label: t("analytics.series." + s[1]), data: at.map(function (r) { return r[s[0]]; }), backgroundColor: s[2], stack: s[0].split("_")[0], borderRadius: 3 }; }) },
      options: { onClick: onBar(function (i, ds) { var r = at[i], kind = series[ds][0]; openDrill(kind, r.tier, t("analytics.drill.kind." + kind, { key: tier(r.tier) })); }),
                 plugins: { legend: { position: "bottom" } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } } });
    L.append(L.clear(document.getElementById("attainment-table")), [
      h("tr", {}, h("th", {}, t("analytics.col.tier")), h("th", { "class": "num" }, t("analytics.series.fr_met")), h("th", { "class": "num" }, t("analytics.series.res_met"))),
      at.map(function (r) {
        function cell(kind, rate, met, missed) {
          if (rate === null) return h("td", { "class": "num muted" }, "–");
          return h("td", { "class": "num" }, drillable(pct(rate), kind + "_met", r.tier, t("analytics.drill.kind." + kind + "_met", { key: tier(r.tier) })),
            " ", h("span", { "class": "muted" }, t("analytics.kpi.of", { a: met, b: met + missed })));
        }
        return h("tr", {}, h("td", {}, tier(r.tier), h("div", { "class": "muted" }, t("analytics.target", { m: num(r.first_response_minutes, 1), h: num(r.resolution_hours, 1) }))),
          cell("first_response", r.first_response_rate, r.first_response_met, r.first_response_missed),
          cell("resolution", r.resolution_rate, r.resolution_met, r.resolution_missed));
      })]);

    var agents = d.agents.map(function (a) {
      function med(s, n) { return [L.duration(s), " ", h("span", { "class": "muted" }, t("analytics.n", { n: n }))]; }
      return h("tr", {}, h("td", {}, a.agent),
        h("td", { "class": "num" }, drillable(num(a.conversations), "agent", a.agent_id, t("analytics.drill.kind.agent", { key: a.agent }))),
        h("td", { "class": "num" }, med(a.first_response_s, a.first_responses)),
        h("td", { "class": "num" }, med(a.resolution_s, a.resolutions)),
        h("td", { "class": "num" }, a.csat === null ? "–" : drillable(num(a.csat, 2), "agent_rated", a.agent_id, t("analytics.drill.kind.agent_rated", { key: a.agent })), " ", h("span", { "class": "muted" }, t("analytics.n", { n: a.ratings }))),
        h("td", { "class": "num" }, pct(a.fcr_rate), " ", h("span", { "class": "muted" }, t("analytics.kpi.of", { a: a.fcr_resolved, b: a.fcr_conversations }))));
    });
    L.append(L.clear(document.getElementById("agents")), [
      h("tr", {}, [t("analytics.col.agent"), t("analytics.col.chats"), t("analytics.col.first_response"), t("analytics.col.resolution"), t("analytics.col.csat"), t("analytics.col.fcr")].map(function (c, i) { return h("th", { "class": i ? "num" : "" }, c); })),
      agents.length ? agents : h("tr", {}, h("td", { colspan: "6", "class": "muted" }, t("analytics.no_agents")))]);
  }

  /* ------------------------------------------------------------ drill-down */
  var dialog = document.getElementById("drill");
  function drillUrl(kind, key) { return "/api/analytics/drill?kind=" + encodeURIComponent(kind) + "&key=" + encodeURIComponent(key) + "&" + filterQuery(); }
  function showList(on) {
    document.getElementById("drill-list").hidden = !on; document.getElementById("drill-count").hidden = !on;
    document.getElementById("drill-transcript").hidden = on; document.getElementById("drill-back").hidden = on;
  }
  function openDrill(kind, key, label) {
    document.getElementById("drill-title").textContent = t("analytics.drill.title", { what: label });
    document.getElementById("drill-csv").href = drillUrl(kind, key) + "&format=csv";
    L.clear(document.getElementById("drill-list")); document.getElementById("drill-count").textContent = t("analytics.loading");
    showList(true);
    if (!dialog.open) dialog.showModal();
    L.api("GET", drillUrl(kind, key)).then(function (r) {
      var n = r.conversations.length;
      document.getElementById("drill-count").textContent = t("analytics.drill.count", { n: num(n) }) + (n >= r.limit ? " · " + t("analytics.drill.limited", { n: r.limit }) : "");
      var rows = r.conversations.map(function (c) {
        return h("tr", { "data-id": c.id, tabindex: "0", onclick: function () { openTranscript(c.id); }, onkeydown: function (e) { if (e.key === "Enter") openTranscript(c.id); } },
          h("td", {}, "#" + c.id), h("td", {}, L.clock(c.started_at)), h("td", {}, c.customer || t("analytics.drill.anonymous"), c.tier ? [" ", h("span", { "class": "chip violet" }, tier(c.tier))] : null),
          h("td", {}, L.LANG[c.language] || c.language || ""), h("td", {}, c.agent || ""), h("td", {}, c.status));
      });
      L.append(document.getElementById("drill-list"), [
        h("thead", {}, h("tr", {}, ["#", t("analytics.col.started"), t("analytics.col.customer"), t("analytics.col.language"), t("analytics.col.agent"), t("analytics.col.status")].map(function (c) { return h("th", {}, c); }))),
        h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: "6", "class": "muted" }, t("analytics.drill.empty"))))]);
    }).catch(function (e) { document.getElementById("drill-count").textContent = t("analytics.failed", { error: e.message }); });
  }
  function openTranscript(id) {
    var box = L.clear(document.getElementById("drill-transcript"));
    showList(false);
    L.api("GET", "/api/analytics/conversations/" + id).then(function (r) {
      L.append(box, [h("h3", {}, t("analytics.drill.transcript", { id: id })),
        r.messages.map(function (m) {
          return h("div", { "class": "line " + m.direction }, h("div", { "class": "meta" }, code("who.", m.direction) + " · " + L.clock(m.created_at)), m.text);
        })]);
    }).catch(function (e) { box.textContent = t("analytics.failed", { error: e.message }); });
  }
  document.getElementById("drill-close").addEventListener("click", function () { dialog.close(); });
  document.getElementById("drill-back").addEventListener("click", function () { showList(true); });

  var timer = null;
  function load() {
    clearTimeout(timer);
    var q = "?" + filterQuery();
    Array.prototype.forEach.call(document.querySelectorAll("a.csv[data-table]"), function (a) {
      a.href = "/api/analytics/export.csv?table=" + a.getAttribute("data-table") + "&" + filterQuery();
    });
    L.api("GET", "/api/analytics" + q).then(render).catch(function (e) {
      document.getElementById("updated").textContent = t("analytics.failed", { error: e.message });
    }).then(function () { timer = setTimeout(load, REFRESH_MS); });
  }
  [fromEl, toEl, langEl].forEach(function (node) { node.addEventListener("change", load); });
  Array.prototype.forEach.call(document.querySelectorAll("[data-days]"), function (b) {
    b.addEventListener("click", function () { setRange(Number(b.getAttribute("data-days"))); load(); });
  });
  setRange(30);
  load();
})();
