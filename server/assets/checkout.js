/*! Kasse checkout.js: opens Kasse's payment page in a popup over your page.
 *  <script src="https://KASSE/checkout.js"></script>
 *  <button data-kasse-checkout data-session-endpoint="/create-checkout" data-order="42">Pay</button>
 *  or Kasse.open({ session: url | async () => url, onSuccess, onCancel, onClose, onError })
 *  onCancel(sessionId, returnUrl); onClose(cancelUrl) when the customer closes the popup;
 *  onFailure(returnUrl) when a session's API sends a declined customer back to the shop
 *  (SSLCOMMERZ's fail_url); without it the page goes there. */
(function () {
  "use strict";
  var script = document.currentScript;
  // Messages are accepted from this origin only, and sent to it only.
  var KASSE = new URL(script.src).origin;
  var current = null;

  function el(tag, css, attrs) {
    var e = document.createElement(tag);
    e.style.cssText = css;
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    return e;
  }

  function open(options) {
    options = options || {};
    if (current) current.close();
    var returnFocus = document.activeElement;
    var body = document.body;
    var overflow = body.style.overflow;
    var busy = false;
    var closed = false;
    var loaded = false;
    var cancelUrl = null;
    var phone = window.matchMedia("(max-width: 600px)").matches;

    var overlay = el("div", "position:fixed;inset:0;z-index:2147483647;background:rgba(17,20,28,.6);display:flex;align-items:center;justify-content:center",
      { role: "dialog", "aria-modal": "true", "aria-label": "Payment", "data-kasse-overlay": "" });
    var box = el("div", phone ? "position:relative;width:100%;height:100%;background:#fff"
      : "position:relative;width:min(480px,100%);height:min(720px,100%);background:#fff;border-radius:12px;overflow:hidden;box-shadow:0 12px 40px rgba(0,0,0,.35)");
    var spinner = el("div", "position:absolute;top:50%;left:50%;width:32px;height:32px;margin:-16px;border:3px solid #c9cdd8;border-top-color:#3a4ee0;border-radius:50%",
      { role: "status", "aria-label": "Loading payment" });
    if (spinner.animate) spinner.animate([{ transform: "rotate(0)" }, { transform: "rotate(1turn)" }], { duration: 800, iterations: Infinity });
    var close = el("button", "position:absolute;top:8px;right:8px;z-index:1;width:36px;height:36px;border:0;border-radius:50%;background:#eef0f4;color:#1d2230;font:20px/1 system-ui,sans-serif;cursor:pointer",
      { type: "button", "aria-label": "Close payment", "data-kasse-close": "" });
    close.textContent = "\u00d7";
    var frame = el("iframe", "width:100%;height:100%;border:0;display:block;opacity:0",
      { title: "Secure payment", allow: "payment" });

    box.appendChild(spinner);
    box.appendChild(frame);
    box.appendChild(close);
    overlay.appendChild(box);
    body.style.overflow = "hidden";
    body.appendChild(overlay);
    close.focus();

    function call(name, data, more) {
      if (typeof options[name] === "function") {
        try { options[name](data, more); } catch (e) { setTimeout(function () { throw e; }); }
      }
    }

    function post(type) {
      if (frame.contentWindow) frame.contentWindow.postMessage({ source: "kasse-checkout", type: type }, KASSE);
    }

    function teardown() {
      if (closed) return;
      closed = true;
      window.removeEventListener("message", onMessage);
      document.removeEventListener("keydown", onKey, true);
      overlay.remove();
      body.style.overflow = overflow;
      if (current === handle) current = null;
      if (returnFocus && returnFocus.focus) returnFocus.focus();
    }

    function requestClose() {
      if (busy && !window.confirm("Your payment is still being processed. Close anyway?")) return;
      teardown();
      call("onClose", cancelUrl);
    }

    function fail(error) {
      teardown();
      if (typeof options.onError === "function") call("onError", error);
      else if (window.console) console.error("Kasse checkout:", error);
    }

    function onMessage(event) {
      if (event.origin !== KASSE || event.source !== frame.contentWindow) return;
      var m = event.data;
      if (!m || m.source !== "kasse") return;
      switch (m.type) {
        case "loaded":
          loaded = true;
          if (typeof m.cancel_url === "string") cancelUrl = m.cancel_url;
          spinner.remove();
          frame.style.opacity = "1";
          post("focus");
          break;
        case "resized":
          call("onResize", m.height);
          break;
        case "busy":
          busy = !!m.busy;
          break;
        case "success":
          teardown();
          if (typeof options.onSuccess === "function") call("onSuccess", m.payment);
          else window.top.location.assign(m.payment.redirect_url);
          break;
        case "cancel":
          teardown();
          call("onCancel", m.session_id, m.redirect_url);
          break;
        case "failed":
          teardown();
          if (typeof options.onFailure === "function") call("onFailure", m.redirect_url);
          else window.top.location.assign(m.redirect_url);
          break;
        case "close":
          requestClose();
          break;
        case "error":
          fail(new Error(m.message || "payment page error"));
          break;
      }
    }

    function onKey(event) {
      if (event.key === "Escape") {
        event.preventDefault();
        requestClose();
      }
    }

    window.addEventListener("message", onMessage);
    document.addEventListener("keydown", onKey, true);
    // A frame the browser refused to show (a wrong URL, an origin the
    // merchant did not register) loads an error page and says nothing.
    frame.addEventListener("load", function () {
      setTimeout(function () {
        if (!loaded && !closed) fail(new Error("the payment page could not be shown here"));
      }, 4000);
    });
    close.addEventListener("click", requestClose);

    var handle = { close: function () { teardown(); call("onClose"); } };
    current = handle;

    Promise.resolve(typeof options.session === "function" ? options.session() : options.session)
      .then(function (url) {
        if (closed) return;
        var u = new URL(url, KASSE);
        // A session's page, or an SSLCOMMERZ GatewayPageURL, which leads to one.
        if (u.origin !== KASSE || !/^\/(pay|sslcommerz\/pay)\//.test(u.pathname)) throw new Error("not a Kasse checkout URL: " + url);
        u.searchParams.set("embed", "1");
        u.searchParams.set("origin", location.origin);
        frame.src = u.href;
      })
      .catch(fail);
    return handle;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-kasse-checkout]");
    if (!button) return;
    event.preventDefault();
    open({
      session: function () {
        return fetch(button.getAttribute("data-session-endpoint"), {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ order: button.getAttribute("data-order") })
        }).then(function (r) {
          if (!r.ok) throw new Error("session endpoint answered " + r.status);
          return r.json();
        }).then(function (j) { return j.url; });
      }
    });
  });

  window.Kasse = { open: open };
})();
