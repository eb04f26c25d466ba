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

    // Project form: the invited organisations only matter for an invited-only project.
    var visibility = root.querySelectorAll('input[name="visibility"]');
    var invited = root.querySelector("#field-invited_organizations");
    if (visibility.length && invited) {
      var syncInvited = function () {
        var checked = root.querySelector('input[name="visibility"]:checked');
        invited.classList.toggle("is-hidden", !checked || checked.value !== "invited");
      };
      visibility.forEach(function (radio) {
        radio.addEventListener("change", syncInvited);
      });
      syncInvited();
    }

    // Award form: the total volume and cost as the lab types. Prices have at most 4 decimals and are
    // computed in BigInt ten-thousandths, each row rounded half up to minor units as the server does.
    root.querySelectorAll("[data-award-form]").forEach(function (form) {
      var exponent = parseInt(form.getAttribute("data-exponent") || "2", 10);
      var totalVolume = form.querySelector("[data-award-total-volume]");
      var totalCost = form.querySelector("[data-award-total-cost]");
      var inputs = form.querySelectorAll("input[data-award-volume]");
      var toUnits = function (price) {
        var parts = price.split(".");
        var fraction = ((parts[1] || "") + "0000").slice(0, 4);
        return BigInt(parts[0]) * 10000n + BigInt(fraction);
      };
      var format = function (minor) {
        var text = minor.toString();
        if (exponent === 0) {
          return text;
        }
        text = text.padStart(exponent + 1, "0");
        return text.slice(0, -exponent) + "." + text.slice(-exponent);
      };
      var update = function () {
        var volume = 0n;
        var minor = 0n;
        var step = 10n ** BigInt(4 - exponent);
        inputs.forEach(function (input) {
          var value = input.value.trim();
          if (!/^[0-9]+$/.test(value)) {
            return;
          }
          var priceCell = input.closest("tr").querySelector("[data-unit-price]");
          var units = BigInt(value) * toUnits(priceCell.getAttribute("data-unit-price"));
          volume += BigInt(value);
          minor += (units + step / 2n) / step;
        });
        totalVolume.textContent = volume.toString();
        totalCost.textContent = format(minor);
        var maxVolume = form.getAttribute("data-project-volume");
        var budget = form.getAttribute("data-budget-minor");
        totalVolume.classList.toggle("is-over", Boolean(maxVolume) && volume > BigInt(maxVolume));
        totalCost.classList.toggle("is-over", Boolean(budget) && minor > BigInt(budget));
      };
      inputs.forEach(function (input) {
        input.addEventListener("input", update);
      });
      update();
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
