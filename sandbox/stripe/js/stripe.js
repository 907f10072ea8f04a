/* A Stripe.js double served by the Stripe stand-in (sandbox mode only; never in production).
 *
 * It offers the calls a Payment Element integration makes: Stripe(publishableKey),
 * stripe.elements({clientSecret}), elements.create("payment"), element.mount(target),
 * element.on("change"|"ready", fn), elements.submit(), stripe.confirmSetup({elements,
 * confirmParams: {return_url}, redirect}) and stripe.retrieveSetupIntent(clientSecret).
 * The card fields live in the page (Stripe's live in a frame); their values go only to the
 * stand-in's API with the publishable key. 3-D Secure goes through the stand-in's hosted page,
 * which sends the browser back to return_url, as a redirect-based authentication does.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var origin = new URL(script.src).origin;

  var TEST_CARDS = [
    ["4242 4242 4242 4242", "succeeds"],
    ["4000 0025 0000 3155", "asks for 3-D Secure, then succeeds"],
    ["4000 0000 0000 3220", "asks for 3-D Secure on every payment"],
    ["4000 0084 0000 1629", "3-D Secure, then declined"],
    ["4000 0000 0000 0002", "declined"],
    ["4000 0000 0000 9995", "declined: insufficient funds"],
    ["4000 0000 0000 0341", "saves, then every charge is declined"]
  ];

  function intentId(clientSecret) {
    return String(clientSecret || "").split("_secret_")[0];
  }

  function form(params, prefix, out) {
    out = out || [];
    Object.keys(params).forEach(function (key) {
      var value = params[key];
      var name = prefix ? prefix + "[" + key + "]" : key;
      if (value === undefined || value === null) return;
      if (typeof value === "object") form(value, name, out);
      else out.push(encodeURIComponent(name) + "=" + encodeURIComponent(value));
    });
    return out.join("&");
  }

  function api(key, method, path, params) {
    var url = origin + "/v1" + path;
    var init = { method: method, headers: { Authorization: "Bearer " + key } };
    if (method === "GET") url += "?" + form(params);
    else {
      init.headers["Content-Type"] = "application/x-www-form-urlencoded";
      init.body = form(params);
    }
    return fetch(url, init).then(function (response) {
      return response.json().then(function (body) {
        return { ok: response.ok, body: body };
      });
    });
  }

  function field(label, name, placeholder, autocomplete) {
    var wrap = document.createElement("label");
    wrap.className = "stripe-double-field";
    wrap.textContent = label;
    var input = document.createElement("input");
    input.setAttribute("data-stripe-field", name);
    input.setAttribute("inputmode", "numeric");
    input.setAttribute("autocomplete", autocomplete);
    input.setAttribute("placeholder", placeholder);
    wrap.appendChild(input);
    return wrap;
  }

  function PaymentElement(elements) {
    this._elements = elements;
    this._handlers = {};
    this._root = null;
  }
  PaymentElement.prototype.mount = function (target) {
    var host = typeof target === "string" ? document.querySelector(target) : target;
    var root = document.createElement("div");
    root.className = "stripe-double-payment-element";
    root.appendChild(field("Card number", "number", "1234 1234 1234 1234", "cc-number"));
    root.appendChild(field("Expiry (MM / YY)", "expiry", "MM / YY", "cc-exp"));
    root.appendChild(field("Security code", "cvc", "CVC", "cc-csc"));
    var note = document.createElement("details");
    note.className = "stripe-double-test-cards";
    var summary = document.createElement("summary");
    summary.textContent = "Test cards (Stripe stand-in)";
    note.appendChild(summary);
    var list = document.createElement("ul");
    TEST_CARDS.forEach(function (card) {
      var item = document.createElement("li");
      item.textContent = card[0] + ": " + card[1];
      list.appendChild(item);
    });
    note.appendChild(list);
    root.appendChild(note);
    host.appendChild(root);
    this._root = root;
    var self = this;
    root.addEventListener("input", function () {
      self._emit("change", { elementType: "payment", complete: self._complete(), empty: false });
    });
    setTimeout(function () { self._emit("ready", { elementType: "payment" }); }, 0);
    return this;
  };
  PaymentElement.prototype.unmount = function () {
    if (this._root && this._root.parentNode) this._root.parentNode.removeChild(this._root);
  };
  PaymentElement.prototype.destroy = PaymentElement.prototype.unmount;
  PaymentElement.prototype.on = function (event, handler) {
    (this._handlers[event] = this._handlers[event] || []).push(handler);
    return this;
  };
  PaymentElement.prototype._emit = function (event, payload) {
    (this._handlers[event] || []).forEach(function (handler) { handler(payload); });
  };
  PaymentElement.prototype._value = function (name) {
    var input = this._root && this._root.querySelector('[data-stripe-field="' + name + '"]');
    return input ? input.value.replace(/\s+/g, "") : "";
  };
  PaymentElement.prototype._complete = function () {
    return this._value("number").length >= 12 && /^\d{2}\/?\d{2}$/.test(this._value("expiry")) &&
      this._value("cvc").length >= 3;
  };
  PaymentElement.prototype._card = function () {
    var expiry = this._value("expiry").replace("/", "");
    return {
      number: this._value("number"),
      exp_month: expiry.slice(0, 2),
      exp_year: "20" + expiry.slice(2, 4),
      cvc: this._value("cvc")
    };
  };

  function Elements(stripe, options) {
    this._stripe = stripe;
    this._options = options || {};
    this._element = null;
  }
  Elements.prototype.create = function (type) {
    if (type !== "payment") throw new Error("The Stripe.js double only has the Payment Element.");
    this._element = new PaymentElement(this);
    return this._element;
  };
  Elements.prototype.getElement = function (type) {
    return type === "payment" ? this._element : null;
  };
  Elements.prototype.submit = function () {
    var element = this._element;
    if (!element || !element._complete()) {
      return Promise.resolve({
        error: { type: "validation_error", message: "Your card details are incomplete." }
      });
    }
    return Promise.resolve({});
  };

  function redirectTo(url) {
    window.location.assign(url);
    return new Promise(function () {});  // the page is leaving
  }

  function withQuery(url, intent, status) {
    var query = "setup_intent=" + encodeURIComponent(intent.id) +
      "&setup_intent_client_secret=" + encodeURIComponent(intent.client_secret) +
      "&redirect_status=" + status;
    return url + (url.indexOf("?") >= 0 ? "&" : "?") + query;
  }

  function StripeDouble(publishableKey) {
    if (!(this instanceof StripeDouble)) return new StripeDouble(publishableKey);
    if (!/^pk_/.test(String(publishableKey || ""))) {
      throw new Error("Stripe(): a publishable key (pk_...) is required.");
    }
    this._key = publishableKey;
  }
  StripeDouble.prototype.elements = function (options) {
    return new Elements(this, options);
  };
  StripeDouble.prototype.retrieveSetupIntent = function (clientSecret) {
    return api(this._key, "GET", "/setup_intents/" + intentId(clientSecret), {
      client_secret: clientSecret
    }).then(function (reply) {
      return reply.ok ? { setupIntent: reply.body } : { error: reply.body.error };
    });
  };
  StripeDouble.prototype.confirmSetup = function (options) {
    var elements = options.elements;
    var params = options.confirmParams || {};
    var clientSecret = options.clientSecret || (elements && elements._options.clientSecret);
    var redirect = options.redirect || "always";
    if (!params.return_url && redirect !== "if_required") {
      return Promise.reject(new Error("confirmSetup: confirmParams.return_url is required."));
    }
    var element = elements && elements._element;
    if (!element || !element._complete()) {
      return Promise.resolve({
        error: { type: "validation_error", message: "Your card details are incomplete." }
      });
    }
    var key = this._key;
    return api(key, "POST", "/setup_intents/" + intentId(clientSecret) + "/confirm", {
      client_secret: clientSecret,
      return_url: params.return_url,
      payment_method_data: { type: "card", card: element._card() }
    }).then(function (reply) {
      if (!reply.ok) return { error: reply.body.error };
      var intent = reply.body;
      var action = intent.next_action || {};
      if (intent.status === "requires_action" && action.redirect_to_url) {
        return redirectTo(action.redirect_to_url.url);
      }
      if (intent.status === "succeeded" && redirect === "always") {
        return redirectTo(withQuery(params.return_url, intent, "succeeded"));
      }
      return { setupIntent: intent };
    });
  };

  window.Stripe = StripeDouble;
})();
