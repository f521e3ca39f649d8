/* Small progressive enhancements. Every page works without this file.
   No inline scripts or handlers anywhere: a Content-Security-Policy without 'unsafe-inline' applies. */
(function () {
  "use strict";

  function each(root, selector, fn) {
    Array.prototype.forEach.call(root.querySelectorAll(selector), fn);
  }

  // Controls that only work with JavaScript (category search, geolocation) start hidden.
  function revealScripted(root) {
    each(root, "[data-requires-js]", function (el) { el.hidden = false; });
  }

  // Stream form: show the optional groups that apply to the chosen kind; without a kind, show all.
  function kindFilter(form) {
    var checked = form.querySelector("input[name=kind]:checked");
    var kind = checked ? checked.value : "";
    each(form, "[data-kinds]", function (group) {
      var kinds = group.getAttribute("data-kinds").split(" ");
      group.hidden = Boolean(kind) && kinds.indexOf(kind) === -1;
    });
  }

  // Months matter only for seasonal streams.
  function monthsFilter(form) {
    var availability = form.querySelector("select[name=availability]");
    var months = form.querySelector("#id_months");
    if (!availability || !months) { return; }
    var field = months.closest(".field");
    if (field) { field.hidden = availability.value !== "seasonal"; }
  }

  function enhanceStreamForm(root) {
    each(root, "form.stream-form", function (form) {
      kindFilter(form);
      monthsFilter(form);
      form.addEventListener("change", function (event) {
        if (event.target.name === "kind") { kindFilter(form); }
        if (event.target.name === "availability") { monthsFilter(form); }
      });
      // Enter in the category search must not submit the whole form.
      var search = form.querySelector("#category-search");
      if (search) {
        search.addEventListener("keydown", function (event) {
          if (event.key === "Enter") { event.preventDefault(); }
        });
      }
    });
  }

  // Buttons with data-confirm ask before submitting (e.g. closing a listing).
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-confirm]") : null;
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  // "Use my current location" fills a site's latitude and longitude.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-geolocate]") : null;
    if (!button) { return; }
    var status = button.parentNode.querySelector(".geolocate-status");
    var fail = function () { if (status) { status.textContent = button.getAttribute("data-error"); } };
    if (!navigator.geolocation) { fail(); return; }
    navigator.geolocation.getCurrentPosition(function (position) {
      var lat = document.querySelector(button.getAttribute("data-lat"));
      var lon = document.querySelector(button.getAttribute("data-lon"));
      if (lat) { lat.value = position.coords.latitude.toFixed(5); }
      if (lon) { lon.value = position.coords.longitude.toFixed(5); }
      if (status) { status.textContent = ""; }
    }, fail, { timeout: 10000 });
  });

  // Filter forms send only the filters in use, so that the address bar stays short and shareable.
  document.addEventListener("htmx:configRequest", function (event) {
    var source = event.detail.elt;
    var form = source && source.closest ? source.closest("form[data-drop-empty]") : null;
    if (!form || event.detail.verb !== "get") { return; }
    var params = event.detail.parameters;  // htmx 2: a proxy over the request's FormData
    Object.keys(params).forEach(function (name) {
      var value = params[name];
      if (value === "" || value === "unknown") { delete params[name]; }
    });
  });

  function init(root) {
    revealScripted(root);
    enhanceStreamForm(root);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }
  // Content swapped in by htmx gets the same treatment.
  document.addEventListener("htmx:load", function (event) { revealScripted(event.target); });
})();
