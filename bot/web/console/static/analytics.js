/* Analytics dashboard: Chart.js (served locally) fed by /api/analytics, refreshed every 10 s. */
(function () {
  "use strict";
  var L = window.Lumen, h = L.h;
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
    var t = d.response_times;
    L.clear(document.getElementById("kpis")).append(
      kpi("Conversations", String(total), d.filters.from + " → " + d.filters.to),
      kpi("Containment", pct(d.containment.rate), d.containment.contained + " without an agent"),
      kpi("Handoff rate", pct(d.handoffs.rate), d.handoffs.handed_off + " handed off"),
      kpi("CSAT", d.csat.average === null ? "–" : d.csat.average.toFixed(2) + " / 5", d.csat.count + " ratings"),
      kpi("Repeat within 7 days", pct(d.repeat_contact.rate), d.repeat_contact.repeated + " of " + d.repeat_contact.conversations),
      kpi("First-contact resolution", pct(d.first_contact_resolution.rate), d.first_contact_resolution.resolved + " of " + d.first_contact_resolution.conversations),
      kpi("Median first response", L.duration(t.first_response_s), "agent: " + L.duration(t.agent_first_response_s)),
      kpi("Median resolution", L.duration(t.resolution_s), t.samples.resolution + " tickets"));
  }

  function render(d) {
    renderKpis(d);
    var days = d.conversations_per_day.map(function (x) { return short(x.day); });
    chart("c-volume", { type: "bar", data: { labels: days, datasets: [{ label: "Conversations", data: d.conversations_per_day.map(function (x) { return x.count; }), backgroundColor: BLUE, borderRadius: 4 }] },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } }, x: { grid: { display: false } } } } });
    chart("c-containment", { type: "doughnut", data: { labels: ["Contained by the assistant", "Handed to an agent"],
      datasets: [{ data: [d.containment.contained, d.containment.conversations - d.containment.contained], backgroundColor: [GREEN, AMBER] }] },
      options: { cutout: "65%", plugins: { legend: { position: "bottom" } } } });
    chart("c-handoff", { type: "bar", data: { labels: d.handoffs.reasons.map(function (r) { return r.reason; }),
      datasets: [{ label: "Handoffs", data: d.handoffs.reasons.map(function (r) { return r.count; }), backgroundColor: VIOLET, borderRadius: 4 }] },
      options: { indexAxis: "y", plugins: { legend: { display: false }, subtitle: { display: true, text: "Handoff rate " + pct(d.handoffs.rate) } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } } });
    chart("c-csat", { type: "line", data: { labels: d.csat.days.map(function (x) { return short(x.day); }),
      datasets: [{ label: "Average CSAT", data: d.csat.days.map(function (x) { return x.average; }), borderColor: AMBER, backgroundColor: "rgba(245,158,11,.15)", fill: true, spanGaps: true, tension: .3 },
                 { label: "Ratings", data: d.csat.days.map(function (x) { return x.count; }), type: "bar", backgroundColor: GREY, yAxisID: "n" }] },
      options: { scales: { y: { min: 1, max: 5 }, n: { position: "right", beginAtZero: true, grid: { display: false }, ticks: { precision: 0 } } } } });
    chart("c-complaints", { type: "doughnut", data: { labels: d.complaint_categories.map(function (c) { return c.category; }),
      datasets: [{ data: d.complaint_categories.map(function (c) { return c.count; }), backgroundColor: MULTI }] },
      options: { plugins: { legend: { position: "right" } } } });
    chart("c-repeat", { type: "bar", data: { labels: ["Repeat contact (7 days)", "First-contact resolution", "Containment"],
      datasets: [{ label: "Rate", data: [d.repeat_contact.rate, d.first_contact_resolution.rate, d.containment.rate].map(function (v) { return v === null ? 0 : Math.round(v * 1000) / 10; }),
                   backgroundColor: [RED, GREEN, BLUE], borderRadius: 4 }] },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, max: 100, ticks: { callback: function (v) { return v + "%"; } } } } } });
    var t = d.response_times;
    var times = [t.first_response_s, t.queue_wait_s, t.agent_first_response_s, t.resolution_s];
    chart("c-times", { type: "bar", data: { labels: ["First response", "Queue wait", "Agent first response", "Ticket resolution"],
      datasets: [{ label: "Median (minutes)", data: times.map(function (s) { return s === null || s === undefined ? 0 : Math.round(s / 6) / 10; }),
                   backgroundColor: [BLUE, RED, VIOLET, GREEN], borderRadius: 4 }] },
      options: { plugins: { legend: { display: false }, tooltip: { callbacks: { label: function (c) { return L.duration(times[c.dataIndex]); } } } },
                 scales: { y: { beginAtZero: true, title: { display: true, text: "minutes" } } } } });
    chart("c-comp", { type: "bar", data: { labels: d.compensation.map(function (c) { return L.offerType(c.type); }),
      datasets: [{ label: "Granted", data: d.compensation.map(function (c) { return c.count; }), backgroundColor: MULTI, borderRadius: 4 }] },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } } });
    L.append(L.clear(document.getElementById("comp-table")), [h("tr", {}, h("th", {}, "Type"), h("th", { "class": "num" }, "Count"), h("th", { "class": "num" }, "Cost")),
      d.compensation.map(function (c) {
        return h("tr", {}, h("td", {}, L.offerType(c.type)), h("td", { "class": "num" }, String(c.count)),
          h("td", { "class": "num" }, Object.keys(c.amounts).map(function (cur) { return cur + " " + c.amounts[cur]; }).join(" · ")));
      })]);
    var rows = d.top_unanswered.map(function (q) {
      return h("tr", {}, h("td", {}, q.text), h("td", { "class": "num" }, String(q.count)), h("td", { "class": "num" }, q.open ? h("span", { "class": "chip amber" }, q.open + " open") : h("span", { "class": "chip green" }, "reviewed")));
    });
    L.append(L.clear(document.getElementById("unanswered")), [h("tr", {}, h("th", {}, "Question"), h("th", { "class": "num" }, "Asked"), h("th", { "class": "num" }, "")),
      rows.length ? rows : h("tr", {}, h("td", { colspan: "3", "class": "muted" }, "No unanswered questions in this period."))]);
    document.getElementById("updated").textContent = "Live · updated " + new Date(d.generated_at).toLocaleTimeString();
  }

  var timer = null;
  function load() {
    clearTimeout(timer);
    var q = "?from=" + fromEl.value + "&to=" + toEl.value + "&language=" + encodeURIComponent(langEl.value);
    L.api("GET", "/api/analytics" + q).then(render).catch(function (e) {
      document.getElementById("updated").textContent = "Update failed: " + e.message;
    }).then(function () { timer = setTimeout(load, REFRESH_MS); });
  }
  [fromEl, toEl, langEl].forEach(function (node) { node.addEventListener("change", load); });
  Array.prototype.forEach.call(document.querySelectorAll("[data-days]"), function (b) {
    b.addEventListener("click", function () { setRange(Number(b.getAttribute("data-days"))); load(); });
  });
  setRange(30);
  load();
})();
