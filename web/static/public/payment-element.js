// The Stripe Payment Element of a pay page (templates/includes/payment_element.html).
// A static file, not an inline script: the Content-Security-Policy allows scripts from
// the site and from Stripe.js's origin only.
(function () {
  var read = function (id) { return JSON.parse(document.getElementById(id).textContent); };
  var account = read("stripe-account");
  var stripe = Stripe(read("stripe-key"), account ? {stripeAccount: account} : {});
  var elements = stripe.elements({clientSecret: read("stripe-secret"), locale: document.documentElement.lang});
  elements.create("payment").mount("#payment-element");
  document.getElementById("payment-form").addEventListener("submit", function (event) {
    event.preventDefault();
    // Saving a card on file (a SetupIntent) or paying (a PaymentIntent).
    var confirm = read("stripe-mode") === "setup" ? stripe.confirmSetup : stripe.confirmPayment;
    confirm.call(stripe, {elements: elements, confirmParams: {return_url: read("stripe-return")}})
      .then(function (result) {
        if (result.error) { document.getElementById("payment-message").textContent = result.error.message; }
      });
  });
})();
