{% autoescape off %}/* Lead Refinery: embeds the form "{{ form.name|escapejs }}" where this script stands. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) { return; }
  var src = new URL("{{ form_path|escapejs }}", script.src);
  src.searchParams.set("embed", "1");
  // Campaign tracking: the host page's UTM parameters travel with the inquiry.
  var page = new URLSearchParams(window.location.search);
  {{ utm_json }}.forEach(function (name) {
    var value = page.get(name);
    if (value) { src.searchParams.set(name, value.slice(0, 200)); }
  });
  var frame = document.createElement("iframe");
  frame.src = src.toString();
  frame.title = "{{ form.name|escapejs }}";
  frame.setAttribute("data-refinery-form", "{{ form.slug|escapejs }}");
  frame.style.cssText = "display:block;width:100%;max-width:640px;height:640px;border:0;overflow:hidden";
  var slot = document.getElementById("refinery-form-{{ form.slug|escapejs }}");
  if (slot && !slot.querySelector("iframe")) {
    slot.appendChild(frame);
  } else {
    script.parentNode.insertBefore(frame, script.nextSibling);
  }
  // The form page posts its height; only messages from that very frame are trusted.
  window.addEventListener("message", function (event) {
    if (event.source !== frame.contentWindow || event.origin !== src.origin) { return; }
    var data = event.data || {};
    if (data.type === "refinery:form-height" && data.height > 0) {
      frame.style.height = Math.ceil(data.height) + "px";
    }
  });
})();
{% endautoescape %}
