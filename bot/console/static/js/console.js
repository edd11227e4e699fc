// Seintje console: small progressive enhancements. Every screen works
// without this file; it adds the CSRF header to htmx requests. (htmx itself
// keeps keyboard focus where it was when a list refreshes itself, for
// elements with an id.)
(function () {
  "use strict";
  document.addEventListener("htmx:configRequest", function (e) {
    var token = document.body.dataset.csrf;
    if (token) {
      e.detail.headers["X-CSRF-Token"] = token;
    }
  });
  // Move focus to the error summary when a form comes back with errors.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) {
      summary.focus();
    }
  });
})();
