/*
 * Shadow roots under a strict Content-Security-Policy (style-src 'self', no 'unsafe-inline').
 *
 * A vendored widget (wavesurfer.js) builds its shadow root with `root.innerHTML = "<style>…</style><div…>"`.
 * The policy refuses that inline <style>: a console error, and a widget without its layout. While `build()` runs,
 * withAdoptedShadowStyles() makes every new shadow root take the CSS of such <style> elements as a constructed
 * stylesheet (root.adoptedStyleSheets, which the policy allows) and get the rest of the markup as it was written.
 * The widget's code and its CSS stay its own; nothing is added to them.
 */

const STYLE_ELEMENT = /<style\b[^>]*>([\s\S]*?)<\/style>/gi;

function innerHtmlSetter() {
  let proto = window.ShadowRoot && window.ShadowRoot.prototype;
  while (proto) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, "innerHTML");
    if (descriptor && descriptor.set) {
      return descriptor;
    }
    proto = Object.getPrototypeOf(proto);
  }
  return null;
}

function adoptStylesOf(root, descriptor) {
  Object.defineProperty(root, "innerHTML", {
    configurable: true,
    get: function () {
      return descriptor.get.call(root);
    },
    set: function (html) {
      const css = [];
      const rest = String(html).replace(STYLE_ELEMENT, function (whole, text) {
        css.push(text);
        return "";
      });
      if (css.length) {
        const sheet = new CSSStyleSheet();
        sheet.replaceSync(css.join("\n"));
        root.adoptedStyleSheets = root.adoptedStyleSheets.concat([sheet]);
      }
      descriptor.set.call(root, rest);
    },
  });
}

/* build() with the shadow roots it creates taking their inline <style> as adopted stylesheets; its result. */
export function withAdoptedShadowStyles(build) {
  const descriptor = innerHtmlSetter();
  if (!descriptor || !("adoptedStyleSheets" in Document.prototype) || !window.CSSStyleSheet) {
    return build(); // an old browser: the widget works as it would anywhere else
  }
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    const root = attach.call(this, init);
    adoptStylesOf(root, descriptor);
    return root;
  };
  try {
    return build();
  } finally {
    Element.prototype.attachShadow = attach;
  }
}
