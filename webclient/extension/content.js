// podpis content script: the page's way to the podpis agent, without the
// loopback port. It announces itself to podpis.js with a nonce fresh for
// this document ({podpis: "hello", nonce}) and relays, per connection the
// page opens, the protocol's JSON to the background, which adds the origin
// the browser reports for this frame. Nothing the page writes becomes an
// origin: the page sends only the protocol message.
"use strict";

(() => {
  // An opaque origin (a sandboxed frame, a page served with CSP sandbox:
  // how sites host content they do not trust at their own address) is no
  // site's: its URL names the site, its scripts are not the site's.
  if (self.origin === "null") return;
  const api = typeof browser !== "undefined" ? browser : chrome;
  const nonce = crypto.randomUUID();
  // Each connection the page opens is a port to the background, so one
  // native host (and one consent «Только сейчас») per page connection.
  const conns = new Map();

  // post answers on the nonce-tagged channel only, to this document's
  // origin only.
  function post(msg) {
    window.postMessage({ ...msg, nonce }, self.origin);
  }

  function open(conn) {
    const port = api.runtime.connect({ name: "podpis" });
    conns.set(conn, port);
    port.onMessage.addListener((reply) => post({ podpis: "message", conn, data: JSON.stringify(reply) }));
    port.onDisconnect.addListener(() => {
      if (conns.get(conn) !== port) return;
      conns.delete(conn);
      post({ podpis: "closed", conn });
    });
  }

  window.addEventListener("message", (ev) => {
    // Only this frame's own scripts: another frame's message has another
    // source, and is not this page speaking.
    if (ev.source !== window || !ev.data || typeof ev.data !== "object") return;
    const { podpis, conn } = ev.data;
    if (podpis === "ping") {
      post({ podpis: "hello", version: 1 });
      return;
    }
    // Everything else must carry this document's nonce.
    if (ev.data.nonce !== nonce || typeof conn !== "number") return;
    if (podpis === "open" && !conns.has(conn)) {
      open(conn);
    } else if (podpis === "send" && typeof ev.data.data === "string") {
      const port = conns.get(conn);
      if (!port) return;
      let message;
      try {
        message = JSON.parse(ev.data.data);
      } catch (_) {
        return;
      }
      port.postMessage({ message });
    } else if (podpis === "close") {
      const port = conns.get(conn);
      conns.delete(conn);
      if (port) port.disconnect();
    }
  });

  post({ podpis: "hello", version: 1 });
})();
