// podpis background: one native messaging port ("ru.podpis.agent", the
// podpis native-host) per page connection, each message wrapped in the
// envelope {"origin", "message"} with the origin the BROWSER reports for
// the frame that opened the connection — never a value the page wrote —
// and replies routed back only to that frame (docs/protocol.md, «Native
// messaging»). The same file runs as Chromium's service worker and as
// Firefox's background script.
"use strict";

const api = typeof browser !== "undefined" ? browser : chrome;
const HOST = "ru.podpis.agent";

// frameOrigin: the origin of the frame behind a port, as the browser knows
// it. sender.origin where the browser gives it (Chromium), else the origin
// of sender.url (Firefox; the content script stays silent where its
// document's origin is opaque); nothing page-controlled. An opaque origin
// is no origin, even where the frame's URL names a site: a sandboxed frame
// must not act for the site that serves it.
function frameOrigin(sender) {
  if (sender.origin !== undefined) return sender.origin === "null" ? null : sender.origin;
  try {
    const o = new URL(sender.url).origin;
    return o === "null" ? null : o;
  } catch (_) {
    return null;
  }
}

api.runtime.onConnect.addListener((page) => {
  // Only our content scripts connect: another extension cannot reach
  // onConnect (that is onConnectExternal), and pages have no runtime.
  if (page.name !== "podpis" || !page.sender || page.sender.id !== api.runtime.id) {
    page.disconnect();
    return;
  }
  const origin = frameOrigin(page.sender);
  let host = null;
  let closed = false;

  const close = () => {
    if (closed) return;
    closed = true;
    if (host) host.disconnect();
    page.disconnect();
  };

  const connectHost = () => {
    host = api.runtime.connectNative(HOST);
    host.onMessage.addListener((reply) => {
      if (closed || !reply || reply.origin !== origin) return;
      // A protocol reply, or a failure of the transport with the
      // request's id (NOT_RUNNING, TOO_LARGE, BAD_REQUEST).
      if (reply.message) page.postMessage(reply.message);
      else if (reply.error) page.postMessage({ id: reply.id, error: reply.error });
    });
    // The host exited (the agent went away) or was never there (not
    // installed): the page sees its connection close and falls back.
    host.onDisconnect.addListener(() => {
      void api.runtime.lastError;
      close();
    });
  };

  page.onMessage.addListener((msg) => {
    if (closed || !msg || typeof msg.message !== "object" || msg.message === null) return;
    if (!origin) {
      if (msg.message.id !== undefined) {
        page.postMessage({ id: msg.message.id, error: { code: "ORIGIN_DENIED", message: "Доступ сайта к сертификатам запрещён" } });
      }
      return;
    }
    if (!host) connectHost();
    host.postMessage({ origin, message: msg.message });
  });
  page.onDisconnect.addListener(() => {
    void api.runtime.lastError;
    close();
  });
});
