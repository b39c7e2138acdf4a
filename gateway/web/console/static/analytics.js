/* Analytics dashboard: Chart.js (served locally) fed by /api/analytics, refreshed every 10 s. */
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
  function pct(v) { return v === null || v === undefined ? "–" : Math.round(v * 1000) / 10 + "%"; }
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

  function kpi(label, value, sub) {
    return h("div", { "class": "card kpi" }, h("div", { "class": "label" }, label), h("div", { "class": "value" }, value), h("div", { "class": "sub" }, sub || ""));
  }
  function renderKpis(d) {
    var total = d.conversations_per_day.reduce(function (s, x) { return s + x.count; }, 0);
    var times = d.response_times;
    L.clear(document.getElementById("kpis")).append(
      kpi(t("analytics.kpi.conversations"), String(total), d.filters.from + " → " + d.filters.to),
      kpi(t("analytics.kpi.containment"), pct(d.containment.rate), t("analytics.kpi.contained", { n: d.containment.contained })),
      kpi(t("analytics.kpi.handoff"), pct(d.handoffs.rate), t("analytics.kpi.handed_off", { n: d.handoffs.handed_off })),
      kpi(t("analytics.kpi.csat"), d.csat.average === null ? "–" : d.csat.average.toFixed(2) + " / 5", t("analytics.kpi.ratings", { n: d.csat.count })),
      kpi(t("analytics.kpi.repeat"), pct(d.repeat_contact.rate), t("analytics.kpi.of", { a: d.repeat_contact.repeated, b: d.repeat_contact.conversations })),
      kpi(t("analytics.kpi.fcr"), pct(d.first_contact_resolution.rate), t("analytics.kpi.of", { a: d.first_contact_resolution.resolved, b: d.first_contact_resolution.conversations })),
      kpi(t("analytics.kpi.first_response"), L.duration(times.first_response_s), t("analytics.kpi.agent_first", { d: L.duration(times.agent_first_response_s) })),
      kpi(t("analytics.kpi.resolution"), L.duration(times.resolution_s), t("analytics.kpi.tickets", { n: times.samples.resolution })));
  }

  function render(d) {
    renderKpis(d);
    var days = d.conversations_per_day.map(function (x) { return short(x.day); });
    chart("c-volume", { type: "bar", data: { labels: days, datasets: [{ label: t("analytics.series.conversations"), data: d.conversations_per_day.map(function (x) { return x.count; }), backgroundColor: BLUE, borderRadius: 4 }] },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } }, x: { grid: { display: false } } } } });
    chart("c-containment", { type: "doughnut", data: { labels: [t("analytics.series.contained"), t("analytics.series.handed")],
      datasets: [{ data: [d.containment.contained, d.containment.conversations - d.containment.contained], backgroundColor: [GREEN, AMBER] }] },
      options: { cutout: "65%", plugins: { legend: { position: "bottom" } } } });
    chart("c-handoff", { type: "bar", data: { labels: d.handoffs.reasons.map(function (r) { return lines(code("handoff.reason.", r.reason)); }),
      datasets: [{ label: t("analytics.series.handoffs"), data: d.handoffs.reasons.map(function (r) { return r.count; }), backgroundColor: VIOLET, borderRadius: 4 }] },
      options: { indexAxis: "y", plugins: { legend: { display: false }, subtitle: { display: true, text: t("analytics.handoff_rate", { rate: pct(d.handoffs.rate) }) } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } } });
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
    document.getElementById("updated").textContent = t("analytics.updated", { time: new Date(d.generated_at).toLocaleTimeString(window.LumenI18n.locale) });
  }

  var timer = null;
  function load() {
    clearTimeout(timer);
    var q = "?from=" + fromEl.value + "&to=" + toEl.value + "&language=" + encodeURIComponent(langEl.value);
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
