-- The certificate a session logged in with (its SHA-256 thumbprint, ""
-- for a login without one): with several certificates linked, the
-- provider's claims and «Доверенность» must know which one it was.
-- +goose Up
ALTER TABLE sessions ADD COLUMN thumbprint TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE sessions DROP COLUMN thumbprint;
