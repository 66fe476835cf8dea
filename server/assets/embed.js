/*! Kasse embed.min.js: SSLCOMMERZ's Easy Checkout on Kasse (checkout.js above does the popup).
 *  <button id="sslczPayBtn" token="…" postdata="" order="…" endpoint="/pay-via-ajax">Pay Now</button>
 *  <script src="https://KASSE/embed.min.js"></script>
 *  A click POSTs cart_json, order and token to `endpoint`, which answers
 *  {"status": "success", "data": GatewayPageURL} or {"status": "fail", "message": …}. */
(function () {
  "use strict";

  // `postdata` is a DOM property holding an object (jQuery's .prop) or an attribute.
  function cartJson(button) {
    var data = button.postdata !== undefined ? button.postdata : button.getAttribute("postdata");
    if (data === null || data === undefined) return "";
    return typeof data === "string" ? data : JSON.stringify(data);
  }

  function say(button, message) {
    var notice = document.querySelector("[data-kasse-embed-error]");
    if (!notice) {
      notice = document.createElement("p");
      notice.setAttribute("role", "alert");
      notice.setAttribute("data-kasse-embed-error", "");
      button.insertAdjacentElement("afterend", notice);
    }
    notice.textContent = message;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("#sslczPayBtn");
    if (!button) return;
    event.preventDefault();
    var body = new URLSearchParams();
    body.set("cart_json", cartJson(button));
    body.set("order", button.getAttribute("order") || "");
    body.set("token", button.getAttribute("token") || "");
    window.Kasse.open({
      session: function () {
        return fetch(button.getAttribute("endpoint"), {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          body: body.toString()
        }).then(function (r) { return r.json(); }).then(function (answer) {
          // Live SSLCOMMERZ plugins answer SUCCESS, WooCommerce FAILED.
          if (answer && /^success$/i.test(answer.status) && typeof answer.data === "string" && answer.data) return answer.data;
          throw new Error((answer && answer.message) || "The payment could not be started. Please try again.");
        });
      },
      // Each outcome goes on to Kasse's return page, which POSTs to the shop.
      onSuccess: function (payment) { window.location.assign(payment.redirect_url); },
      onCancel: function (sessionId, returnUrl) { if (returnUrl) window.location.assign(returnUrl); },
      onFailure: function (returnUrl) { window.location.assign(returnUrl); },
      // Closing the popup cancels the session (a CANCELLED IPN); the
      // customer stays on the shop's page.
      onClose: function (cancelUrl) {
        if (cancelUrl) fetch(cancelUrl, { mode: "no-cors", credentials: "omit", keepalive: true }).catch(function () {});
      },
      onError: function (error) { say(button, error.message); }
    });
  });
})();
