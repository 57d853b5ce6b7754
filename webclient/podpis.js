// podpis.js — the page side of the podpis agent (protocol 2, see
// docs/protocol.md). Dependency-free ES module:
//
//   import { connect } from "./podpis.js";
//   const podpis = await connect({ onPrompt });  // from a click; throws PodpisError("NOT_RUNNING"), "BLOCKED"…
//   podpis.transport;  // "extension" (the podpis browser extension) or "websocket"
//   const certs = await podpis.certificates({ onlyValid: true });
//   const { cms } = await podpis.authenticate(certs[0].id, challenge);

export const PORTS = [24730, 24731, 24732, 24733];
export const PROTOCOL = 2;

/** An agent or connection failure with a stable code and a Russian message. */
export class PodpisError extends Error {
  constructor(code, message, detail) {
    super(message || MESSAGES[code] || code);
    this.name = "PodpisError";
    this.code = code;
    if (detail !== undefined) this.detail = detail;
  }
}

// MESSAGES: every code a PodpisError may carry, with its Russian message.
// The agent sends its own message with every protocol error; these are the
// same texts (agent/wsapi's table: TestClientMessages keeps them equal), for
// an error without one and for the codes the client itself produces (the
// detection states, DISCONNECTED, PROTOCOL, and TIMEOUT as well).
export const MESSAGES = {
  BAD_REQUEST: "Неверный запрос",
  UNKNOWN_METHOD: "Неизвестный метод",
  ORIGIN_DENIED: "Доступ сайта к сертификатам запрещён",
  USER_CANCELLED: "Операция отменена",
  NO_PROVIDER: "Не установлен криптопровайдер",
  PROVIDER_ERROR: "Ошибка криптопровайдера",
  NO_CERTIFICATES: "Сертификаты не найдены",
  CERT_NOT_FOUND: "Сертификат не найден",
  CERT_EXPIRED: "Срок действия сертификата истёк или ещё не наступил",
  PIN_REQUIRED: "Требуется PIN-код",
  PIN_INCORRECT: "Неверный PIN-код",
  PIN_LOCKED: "PIN-код заблокирован",
  TOKEN_REMOVED: "Токен извлечён",
  BUSY: "Подождите: предыдущий запрос ещё не завершён",
  TIMEOUT: "Время ожидания истекло",
  INTERNAL: "Внутренняя ошибка podpis",
  INVALID_REQUEST: "Неверно заполнены данные запроса на сертификат",
  NO_KEYGEN: "Токен не умеет создавать ключи этого алгоритма",
  TOKEN_NOT_FOUND: "Токен не найден",
  NO_MATCHING_KEY: "Ключ этого сертификата не найден ни на одном токене",
  ALREADY_INSTALLED: "Сертификат уже установлен на токен",
  BAD_CERTIFICATE: "Файл не является сертификатом",
  TOO_LARGE: "Слишком большое сообщение: документ передаётся частями",
  TSA_UNAVAILABLE: "Служба штампов времени недоступна",
  TSA_BAD_RESPONSE: "Служба штампов времени вернула неверный ответ",
  REVOCATION_UNAVAILABLE: "Не удалось получить сведения о статусе сертификата для подписи CAdES-X Long",
  // produced by the client
  NOT_RUNNING:
    "Программа podpis не отвечает: она не запущена или не установлена " +
    "(страница не может узнать, установлена ли она).",
  BLOCKED:
    "Браузер запретил этому сайту обращаться к программам на вашем компьютере (доступ к локальной сети), " +
    "поэтому страница не видит podpis.",
  PROMPT: "Браузер спросит разрешение на доступ к программам на этом компьютере: нажмите «Разрешить».",
  IFRAME_POLICY:
    "Страница открыта во встроенном окне (iframe) другого сайта, и тот не разрешил ей доступ к podpis: " +
    "у iframe нет атрибута allow со значением loopback-network.",
  OUTDATED: "Установлена устаревшая версия podpis: обновите программу.",
  DISCONNECTED: "Соединение с podpis прервано",
  PROTOCOL: "Установлена несовместимая версия podpis",
};

// NOTICES: what the agent may tell the page while a request is still in
// flight (a "notice" event on the Client), with the agent's own texts
// (agent/wsapi's table: TestClientNotices keeps them equal).
// PROMPT_NOT_SHOWN: nothing could show the agent's question (no desktop,
// no browser to start); the person must open what the agent printed.
export const NOTICES = {
  PROMPT_NOT_SHOWN:
    "podpis не смог открыть окно запроса (PIN-код или разрешение для сайта). " +
    "Откройте адрес, который podpis напечатал в своём окне (терминале) или журнале, в браузере этого компьютера.",
};

// PERMISSIONS: the Permissions API names of Chrome's Local Network Access
// for 127.0.0.1, newest first (Chrome 145 split "local-network" into it
// and "loopback-network"; Firefox and older Chrome know neither).
const PERMISSIONS = ["loopback-network", "local-network", "local-network-access"];

/**
 * The browser's Local Network Access permission for this page: "granted",
 * "prompt", "denied", or null where the browser has no such permission.
 */
export async function permission() {
  if (typeof navigator === "undefined" || !navigator.permissions) return null;
  for (const name of PERMISSIONS) {
    try {
      return (await navigator.permissions.query({ name })).state;
    } catch (_) {
      // a name this browser does not know: the next one
    }
  }
  return null;
}

// framePolicyDenies: a cross-origin iframe without allow="loopback-network"
// may never reach 127.0.0.1, whatever the person allows; the frame's
// permission then reads "denied", which would send the person to site
// settings that cannot help.
function framePolicyDenies() {
  if (typeof document === "undefined" || window === window.top) return false;
  const policy = document.permissionsPolicy || document.featurePolicy;
  if (!policy || !policy.features().includes("loopback-network")) return false;
  return !policy.allowsFeature("loopback-network");
}

function withTimeout(promise, ms, onTimeout) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => {
        if (onTimeout) onTimeout();
        reject(new PodpisError("TIMEOUT"));
      }, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function openSocket(url, timeout) {
  return new Promise((resolve, reject) => {
    let ws;
    try {
      ws = new WebSocket(url);
    } catch (e) {
      reject(e);
      return;
    }
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error("timeout"));
    }, timeout);
    ws.onopen = () => {
      clearTimeout(timer);
      resolve(ws);
    };
    ws.onerror = () => {
      clearTimeout(timer);
      reject(new Error("refused"));
    };
  });
}

const HTTP = { wss: "https", ws: "http" };

// get fetches url with a deadline; targetAddressSpace tells Chrome the
// request is meant for loopback, so that it is checked (and asked about) as
// such rather than failing as a mismatch (older browsers ignore it).
async function get(url, timeout, mode) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeout);
  try {
    return await fetch(url, { cache: "no-store", mode, signal: abort.signal, targetAddressSpace: "loopback" });
  } finally {
    clearTimeout(timer);
  }
}

// find asks GET /v1/info on each port and scheme, which costs nothing when
// nothing listens. Only an answer leads to a WebSocket: browsers throttle
// failed WebSocket attempts, so probing with them made «Обновить» fail for
// minutes after the agent had started. It resolves {scheme, port, info},
// {refused: true} when something answered but not with CORS for this page
// (an agent that does not serve the origin), or null.
async function find(options) {
  // While the browser asks, the request waits for the person's answer.
  const timeout = options.asking ? 120000 : options.timeout || 800;
  let refused = false;
  for (const port of options.ports || PORTS) {
    for (const scheme of options.schemes || ["wss", "ws"]) {
      const url = `${HTTP[scheme]}://127.0.0.1:${port}/v1/info`;
      try {
        const r = await get(url, timeout);
        const info = r.ok ? await r.json() : null;
        if (info && info.product === "podpis") return { scheme, port, info };
      } catch (_) {
        // Nothing there, or an answer this page may not read: an opaque
        // request tells the two apart.
        try {
          await get(url, timeout, "no-cors");
          refused = true;
        } catch (_) {
          // nothing listening (or the browser keeps the page away)
        }
      }
    }
  }
  return refused ? { refused } : null;
}

// The podpis browser extension: its content script announces itself with
// {podpis: "hello", nonce}, the nonce fresh for each document; podpis.js
// asks with {podpis: "ping"} in case it loaded after the announcement,
// and then speaks only on the channel tagged with that nonce. The
// extension adds the page's origin as the browser knows it (see
// docs/protocol.md, «Native messaging»): no loopback port, no Local
// Network Access question.
const HELLO_WAIT = 200;
let hello = null;
let helloDeadline = 0;

function listen() {
  if (hello || typeof window === "undefined" || typeof window.postMessage !== "function") return;
  helloDeadline = Date.now() + HELLO_WAIT;
  hello = new Promise((resolve) => {
    const onHello = (ev) => {
      const d = ev.data;
      if (ev.source !== window || !d || d.podpis !== "hello" || typeof d.nonce !== "string") return;
      window.removeEventListener("message", onHello);
      resolve({ nonce: d.nonce });
    };
    window.addEventListener("message", onHello);
  });
  window.postMessage({ podpis: "ping" }, "*");
}
listen();

/**
 * The podpis extension of this browser, if it announced itself within
 * 200 ms of podpis.js loading: {nonce}, or null.
 */
export async function extension() {
  if (!hello) return null;
  let timer;
  const wait = Math.max(0, helloDeadline - Date.now());
  const late = new Promise((resolve) => (timer = setTimeout(() => resolve(null), wait)));
  try {
    return await Promise.race([hello, late]);
  } finally {
    clearTimeout(timer);
  }
}

let nextConn = 1;

// ExtensionSocket: a connection through the extension with the part of
// WebSocket's interface the Client uses (send, close, readyState,
// onmessage, onclose). Each one is its own port to the native host, so
// its own connection in the protocol's sense.
class ExtensionSocket {
  constructor(ext) {
    this.nonce = ext.nonce;
    this.conn = nextConn++;
    this.readyState = 1;
    this.onmessage = null;
    this.onclose = null;
    this.listener = (ev) => {
      const d = ev.data;
      if (ev.source !== window || !d || d.nonce !== this.nonce || d.conn !== this.conn) return;
      if (d.podpis === "message" && this.onmessage) this.onmessage({ data: d.data });
      else if (d.podpis === "closed") this.closed();
    };
    window.addEventListener("message", this.listener);
    this.post({ podpis: "open" });
  }

  post(msg) {
    window.postMessage({ ...msg, nonce: this.nonce, conn: this.conn }, location.origin === "null" ? "*" : location.origin);
  }

  send(data) {
    if (this.readyState === 1) this.post({ podpis: "send", data });
  }

  closed() {
    if (this.readyState === 3) return;
    this.readyState = 3;
    window.removeEventListener("message", this.listener);
    if (this.onclose) this.onclose();
  }

  close() {
    if (this.readyState === 1) this.post({ podpis: "close" });
    this.closed();
  }
}

// EXTENSION_TIMEOUT: the first answer through the extension may wait for
// the native host to start the agent (up to 5 s, docs/protocol.md).
const EXTENSION_TIMEOUT = 8000;

// viaExtension connects through the extension and checks the agent's
// protocol. Null when the way is not there (no native host installed, no
// agent that answers): the page then tries the WebSocket.
async function viaExtension(ext, options) {
  const client = new Client(new ExtensionSocket(ext), options, "extension");
  let info;
  try {
    info = await client.call("info", {}, EXTENSION_TIMEOUT);
  } catch (e) {
    client.close();
    if (["DISCONNECTED", "NOT_RUNNING", "TIMEOUT"].includes(e.code)) return null;
    throw e;
  }
  if (info.protocol !== PROTOCOL) {
    client.close();
    throw new PodpisError(info.protocol < PROTOCOL ? "OUTDATED" : "PROTOCOL", undefined, info);
  }
  return client;
}

/**
 * Finds out, without a WebSocket, whether the page can use the agent.
 * state is READY, or one of the client's codes: NOT_RUNNING, BLOCKED,
 * PROMPT, IFRAME_POLICY, OUTDATED, PROTOCOL, ORIGIN_DENIED. PROMPT and
 * IFRAME_POLICY are known without any request (and PROMPT makes none:
 * a request would make the browser ask — do it from a click).
 * @param {{ports?: number[], timeout?: number, schemes?: string[]}} [options]
 * @returns {Promise<{state: string, permission: string|null, info?: object, url?: string}>}
 */
export async function detect(options = {}) {
  if (framePolicyDenies()) return { state: "IFRAME_POLICY", permission: "denied" };
  const perm = await permission();
  if (perm === "denied") return { state: "BLOCKED", permission: perm };
  if (perm === "prompt" && !options.ask) return { state: "PROMPT", permission: perm };
  const found = await find(options);
  // A prompt the person dismissed or refused: the permission says so now.
  const after = perm === "prompt" ? await permission() : perm;
  if (after === "denied") return { state: "BLOCKED", permission: after };
  if (!found) return { state: "NOT_RUNNING", permission: after };
  if (found.refused) return { state: "ORIGIN_DENIED", permission: after };
  const { info } = found;
  const url = `${found.scheme}://127.0.0.1:${found.port}/`;
  if (info.protocol < PROTOCOL) return { state: "OUTDATED", permission: after, info, url };
  if (info.protocol !== PROTOCOL) return { state: "PROTOCOL", permission: after, info, url };
  return { state: "READY", permission: after, info, url };
}

// userActivated: the page is handling a click or a key press, the moment
// a browser's permission question makes sense to the person.
function userActivated() {
  return typeof navigator === "undefined" || !navigator.userActivation || navigator.userActivation.isActive;
}

/**
 * Finds the agent and connects to it: through the podpis browser
 * extension when it announced itself and its native host answers (no
 * port, no Local Network Access question; extension: false skips it),
 * otherwise over the WebSocket; client.transport says which. Throws PodpisError with the
 * detection state's code (NOT_RUNNING, BLOCKED, PROMPT, IFRAME_POLICY,
 * OUTDATED, PROTOCOL, ORIGIN_DENIED). Where the browser would ask the
 * person for local network access, connect asks only when called from a
 * click (otherwise it throws PROMPT without a request), and calls
 * onPrompt first so that the page can say what is about to happen.
 * Browsers do not tell a page whether the question will come (a page on
 * a local address is not asked, but reads "prompt" all the same): ask:
 * true connects without a click.
 * @param {{ports?: number[], timeout?: number, reconnect?: boolean, schemes?: string[], onPrompt?: () => void, ask?: boolean, extension?: boolean}} [options]
 * @returns {Promise<Client>}
 */
export async function connect(options = {}) {
  const ext = options.extension === false ? null : await extension();
  if (ext) {
    const client = await viaExtension(ext, options);
    if (client) return client;
  }
  let ask = false;
  if ((await permission()) === "prompt" && !framePolicyDenies() && !options.ask) {
    if (!userActivated()) throw new PodpisError("PROMPT");
    if (options.onPrompt) options.onPrompt();
    ask = true;
  }
  const found = await detect({ ...options, ask: ask || !!options.ask, asking: ask });
  if (found.state !== "READY") throw new PodpisError(found.state, undefined, found.info);
  let ws;
  try {
    ws = await openSocket(found.url, options.timeout || 800);
  } catch (_) {
    // The agent answered over HTTP but its WebSocket is kept from the page
    // (an extension, a browser that checks only WebSockets).
    throw new PodpisError("BLOCKED");
  }
  const client = new Client(ws, options, "websocket");
  const info = await client.info();
  if (info.protocol !== PROTOCOL) {
    client.close();
    throw new PodpisError(info.protocol < PROTOCOL ? "OUTDATED" : "PROTOCOL", undefined, info);
  }
  return client;
}

/**
 * A connection to the agent. Emits "disconnected" and "connected", and
 * "notice" (a CustomEvent, detail {code, message, request}: the id of the
 * request in flight it is about) when the agent needs the person to do
 * something for a request to go on (NOTICES).
 */
export class Client extends EventTarget {
  constructor(ws, options = {}, transport = "websocket") {
    super();
    this.options = options;
    /** "extension" or "websocket": the way this client reaches the agent. */
    this.transport = transport;
    this.nextId = 1;
    this.pending = new Map();
    this.closed = false;
    this.attach(ws);
  }

  attach(ws) {
    this.ws = ws;
    ws.onmessage = (ev) => this.receive(ev.data);
    ws.onclose = () => this.lost();
  }

  receive(data) {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch (_) {
      return;
    }
    if (msg.notice && msg.id === undefined) {
      // About a request of ours still in flight: it keeps waiting.
      const n = msg.notice;
      if (!this.pending.has(n.request)) return;
      const detail = { code: n.code, message: n.message || NOTICES[n.code] || "", request: n.request };
      if (n.total) Object.assign(detail, { done: n.done || 0, total: n.total });
      this.dispatchEvent(new CustomEvent("notice", { detail }));
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    // INVALID_REQUEST names the field refused (detail.field: "INN", "CN"…).
    if (msg.error) p.reject(new PodpisError(msg.error.code, msg.error.message, msg.error.field ? { field: msg.error.field } : undefined));
    else p.resolve(msg.result);
  }

  lost() {
    for (const p of this.pending.values()) p.reject(new PodpisError("DISCONNECTED"));
    this.pending.clear();
    if (this.closed) return;
    this.dispatchEvent(new Event("disconnected"));
    if (this.options.reconnect === false) return;
    const retry = async () => {
      if (this.closed) return;
      // "prompt" cannot stop a reconnection: this page has reached the
      // agent with the permission in that state, so its browser does not
      // ask it (a page on a local address) — or will again from a click.
      const ws = await this.reopen().catch(() => null);
      if (ws) {
        this.attach(ws);
        this.dispatchEvent(new Event("connected"));
      } else {
        this.retryTimer = setTimeout(retry, 2000);
      }
    };
    this.retryTimer = setTimeout(retry, 1000);
  }

  // reopen: a new connection the same way, or null.
  async reopen() {
    if (this.transport === "extension") {
      const ws = new ExtensionSocket(await extension());
      // The port opens at once; only an answer shows the agent is back.
      const probe = new Client(ws, { ...this.options, reconnect: false }, "extension");
      const ok = await probe.call("info", {}, EXTENSION_TIMEOUT).then(() => true, () => false);
      probe.pending.clear();
      if (!ok) {
        ws.close();
        return null;
      }
      return ws;
    }
    const found = await detect({ ...this.options, ask: true }).catch(() => null);
    return found && found.state === "READY" ? await openSocket(found.url, this.options.timeout || 800).catch(() => null) : null;
  }

  /**
   * Sends a request; resolves with its result or rejects with PodpisError.
   * @returns {Promise<any>} with an `id` property for cancel().
   */
  call(method, params, timeout = 180000) {
    if (!this.ws || this.ws.readyState !== 1) {
      return Promise.reject(new PodpisError("DISCONNECTED"));
    }
    const id = this.nextId++;
    const result = new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, method, params: params || {} }));
    });
    const out = withTimeout(result, timeout, () => this.pending.delete(id));
    out.id = id;
    return out;
  }

  /** @returns {Promise<{product: string, version: string, protocol: number, providers: object[], ready: boolean, findings: object[]}>} */
  info() {
    return this.call("info");
  }

  /** @returns {Promise<object[]>} the certificates the person may choose from */
  async certificates(filter = {}) {
    const r = await this.call("certificates", filter);
    return r.certificates;
  }

  /** Signs the server's challenge: resolves with {cms, certificate} (base64 DER). */
  authenticate(certificate, challenge) {
    return this.call("authenticate", { certificate, challenge });
  }

  /**
   * Signs a document. With `data` it goes in one message (attached: at
   * most 512 KiB). With `file` (a Blob, File or Uint8Array of any size) it
   * is streamed in chunks (docs/protocol.md) and signed detached;
   * `onProgress({sent, total})` follows the upload and `signal` (an
   * AbortSignal) cancels it, or the signature while the person is asked.
   * `digest` ("streebog256" | "streebog512") is the certificate key's; by
   * default it is read from the certificate's algorithm. `cades` ("t" |
   * "xl1") with `tsa` (an http(s) URL; the site's rule in the agent's
   * settings wins) adds timestamps (CAdES-T) and validation data (CAdES-X
   * Long Type 1); a TSA failure rejects with TSA_UNAVAILABLE or
   * TSA_BAD_RESPONSE, never a plain signature.
   * @returns {Promise<{cms: string}>}
   */
  sign(req) {
    if (req.file !== undefined) return this.signFile(req);
    const data = typeof req.data === "string" ? req.data : toBase64(req.data);
    return this.call("sign", longTerm(req, { certificate: req.certificate, data, detached: !!req.detached, description: req.description || "" }));
  }

  /**
   * Makes a key pair on a token and a PKCS#10 request for it, once the
   * person agreed in podpis's window and entered the token's PIN there.
   * @param {{token?: string, algorithm: string, paramSet?: string, subject: Object<string, string>,
   *   keyUsage?: string[], extKeyUsage?: string[], policies?: string[], identKind?: number,
   *   label?: string, exportable?: boolean}} req
   * @returns {Promise<{request: string, keyId: string}>} base64 DER request, hex key id
   */
  createRequest(req) {
    return this.call("createRequest", req, 600000);
  }

  /**
   * Writes a certificate (base64 DER, PEM or a PKCS#7 bundle) to the token
   * holding its key, once the person agreed; resolves with the certificate
   * as certificates() lists it.
   */
  installCertificate(certificate) {
    return this.call("installCertificate", { certificate }, 600000);
  }

  async signFile(req) {
    const digest = req.digest || (await this.digestOf(req.certificate));
    const stream = await this.upload(req.file, { name: req.name, digest, onProgress: req.onProgress, signal: req.signal });
    return this.abortable(this.call("sign", longTerm(req, { certificate: req.certificate, stream, description: req.description || "" })), req.signal);
  }

  /** The digest the certificate's key signs with: streebog512 for 512-bit GOST keys. */
  async digestOf(certificate) {
    if (!this.algorithms) this.algorithms = new Map();
    if (!this.algorithms.has(certificate)) {
      const list = await this.call("certificates", {}).then((r) => r.certificates, () => []);
      for (const c of list) this.algorithms.set(c.id, c.algorithm);
    }
    return /\b512\b/.test(this.algorithms.get(certificate) || "") ? "streebog512" : "streebog256";
  }

  /**
   * Sends a document; resolves with the stream's id. Over the WebSocket
   * the agent names a path on its port where the document goes whole, as
   * one HTTP body (docs/protocol.md, «Uploads»): Chromium sends a Blob
   * body from its own process, two to three times as fast as WebSocket
   * messages. If that request cannot be made at all (something between
   * the page and the agent stops it), the document goes again, in chunks,
   * on a new stream. The extension's port has no path: chunks.
   */
  async upload(file, { name, digest, onProgress, signal } = {}) {
    const bytes = file instanceof Uint8Array ? file : null;
    const total = bytes ? bytes.length : file.size;
    const begin = () => this.call("streamBegin", { name: name || file.name || "", size: total, digest: digest || "streebog256" });
    let b = await begin();
    if (b.upload && this.transport === "websocket" && this.ws) {
      try {
        // A typeless Blob (never a Content-Type the page chose), also for
        // bytes: a Blob body is sent from the browser's own store, an
        // array's is carried through the renderer (and into DevTools).
        await this.post(b.upload, bytes ? new Blob([bytes]) : file.slice(0, total), total, onProgress, signal);
        return b.stream;
      } catch (e) {
        this.call("streamAbort", { stream: b.stream }).catch(() => {});
        if (e) throw e;
      }
      b = await begin();
    }
    await this.chunks(b.stream, bytes || file, total, b.chunkSize, onProgress, signal);
    return b.stream;
  }

  /**
   * POSTs a document to the agent's upload path. Rejects with a
   * PodpisError the agent gave, or with null when no answer came (the
   * request was stopped before the agent: the caller falls back to
   * chunks). Progress follows the browser's upload; the last report,
   * sent === total, comes with the agent's answer that it hashed it all.
   */
  post(path, body, total, onProgress, signal) {
    const url = new URL(path, this.ws.url.replace(/^ws/, "http"));
    return new Promise((resolve, reject) => {
      if (signal && signal.aborted) return reject(new PodpisError("USER_CANCELLED"));
      const x = new XMLHttpRequest();
      x.open("POST", url);
      x.responseType = "json";
      if (onProgress) x.upload.onprogress = (e) => { if (e.loaded < total) onProgress({ sent: e.loaded, total }); };
      x.onload = () => {
        const r = x.response || {};
        if (x.status === 200 && r.received === total) {
          if (onProgress) onProgress({ sent: total, total });
          resolve();
        } else reject(new PodpisError((r.error && r.error.code) || "BAD_REQUEST"));
      };
      x.onerror = () => reject(null);
      x.onabort = () => reject(new PodpisError("USER_CANCELLED"));
      if (signal) signal.addEventListener("abort", () => x.abort(), { once: true });
      x.send(body);
    });
  }

  /**
   * Sends a document in chunks. Up to WINDOW chunks wait for the agent's
   * acknowledgement at once (backpressure: the agent hashes each before it
   * reads the next).
   */
  async chunks(stream, file, total, size, onProgress, signal) {
    const WINDOW = 16;
    const bytes = file instanceof Uint8Array ? file : null;
    const inFlight = [];
    let sent = 0;
    try {
      for (let off = 0; off < total || (total === 0 && off === 0); off += size) {
        if (signal && signal.aborted) throw new PodpisError("USER_CANCELLED");
        const end = Math.min(off + size, total);
        // A Blob's slice is not read here: the WebSocket sends it as it is.
        const part = bytes ? bytes.subarray(off, end) : file.slice(off, end);
        const ack = this.chunk(stream, off, part).then(() => {
          sent += end - off;
          if (onProgress) onProgress({ sent, total });
        });
        inFlight.push(ack);
        if (inFlight.length >= WINDOW) await inFlight.shift();
        if (total === 0) break;
      }
      await Promise.all(inFlight);
    } catch (e) {
      this.call("streamAbort", { stream }).catch(() => {});
      throw e;
    }
  }

  /**
   * Sends one chunk of a stream (bytes or a Blob). Over the WebSocket it
   * is a binary message (docs/protocol.md, «Binary chunks») sent as a
   * Blob: Chromium carries large text messages at a tenth of the agent's
   * speed, and Blobs at two to three times the speed of the same bytes in
   * an ArrayBuffer (measured against a server that only counts them). The
   * extension's port carries JSON only: streamChunk.
   */
  async chunk(stream, offset, part) {
    if (this.transport !== "websocket" || !/^[0-9a-f]{24}$/.test(stream)) {
      const bytes = part instanceof Uint8Array ? part : new Uint8Array(await part.arrayBuffer());
      return this.call("streamChunk", { stream, offset, data: toBase64(bytes) });
    }
    if (!this.ws || this.ws.readyState !== 1) throw new PodpisError("DISCONNECTED");
    const id = this.nextId++;
    // version 1 | stream id (12 bytes) | offset (u64 BE) | id (u32 BE) | bytes
    const header = new Uint8Array(BINARY_HEADER);
    const view = new DataView(header.buffer);
    header[0] = 1;
    for (let i = 0; i < 12; i++) header[1 + i] = parseInt(stream.substr(2 * i, 2), 16);
    view.setBigUint64(13, BigInt(offset));
    view.setUint32(21, id);
    const frame = new Blob([header, part]);
    const result = new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(frame);
    });
    return withTimeout(result, 180000, () => this.pending.delete(id));
  }

  /** Ends the request when signal aborts (cancel reaches the agent). */
  abortable(pending, signal) {
    if (!signal) return pending;
    const stop = () => this.cancel(pending).catch(() => {});
    if (signal.aborted) stop();
    else signal.addEventListener("abort", stop, { once: true });
    return pending;
  }

  /**
   * Signs a digest the server computed (the key's: Streebog-256 or -512),
   * hex or base64; the CMS is detached. Never a login.
   */
  signHash(req) {
    return this.call("signHash", { certificate: req.certificate, hash: req.hash, name: req.name || "", description: req.description || "" });
  }

  /**
   * Signs several documents with one question and one PIN. Each document
   * is {file, name} (streamed) or {hash, name}. Resolves with one
   * {cms} or {error: PodpisError} per document, in order;
   * onProgress({phase: "upload"|"sign", done, total}).
   */
  async signBatch(req) {
    const digest = req.digest || (req.documents.some((d) => d.file !== undefined) ? await this.digestOf(req.certificate) : undefined);
    const documents = [];
    let i = 0;
    for (const d of req.documents) {
      if (d.file === undefined) {
        documents.push({ hash: d.hash, name: d.name || "" });
      } else {
        const stream = await this.upload(d.file, { name: d.name, digest, signal: req.signal });
        documents.push({ stream, name: d.name || d.file.name || "" });
      }
      i++;
      if (req.onProgress) req.onProgress({ phase: "upload", done: i, total: req.documents.length });
    }
    const pending = this.call("signBatch", { certificate: req.certificate, description: req.description || "", documents });
    const onNotice = (ev) => {
      if (ev.detail.request === pending.id && ev.detail.code === "PROGRESS" && req.onProgress) {
        req.onProgress({ phase: "sign", done: ev.detail.done, total: ev.detail.total });
      }
    };
    this.addEventListener("notice", onNotice);
    try {
      const r = await this.abortable(pending, req.signal);
      return r.results.map((x) => (x.error ? { error: new PodpisError(x.error.code, x.error.message) } : { cms: x.cms }));
    } finally {
      this.removeEventListener("notice", onNotice);
    }
  }

  /**
   * Adds the person's signature to a CMS (base64). For a detached CMS pass
   * the document as `file`: it is streamed again.
   */
  async cosign(req) {
    const params = { certificate: req.certificate, cms: req.cms, description: req.description || "" };
    if (req.file !== undefined) {
      params.stream = await this.upload(req.file, { name: req.name, digest: req.digest || (await this.digestOf(req.certificate)), signal: req.signal });
    }
    return this.abortable(this.call("cosign", params), req.signal);
  }

  /** Cancels a request made on this connection (pass the promise or its id). */
  cancel(request) {
    const id = typeof request === "number" ? request : request && request.id;
    return this.call("cancel", { id });
  }

  close() {
    this.closed = true;
    clearTimeout(this.retryTimer);
    if (this.ws) this.ws.close();
  }
}

// BINARY_HEADER: a binary chunk's header, before its bytes.
const BINARY_HEADER = 25;

/** Adds sign's cades and tsa to params when the page gave them (an older agent refuses members it does not know). */
function longTerm(req, params) {
  if (req.cades) params.cades = req.cades;
  if (req.tsa) params.tsa = req.tsa;
  return params;
}

function toBase64(bytes) {
  // The browser's own (Chromium 140+, Firefox 133+) is several times
  // faster: it sets the pace of a streamed document.
  if (typeof bytes.toBase64 === "function") return bytes.toBase64();
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
