/* Dashboards: draw the Chart.js charts and the Leaflet map from data the page carries in
   <script type="application/json"> elements (json_script: data, never executed).
   Vendored libraries only; no inline scripts, styles or handlers (CSP without 'unsafe-inline').
   Every chart and the map repeat numbers that a table beside them shows: they are enhancements. */
(function () {
  "use strict";

  var PALETTE = ["#0b6e4f", "#1d4e89", "#c05a00", "#7a3e9d", "#8a5300", "#2a7f9e", "#b00020", "#55606b"];

  function readJson(id) {
    var el = document.getElementById(id);
    if (!el) { return null; }
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  function each(selector, fn) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), fn);
  }

  // --- Charts ---------------------------------------------------------------------------------------
  function drawChart(canvas) {
    if (typeof window.Chart === "undefined") { return; }
    var spec = readJson(canvas.getAttribute("data-chart"));
    if (!spec) { return; }
    var line = spec.type === "line";
    var datasets = spec.datasets.map(function (ds, i) {
      var colour = PALETTE[i % PALETTE.length];
      return {
        label: ds.label,
        data: ds.data,
        backgroundColor: line ? colour : colour + "cc",
        borderColor: colour,
        borderWidth: line ? 2 : 1,
        pointRadius: line ? 3 : 0,
        spanGaps: false
      };
    });
    var chart = new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        indexAxis: spec.horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { display: datasets.length > 1, position: "bottom" },
          tooltip: { enabled: true }
        },
        scales: {
          x: { beginAtZero: true, ticks: { autoSkip: true, maxRotation: 60 } },
          y: { beginAtZero: true }
        }
      }
    });
    canvas.setAttribute("data-rendered", String(chart.data.datasets.length));
  }

  // --- Map ------------------------------------------------------------------------------------------
  function label(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }

  function fmt(n) {
    return n === null || n === undefined ? "c" : Number(n).toLocaleString();
  }

  function cellIcon(companies) {
    var size = companies >= 50 ? 44 : companies >= 10 ? 36 : 30;
    return window.L.divIcon({
      className: "cell-marker",
      html: "<span>" + String(companies) + "</span>",
      iconSize: [size, size]
    });
  }

  function drawMap(el) {
    var L = window.L;
    if (!L) { return; }
    var data = readJson(el.getAttribute("data-map")) || { features: [] };
    var map = L.map(el, { zoomSnap: 0.25, minZoom: 3, maxZoom: 11, worldCopyJump: false, keyboard: true });
    map.attributionControl.setPrefix("Leaflet");
    map.attributionControl.addAttribution("Made with Natural Earth");
    map.fitBounds([[53.5, 7.5], [66.5, 31]]);

    var cluster = L.markerClusterGroup
      ? L.markerClusterGroup({
        showCoverageOnHover: false,
        maxClusterRadius: 45,
        iconCreateFunction: function (group) {
          var total = 0;
          group.getAllChildMarkers().forEach(function (m) { total += m.options.companies || 0; });
          return cellIcon(total);
        }
      })
      : L.layerGroup();
    var bounds = [];
    var markers = 0;
    var flows = L.layerGroup();
    (data.features || []).forEach(function (f) {
      var p = f.properties || {};
      var c = f.geometry.coordinates;
      if (p.kind === "cell") {
        var m = L.marker([c[1], c[0]], {
          icon: cellIcon(p.companies), companies: p.companies, keyboard: true,
          title: p.label + ": " + fmt(p.companies) + " companies"
        });
        m.bindTooltip(label(p.label + " · " + fmt(p.companies) + " companies · " + fmt(p.offers) +
          " offers · " + fmt(p.needs) + " needs"));
        cluster.addLayer(m);
        bounds.push([c[1], c[0]]);
        markers += 1;
      } else if (p.kind === "flow") {
        var same = c[0][0] === c[1][0] && c[0][1] === c[1][1];
        var w = Math.min(10, 2 + Math.log(1 + (p.matches || 0)) * 1.5);
        var shape = same
          ? L.circle([c[0][1], c[0][0]], { radius: 15000, className: "flow-line", weight: w, fill: false })
          : L.polyline([[c[0][1], c[0][0]], [c[1][1], c[1][0]]], { className: "flow-line", weight: w });
        shape.bindTooltip(label(p.label + ": " + fmt(p.matches) + " matches"));
        flows.addLayer(shape);
      } else if (p.kind === "region") {
        bounds.push([c[1], c[0]]);
      }
    });

    fetch(el.getAttribute("data-countries"), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (countries) {
        L.geoJSON(countries, { className: "country", interactive: false }).addTo(map);
        flows.addTo(map);
        cluster.addTo(map);
        if (bounds.length) {
          map.fitBounds(bounds, { padding: [40, 40], maxZoom: 9 });
        }
        el.setAttribute("data-rendered", "countries:" + countries.features.length + ";markers:" + markers);
      })
      .catch(function () {
        flows.addTo(map);
        cluster.addTo(map);
        el.setAttribute("data-rendered", "markers:" + markers);
      });
  }

  function init() {
    each("canvas[data-chart]", drawChart);
    each("[data-map]", drawMap);
    each("[data-print]", function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
