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

    initTaking(root);
  }

  // Test taking: each answer saves as it changes (fetch POST with the CSRF token); the page works
  // without this through each item's Save button.
  function initTaking(root) {
    var forms = root.querySelectorAll("form[data-autosave]");
    var counter = document.querySelector("[data-answered-count]");
    var bar = document.querySelector("[data-progress]");
    var countAnswered = function () {
      var n = document.querySelectorAll("form[data-autosave][data-answered]").length;
      if (counter) {
        counter.textContent = String(n);
      }
      if (bar) {
        bar.value = n;
      }
    };
    forms.forEach(function (form) {
      if (form.hasAttribute("data-autosave-ready")) {
        return;
      }
      form.setAttribute("data-autosave-ready", "");
      var status = form.closest("section") ? form.closest("section").querySelector("[data-save-status]") : null;
      var timer = null;
      var save = function () {
        var token = form.querySelector('input[name="csrfmiddlewaretoken"]');
        if (status) {
          status.textContent = "Saving…";
        }
        fetch(form.action, {
          method: "POST",
          body: new FormData(form),
          credentials: "same-origin",
          headers: { "X-CSRFToken": token ? token.value : "", "X-Autosave": "1" },
        })
          .then(function (response) {
            return response.json().then(function (data) {
              if (response.ok && data.saved) {
                form.setAttribute("data-answered", "");
                if (status) {
                  status.textContent = "Saved";
                }
                countAnswered();
              } else if (status) {
                status.textContent = data.error || "Not saved";
              }
            });
          })
          .catch(function () {
            if (status) {
              status.textContent = "Not saved: check your connection";
            }
          });
      };
      form.addEventListener("change", function () {
        window.clearTimeout(timer);
        save();
      });
      form.addEventListener("input", function (event) {
        if (event.target.tagName === "TEXTAREA" || event.target.type === "text") {
          window.clearTimeout(timer);
          timer = window.setTimeout(save, 800);
        }
      });
    });

    root.querySelectorAll("[data-deadline]").forEach(function (box) {
      var deadline = Date.parse(box.getAttribute("data-deadline"));
      var out = box.querySelector("[data-time-left]");
      if (isNaN(deadline) || !out || box.hasAttribute("data-ticking")) {
        return;
      }
      box.setAttribute("data-ticking", "");
      var tick = function () {
        var left = Math.max(0, Math.floor((deadline - Date.now()) / 1000));
        var minutes = Math.floor(left / 60);
        var seconds = left % 60;
        out.textContent = minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
        box.classList.toggle("is-urgent", left < 120);
        if (left === 0) {
          window.clearInterval(handle);
          out.textContent = "time is up: submit now";
        }
      };
      var handle = window.setInterval(tick, 1000);
      tick();
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
