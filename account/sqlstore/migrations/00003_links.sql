-- Outside identities (Госуслуги, Telegram) linked to accounts (issue 27).
-- One identity belongs to one account (the primary key), and an account
-- has at most one identity of each provider (the unique pair): a login by
-- that identity knows which account it opens, and an unlink by provider
-- knows which link it ends.

-- +goose Up
CREATE TABLE links (
	provider   TEXT NOT NULL,
	subject    TEXT NOT NULL,
	account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	name       TEXT NOT NULL,
	linked     BIGINT NOT NULL,
	PRIMARY KEY (provider, subject),
	UNIQUE (account_id, provider)
);

-- +goose Down
DROP TABLE links;
