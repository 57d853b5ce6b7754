-- The provider's own tables, beside the account service's: one SQL text
-- for SQLite and PostgreSQL (BYTEA is a blob to SQLite, times are Unix
-- seconds so that neither database's time type is needed).

-- +goose Up
CREATE TABLE idp_signing_keys (
    id            TEXT PRIMARY KEY,
    alg           TEXT NOT NULL,
    sealed        BYTEA NOT NULL,   -- PKCS#8, AES-256-GCM under the configured key, AAD = id
    created_at    BIGINT NOT NULL,
    signs_until   BIGINT,           -- set when a newer key takes over signing
    publish_until BIGINT            -- in JWKS until the last token it signed expires
);

CREATE TABLE idp_auth_requests (
    id              TEXT PRIMARY KEY,
    client_id       TEXT NOT NULL,
    redirect_uri    TEXT NOT NULL,
    scopes          TEXT NOT NULL,
    state           TEXT NOT NULL,
    nonce           TEXT NOT NULL,
    response_type   TEXT NOT NULL,
    response_mode   TEXT NOT NULL,
    code_challenge  TEXT NOT NULL,
    code_method     TEXT NOT NULL,
    acr_values      TEXT NOT NULL,
    max_age         BIGINT,
    prompt          TEXT NOT NULL,
    login_hint      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    subject         TEXT,            -- set by Complete
    session_id      TEXT NOT NULL DEFAULT '',
    amr             TEXT NOT NULL DEFAULT '',
    acr             TEXT NOT NULL DEFAULT '',
    auth_time       BIGINT NOT NULL DEFAULT 0,
    claims          TEXT NOT NULL DEFAULT '{}',
    code_hash       TEXT UNIQUE,     -- SHA-256 of the code, never the code
    exchanged_at    BIGINT           -- a second exchange is a replay
);

-- A grant is one login of one person into one client: the refresh token
-- family, revoked as a whole on reuse, logout or «end everywhere».
CREATE TABLE idp_grants (
    id          TEXT PRIMARY KEY,
    subject     TEXT NOT NULL,
    client_id   TEXT NOT NULL,
    session_id  TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    amr         TEXT NOT NULL,
    acr         TEXT NOT NULL,
    auth_time   BIGINT NOT NULL,
    claims      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT,
    revoke_why  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX idp_grants_subject ON idp_grants (subject);
CREATE INDEX idp_grants_session ON idp_grants (session_id);

CREATE TABLE idp_refresh_tokens (
    hash        TEXT PRIMARY KEY,   -- SHA-256 of the token
    grant_id    TEXT NOT NULL REFERENCES idp_grants (id),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT              -- rotated away: presenting it again is reuse
);
CREATE INDEX idp_refresh_tokens_grant ON idp_refresh_tokens (grant_id);

CREATE TABLE idp_access_tokens (
    id          TEXT PRIMARY KEY,
    grant_id    TEXT NOT NULL,      -- '' for a token without a grant
    subject     TEXT NOT NULL,
    client_id   TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX idp_access_tokens_grant ON idp_access_tokens (grant_id);

-- +goose Down
DROP TABLE idp_access_tokens;
DROP TABLE idp_refresh_tokens;
DROP TABLE idp_grants;
DROP TABLE idp_auth_requests;
DROP TABLE idp_signing_keys;
