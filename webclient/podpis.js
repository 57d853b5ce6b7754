// podpis.js — the page side of the podpis agent (protocol 2, see
// docs/protocol.md). Dependency-free ES module:
//
//   import { connect } from "./podpis.js";
//   const podpis = await connect();            // throws PodpisError("NOT_RUNNING") if absent
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
// an error without one and for the codes the client itself produces
// (NOT_RUNNING, BLOCKED, DISCONNECTED, PROTOCOL, and TIMEOUT as well).
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
  // produced by the client
  NOT_RUNNING: "Отсутствует соединение с podpis",
  BLOCKED:
    "Браузер не разрешил странице обращаться к podpis на этом компьютере. " +
    "Разрешите доступ к локальной сети для этого сайта (значок в адресной строке) и нажмите «Обновить».",
  DISCONNECTED: "Соединение с podpis прервано",
  PROTOCOL: "Установлена несовместимая версия podpis",
};

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

async function probe(options) {
  const ports = options.ports || PORTS;
  const timeout = options.timeout || 800;
  const schemes = options.schemes || ["wss", "ws"];
  for (const port of ports) {
    for (const scheme of schemes) {
      try {
        return await openSocket(`${scheme}://127.0.0.1:${port}/`, timeout);
      } catch (_) {
        // next address
      }
    }
  }
  return null;
}

// infoProbe tells an absent agent from one the browser keeps the page from
// reaching (Chrome's local network access permission, an extension).
async function infoProbe(options) {
  for (const port of options.ports || PORTS) {
    for (const scheme of ["https", "http"]) {
      try {
        const r = await withTimeout(fetch(`${scheme}://127.0.0.1:${port}/v1/info`, { cache: "no-store" }), options.timeout || 800);
        if (r.ok) return await r.json();
      } catch (_) {
        // next
      }
    }
  }
  return null;
}

/**
 * Finds the agent and connects to it.
 * @param {{ports?: number[], timeout?: number, reconnect?: boolean}} [options]
 * @returns {Promise<Client>}
 */
export async function connect(options = {}) {
  const ws = await probe(options);
  if (!ws) {
    const info = await infoProbe(options);
    if (info && info.product === "podpis") throw new PodpisError("BLOCKED");
    throw new PodpisError("NOT_RUNNING");
  }
  const client = new Client(ws, options);
  const info = await client.info();
  if (info.protocol !== PROTOCOL) {
    client.close();
    throw new PodpisError("PROTOCOL", undefined, info);
  }
  return client;
}

/** A connection to the agent. Emits "disconnected" and "connected". */
export class Client extends EventTarget {
  constructor(ws, options = {}) {
    super();
    this.options = options;
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
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.error) p.reject(new PodpisError(msg.error.code, msg.error.message));
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
      const ws = await probe(this.options);
      if (ws) {
        this.attach(ws);
        this.dispatchEvent(new Event("connected"));
      } else {
        this.retryTimer = setTimeout(retry, 2000);
      }
    };
    this.retryTimer = setTimeout(retry, 1000);
  }

  /**
   * Sends a request; resolves with its result or rejects with PodpisError.
   * @returns {Promise<any>} with an `id` property for cancel().
   */
  call(method, params, timeout = 180000) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
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
   * Signs a document.
   * @param {{certificate: string, data: Uint8Array|string, detached?: boolean, description?: string}} req
   */
  sign(req) {
    const data = typeof req.data === "string" ? req.data : toBase64(req.data);
    return this.call("sign", { certificate: req.certificate, data, detached: !!req.detached, description: req.description || "" });
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

function toBase64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
