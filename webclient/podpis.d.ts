// Type declarations for podpis.js (protocol 2).

export declare const PORTS: number[];
export declare const PROTOCOL: 2;
export declare const MESSAGES: Record<ErrorCode, string>;
/** What the agent may tell a page about a request still in flight. */
export type NoticeCode = "PROMPT_NOT_SHOWN" | "PROGRESS";
export declare const NOTICES: Record<NoticeCode, string>;
/** detail of a Client's "notice" event; request is the id of the request in flight. */
export interface Notice { code: NoticeCode; message: string; request: number; done?: number; total?: number }

/** The CAdES form of a document signature: bes (default), t (with a signature timestamp), xl1 (CAdES-X Long Type 1). */
export type CAdES = "bes" | "t" | "xl1";

export type ErrorCode =
  | "BAD_REQUEST" | "UNKNOWN_METHOD" | "ORIGIN_DENIED" | "USER_CANCELLED" | "NO_PROVIDER"
  | "PROVIDER_ERROR" | "NO_CERTIFICATES" | "CERT_NOT_FOUND" | "CERT_EXPIRED" | "PIN_REQUIRED"
  | "PIN_INCORRECT" | "PIN_LOCKED" | "TOKEN_REMOVED" | "BUSY" | "TIMEOUT" | "INTERNAL"
  | "INVALID_REQUEST" | "NO_KEYGEN" | "TOKEN_NOT_FOUND" | "NO_MATCHING_KEY" | "ALREADY_INSTALLED" | "BAD_CERTIFICATE" | "TOO_LARGE"
  | "TSA_UNAVAILABLE" | "TSA_BAD_RESPONSE" | "REVOCATION_UNAVAILABLE"
  // produced by the client
  | "NOT_RUNNING" | "BLOCKED" | "PROMPT" | "IFRAME_POLICY" | "OUTDATED" | "DISCONNECTED" | "PROTOCOL";

export declare class PodpisError extends Error {
  readonly code: ErrorCode;
  /** INVALID_REQUEST: { field } names the request field refused ("INN", "CN", "algorithm"…). */
  readonly detail?: unknown;
}

export interface Identity {
  commonName?: string; surname?: string; givenName?: string; title?: string;
  organization?: string; organizationalUnit?: string;
  snils?: string; inn?: string; innle?: string; ogrn?: string; ogrnip?: string; email?: string;
  thumbprint: string; serial: string; issuer: string; notBefore: string; notAfter: string;
}

export type Problem = "EXPIRED" | "NOT_YET_VALID" | "NO_PRIVATE_KEY" | "KEY_USAGE" | "NEEDS_CSP" | "TOKEN_LOCKED";

export interface Certificate {
  id: string; identity: Identity; algorithm: string; provider: string;
  token: string; tokenSerial?: string; hasKey: boolean; problems?: Problem[];
}

export interface ProviderInfo { name: string; library?: string; loaded: boolean; error?: string }
export interface Finding { code: string; severity: "ok" | "warning" | "problem"; title: string; cause?: string; fix?: string }
/** A token that can make keys (createRequest); token is omitted for a site the person has not allowed. */
export interface KeygenToken { token?: string; algorithms: string[] }
export interface Info { product: "podpis"; version: string; protocol: number; providers: ProviderInfo[]; ready: boolean; findings: Finding[]; keygen: KeygenToken[] }

export interface Filter { issuer?: string; policies?: string[]; onlyValid?: boolean }

export type Digest = "streebog256" | "streebog512";

export type Pending<T> = Promise<T> & { id: number };

/** The owner's name: keys CN, SN, G, T, O, OU, INN, INNLE, KPP, OGRN, OGRNIP, SNILS, E, S, L, Street, C, in the request's order. */
export type Subject = Partial<Record<"CN" | "SN" | "G" | "T" | "O" | "OU" | "INN" | "INNLE" | "KPP" | "OGRN" | "OGRNIP" | "SNILS" | "E" | "S" | "L" | "Street" | "C", string>>;

export interface CreateRequest {
  /** token label (info/certificates); omitted when there is one token */
  token?: string;
  /** tc26-256-a…d, tc26-512-a…c, cryptopro-a…c, cryptopro-xcha/xchb, rsa2048, rsa3072, ecdsa-p256; or "gost2012_256"/"gost2012_512" with paramSet */
  algorithm: string;
  paramSet?: string;
  subject: Subject;
  keyUsage?: string[];
  extKeyUsage?: string[];
  policies?: string[];
  /** 0 in person, 1 by a valid qualified certificate, 2 by a biometric passport, 3 through the unified biometric system */
  identKind?: 0 | 1 | 2 | 3;
  label?: string;
  exportable?: boolean;
}

/** How a client reaches the agent: the podpis browser extension (native messaging) or the loopback WebSocket. */
export type Transport = "extension" | "websocket";

export declare class Client extends EventTarget {
  readonly transport: Transport;
  info(): Pending<Info>;
  certificates(filter?: Filter): Promise<Certificate[]>;
  authenticate(certificate: string, challenge: string): Pending<{ cms: string; certificate: string }>;
  /** cades "t" | "xl1" with tsa (http(s)): CAdES-T / CAdES-X Long Type 1 (docs/protocol.md, sign). */
  sign(req: { certificate: string; data: Uint8Array | string; detached?: boolean; description?: string; cades?: CAdES; tsa?: string }): Pending<{ cms: string }>;
  /** base64 DER PKCS#10 request and the new key's hex id */
  createRequest(req: CreateRequest): Pending<{ request: string; keyId: string }>;
  /** base64 DER, PEM or a PKCS#7 bundle; resolves with the certificate installed */
  installCertificate(certificate: string): Pending<Certificate>;
  /** Sends a document of any size (one upload to the agent, or chunks of 512 KiB) and signs it detached. */
  sign(req: { certificate: string; file: Blob | Uint8Array; name?: string; description?: string; digest?: Digest; cades?: CAdES; tsa?: string;
    onProgress?: (p: { sent: number; total: number }) => void; signal?: AbortSignal }): Promise<{ cms: string }>;
  /** Signs a digest the server computed (the key's Streebog); detached, never a login. */
  signHash(req: { certificate: string; hash: string; name?: string; description?: string }): Pending<{ cms: string }>;
  /** Several documents, one question, one PIN; one result per document, in order. */
  signBatch(req: { certificate: string; description?: string; digest?: Digest; signal?: AbortSignal;
    documents: Array<{ file: Blob | Uint8Array; name?: string } | { hash: string; name?: string }>;
    onProgress?: (p: { phase: "upload" | "sign"; done: number; total: number }) => void }): Promise<Array<{ cms: string } | { error: PodpisError }>>;
  /** Adds a signature to a CMS; a detached one needs its document again as file. */
  cosign(req: { certificate: string; cms: string; file?: Blob | Uint8Array; name?: string; description?: string; digest?: Digest; signal?: AbortSignal }): Promise<{ cms: string }>;
  cancel(request: Pending<unknown> | number): Pending<{ cancelled: boolean }>;
  close(): void;
  addEventListener(type: "connected" | "disconnected", listener: (ev: Event) => void): void;
  addEventListener(type: "notice", listener: (ev: CustomEvent<Notice>) => void): void;
}

export interface ProbeOptions { ports?: number[]; timeout?: number; schemes?: ("wss" | "ws")[] }

/** Chrome's Local Network Access permission for the page; null where the browser has none. */
export type Permission = "granted" | "prompt" | "denied" | null;
export declare function permission(): Promise<Permission>;

/** What detect found; PROMPT and IFRAME_POLICY cost no request. */
export type State = "READY" | "NOT_RUNNING" | "BLOCKED" | "PROMPT" | "IFRAME_POLICY" | "OUTDATED" | "PROTOCOL" | "ORIGIN_DENIED";
export declare function detect(options?: ProbeOptions & { ask?: boolean }): Promise<{
  state: State; permission: Permission;
  info?: { product: "podpis"; version: string; protocol: number }; url?: string;
}>;

/**
 * The podpis extension, if its content script announced itself (with this
 * document's nonce) within 200 ms of podpis.js loading; null otherwise.
 */
export declare function extension(): Promise<{ nonce: string } | null>;

/**
 * Connects through the podpis extension when it is there and its native
 * host answers (extension: false skips it), else over the WebSocket.
 * Throws PodpisError with a State's code when not READY. Where the browser
 * would ask, call it from a click: onPrompt runs just before the question.
 */
export declare function connect(options?: ProbeOptions & { reconnect?: boolean; onPrompt?: () => void; ask?: boolean; extension?: boolean }): Promise<Client>;
