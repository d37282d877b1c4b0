// A stand-in for Stripe.js in the browser tests, served by tests/stripe_standin.py at
// /_standin/v3/. It speaks to the stand-in's API as Stripe.js speaks to Stripe's: the
// Payment Element is a plain card-number field, `confirmPayment` and `confirmSetup`
// create the card, confirm the intent (passing 3-D Secure when the card asks for it)
// and send the browser to `return_url` with the parameters Stripe adds.
(function () {
  var base = document.currentScript.src.replace(/\/_standin\/v3\/?.*$/, "");

  function form(data) {
    return Object.keys(data).map(function (k) {
      return encodeURIComponent(k) + "=" + encodeURIComponent(data[k]);
    }).join("&");
  }

  window.Stripe = function (key, options) {
    var account = options && options.stripeAccount;
    var field = null;

    function post(path, data) {
      var headers = {
        "Authorization": "Bearer " + key,
        "Content-Type": "application/x-www-form-urlencoded",
      };
      if (account) { headers["Stripe-Account"] = account; }
      return fetch(base + path, {method: "POST", headers: headers, body: form(data || {})})
        .then(function (answer) { return answer.json(); });
    }

    function card() {
      return post("/v1/payment_methods", {
        "type": "card",
        "card[number]": field.value.replace(/\s/g, ""),
        "card[exp_month]": "12",
        "card[exp_year]": "2030",
        "card[cvc]": "123",
      });
    }

    function back(url, params) {
      var to = new URL(url);
      Object.keys(params).forEach(function (k) { to.searchParams.set(k, params[k]); });
      window.location.assign(to.toString());
      return new Promise(function () {});  // the page goes
    }

    function failed(answer) {
      var error = answer.error || answer.last_payment_error || answer.last_setup_error || {};
      return {error: {message: error.message || "Your card was declined."}};
    }

    return {
      elements: function (settings) {
        return {
          create: function () {
            return {
              mount: function (selector) {
                var label = document.createElement("label");
                label.textContent = "Card number";
                label.setAttribute("for", "standin-card-number");
                field = document.createElement("input");
                field.id = "standin-card-number";
                field.setAttribute("inputmode", "numeric");
                field.setAttribute("autocomplete", "cc-number");
                document.querySelector(selector).append(label, field);
              },
            };
          },
          _secret: settings.clientSecret,
        };
      },
      confirmSetup: function (request) {
        var secret = request.elements._secret;
        var id = secret.split("_secret_")[0];
        return card().then(function (method) {
          return post("/v1/setup_intents/" + id + "/confirm",
                      {payment_method: method.id, client_secret: secret});
        }).then(function (setup) {
          if (setup.status === "requires_action") {
            return post("/v1/setup_intents/" + id + "/_authenticate",
                        {client_secret: secret, success: "true"});
          }
          return setup;
        }).then(function (setup) {
          if (setup.status !== "succeeded") { return failed(setup); }
          return back(request.confirmParams.return_url, {
            setup_intent: id, setup_intent_client_secret: secret, redirect_status: "succeeded",
          });
        });
      },
      confirmPayment: function (request) {
        var secret = request.elements._secret;
        var id = secret.split("_secret_")[0];
        return card().then(function (method) {
          return post("/v1/payment_intents/" + id, {payment_method: method.id});
        }).then(function () {
          return post("/v1/payment_intents/" + id + "/confirm", {});
        }).then(function (intent) {
          if (intent.status === "requires_action") {
            return post("/v1/payment_intents/" + id + "/_authenticate",
                        {client_secret: secret, success: "true"});
          }
          return intent;
        }).then(function (intent) {
          if (intent.status !== "succeeded") { return failed(intent); }
          return back(request.confirmParams.return_url, {
            payment_intent: id, payment_intent_client_secret: secret,
            redirect_status: "succeeded",
          });
        });
      },
    };
  };
})();
