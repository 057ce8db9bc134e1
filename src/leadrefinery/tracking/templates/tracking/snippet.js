/* Lead Refinery first-party tracking snippet.
   <script src="{{ collect_url|slice:':-4' }}/snippet.js" async></script>
   - records page visits with an anonymous visitor id in a first-party cookie (rf_vid);
   - does nothing when the browser sends Do Not Track or Global Privacy Control;
   - with data-consent="required" it waits for refinery.consent(true) (or a rf_consent=1
     cookie); refinery.consent(false) stops it and forgets the visitor id;
   - adds the visitor id to forms that post to /f/ so a form fill identifies the visitor. */
(function () {
  "use strict";
  var script = document.currentScript;
  // Visits go back to the server the snippet came from (or to data-endpoint when given).
  var endpoint = (script && script.getAttribute("data-endpoint")) ||
    (script && script.src ? new URL("{{ collect_path|escapejs }}", script.src).href : "{{ collect_url|escapejs }}");
  var consentRequired = !!script && script.getAttribute("data-consent") === "required";
  var YEAR = 31536000;

  function cookie(name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) === name) return decodeURIComponent(parts[i].slice(eq + 1));
    }
    return "";
  }
  function setCookie(name, value, maxAge) {
    document.cookie = name + "=" + encodeURIComponent(value) + "; path=/; max-age=" + maxAge +
      "; SameSite=Lax" + (location.protocol === "https:" ? "; Secure" : "");
  }
  function refused() {
    return navigator.doNotTrack === "1" || window.doNotTrack === "1" ||
      navigator.globalPrivacyControl === true;
  }
  function allowed() {
    if (refused() || cookie("rf_consent") === "0") return false;
    return !consentRequired || cookie("rf_consent") === "1";
  }
  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }
  function visitorId() {
    var id = cookie("rf_vid");
    if (!id) { id = newId(); }
    setCookie("rf_vid", id, YEAR);
    return id;
  }
  function tagForms(id) {
    var forms = document.querySelectorAll("form");
    for (var i = 0; i < forms.length; i++) {
      var action = forms[i].getAttribute("action") || "";
      if (action.indexOf("/f/") === -1 || forms[i].querySelector("input[name=refinery_visitor]")) continue;
      var input = document.createElement("input");
      input.type = "hidden"; input.name = "refinery_visitor"; input.value = id;
      forms[i].appendChild(input);
    }
  }
  var sent = false;
  function track() {
    if (sent || !allowed()) return;
    sent = true;
    var id = visitorId();
    var body = JSON.stringify({vid: id, url: location.href, title: document.title, ref: document.referrer});
    if (navigator.sendBeacon) {
      navigator.sendBeacon(endpoint, new Blob([body], {type: "text/plain"}));
    } else {
      fetch(endpoint, {method: "POST", body: body, keepalive: true, mode: "no-cors"});
    }
    tagForms(id);
  }
  window.refinery = {
    consent: function (yes) {
      setCookie("rf_consent", yes ? "1" : "0", YEAR);
      if (yes) { track(); } else { setCookie("rf_vid", "", 0); }
    },
    visitorId: function () { return cookie("rf_vid"); }
  };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", track);
  } else {
    track();
  }
})();
