/* Add a card: Stripe's Payment Element on the page's SetupIntent, confirmed with a return URL.
 * The card goes to Stripe only; the return page asks Stripe what happened. */
(function () {
  "use strict";

  function start() {
    var form = document.getElementById("card-setup");
    if (!form || typeof window.Stripe !== "function") return;
    var button = document.getElementById("save-card");
    var message = document.getElementById("card-error");
    var returnUrl = form.getAttribute("data-return-url");
    var stripe = window.Stripe(form.getAttribute("data-publishable-key"));
    var clientSecret = form.getAttribute("data-client-secret");
    var elements = stripe.elements({ clientSecret: clientSecret });
    var payment = elements.create("payment", { paymentMethodOrder: ["card"] });
    payment.on("ready", function () { button.disabled = false; });
    payment.mount("#payment-element");

    function say(text) {
      message.textContent = text;
      message.hidden = !text;
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      say("");
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      stripe.confirmSetup({ elements: elements, confirmParams: { return_url: returnUrl } })
        .then(function (result) {
          if (!result || !result.error) return;  // the browser is on its way to return_url
          var error = result.error;
          var intent = error.setup_intent && error.setup_intent.id;
          if (intent) {
            // Stripe refused the card: the return page reads why and says it in Pier's words.
            var join = returnUrl.indexOf("?") >= 0 ? "&" : "?";
            window.location.assign(returnUrl + join + "setup_intent=" + encodeURIComponent(intent));
            return;
          }
          say(error.message || "The card could not be checked. Try again.");
          button.disabled = false;
          button.removeAttribute("aria-busy");
        });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
