/*
 * dni-edge click-to-reveal. Served by the proxy next to the page, so it runs under a
 * Content-Security-Policy of `script-src 'self'`: no inline code, no eval, no inline
 * handlers, no style attributes (the announcer is hidden through the CSSOM).
 *
 * Any element carrying data-dni-token reveals on click (one listener on the document,
 * so any number of them, even ones added later). All elements sharing a token are
 * revealed by one POST to the click endpoint, which sits next to this script:
 * a button becomes <a href="tel:...">NUMBER (code)</a>, a link keeps its element and
 * gets the tel: href. When the provider fails, the endpoint answers the original
 * number and that is what is shown, so the visitor can always call.
 */
(function () {
  "use strict";

  var ATTRIBUTE = "data-dni-token";
  var script = document.currentScript;
  var endpoint = new URL("click", script ? script.src : location.href).href;
  var pending = {};
  var announcer = null;

  function carriers(token) {
    var all = document.querySelectorAll("[" + ATTRIBUTE + "]");
    var found = [];
    for (var i = 0; i < all.length; i++) {
      if (all[i].getAttribute(ATTRIBUTE) === token) {
        found.push(all[i]);
      }
    }
    return found;
  }

  function ask(token) {
    return fetch(endpoint, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "token=" + encodeURIComponent(token)
    }).then(function (response) {
      return response.json().then(function (answer) {
        if (!response.ok || typeof answer.number !== "string" || typeof answer.tel !== "string") {
          throw new Error("reveal refused: " + response.status);
        }
        return answer;
      });
    });
  }

  function announce(text) {
    if (announcer === null) {
      announcer = document.createElement("span");
      announcer.setAttribute("aria-live", "polite");
      announcer.className = "dni-live";
      var style = announcer.style;
      style.position = "absolute";
      style.width = "1px";
      style.height = "1px";
      style.overflow = "hidden";
      style.clip = "rect(0 0 0 0)";
      style.whiteSpace = "nowrap";
      document.body.appendChild(announcer);
    }
    announcer.textContent = "";
    // A changed text is what a live region announces; set it on the next frame.
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  function hasCarrierInside(link) {
    return link.querySelector("[" + ATTRIBUTE + "]") !== null;
  }

  function textNodes(root) {
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    var found = [];
    while (walker.nextNode()) {
      if (walker.currentNode.nodeValue.trim()) {
        found.push(walker.currentNode);
      }
    }
    return found;
  }

  function turnLink(link, answer) {
    // The link's one text (the label written where the number stood) becomes the number;
    // icons and the spaces around stay. A link with no or several texts keeps them.
    var texts = hasCarrierInside(link) ? [] : textNodes(link);
    if (texts.length === 1) {
      texts[0].nodeValue = texts[0].nodeValue.replace(/\S(?:[\s\S]*\S)?/, function () {
        return answer.number;
      });
    }
    link.removeAttribute("role");
    return link;
  }

  function replaceButton(element, answer) {
    var parent = element.parentNode;
    if (parent === null) {
      return null;
    }
    if (parent.closest && parent.closest("a")) {
      // Inside a link (which becomes the tel: link itself): plain text, no nested link.
      parent.replaceChild(document.createTextNode(answer.number), element);
      return parent.closest("a");
    }
    var link = document.createElement("a");
    link.className = "dni-number";
    link.textContent = answer.number;
    parent.replaceChild(link, element);
    return link;
  }

  function reveal(element, answer) {
    var link = element.tagName === "A" ? turnLink(element, answer) : replaceButton(element, answer);
    if (link === null) {
      return null;
    }
    link.setAttribute("href", answer.tel);
    link.removeAttribute(ATTRIBUTE);
    link.removeAttribute("aria-busy");
    if (answer.fallback) {
      link.setAttribute("data-dni-fallback", "");
    }
    return link;
  }

  function settle(token, clicked, answer) {
    var elements = carriers(token);
    var focusTarget = null;
    for (var i = 0; i < elements.length; i++) {
      var link = reveal(elements[i], answer);
      if (elements[i] === clicked) {
        focusTarget = link;
      }
    }
    if (focusTarget !== null && focusTarget !== clicked) {
      focusTarget.focus(); // the clicked button is gone: keep the keyboard user in place
    } else {
      announce(answer.number);
    }
  }

  function restore(token) {
    var elements = carriers(token);
    for (var i = 0; i < elements.length; i++) {
      elements[i].removeAttribute("aria-busy");
    }
  }

  function start(element) {
    var token = element.getAttribute(ATTRIBUTE);
    if (!token || pending[token]) {
      return;
    }
    pending[token] = true;
    var elements = carriers(token);
    for (var i = 0; i < elements.length; i++) {
      elements[i].setAttribute("aria-busy", "true");
    }
    ask(token).then(function (answer) {
      settle(token, element, answer);
    }, function () {
      restore(token); // refused or offline: leave the button for another try
    }).then(function () {
      delete pending[token];
    });
  }

  function carrierOf(event) {
    var target = event.target;
    return target && target.closest ? target.closest("[" + ATTRIBUTE + "]") : null;
  }

  document.addEventListener("click", function (event) {
    var element = carrierOf(event);
    if (element !== null) {
      event.preventDefault();
      start(element);
    }
  });

  // Links acting as buttons answer the space bar too, as a button would.
  document.addEventListener("keydown", function (event) {
    var element = carrierOf(event);
    if (element !== null && element.tagName === "A" && (event.key === " " || event.key === "Spacebar")) {
      event.preventDefault();
      start(element);
    }
  });
})();
