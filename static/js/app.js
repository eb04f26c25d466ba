// Small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  function init(root) {
    // The organisation switcher submits as soon as another organisation is chosen.
    root.querySelectorAll("[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () {
        select.form.requestSubmit();
      });
    });

    // Sign-up: the organisation name only matters for a lab or a vendor.
    var radios = root.querySelectorAll('input[name="account_type"]');
    var orgInput = root.querySelector("#id_organization_name");
    if (radios.length && orgInput) {
      var wrapper = orgInput.closest(".field");
      var sync = function () {
        var checked = root.querySelector('input[name="account_type"]:checked');
        var needsOrg = !checked || checked.value === "lab" || checked.value === "vendor";
        wrapper.classList.toggle("is-hidden", !needsOrg);
      };
      radios.forEach(function (radio) {
        radio.addEventListener("change", sync);
      });
      sync();
    }

    // Copy a one-time secret (an API key) to the clipboard.
    root.querySelectorAll("[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var source = document.getElementById(button.getAttribute("data-copy"));
        if (!source || !navigator.clipboard) {
          return;
        }
        navigator.clipboard.writeText(source.textContent.trim()).then(function () {
          button.textContent = "Copied";
        });
      });
    });
  }

  if (window.htmx) {
    // htmx fires this for the first page and for every piece of page it swaps in later.
    document.addEventListener("htmx:load", function (event) {
      init(event.target);
    });
  } else {
    document.addEventListener("DOMContentLoaded", function () {
      init(document);
    });
  }
})();
