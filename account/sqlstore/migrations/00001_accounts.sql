-- The account service's tables, alike on SQLite and PostgreSQL: times are
-- Unix milliseconds (BIGINT), so both store and compare them the same way.

-- +goose Up
CREATE TABLE accounts (
	id            TEXT PRIMARY KEY,
	phone         TEXT UNIQUE,
	email         TEXT UNIQUE,
	password_hash TEXT NOT NULL,
	created       BIGINT NOT NULL
);

CREATE TABLE certificates (
	id         TEXT PRIMARY KEY,
	account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	thumbprint TEXT NOT NULL UNIQUE,
	snils      TEXT NOT NULL,
	identity   TEXT NOT NULL,
	linked     BIGINT NOT NULL
);
CREATE INDEX certificates_account ON certificates (account_id);
CREATE INDEX certificates_snils ON certificates (snils);

CREATE TABLE sessions (
	hash       TEXT PRIMARY KEY,
	id         TEXT NOT NULL UNIQUE,
	account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	amr        TEXT NOT NULL,
	created    BIGINT NOT NULL,
	last_seen  BIGINT NOT NULL,
	user_agent TEXT NOT NULL,
	address    TEXT NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE pending (
	hash          TEXT PRIMARY KEY,
	purpose       TEXT NOT NULL,
	channel       TEXT NOT NULL,
	address       TEXT NOT NULL,
	account_id    TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	data          TEXT NOT NULL,
	browser       TEXT NOT NULL,
	code_hash     TEXT NOT NULL,
	created       BIGINT NOT NULL,
	expires       BIGINT NOT NULL,
	sent          BIGINT NOT NULL,
	tries         INTEGER NOT NULL,
	done          INTEGER NOT NULL
);
CREATE INDEX pending_expires ON pending (expires);

CREATE TABLE challenges (
	hash    TEXT PRIMARY KEY,
	purpose TEXT NOT NULL,
	session TEXT NOT NULL,
	expires BIGINT NOT NULL
);
CREATE INDEX challenges_expires ON challenges (expires);

-- +goose Down
DROP TABLE challenges;
DROP TABLE pending;
DROP TABLE sessions;
DROP TABLE certificates;
DROP TABLE accounts;
